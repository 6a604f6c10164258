"""The error tracking and APM SDKs golive recognizes: their packages, their initialisation
in code, and the env variable that carries their DSN or key.

An SDK is wired when all three are found in the target (golive/sdk_wiring.py): a package
of it among the repository's dependencies, a call that initialises it in the code, and
its DSN/key set in the env. A target's in-house SDK is named in the check's params:

```yaml
params:
  app-monitoring.error-tracking:
    sdks:
      - name: Acme Errors
        dependency: [acme-errors, "@acme/errors"]   # package names (a trailing * globs)
        init_pattern: 'acme_errors\\.start\\('       # a regex over source lines
        env: [ACME_ERRORS_KEY]                      # any one of them must be set
```

Packages are matched by name in every ecosystem at once (a name is rarely ambiguous
across them); JVM packages as `group:artifact`. Datadog's and Elastic's agents read
their key themselves or from a local agent: the address of that agent counts as the
app's setting too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Kind = Literal["errors", "apm"]


@dataclass(frozen=True)
class Sdk:
    name: str
    kinds: frozenset[str]  # what it does: errors, apm
    dependencies: tuple[str, ...]
    init: tuple[str, ...]  # regexes over one source line
    env: tuple[str, ...]  # any one of them, set and not empty

    def init_regex(self) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{p})" for p in self.init))


ERRORS = frozenset({"errors"})
APM = frozenset({"apm"})
BOTH = frozenset({"errors", "apm"})

VENDORS: tuple[Sdk, ...] = (
    Sdk(
        "Sentry",
        ERRORS,
        (
            "sentry-sdk",
            "raven",
            "@sentry/*",
            "sentry-ruby",
            "sentry-raven",
            "sentry-rails",
            "sentry/sentry",
            "sentry/sentry-laravel",
            "sentry/sentry-symfony",
            "sentry/sdk",
            "github.com/getsentry/sentry-go",
            "io.sentry:*",
        ),
        (
            r"\bsentry_sdk\.init\s*\(",
            r"\bSentry\.init\b",
            r"\\?Sentry\\init\s*\(",
            r"\bsentry\.Init\s*\(",
            r"\braven\.Client\s*\(",
        ),
        ("SENTRY_DSN",),
    ),
    Sdk(
        "Rollbar",
        ERRORS,
        (
            "rollbar",
            "rollbar/rollbar",
            "rollbar/rollbar-laravel",
            "github.com/rollbar/rollbar-go",
            "com.rollbar:*",
        ),
        (
            r"\brollbar\.init\s*\(",
            r"\bnew\s+Rollbar\s*\(",
            r"\bRollbar\.(?:init|configure)\b",
            r"\bRollbar::init\s*\(",
            r"\brollbar\.SetToken\s*\(",
        ),
        ("ROLLBAR_ACCESS_TOKEN", "ROLLBAR_TOKEN"),
    ),
    Sdk(
        "Bugsnag",
        ERRORS,
        (
            "bugsnag",
            "@bugsnag/*",
            "bugsnag/bugsnag",
            "bugsnag/bugsnag-laravel",
            "github.com/bugsnag/bugsnag-go*",
            "com.bugsnag:*",
        ),
        (
            r"\bbugsnag\.configure\s*\(",
            r"\bBugsnag\.(?:start|configure)\b",
            r"\bBugsnag\\Client::make\s*\(",
            r"\bbugsnag\.Configure\s*\(",
        ),
        ("BUGSNAG_API_KEY",),
    ),
    Sdk(
        "Honeybadger",
        ERRORS,
        (
            "honeybadger",
            "@honeybadger-io/*",
            "honeybadger-io/honeybadger-php",
            "honeybadger-io/honeybadger-laravel",
            "github.com/honeybadger-io/honeybadger-go",
        ),
        (r"\bhoneybadger\.configure\s*\(", r"\bHoneybadger\.(?:configure|init|factory)\b"),
        ("HONEYBADGER_API_KEY",),
    ),
    Sdk(
        "Airbrake",
        ERRORS,
        ("pybrake", "@airbrake/*", "airbrake", "airbrake-ruby", "github.com/airbrake/gobrake*"),
        (
            r"\bpybrake\.Notifier\s*\(",
            r"\bnew\s+(?:Airbrake\.)?Notifier\s*\(",
            r"\bAirbrake\.configure\b",
            r"\bgobrake\.NewNotifier",
        ),
        ("AIRBRAKE_PROJECT_KEY", "AIRBRAKE_API_KEY"),
    ),
    Sdk(
        "Datadog",
        BOTH,  # the tracer reports errors to Datadog's error tracking as well
        (
            "ddtrace",
            "dd-trace",
            "datadog/dd-trace",
            "gopkg.in/datadog/dd-trace-go.v1",
            "github.com/datadog/dd-trace-go*",
            "com.datadoghq:dd-trace-api",
        ),
        (
            r"\bddtrace\.auto\b",
            r"\bpatch_all\s*\(",
            r"\bddtrace-run\b",
            r"""\brequire\s*\(\s*['"]dd-trace['"]\s*\)\s*\.init\s*\(""",
            r"""\bfrom\s+['"]dd-trace['"]""",
            r"\btracer\.init\s*\(",
            r"\btracer\.Start\s*\(",
            r"\bDatadog\.configure\b",
            r"^\s*require\s+['\"]datadog/auto_instrument['\"]",
        ),
        ("DD_API_KEY", "DD_AGENT_HOST", "DD_TRACE_AGENT_URL"),
    ),
    Sdk(
        "New Relic",
        BOTH,  # the agent reports errors as well as transactions
        ("newrelic", "newrelic_rpm", "github.com/newrelic/go-agent*", "com.newrelic.agent.java:*"),
        (
            r"\bnewrelic\.agent\.initialize\s*\(",
            r"""\brequire\s*\(\s*['"]newrelic['"]\s*\)""",
            r"""^\s*import\s+['"]newrelic['"]""",
            r"""^\s*require\s+['"]newrelic_rpm['"]""",
            r"\bnewrelic\.NewApplication\s*\(",
            r"\bnewrelic-admin\s+run-program\b",
        ),
        ("NEW_RELIC_LICENSE_KEY",),
    ),
    Sdk(
        "Elastic APM",
        BOTH,
        ("elastic-apm", "elastic-apm-node", "go.elastic.co/apm*", "co.elastic.apm:*"),
        (
            r"\belasticapm\.(?:Client|instrument)\s*\(",
            r"\bElasticAPM\s*\(",
            r"""\brequire\s*\(\s*['"]elastic-apm-node['"]\s*\)\s*\.start\s*\(""",
            r"\bapm\.start\s*\(",
            r"\bElasticAPM\.start\b",
        ),
        ("ELASTIC_APM_SERVER_URL",),
    ),
    Sdk(
        "OpenTelemetry",
        APM,
        (
            "opentelemetry-sdk",
            "opentelemetry-distro",
            "@opentelemetry/sdk-node",
            "@opentelemetry/sdk-trace-node",
            "opentelemetry-instrumentation-all",
            "open-telemetry/sdk",
            "go.opentelemetry.io/otel/sdk",
            "io.opentelemetry:opentelemetry-sdk",
        ),
        (
            r"\bTracerProvider\s*\(",
            r"\bset_tracer_provider\s*\(",
            r"\bnew\s+NodeSDK\s*\(",
            r"\bOpenTelemetry::SDK\.configure\b",
            r"\bsdktrace\.NewTracerProvider\s*\(",
        ),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
    ),
    Sdk(
        "AppSignal",
        BOTH,
        ("appsignal", "@appsignal/nodejs", "appsignal/appsignal-php"),
        (r"\bappsignal\.start\s*\(", r"\bnew\s+Appsignal\s*\(", r"\bAppsignal\.start\b"),
        ("APPSIGNAL_PUSH_API_KEY",),
    ),
    Sdk(
        "Scout APM",
        APM,
        ("scout-apm", "@scout_apm/scout-apm", "scout_apm"),
        (
            r"\bscout_apm\.api\.install\s*\(",
            r"\bscout\.install\s*\(",
            r"\bScoutApm::Agent\b",
            r"['\"]scout_apm\.django['\"]",
        ),
        ("SCOUT_KEY",),
    ),
)


class InHouseSdk(BaseModel):
    """An SDK golive does not know by name: the target's own, or a vendor not in the table."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, description="Shown in the evidence")
    dependency: list[str] = Field(
        min_length=1, description="Its package names in the manifests (a trailing * globs)"
    )
    init_pattern: str = Field(
        min_length=1, description="A regex that matches the line initialising it in the code"
    )
    env: list[str] = Field(min_length=1, description="Its DSN/key variables; one must be set")

    @field_validator("init_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"init_pattern is not a valid regex: {exc}") from None
        return value

    def sdk(self, kind: str) -> Sdk:
        return Sdk(
            self.name,
            frozenset({kind}),
            tuple(self.dependency),
            (self.init_pattern,),
            tuple(self.env),
        )


def known(kind: str, extra: list[InHouseSdk] | None = None) -> list[Sdk]:
    """The SDKs that do `kind` (errors or apm), the profile's own first."""
    return [s.sdk(kind) for s in extra or []] + [s for s in VENDORS if kind in s.kinds]
