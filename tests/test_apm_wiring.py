"""Error tracking and APM wired (repo.monitoring-sdk) through the gate, on small git
repositories built here, and on the demo (the reference shop declares sentry-sdk and
OpenTelemetry, initialises them in shop/telemetry.py, and demo.env carries their DSN and
endpoint at 127.0.0.1).

Both ways: wired passes; no SDK, an SDK never initialised, an SDK without its DSN/key,
an init only in a comment or a test file fail naming what is missing; a profile's
in-house SDK counts; no repository is not-run; an empty repository examined nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from gatekit import ROOT, GateRun, demo_copy, gate

from golive.dependencies import declared

ERRORS = "app-monitoring.error-tracking"
APM = "app-monitoring.performance-monitoring"
DSN = "https://0123456789abcdef0123456789abcdef@127.0.0.1:9/42"

GIT_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
}

SENTRY_APP = {
    "requirements.txt": "starlette>=0.40\nsentry-sdk[starlette]==2.19.0  # errors\n",
    "app/main.py": (
        "import os\nimport sentry_sdk\n\n"
        "if os.environ.get('SENTRY_DSN'):\n    sentry_sdk.init(dsn=os.environ['SENTRY_DSN'])\n"
    ),
}


def make_repo(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, env=GIT_ENV, check=True)
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    subprocess.run(["git", "add", "-A"], cwd=path, env=GIT_ENV, check=True)
    subprocess.run(["git", "commit", "-qm", "app"], cwd=path, env=GIT_ENV, check=True)
    return path


def target(
    tmp_path: Path,
    files: dict[str, str] | None,
    env: dict[str, str],
    params: dict | None = None,
) -> Path:
    """A profile with no running app: a repository and an env file only."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    profile = tmp_path / "target.yaml"
    data: dict = {"name": "apm", "mode": "test", "env": {"file": "app.env"}}
    if files is not None:
        make_repo(tmp_path / "repo", files)
        data["repository"] = {"path": "repo"}
    if params:
        data["params"] = params
    (tmp_path / "app.env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    return profile


def run(profile: Path, *items: str) -> GateRun:
    args = [a for item in items for a in ("--item", item)]
    return gate(profile, profile.parent / "out", *args)


def sdk_evidence(result: GateRun, item: str, name: str) -> dict:
    return next(e for e in result.evidence(item) if e.get("sdk") == name)


# --- the manifests --------------------------------------------------------------------------


def test_every_manifest_kind_is_read(tmp_path: Path) -> None:
    files = {
        "requirements-prod.txt": "-r base.txt\nSentry_SDK>=2 ; python_version>'3'\n# rollbar\n",
        "pyproject.toml": '[project]\ndependencies = ["ddtrace>=2"]\n'
        '[tool.poetry.dependencies]\npython = "^3.11"\nnewrelic = "*"\n',
        "Pipfile": '[packages]\nelastic-apm = "*"\n[dev-packages]\nbugsnag = "*"\n',
        "web/package.json": json.dumps(
            {"dependencies": {"@sentry/node": "^8"}, "devDependencies": {"rollbar": "2"}}
        ),
        "Gemfile": "source 'https://rubygems.org'\ngem 'honeybadger', '~> 5'\n",
        "composer.json": json.dumps({"require": {"sentry/sentry-laravel": "^4"}}),
        "go.mod": "module x\n\nrequire (\n\tgithub.com/getsentry/sentry-go v0.29.0\n)\n",
        "pom.xml": "<project><dependencies><dependency><groupId>io.sentry</groupId>"
        "<artifactId>sentry</artifactId></dependency></dependencies></project>",
        "build.gradle": "dependencies { implementation 'com.newrelic.agent.java:newrelic-api:8.0' }",
        "broken/package.json": "{not json",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = declared(tmp_path, files)
    names = {d.name for d in found.dependencies}
    assert {
        "sentry-sdk",
        "ddtrace",
        "newrelic",
        "elastic-apm",
        "@sentry/node",
        "honeybadger",
        "sentry/sentry-laravel",
        "github.com/getsentry/sentry-go",
        "io.sentry:sentry",
        "com.newrelic.agent.java:newrelic-api",
    } <= names
    # Development-only sections are not production's; commented lines are not packages.
    assert "bugsnag" not in names and "rollbar" not in names and "python" not in names
    assert found.unreadable == ["broken/package.json"]
    assert [d.name for d in found.find(["@sentry/*"])] == ["@sentry/node"]


# --- through the gate -----------------------------------------------------------------------


@pytest.mark.slow
def test_wired_sentry_and_opentelemetry_pass(tmp_path: Path) -> None:
    files = {
        **SENTRY_APP,
        "requirements.txt": SENTRY_APP["requirements.txt"] + "opentelemetry-sdk\n",
        "app/tracing.py": "from opentelemetry.sdk.trace import TracerProvider\n"
        "provider = TracerProvider()\n",
    }
    env = {"SENTRY_DSN": DSN, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}
    result = run(target(tmp_path, files, env), ERRORS, APM)
    assert result.outcomes() == {ERRORS: "pass", APM: "pass"}, result.stdout + result.stderr
    sentry = sdk_evidence(result, ERRORS, "Sentry")
    assert sentry["dependencies"] == ["requirements.txt: sentry-sdk"]
    assert sentry["initialised_at"] == ["app/main.py:5"]
    assert sentry["env_set"] == ["SENTRY_DSN"] and sentry["wired"] is True
    summary = result.evidence(ERRORS)[0]
    assert summary["manifests"] == ["requirements.txt"] and summary["source_files_scanned"] == 2
    assert sdk_evidence(result, APM, "OpenTelemetry")["initialised_at"] == ["app/tracing.py:2"]
    # The DSN is a secret: never in any output.
    texts = "".join(result.report_texts().values()) + result.stdout + result.stderr
    assert "0123456789abcdef0123456789abcdef" not in texts


@pytest.mark.slow
def test_no_sdk_fails_naming_the_vendors_looked_for(tmp_path: Path) -> None:
    files = {"requirements.txt": "starlette\n", "app/main.py": "print('hello')\n"}
    result = run(target(tmp_path, files, {"SENTRY_DSN": DSN}), ERRORS, APM)
    assert result.outcomes() == {ERRORS: "fail", APM: "fail"}
    reason = result.item(ERRORS)["reason"]
    assert "no error tracking SDK: none of Sentry, Rollbar, Bugsnag" in reason
    assert "requirements.txt" in reason
    assert "OpenTelemetry" in result.item(APM)["reason"]
    # A DSN alone is not error tracking: it is shown, the SDK is not wired.
    assert sdk_evidence(result, ERRORS, "Sentry")["dependencies"] == []


@pytest.mark.slow
def test_an_sdk_without_its_dsn_fails(tmp_path: Path) -> None:
    result = run(target(tmp_path, SENTRY_APP, {"OTHER": "x"}), ERRORS)
    assert result.outcomes() == {ERRORS: "fail"}
    reason = result.item(ERRORS)["reason"]
    assert reason.endswith("Sentry: SENTRY_DSN not set in the env")


@pytest.mark.slow
def test_an_sdk_never_initialised_fails(tmp_path: Path) -> None:
    files = {
        "requirements.txt": "sentry-sdk\n",
        "app/main.py": "import sentry_sdk\n# sentry_sdk.init(dsn=os.environ['SENTRY_DSN'])\n",
        "tests/test_errors.py": "import sentry_sdk\nsentry_sdk.init(dsn='http://k@127.0.0.1:9/1')\n",
        "app/test_main.py": "sentry_sdk.init()\n",
    }
    result = run(target(tmp_path, files, {"SENTRY_DSN": DSN}), ERRORS)
    assert result.outcomes() == {ERRORS: "fail"}
    assert result.item(ERRORS)["reason"].endswith("Sentry: never initialised in the code")
    assert sdk_evidence(result, ERRORS, "Sentry")["initialised_at"] == []


@pytest.mark.slow
def test_an_init_without_the_dependency_fails(tmp_path: Path) -> None:
    files = {"requirements.txt": "starlette\n", "app/main.py": "sentry_sdk.init()\n"}
    result = run(target(tmp_path, files, {"SENTRY_DSN": DSN}), ERRORS)
    assert result.outcomes() == {ERRORS: "fail"}
    assert "Sentry: no package of it among the dependencies" in result.item(ERRORS)["reason"]


@pytest.mark.slow
def test_an_in_house_sdk_named_in_the_params_counts(tmp_path: Path) -> None:
    files = {
        "package.json": json.dumps({"dependencies": {"@acme/telemetry": "1.2.0"}}),
        "src/index.js": "const t = require('@acme/telemetry');\nt.boot({ key: process.env.ACME_KEY });\n",
    }
    sdk = {
        "name": "Acme Telemetry",
        "dependency": ["@acme/telemetry"],
        "init_pattern": r"\.boot\(\{",
        "env": ["ACME_KEY"],
    }
    profile = target(tmp_path, files, {"ACME_KEY": "acme-0000"}, {APM: {"sdks": [sdk]}})
    result = run(profile, APM, ERRORS)
    assert result.outcomes() == {APM: "pass", ERRORS: "fail"}
    acme = sdk_evidence(result, APM, "Acme Telemetry")
    assert acme["initialised_at"] == ["src/index.js:2"] and acme["wired"] is True


@pytest.mark.slow
def test_no_repository_is_not_run_and_an_empty_one_examined_nothing(tmp_path: Path) -> None:
    result = run(target(tmp_path / "none", None, {"SENTRY_DSN": DSN}), ERRORS)
    assert result.outcomes() == {ERRORS: "not-run"}
    assert "names no repository" in result.item(ERRORS)["reason"]
    result = run(target(tmp_path / "empty", {"README.md": "hello\n"}, {"SENTRY_DSN": DSN}), ERRORS)
    assert result.outcomes() == {ERRORS: "error"}
    assert "examined nothing" in result.item(ERRORS)["reason"]


@pytest.mark.slow
def test_the_demo_shop_wires_sentry_and_opentelemetry(tmp_path: Path) -> None:
    result = run(demo_copy(tmp_path), ERRORS, APM)
    assert result.outcomes() == {ERRORS: "pass", APM: "pass"}, result.stdout + result.stderr
    sentry = sdk_evidence(result, ERRORS, "Sentry")
    assert sentry["dependencies"] == ["requirements.txt: sentry-sdk"]
    source = (ROOT / "shop" / "telemetry.py").read_text().splitlines()
    [line] = [n for n, text in enumerate(source, 1) if "sentry_sdk.init(" in text]
    assert sentry["initialised_at"] == [f"shop/telemetry.py:{line}"]
    otel = sdk_evidence(result, APM, "OpenTelemetry")
    assert otel["env_set"] == ["OTEL_EXPORTER_OTLP_ENDPOINT"]
