"""The profile's `app`: started on a free port, waited for, registered, always stopped.

A real process plays the target: golive's own sandbox, started by the profile's
`app.start` command like any app would be.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.gatekit import demo_copy, edit_yaml, gate

ITEM = ["--item", "environment.api-version"]
SANDBOX_AS_APP = {
    "start": "{python} -m golive.cli sandbox --port {port}",
    "health": "/_golive/health",
    "webhook_path": "/hooks/stripe",
}


def with_app(tmp_path: Path, **app: object) -> Path:
    profile = demo_copy(tmp_path)
    edit_yaml(profile, app=app)
    return profile


def test_the_app_is_started_waited_for_and_stopped(tmp_path: Path) -> None:
    run = gate(with_app(tmp_path, **SANDBOX_AS_APP), tmp_path / "out", *ITEM)
    assert run.returncode == 0, run.stdout + run.stderr
    app = run.results["meta"]["target_app"]
    assert app["base_url"].startswith("http://127.0.0.1:")
    assert app["webhook_url"] == app["base_url"] + "/hooks/stripe"
    with pytest.raises(httpx.ConnectError):
        httpx.get(app["base_url"] + "/_golive/health", timeout=2)


def test_the_app_gets_the_sandbox_url_and_its_webhook_is_registered(tmp_path: Path) -> None:
    # The app (a second sandbox) is told where the backend is; the backend signs deliveries
    # to it with the env file's secret. Both are checked through the backend's admin API
    # while the run is going: a custom check records what it sees.
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "test_seen.py").write_text(
        "import httpx, os\n"
        "from golive.registry import check\n"
        "@check('custom.seen')\n"
        "def test_seen(ctx):\n"
        "    backend = ctx.target.stripe\n"
        "    client = httpx.Client(base_url=backend.api_base, trust_env=False)\n"
        "    endpoints = client.get('/v1/webhook_endpoints', auth=(backend.secret_key, '')).json()\n"
        "    ctx.record(endpoints=[(e['url'], e['enabled_events']) for e in endpoints['data']],\n"
        "               app=ctx.target.app.base_url)\n"
    )
    profile = with_app(tmp_path, **SANDBOX_AS_APP, register_webhook=["payment_intent.succeeded"])
    edit_yaml(profile, stripe={"backend": "sandbox"}, check_paths=[str(checks)])
    the_checklist = tmp_path / "checklist.yaml"
    text = (Path(__file__).resolve().parent.parent / "checklist.yaml").read_text()
    the_checklist.write_text(
        text.replace(
            "\n- id: database\n",
            "\n- id: custom\n  title: Custom\n  group: Pre-Deployment\n  items:\n"
            "  - id: custom.seen\n    title: seen\n    severity: minor\n    phase: pre-deploy\n"
            "    automated:\n      checks:\n      - {ref: custom.seen}\n\n- id: database\n",
            1,
        )
    )
    run = gate(
        profile, tmp_path / "out", "--item", "custom.seen", "--checklist", str(the_checklist)
    )
    assert run.returncode == 0, run.stdout + run.stderr
    evidence = run.item("custom.seen")["checks"][0]["evidence"][0]
    assert evidence["endpoints"] == [
        [evidence["app"] + "/hooks/stripe", ["payment_intent.succeeded"]]
    ]


def test_an_app_that_exits_is_exit_2_with_its_last_words(tmp_path: Path) -> None:
    profile = with_app(
        tmp_path, start="{python} -c \"import sys; print('boom: no config'); sys.exit(3)\""
    )
    run = gate(profile, tmp_path / "out", *ITEM)
    assert run.returncode == 2
    assert "the target app exited with code 3" in run.stderr
    assert "boom: no config" in run.stderr
    assert not (tmp_path / "out").exists()


def test_an_app_that_never_answers_is_stopped_and_exit_2(tmp_path: Path) -> None:
    profile = with_app(
        tmp_path,
        start="{python} -c \"import time; print('{port}', flush=True); time.sleep(60)\"",
        health_timeout_s=1,
    )
    run = gate(profile, tmp_path / "out", *ITEM)
    assert run.returncode == 2
    assert "did not answer 2xx at http://127.0.0.1:" in run.stderr
    assert "app.health_timeout_s" in run.stderr
