"""The profile's `services:` (golive/services.py): processes started beside the app.

Real processes on free loopback ports: a service is ready by its health path or by a log
line, sets its exports for the run and takes them back when stopped, is skipped when the
environment already provides its exports, and one that cannot start is exit 2 naming it —
or, marked optional, a warning with the items that need it not-run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml
from gatekit import demo_copy, gate, monitoring_items

from golive import profile as profiles
from golive import services
from golive.errors import InputError
from golive.redact import Redactor
from golive.target_app import RunningApp

APP = RunningApp(base_url="http://127.0.0.1:1", webhook_url="http://127.0.0.1:1/hook")
VAR = "GOLIVE_TEST_SERVICE_URL"

# A service that answers its health path: Python's own HTTP server on {port}.
HTTP_SERVER = "{python} -m http.server {port} --bind 127.0.0.1"
# A service that prints the app's address, then a ready line, and stays up.
LOG_LINE = (
    "{python} -u -c \"import time; print('scraping {app_address}'); print('ready now'); "
    'time.sleep(60)"'
)


def _profile(tmp_path: Path, **services_block: dict) -> profiles.Profile:
    path = tmp_path / "target.yaml"
    data = {"name": "svc", "mode": "test", "services": services_block}
    path.write_text(yaml.safe_dump(data))
    return profiles.load(path)


def _start(tmp_path: Path, target: profiles.Profile) -> list[services.RunningService]:
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    return services.start_services(target, APP, workdir=workdir, redactor=Redactor([]))


@pytest.fixture(autouse=True)
def _no_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VAR, raising=False)


def test_ready_by_health_exports_its_url_and_takes_it_back(tmp_path: Path) -> None:
    target = _profile(
        tmp_path,
        web={"start": HTTP_SERVER, "health": "/", "export": {VAR: "http://127.0.0.1:{port}"}},
    )
    [web] = _start(tmp_path, target)
    try:
        assert os.environ[VAR] == f"http://127.0.0.1:{web.port}"
        import httpx

        assert httpx.get(os.environ[VAR], trust_env=False).status_code == 200
    finally:
        web.stop()
    assert VAR not in os.environ
    assert web.process is not None and web.process.poll() is not None  # stopped, reaped


def test_ready_by_log_line_with_the_apps_address(tmp_path: Path) -> None:
    target = _profile(
        tmp_path, tail={"start": LOG_LINE, "wait_for_log": r"^ready", "export": {VAR: "x"}}
    )
    [tail] = _start(tmp_path, target)
    try:
        assert tail.log_path is not None
        assert "scraping 127.0.0.1:1" in tail.log_path.read_text()
    finally:
        tail.stop()


def test_an_export_already_set_means_the_environment_provides_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _profile(
        tmp_path, web={"start": "false", "health": "/", "export": {VAR: "http://x:{port}"}}
    )
    monkeypatch.setenv(VAR, "http://127.0.0.1:9")  # the user's own server
    assert services.due(target) == {}
    assert _start(tmp_path, target) == []  # `false` would have failed: never started
    assert os.environ[VAR] == "http://127.0.0.1:9"


def test_a_service_that_exits_is_exit_2_naming_it_and_quoting_its_output(
    tmp_path: Path,
) -> None:
    start = f"{sys.executable} -c \"import sys; print('no config found'); sys.exit(4)\""
    target = _profile(tmp_path, broken={"start": start, "health": "/"})
    with pytest.raises(InputError) as caught:
        _start(tmp_path, target)
    message = str(caught.value)
    assert "service broken did not start: it exited with code 4" in message
    assert "no config found" in message and "target.yaml" in message


def test_a_service_never_ready_times_out_and_stops_what_it_started(tmp_path: Path) -> None:
    target = _profile(
        tmp_path,
        first={"start": HTTP_SERVER, "health": "/", "export": {VAR: "{port}"}},
        mute={"start": LOG_LINE, "wait_for_log": "never printed", "timeout_s": 1},
    )
    with pytest.raises(
        InputError,
        match=r"service mute did not start: not ready within 1 s \(waited for a line matching",
    ):
        _start(tmp_path, target)
    assert VAR not in os.environ  # the first one was stopped and its export taken back


def test_an_optional_service_that_cannot_start_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = _profile(
        tmp_path,
        extra={"start": "/nonexistent/binary", "health": "/", "optional": "the run goes on"},
    )
    assert _start(tmp_path, target) == []
    err = capsys.readouterr().err
    assert "golive: warning: service extra did not start" in err and "the run goes on" in err


def test_a_service_must_say_when_it_is_ready(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="`health` or `wait_for_log`"):
        _profile(tmp_path, vague={"start": HTTP_SERVER})
    with pytest.raises(InputError, match="not a regular expression"):
        _profile(tmp_path, broken={"start": HTTP_SERVER, "wait_for_log": "ready ("})


# --- the demo's Prometheus ------------------------------------------------------------------


def test_the_demo_without_prometheus_warns_and_its_monitoring_items_are_not_run(
    tmp_path: Path,
) -> None:
    # The demo's service as on a machine without the binary (the wrapper's own message).
    target = demo_copy(tmp_path)
    data = yaml.safe_load(target.read_text())
    data["services"]["prometheus"]["start"] = (
        "{python} -c \"import sys; sys.exit('prometheus is not installed')\""
    )
    target.write_text(yaml.safe_dump(data, sort_keys=False))
    env = {k: v for k, v in os.environ.items() if k != "GOLIVE_DEMO_PROMETHEUS_URL"}
    run = gate(target, tmp_path / "out", "--section", "custom-alerts", env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "golive: warning: service prometheus did not start" in run.stderr
    assert "prometheus is not installed" in run.stderr
    custom = {i for i in run.outcomes() if i in monitoring_items()}
    assert custom and {run.outcomes()[i] for i in custom} == {"not-run"}
    for item in custom:
        assert "GOLIVE_DEMO_PROMETHEUS_URL, which is not set" in run.item(item)["reason"]


def test_the_demo_prometheus_judges_the_deployed_rule_file(tmp_path: Path) -> None:
    # The correct demo passes every alert item; the build flaw drops one alert and fails it.
    sections = ["--section", "custom-alerts", "--section", "stripe-monitoring"]
    good = gate(demo_copy(tmp_path / "good"), tmp_path / "good-out", *sections)
    assert good.returncode == 0, good.stdout + good.stderr
    alerts = {i for i in good.outcomes() if i in monitoring_items()}
    assert {good.outcomes()[i] for i in alerts} == {"pass"}, good.stdout

    env = {**os.environ, "SHOP_FLAWS": "missing-alert-rule"}
    bad = gate(demo_copy(tmp_path / "bad"), tmp_path / "bad-out", *sections, env=env)
    # (Not a blocker: the verdict stays GO; the item fails all the same.)
    assert bad.returncode == 0, bad.stdout + bad.stderr
    assert {i for i, o in bad.outcomes().items() if o == "fail"} == {
        "custom-alerts.amount-mismatch"
    }
    reason = bad.item("custom-alerts.amount-mismatch")["reason"]
    assert "no loaded alerting rule covers amount-mismatch" in reason
    assert "AmountMismatch" not in reason  # the rules it names are the others
