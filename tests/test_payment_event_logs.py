"""Payment events logged with their ids (logs.payment-events) through the gate, on the
running reference shop (a demo copy: the shop process behind the embedded sandbox).

- The correct shop logs the webhook event's id with its type (webhook_received) and the
  PaymentIntent id (order_paid): pass, with the ids and the log file's growth as evidence.
- SHOP_FLAWS=no-payment-event-logs drops the event ids: fail, naming the event id looked
  for, with the files and sizes scanned.
- No `logs:` in the profile: not-run. A log path the shop never writes: error (the
  positive control, the files growing during the payment, failed).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from gatekit import GateRun, demo_copy, edit_yaml, gate

from golive.logscan import LogWatch

pytestmark = pytest.mark.slow

ITEM = "app-monitoring.payment-event-logs"


def run(profile: Path, out: Path, flaws: str = "") -> GateRun:
    env = {**os.environ, "SHOP_FLAWS": flaws}
    return gate(profile, out, "--item", ITEM, env=env)


def looked(result: GateRun) -> dict:
    return next(e for e in result.evidence(ITEM) if "looked_for" in e)


def test_the_shop_logs_the_payment_intent_and_the_event_ids(tmp_path: Path) -> None:
    result = run(demo_copy(tmp_path), tmp_path / "out")
    assert result.outcomes() == {ITEM: "pass"}, result.stdout + result.stderr
    seen = looked(result)
    ids = seen["looked_for"]
    assert ids["payment_intent"].startswith("pi_") and ids["event_id"].startswith("evt_")
    assert ids["event_type"] == "payment_intent.succeeded"
    assert seen["lines_naming_payment_intent"] >= 1 and seen["lines_naming_event"] >= 1
    [log] = seen["log_files"]
    assert log["file"].endswith(".build/shop.log") and log["bytes_now"] > (log["bytes_before"] or 0)
    assert any(ids["event_id"] in e["line"] for e in seen["examples"])
    # The positive control's timeline: the payment went through, the order is paid.
    timeline = next(e for e in result.evidence(ITEM) if "timeline" in e)["timeline"]
    assert [s["step"] for s in timeline if s["ok"]][-1] == "order"


def test_a_shop_that_logs_no_event_ids_fails_naming_them(tmp_path: Path) -> None:
    result = run(demo_copy(tmp_path), tmp_path / "out", "no-payment-event-logs")
    assert result.outcomes() == {ITEM: "fail"}, result.stdout + result.stderr
    seen = looked(result)
    event_id = seen["looked_for"]["event_id"]
    reason = result.item(ITEM)["reason"]
    assert f"the webhook event id {event_id} with its type payment_intent.succeeded" in reason
    assert "the PaymentIntent id" not in reason  # still logged: order_paid names it
    assert seen["lines_naming_event"] == 0 and seen["lines_naming_payment_intent"] >= 1
    assert seen["log_files"][0]["bytes_now"] > (seen["log_files"][0]["bytes_before"] or 0)


def test_no_logs_is_not_run_and_a_file_never_written_is_an_error(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    edit_yaml(profile, logs=[])
    result = run(profile, tmp_path / "out")
    assert result.outcomes() == {ITEM: "not-run"}
    assert "names no log files" in result.item(ITEM)["reason"]
    edit_yaml(profile, logs=[".build/elsewhere.log"])
    result = run(profile, tmp_path / "out2")
    assert result.outcomes() == {ITEM: "error"}
    reason = result.item(ITEM)["reason"]
    assert "the log files did not grow while golive paid an order" in reason
    assert "elsewhere.log (missing)" in reason


@pytest.mark.parametrize("rotated", [False, True])
def test_only_the_lines_written_since_the_start_are_read(tmp_path: Path, rotated: bool) -> None:
    log, missing = tmp_path / "app.log", tmp_path / "never.log"
    log.write_text("old pi_1 line\n")
    watch = LogWatch.start([log, missing])
    if rotated:  # a rotation since the start: the new file is read from its beginning
        log.rename(tmp_path / "app.log.1")
        log.write_text("pi_1 evt_1 payment_intent.succeeded\n")
    else:
        with log.open("a") as handle:
            handle.write("pi_1 evt_1 payment_intent.succeeded\nother\n")
    assert watch.grew()
    assert [line for _, line in watch.lines_with("pi_1")] == ["pi_1 evt_1 payment_intent.succeeded"]
    assert watch.lines_with("evt_1", "charge.refunded") == []
    assert watch.sizes()[1] == {"file": str(missing), "bytes_before": None, "bytes_now": None}
