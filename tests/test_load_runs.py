"""Real load runs: Locust against the reference shop behind the sandbox, all on 127.0.0.1.

Each run is a few seconds (the gate's short run, or `golive load --duration …`), bounded by
Locust's --run-time and the runner's hard timeout; the tests bound the subprocess too.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from gatekit import ROOT, GateRun, SharedRuns, demo_copy, golive, set_env

LOAD_ITEMS = {
    "load-testing.concurrent-intents",
    "load-testing.webhook-under-load",
    "load-testing.database-performance",
    "load-testing.response-times",
    "load-testing.race-conditions",
}
LOCUST_FILES = ("locust.html", "locust.json", "locust_stats.csv", "locust_stats_history.csv")


def load_run(profile: Path, out: Path, *args: str, env: dict[str, str] | None = None) -> GateRun:
    done = golive("load", "--target", str(profile), "--out", str(out), *args, timeout=150, env=env)
    return GateRun(done.returncode, done.stdout, done.stderr, out)


def load_outcomes(run: GateRun) -> dict[str, str]:
    return {k: v for k, v in run.outcomes().items() if k in LOAD_ITEMS}


def metric(run: GateRun, item: str, name: str) -> dict[str, Any]:
    return next(e for e in run.evidence(item) if e.get("metric") == name)


def edit_load(profile: Path, **changes: Any) -> None:
    data = yaml.safe_load(profile.read_text())
    data["load"].update(changes)
    profile.write_text(yaml.safe_dump(data, sort_keys=False))


def test_correct_shop_passes_every_threshold_and_invariant_and_leaks_no_secret(
    tmp_path: Path,
) -> None:
    profile = demo_copy(tmp_path)
    canaries = {
        "STRIPE_SECRET_KEY": "sk_test_CANARY" + secrets.token_hex(12),
        "STRIPE_WEBHOOK_SECRET": "whsec_CANARY" + secrets.token_hex(12),
    }
    set_env(profile, **canaries)
    out = tmp_path / "out"
    run = load_run(profile, out, "--scenario", "mixed", "--users", "13", "--duration", "8s")
    assert run.returncode == 0, run.stdout + run.stderr
    assert load_outcomes(run) == dict.fromkeys(LOAD_ITEMS, "pass")
    race = run.evidence("load-testing.race-conditions")[-1]
    assert race["violations"] == {} and race["race_intents"] >= 1
    assert race["stripe_succeeded"] == race["target_paid_orders"] > 0
    assert metric(run, "load-testing.concurrent-intents", "samples")["observed"] >= 50
    assert "users" in run.stdout and "req/s" in run.stdout  # live progress
    for name in LOCUST_FILES:
        assert (out / name).is_file(), name
    assert (
        "<svg" in (out / "report.html").read_text()
        and 'id="load-charts"' in (out / "report.html").read_text()
    )
    texts = {"stdout": run.stdout, "stderr": run.stderr, **run.report_texts()}
    assert "ledger.jsonl" in texts and "load-plan.json" in texts
    for name, text in texts.items():
        for value in canaries.values():
            for leak in (value, value.split("CANARY")[1]):
                assert leak not in text, f"{leak[:14]}… leaked into {name}"


def test_double_order_on_race_fails_the_race_item_naming_the_duplicated_intents(
    shared_runs: SharedRuns,
) -> None:
    run = shared_runs.flaw("double-order-on-race")  # the detection matrix's run
    assert run.returncode == 1, run.stdout + run.stderr
    failing = {k for k, v in load_outcomes(run).items() if v != "pass"}
    assert failing == {"load-testing.race-conditions"}
    found = run.evidence("load-testing.race-conditions")[-1]["violations"]
    assert found["more_than_one_order"] and found["more_than_one_payment"]
    assert all(v.startswith("pi_") for v in found["more_than_one_order"])
    message = run.item("load-testing.race-conditions")["checks"][0]["message"]
    assert found["more_than_one_order"][0].split()[0] in message


def test_slow_webhook_fails_the_webhook_latency_threshold_only(shared_runs: SharedRuns) -> None:
    run = shared_runs.flaw("slow-webhook")  # the detection matrix's run
    failing = {k for k, v in load_outcomes(run).items() if v != "pass"}
    assert failing == {"load-testing.webhook-under-load"}, run.stdout
    ack = metric(run, "load-testing.webhook-under-load", "webhook_ack_ms")
    assert ack["passed"] is False and ack["observed"] >= 2000 and ack["samples"] > 0


def test_a_threshold_with_zero_samples_is_an_error(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    edit_load(profile, weights={"storm": 3, "burst": 0, "race": 1})  # no burst users
    run = load_run(profile, tmp_path / "out", "--users", "4", "--duration", "3s")
    assert run.returncode == 1, run.stdout + run.stderr
    item = run.item("load-testing.webhook-under-load")
    assert item["outcome"] == "error"
    assert "no samples for webhook_ack_ms (webhook)" in item["checks"][0]["message"]
    assert metric(run, "load-testing.webhook-under-load", "webhook_ack_ms")["passed"] is None


def test_abort_on_fail_stops_the_run_at_the_first_breach(tmp_path: Path) -> None:
    text = (ROOT / "checklist.yaml").read_text()
    old = "      - {ref: load.webhook-burst}\n"
    assert old in text
    checklist = tmp_path / "checklist.yaml"
    checklist.write_text(
        text.replace(old, "      - {ref: load.webhook-burst, params: {abort_on_fail: true}}\n")
    )
    env = {**os.environ, "SHOP_FLAWS": "slow-webhook"}
    started = time.monotonic()
    run = load_run(
        demo_copy(tmp_path),
        tmp_path / "out",
        *("--checklist", str(checklist), "--scenario", "burst", "--users", "20"),
        *("--duration", "60s"),
        env=env,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert time.monotonic() - started < 50  # well before the 60 s
    [evidence, *_] = run.evidence("load-testing.webhook-under-load")
    assert evidence["aborted_by"] == ["load-testing.webhook-under-load webhook_ack_ms p(95)<2000"]
    assert run.item("load-testing.webhook-under-load")["outcome"] == "fail"


def test_workers_run_in_master_worker_mode_and_report_their_intents(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = load_run(
        demo_copy(tmp_path),
        out,
        *("--scenario", "storm", "--users", "6", "--duration", "6s", "--workers", "2"),
    )
    race = run.evidence("load-testing.race-conditions")[-1]
    assert race["payment_intents"] > 10 and race["violations"] == {}, run.stdout + run.stderr
    assert run.evidence("load-testing.race-conditions")[0]["workers"] == 2
    assert run.item("load-testing.database-performance")["outcome"] == "pass"
    assert (out / "locust.html").is_file()
    ledger = [json.loads(x) for x in (out / "ledger.jsonl").read_text().splitlines()]
    assert sum(1 for e in ledger if e["kind"] == "intent") == race["payment_intents"]


def test_an_interrupted_run_still_writes_its_results(tmp_path: Path) -> None:
    out = tmp_path / "out"
    log = (tmp_path / "stdout.txt").open("w")
    argv = [sys.executable, "-m", "golive.cli", "load", "--target", str(demo_copy(tmp_path))]
    argv += ["--out", str(out), "--duration", "60s", "--users", "6"]
    child = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        history = out / "locust_stats_history.csv"
        while time.monotonic() < deadline:
            if history.exists() and len(history.read_text().splitlines()) > 3:
                break
            time.sleep(0.3)
        else:
            raise AssertionError("the load run never started")
        child.send_signal(signal.SIGINT)
        assert child.wait(90) == 3, (tmp_path / "stdout.txt").read_text()
    finally:
        if child.poll() is None:
            child.kill()
        log.close()
    for name in (*LOCUST_FILES, "results.json", "report.html"):
        assert (out / name).is_file(), name
    results = json.loads((out / "results.json").read_text())
    assert results["verdict"] == "INCOMPLETE"
    stats = json.loads((out / "locust.json").read_text())
    assert sum(e["num_requests"] for e in stats) > 0


def test_latency_thresholds_fail_with_the_measurement_as_evidence(tmp_path: Path) -> None:
    # No shop flaw slows the checkout, the API or the database past the checklist's
    # targets; thresholds no real run can meet show the three items failing instead.
    text = (ROOT / "checklist.yaml").read_text()
    for old, new in (
        ("create_intent_ms: p(95)<2000", "create_intent_ms: p(95)<1"),
        ("db_write_ms: p(95)<500", "db_write_ms: p(95)<1"),
        ("http_ms: p(95)<2000", "http_ms: p(95)<1"),
    ):
        assert old in text
        text = text.replace(old, new, 1)
    checklist = tmp_path / "checklist.yaml"
    checklist.write_text(text)
    run = load_run(
        demo_copy(tmp_path),
        tmp_path / "out",
        *("--checklist", str(checklist), "--scenario", "storm", "--users", "4"),
        *("--duration", "3s"),
    )
    assert run.returncode == 1, run.stdout + run.stderr
    for item, name in (
        ("load-testing.concurrent-intents", "create_intent_ms"),
        ("load-testing.database-performance", "db_write_ms"),
        ("load-testing.response-times", "http_ms"),
    ):
        assert run.item(item)["outcome"] == "fail"
        judged = metric(run, item, name)
        assert judged["passed"] is False and judged["observed"] >= 1 and judged["samples"] > 0
        assert f"{name} is " in run.item(item)["checks"][0]["message"]
    assert run.item("load-testing.race-conditions")["outcome"] == "pass"


def test_golive_refused_by_the_app_is_an_error_before_locust_starts(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    text = profile.read_text()
    assert 'token: "tok_load_{n:02d}"' in text
    profile.write_text(text.replace('token: "tok_load_{n:02d}"', 'token: "tok_nobody_{n:02d}"'))
    out = tmp_path / "out"
    run = load_run(profile, out, "--scenario", "storm", "--users", "2", "--duration", "2s")
    assert run.returncode == 1, run.stdout + run.stderr
    storm = load_outcomes(run)
    assert storm and set(storm.values()) == {"error"}, storm
    message = run.item("load-testing.concurrent-intents")["checks"][0]["message"]
    assert "golive could not follow flow 'fill_cart'" in message and "401" in message
    assert not (out / "locust.json").exists()  # stopped before Locust started
