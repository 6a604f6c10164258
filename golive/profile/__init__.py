"""Target profiles: what golive verifies and where to find it."""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from golive import children, yamlsrc
from golive.budget import Limits
from golive.capabilities import CAPABILITIES
from golive.capabilities import unknown as capabilities_unknown
from golive.db.naming import Naming
from golive.errors import InputError
from golive.profile import blocks as profile_blocks
from golive.profile import references
from golive.profile.auth import Auth
from golive.profile.flows import Flow, Jobs
from golive.profile.users import User
from golive.redact import Redactor
from golive.validation import Regex, validate

# Documented defaults (docs/profile.md): a profile that states its own overrides them.
WEBHOOK_PATH_DEFAULT = "/api/v1/stripe/webhook"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# The Stripe settings golive reads from the target's env, by role (EnvNames).
EnvRole = Literal["secret_key", "publishable_key", "webhook_secret", "api_version"]
ENV_ROLES: tuple[EnvRole, ...] = ("secret_key", "publishable_key", "webhook_secret", "api_version")


class EnvNames(_Strict):
    """The names under which the target's env holds Stripe's settings. Every check, the
    smoke flows, the load run and the harness itself read each setting by the name given
    here; the defaults are the names Stripe's docs use."""

    secret_key: str = Field(
        "STRIPE_SECRET_KEY", min_length=1, description="The secret (or restricted) API key"
    )
    publishable_key: str = Field(
        "STRIPE_PUBLISHABLE_KEY", min_length=1, description="The publishable key"
    )
    webhook_secret: str = Field(
        "STRIPE_WEBHOOK_SECRET",
        min_length=1,
        description="The webhook signing secret (whsec_…): golive signs the events it sends "
        "the app with it",
    )
    api_version: str = Field(
        "STRIPE_API_VERSION",
        min_length=1,
        description="The Stripe API version the app pins (the webhook endpoint is "
        "registered with it)",
    )


class EnvSource(_Strict):
    """Where the target's environment comes from: a dotenv file or this process, and the
    names its Stripe settings have there."""

    file: str | None = Field(None, description="dotenv file, relative to the profile")
    source: Literal["file", "process"] = Field(
        "file",
        description="file: read `file`; process: golive's own environment (e.g. CI secrets)",
    )
    names: EnvNames = Field(
        default_factory=EnvNames,
        description="The env variables holding Stripe's settings, when the app names them "
        "otherwise than STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY, STRIPE_WEBHOOK_SECRET, "
        "STRIPE_API_VERSION",
    )


class Repository(_Strict):
    """The target's source, for the repository checks (tracked .env files, secrets)."""

    path: str = Field(description="The target's git repository, relative to the profile")
    allowlist: str | None = Field(None, description="Secret-scan allowlist, relative to the repo")


class NamingModel(_Strict):
    """How the checklist's model and field names (`Order.stripePaymentIntentId`) map onto
    the database's tables or collections and columns (golive/db/naming.py)."""

    table_style: Literal["snake_plural", "snake", "lower_plural", "exact"] | None = Field(
        None,
        description="Order -> orders (snake_plural), order (snake), orders (lower_plural, "
        "Mongoose) or Order (exact); none: snake_plural for SQL, lower_plural for MongoDB",
    )
    column_style: Literal["snake", "exact"] | None = Field(
        None,
        description="stripePaymentIntentId -> stripe_payment_intent_id (snake) or as is "
        "(exact); none: snake for SQL, exact for MongoDB",
    )
    tables: dict[str, str] = Field(
        default_factory=dict, description="Model -> table, where the style does not fit"
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Model.field (or field) -> column, where the style does not fit",
    )


class Database(_Strict):
    """The target's database: the schema, data-security and backup checks read it."""

    url: str | None = Field(None, description="SQLAlchemy or mongodb:// URL")
    url_env: str | None = Field(None, description="Read the URL from this variable of the env")
    naming: NamingModel = Field(
        default_factory=NamingModel, description="How model and field names map to the schema"
    )
    backup_restore: bool = Field(False, description="Opt in to the backup-and-restore check")


class BackendCapabilities(_Strict):
    """Narrows what golive takes the backend to be able to do (golive/capabilities.py)."""

    without: list[str] = Field(
        default_factory=list,
        description="capabilities the backend lacks, over its kind's own list: "
        + ", ".join(CAPABILITIES)
        + ". An item needing one is not-run with the reason",
    )

    @field_validator("without")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        wrong = capabilities_unknown(names)
        if wrong:
            raise ValueError(
                f"unknown capabilit{'y' if len(wrong) == 1 else 'ies'} {', '.join(wrong)}; "
                f"known: {', '.join(CAPABILITIES)}"
            )
        return names


class StripeBackend(_Strict):
    """Which Stripe API the target and the harness talk to (see golive/backends.py)."""

    backend: Literal["sandbox", "stripe-mock", "localstripe", "stripe-test"] = Field(
        "sandbox",
        description="sandbox: golive's embedded stand-in; stripe-mock, localstripe: a running "
        "one (api_base); stripe-test: Stripe's test mode with an sk_test_ key",
    )
    api_base: str | None = Field(
        None,
        description="URL of a running stripe-mock, localstripe (required) or `golive sandbox` "
        "process (sandbox: none starts one in-process)",
    )
    port: int = Field(0, ge=0, le=65535, description="sandbox port; 0 picks a free one")
    image: str = Field("stripe/stripe-mock:latest", description="stripe-mock image for Docker")
    secret_key_env: str | None = Field(
        None,
        min_length=1,
        description="env variable holding the key the harness uses; default: the app's "
        "own, env.names.secret_key",
    )
    allow_writes: bool = Field(
        False, description="stripe-test only: allow calls that create or change objects"
    )
    capabilities: BackendCapabilities | None = Field(
        None,
        description="take capabilities away from the backend's own list, e.g. "
        "`{without: [refunds]}` for a stand-in that cannot refund",
    )
    account: dict[str, Any] | None = Field(
        None,
        description="sandbox only: the account's settings as configured in the Dashboard "
        "(business_profile, settings.payments.statement_descriptor, settings.branding…)",
    )
    max_objects: int | None = Field(
        None,
        ge=1,
        description="sandbox started in-process only: keep the newest N objects and "
        "idempotency keys, evicting older ones (none: the sandbox's default, see `golive "
        "sandbox --help`); raise it for load runs that create more than that",
    )
    max_body_bytes: int | None = Field(
        None,
        ge=1,
        description="sandbox in-process only: a larger request body is a 413 (none: 1 MiB)",
    )


class App(_Strict):
    """The running target: where it answers and, optionally, how the harness starts it
    (like Playwright's `webServer`). Placeholders in `start`, `env` and `base_url`:
    {python} this Python, {port} the app's port, {profile_dir}, {stripe_api_base}."""

    base_url: str = Field("http://127.0.0.1:{port}", description="Where the app answers")
    start: str | None = Field(None, description="Command that runs the app in the foreground")
    cwd: str = Field(".", description="Working directory of `start`, relative to the profile")
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Extra environment for `start` (the env source is passed too)",
    )
    port: int = Field(0, ge=0, le=65535, description="Port for {port}; 0 picks a free one")
    health: str = Field("/healthz", description="Path that answers 2xx once the app is ready")
    health_timeout_s: float = Field(
        30, gt=0, le=600, description="How long the started app may take to answer `health`"
    )
    webhook_path: str = Field(
        WEBHOOK_PATH_DEFAULT,
        description="Path of the app's Stripe webhook endpoint: where golive sends events, "
        "and the path the webhook-config checks expect the endpoint registered with Stripe "
        "at (their `path` param, if given, wins). The default is a default, not a "
        "requirement: set the app's own",
    )
    register_webhook: list[str] | None = Field(
        None,
        description="Register the app's webhook URL with the sandbox for these events, "
        "signing with the env's webhook secret (env.names.webhook_secret) and pinned to its "
        "API version (env.names.api_version)",
    )


class Service(_Strict):
    """A process a run starts beside the app once the app answers, and stops with it: a
    local Prometheus scraping the app, a queue worker. Placeholders in `start`, `env` and
    `export`: {python}, {port} (the service's own free loopback port), {app_base_url},
    {app_address} (the app's host:port), {profile_dir}, {workdir} (the run's scratch
    folder, removed after the run)."""

    start: str = Field(description="Command that runs the service in the foreground")
    cwd: str = Field(".", description="Working directory of `start`, relative to the profile")
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Extra environment for `start` (the env source is passed too)",
    )
    health: str | None = Field(
        None, description="Path at http://127.0.0.1:{port} that answers 2xx once it is ready"
    )
    wait_for_log: Regex | None = Field(
        None,
        description="A regular expression the service prints (stdout or stderr) once it is "
        "ready, as testcontainers' wait_for_logs",
    )
    timeout_s: float = Field(
        30, gt=0, le=600, description="How long the service may take to become ready"
    )
    export: dict[str, str] = Field(
        default_factory=dict,
        description="Environment variables golive sets for the run's checks once the service "
        "is ready, e.g. a monitoring block's url_env: `{VAR: http://127.0.0.1:{port}}`",
    )
    optional: str | None = Field(
        None,
        description="Set to why the run may go on without it: a service that cannot start "
        "is then a warning (its exports stay unset; the checks that need them say so) "
        "instead of invalid input (exit 2)",
    )

    @model_validator(mode="after")
    def _readiness(self) -> Service:
        if self.health is None and self.wait_for_log is None:
            raise ValueError("say when the service is ready: `health` or `wait_for_log`")
        return self


class ProfileModel(_Strict):
    """A target profile: what golive verifies for one deployment of an app, and where to
    find it. Paths are relative to the profile's own folder."""

    name: str = Field(description="The target's name, shown in the reports")
    description: str = Field("", description="A line about the target, for people")
    mode: Literal["live", "test"] = Field(
        description="Which Stripe keys this environment must carry: live (production) or test"
    )
    env: EnvSource = Field(
        default_factory=EnvSource,
        description="Where the target's environment (its keys and settings) is read from",
    )
    repository: Repository | None = Field(
        None, description="The target's git repository (the repository checks need it)"
    )
    database: Database | None = Field(
        None, description="The target's database (the schema and data checks need it)"
    )
    stripe: StripeBackend | None = Field(
        None, description="The Stripe API for smoke and load runs; omitted: none is started"
    )
    app: App | None = Field(None, description="The running target (later checks need it)")
    services: dict[str, Service] = Field(
        default_factory=dict,
        description="Processes started beside the app once it answers, by name "
        "(golive/services.py)",
    )
    logs: list[str] = Field(
        default_factory=list, description="The target's log files, relative to the profile"
    )
    users: dict[str, User] = Field(
        default_factory=dict,
        description="Who golive acts as, by name: each user's variables (token, username, "
        "password, …) or a pool of generated users (golive/profile/users.py)",
    )
    auth: Auth | None = Field(
        None,
        description="How every request golive makes to the app carries a user: a header, "
        "Basic, a cookie or a login flow, with CSRF (golive/profile/auth.py); none: no "
        "credentials",
    )
    flows: dict[str, Flow] = Field(
        default_factory=dict,
        description="Named request sequences with captures (golive/profile/flows.py)",
    )
    jobs: Jobs | None = Field(
        None, description="Which flow does each job (default: the flow named like the job)"
    )
    # How the live checks act on the target; each block is validated by the model the
    # checks that use it define (golive/profile_*.py).
    api: dict[str, Any] | None = Field(None, description="Users, endpoints, CORS, rate limits")
    data: dict[str, Any] | None = Field(
        None, description="The card probe of the data security checks (who, which items)"
    )
    pricing: dict[str, Any] | None = Field(None, description="The target's price rules")
    observer: dict[str, Any] | None = Field(
        None, description="How to count orders and payments for a PaymentIntent"
    )
    smoke: dict[str, Any] | None = Field(
        None, description="How the smoke and end-to-end flows drive the target"
    )
    load: dict[str, Any] | None = Field(
        None, description="Load scenarios: users, host allowlist, the gate's short run"
    )
    post_deploy: dict[str, Any] | None = Field(
        None, description="When the target went live: the post-deploy windows' anchor"
    )
    reconcile: dict[str, Any] | None = Field(
        None, description="How golive reads the app's orders to reconcile them with Stripe"
    )
    monitoring: dict[str, Any] | None = Field(
        None, description="The monitoring system golive reads metrics and alert rules from"
    )
    watch: dict[str, Any] | None = Field(
        None, description="What `golive watch` measures on every tick, and its limits"
    )
    traffic: dict[str, Any] | None = Field(
        None, description="A compressed day of payments golive plays after the app starts"
    )
    limits: Limits = Field(
        default_factory=Limits,
        description="How long the run, one check, and a silent target may take (golive/budget.py)",
    )
    attestations: str | list[str] | None = Field(
        None,
        description="Attestations file, or a list of them, relative to the profile; "
        "`golive attest` appends to the first",
    )
    waivers: str | None = Field(None, description="Waivers file, relative to the profile")
    check_paths: list[str] = Field(default_factory=list, description="Extra check folders")
    setup: list[str] = Field(
        default_factory=list,
        description="Commands run from the profile's folder before any check ({python} is "
        "this Python; GOLIVE_NOW in their environment is the time the run judges "
        "freshness as of); e.g. building a scratch database",
    )
    params: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Check params overriding checklist.yaml's for this target: "
        "`{KEY: {param: value}}` where KEY is a check id (every use of that check), an item "
        "id (each of the item's checks that takes the param) or `item-id/check-id` (that "
        "check of that item). Precedence, lowest first: the checklist item's params, the "
        "checklist check's, the profile's by check id, by item id, by item-id/check-id. "
        "Checked against the checklist before a run (unknown key or param, wrong type: "
        "exit 2); the effective params of each check are in results.json",
    )

    @model_validator(mode="after")
    def _harness_key(self) -> ProfileModel:
        # The harness uses the app's own secret key unless the profile names another.
        if self.stripe is not None and self.stripe.secret_key_env is None:
            self.stripe.secret_key_env = self.env.names.secret_key
        return self


@dataclass
class Profile:
    model: ProfileModel
    path: Path
    env: dict[str, str] = field(default_factory=dict)
    # The profile's YAML with its lines, for errors found after loading (`params:` is
    # checked against the checklist once both are loaded).
    located: yamlsrc.Located | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        return (self.base_dir / relative).resolve()

    @property
    def repository_path(self) -> Path | None:
        repo = self.model.repository
        return self.resolve(repo.path) if repo else None

    @property
    def attestation_files(self) -> list[Path]:
        files = self.model.attestations
        if files is None:
            return []
        return [self.resolve(f) for f in ([files] if isinstance(files, str) else files)]

    @property
    def waiver_file(self) -> Path | None:
        return self.resolve(self.model.waivers) if self.model.waivers else None

    def built_by_setup(self, path: Path) -> bool:
        """A file the profile names that does not exist yet but a setup command may write:
        read after the setup runs (boot), not when the profile is validated."""
        return bool(self.model.setup) and not path.exists()

    @property
    def extra_check_paths(self) -> list[Path]:
        return [self.resolve(p) for p in self.model.check_paths]

    def database_url(self) -> str | None:
        db = self.model.database
        if db is None:
            return None
        url = db.url or (self.env.get(db.url_env) if db.url_env else None)
        if url and url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            # Relative SQLite paths are relative to the profile, not to the caller's cwd.
            relative = url.removeprefix("sqlite:///")
            if relative and relative != ":memory:":
                url = f"sqlite:///{self.resolve(relative)}"
        return url

    def naming(self) -> Naming:
        db = self.model.database
        spec = db.naming if db else NamingModel()
        url = self.database_url() or ""
        mongo = url.startswith("mongodb")
        return Naming(
            table_style=spec.table_style or ("lower_plural" if mongo else "snake_plural"),
            column_style=spec.column_style or ("exact" if mongo else "snake"),
            tables=dict(spec.tables),
            columns=dict(spec.columns),
        )

    def var(self, role: EnvRole) -> str:
        """The name of the env variable holding one of Stripe's settings (env.names)."""
        return getattr(self.model.env.names, role)

    def secrets(self) -> list[str]:
        """Every env value that must never appear in output: those named like secrets or
        shaped like Stripe keys, and the Stripe key and signing secret under whatever
        names the profile gives them."""
        named = {self.var("secret_key"), self.var("webhook_secret")}
        return [v for k, v in self.env.items() if v and (k in named or _looks_secret(k, v))]


# Users' credentials can be short (a test account's password): masked from this length on.
CREDENTIAL_MIN_LENGTH = 6
_CREDENTIAL_MARKERS = ("PASS", "SECRET", "TOKEN", "KEY", "SESSION", "SID", "COOKIE", "AUTH")


def credentials(model: ProfileModel, base_dir: Path) -> list[str]:
    """The users' variables named like credentials (password, token, session, …), pool
    members included: they must never appear in output either."""
    found: list[str] = []
    for user in model.users.values():
        try:
            members = user.pool.members(base_dir) if user.pool else [user.variables()]
        except (OSError, ValueError):
            continue  # a pool's file a setup command writes: read again after the setup
        for variables in members:
            for name, value in variables.items():
                if isinstance(value, str) and any(m in name.upper() for m in _CREDENTIAL_MARKERS):
                    found.append(value)
    return found


def _looks_secret(key: str, value: str) -> bool:
    key = key.upper()
    markers = ("SECRET", "KEY", "TOKEN", "PASSWORD", "DATABASE_URL", "DSN")
    return bool(value) and (
        any(m in key for m in markers) or value.startswith(("sk_", "rk_", "whsec_"))
    )


def run_setup(profile: Profile, now: datetime) -> None:
    """Run the profile's setup commands; a failure is invalid input naming the command.
    GOLIVE_NOW tells them the time the run judges as of (the demo dates its sign-offs
    from it, so they are fresh on any day and fixed under `--now`)."""
    env = {**os.environ, "GOLIVE_NOW": now.isoformat()}
    for command in profile.model.setup:
        argv = [sys.executable if part == "{python}" else part for part in shlex.split(command)]
        try:
            # Its own process group, stopped whole on Ctrl-C or a timeout.
            done = children.run(argv, cwd=profile.base_dir, env=env, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InputError(
                _setup_redactor(profile).text(f"setup command {command!r} could not run: {exc}"),
                file=profile.path,
                hint="fix the command under `setup:`",
            ) from None
        if done.returncode != 0:
            # Redacted whole before the tail is cut: a build prints what it reads, env included.
            output = _setup_redactor(profile).text((done.stderr or done.stdout).strip())
            raise InputError(
                f"setup command {command!r} failed with exit code {done.returncode}: "
                + " / ".join(output.splitlines()[-3:]),
                file=profile.path,
                hint="fix the command under `setup:`",
            )


def _setup_redactor(profile: Profile) -> Redactor:
    """The env's secrets as known before the setup, and as the env file is now: the failed
    command may have written it (the demo's build does)."""
    redactor = Redactor(profile.secrets())
    spec = profile.model.env
    if spec.source == "file" and spec.file is not None:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            env_path = profile.resolve(spec.file)
            if env_path.is_file():
                for key, value in parse_dotenv(env_path).items():
                    if _looks_secret(key, value):
                        redactor.add_secret(value)
    return redactor


def load(path: Path) -> Profile:
    located = yamlsrc.load(path)
    model = validate(ProfileModel, located, hint="see targets/demo/target.yaml for a full example")
    blocks = profile_blocks.validate_blocks(located)
    references.validate(model, located, {"profile": model, **blocks})
    profile = Profile(model=model, path=path.resolve(), located=located)
    profile.env = _read_env(profile, located)
    return profile


def reload_env(profile: Profile) -> None:
    """Read the env source again, after setup commands that may have written it."""
    profile.env = _read_env(profile, yamlsrc.load(profile.path), deferred=False)


def _read_env(
    profile: Profile, located: yamlsrc.Located, *, deferred: bool = True
) -> dict[str, str]:
    spec = profile.model.env
    if spec.source == "process":
        return dict(os.environ)
    if spec.file is None:
        return {}
    env_path = profile.resolve(spec.file)
    if not env_path.is_file() and deferred and profile.model.setup:
        return {}  # a setup command may write it; boot reads it again and insists then
    if not env_path.is_file():
        raise InputError(
            f"env file {env_path} not found",
            file=profile.path,
            line=located.line(("env", "file")),
            hint="set env.file to the target's dotenv file, or env.source: process",
        )
    return parse_dotenv(env_path)


def parse_dotenv(path: Path) -> dict[str, str]:
    """KEY=value lines; `export`, quotes and comments as dotenv tools accept them."""
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key.strip()] = value
    return values
