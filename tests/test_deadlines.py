"""Bounded run time against a target that never answers (issue #12, case 7).

A real loopback server accepts connections and never answers (tests/silentserver.py). Before
the limits a gate against it ran every 10 s timeout in series: 17 minutes for the default
run, 200 s for webhook.fast-ack alone. Now three thresholds bound it (profile `limits`,
golive/budget.py): consecutive timeouts against one host stop the check, a check has its
budget, and the run its deadline; each is an `error` saying why, never a pass.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from gatekit import GateRun, demo_copy, gate, golive_here, golive_process, load_yaml
from hangingapp import external_app_profile
from silentserver import SilentServer

from golive import budget, registry

NOW = "2026-11-26T12:00:00Z"


def _silent_demo(tmp_path: Path, url: str) -> Path:
    """The demo with its app replaced by one golive does not start, answering at `url`."""
    profile = demo_copy(tmp_path)
    data = load_yaml(profile)
    data["app"] = {
        key: value
        for key, value in data["app"].items()
        if key not in ("start", "cwd", "env", "register_webhook")
    }
    data["app"]["base_url"] = url
    profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return profile


def _needs_app(item: dict) -> bool:
    checks = registry.discover()
    return any("app" in checks[c["ref"]].needs for c in item["checks"])


@pytest.mark.longest
def test_the_default_gate_against_a_target_that_never_answers_ends_in_minutes(
    tmp_path: Path,
) -> None:
    # A bound, not a speed measurement (BENCHMARKS.md has those: about 100 s on 2 idle
    # cores, against 17 minutes before the budget): the suite's other workers share the cores.
    with SilentServer(lifetime_s=260) as silent:
        profile = _silent_demo(tmp_path, silent.url)
        out = tmp_path / "out"
        started = time.monotonic()
        done = golive_process(
            "gate", "--target", str(profile), "--out", str(out), "--now", NOW, timeout=210
        )
        elapsed = time.monotonic() - started
    run = GateRun(done.returncode, done.stdout, done.stderr, out)
    assert elapsed < 180, f"the gate took {elapsed:.0f} s against a silent target"
    assert done.returncode in (1, 3), done.stdout + done.stderr
    live = [i for i in run.results["items"] if _needs_app(i)]
    assert len(live) > 30
    passed = [i["id"] for i in live if i["outcome"] == "pass"]
    assert not passed, f"passed against a target that never answers: {passed}"
    silent_errors = [i for i in live if "did not answer within" in i["reason"]]
    # Every webhook-security item is stopped by the silent host, as the other live sections.
    assert {i["id"] for i in live if i["section"] == "webhook-security"} <= {
        i["id"] for i in silent_errors
    }
    assert {i["section"] for i in silent_errors} >= {
        "webhook-security",
        "api-security",
        "price-integrity",
    }
    for item in silent_errors:
        assert item["outcome"] == "error"
        assert any("stopped" in e for c in item["checks"] for e in c["evidence"])


def test_the_run_deadline_stops_the_checks_still_to_run(tmp_path: Path) -> None:
    limits = {"run_s": 4, "check_s": 60, "consecutive_timeouts": 100}
    with SilentServer(lifetime_s=60) as silent:
        profile = external_app_profile(tmp_path, silent.url, limits=limits)
        started = time.monotonic()
        run = gate(profile, tmp_path / "out", "--section", "webhook-security")
        elapsed = time.monotonic() - started
    assert elapsed < 40
    assert run.returncode == 3, run.stdout + run.stderr  # INCOMPLETE: the run did not finish
    assert run.results["verdict"] == "INCOMPLETE"
    assert any("run deadline of 4 s" in e for e in run.results["errors"])
    outcomes = {i["id"]: (i["outcome"], i["reason"]) for i in run.results["items"]}
    first, *rest = outcomes.values()
    assert first == ("error", first[1]) and "passed while this check ran" in first[1]
    assert rest and all(
        o == "error" and "not run: the run deadline of 4 s passed" in r for o, r in rest
    )


def test_a_check_stops_when_its_budget_is_spent(tmp_path: Path) -> None:
    limits = {"check_s": 3, "consecutive_timeouts": 100}
    with SilentServer(lifetime_s=60) as silent:
        profile = external_app_profile(tmp_path, silent.url, limits=limits)
        started = time.monotonic()
        run = gate(profile, tmp_path / "out", "--item", "webhook-security.fast-ack")
        elapsed = time.monotonic() - started
    assert elapsed < 30
    item = run.item("webhook-security.fast-ack")
    assert item["outcome"] == "error"
    assert "the check's budget of 3 s was spent" in item["reason"]
    assert run.returncode == 0  # a major's error does not block; the run itself finished


def test_limits_are_validated_with_the_file_and_line(tmp_path: Path) -> None:
    for limits, field in (({"run_s": 0}, "limits.run_s"), ({"per_check": 5}, "per_check")):
        profile = external_app_profile(tmp_path, "http://127.0.0.1:9", limits=limits)
        done = golive_here("validate", "--target", str(profile))
        assert done.returncode == 2, done.stdout + done.stderr
        assert field in done.stderr and "target.yaml" in done.stderr
        for leftover in ("app.db", "app.env"):
            (tmp_path / leftover).unlink()


def test_a_load_run_is_not_charged_to_the_check_or_the_run() -> None:
    # A load run lasts its chosen duration (`golive load --duration 30m`): it has its own
    # bound, and the requests after it (the invariants) must still be sent.
    clock = budget.RunClock(budget.Limits(run_s=0.5, check_s=0.5))
    check = clock.check()
    budget.activate(check)
    try:
        with budget.not_counted():
            time.sleep(0.8)
        assert budget.request_timeout("127.0.0.1:9", 10) > 0.2
        time.sleep(0.6)
        with pytest.raises(budget.BudgetExceeded, match="run deadline of 0.5 s passed"):
            budget.request_timeout("127.0.0.1:9", 10)
    finally:
        budget.activate(None)
