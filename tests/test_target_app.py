"""The profile's `app`: started on a free port, waited for, registered, always stopped —
and only when a selected check needs it.

A real process plays the target: golive's own sandbox, started by the profile's
`app.start` command like any app would be. A custom check that declares `needs={"app"}`
stands for the live checks to come.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.gatekit import ROOT, demo_copy, edit_yaml, gate

SANDBOX_AS_APP = {
    "start": "{python} -m golive.cli sandbox --port {port}",
    "health": "/_golive/health",
    "webhook_path": "/hooks/stripe",
}
SEEN_CHECK = """
import httpx
from golive.registry import check

@check("custom.seen", needs={"app"})
def test_seen(ctx):
    backend, app = ctx.target.stripe, ctx.target.app
    client = httpx.Client(base_url=backend.api_base, trust_env=False)
    endpoints = client.get("/v1/webhook_endpoints", auth=(backend.secret_key, "")).json()
    ctx.record(
        endpoints=[(e["url"], e["enabled_events"]) for e in endpoints["data"]],
        app=app.base_url,
        app_health=httpx.get(app.base_url + "/_golive/health", trust_env=False).status_code,
    )
"""
SEEN_SECTION = (
    "\n- id: custom\n  title: Custom\n  group: Pre-Deployment\n  items:\n"
    "  - id: custom.seen\n    title: seen\n    severity: minor\n    phase: staging\n"
    "    automated:\n      checks:\n      - {ref: custom.seen}\n\n- id: database\n"
)
SEEN = ["--item", "custom.seen"]


def with_app(tmp_path: Path, **app: object) -> tuple[Path, Path]:
    """A demo copy whose app is `app`, with the custom check; returns (profile, checklist)."""
    profile = demo_copy(tmp_path)
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "test_seen.py").write_text(SEEN_CHECK)
    edit_yaml(profile, app=app, check_paths=[str(checks)], stripe={"backend": "sandbox"})
    the_checklist = tmp_path / "checklist.yaml"
    text = (ROOT / "checklist.yaml").read_text()
    the_checklist.write_text(text.replace("\n- id: database\n", SEEN_SECTION, 1))
    return profile, the_checklist


def test_the_app_is_started_waited_for_and_stopped(tmp_path: Path) -> None:
    profile, the_checklist = with_app(tmp_path, **SANDBOX_AS_APP)
    run = gate(profile, tmp_path / "out", *SEEN, "--checklist", str(the_checklist))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.evidence("custom.seen")[0]["app_health"] == 200
    app = run.results["meta"]["target_app"]
    assert app["base_url"].startswith("http://127.0.0.1:")
    assert app["webhook_url"] == app["base_url"] + "/hooks/stripe"
    with pytest.raises(httpx.ConnectError):
        httpx.get(app["base_url"] + "/_golive/health", timeout=2)


def test_the_app_gets_the_sandbox_url_and_its_webhook_is_registered(tmp_path: Path) -> None:
    # The backend signs deliveries to the app's webhook URL with the env file's secret; the
    # custom check reads the endpoints back through the backend's API while the run goes.
    profile, the_checklist = with_app(
        tmp_path, **SANDBOX_AS_APP, register_webhook=["payment_intent.succeeded"]
    )
    run = gate(profile, tmp_path / "out", *SEEN, "--checklist", str(the_checklist))
    assert run.returncode == 0, run.stdout + run.stderr
    evidence = run.evidence("custom.seen")[0]
    assert evidence["endpoints"] == [
        [evidence["app"] + "/hooks/stripe", ["payment_intent.succeeded"]]
    ]


def test_a_run_whose_checks_need_no_app_starts_none(tmp_path: Path) -> None:
    # A pre-deploy gate never waits for a server: this app would fail at once if started.
    # (Without the demo's Prometheus service, which starts beside the app for the
    # pre-deploy monitoring checks; those are then not-run, the variable unset.)
    profile, _ = with_app(tmp_path, start='{python} -c "import sys; sys.exit(3)"')
    edit_yaml(profile, services={})
    run = gate(profile, tmp_path / "out", "--phase", "pre-deploy")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.results["meta"]["target_app"] is None
    assert run.results["meta"]["stripe_backend"] is None


def test_an_app_that_exits_is_exit_2_with_its_last_words(tmp_path: Path) -> None:
    profile, the_checklist = with_app(
        tmp_path, start="{python} -c \"import sys; print('boom: no config'); sys.exit(3)\""
    )
    run = gate(profile, tmp_path / "out", *SEEN, "--checklist", str(the_checklist))
    assert run.returncode == 2
    assert "the target app exited with code 3" in run.stderr
    assert "boom: no config" in run.stderr
    assert not (tmp_path / "out").exists()


def test_an_app_that_never_answers_is_stopped_and_exit_2(tmp_path: Path) -> None:
    profile, the_checklist = with_app(
        tmp_path,
        start="{python} -c \"import time; print('{port}', flush=True); time.sleep(60)\"",
        health_timeout_s=1,
    )
    run = gate(profile, tmp_path / "out", *SEEN, "--checklist", str(the_checklist))
    assert run.returncode == 2
    assert "did not answer 2xx at http://127.0.0.1:" in run.stderr
    assert "app.health_timeout_s" in run.stderr
