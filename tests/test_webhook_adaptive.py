"""Webhook forgery that adapts, and the webhook checks' positive controls (issue #14).

A real loopback app (tests/webhookapp.py) pays through a real in-process sandbox and keeps
its orders in SQLite; golive's gate runs against it as a separate process. Its bypasses
are in no list of golive's: one is advertised only in its own 400 answers (a made-up
header in the body, a magic signature in an answer header), one only fits the battery's
grammar. An app that refuses every webhook must not pass the replay check; an app slow
only for real payments must fail fast-ack; a correct app passes everything.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gatekit import GateRun, gate
from webhookapp import ADVERTISED_HEADER, ADVERTISED_MAGIC, PATTERN_HEADER, running, write_profile

from golive.sandbox import Sandbox
from golive.webhooks import adaptive, battery, hints

SIGNATURE = "api-security.webhook-signature-verification"  # forged-rejected, signed-accepted
MANDATORY = "webhook-security.signature-mandatory"  # forged-rejected, forged-no-side-effect
REPLAY = "webhook-security.replay-prevention"
FAST_ACK = "webhook-security.fast-ack"
ITEMS = [arg for item in (SIGNATURE, MANDATORY, REPLAY, FAST_ACK) for arg in ("--item", item)]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as started:
        yield started


def run_against(tmp_path: Path, sandbox: Sandbox, flaws: set[str], *items: str) -> GateRun:
    tmp_path.mkdir(parents=True, exist_ok=True)
    with running(tmp_path, sandbox.url, flaws) as app:
        profile = write_profile(tmp_path, app, sandbox.url)
        return gate(profile, tmp_path / "out", *(items or ITEMS))


def check_of(run: GateRun, item: str, ref: str) -> dict:
    return next(c for c in run.item(item)["checks"] if c["ref"] == ref)


def battery_entry(check: dict) -> dict:
    return next(e for e in check["evidence"] if e.get("variant") == "bypass-battery")


def test_a_correct_app_passes_with_its_controls(tmp_path: Path, sandbox: Sandbox) -> None:
    run = run_against(tmp_path, sandbox, set())
    for item in (SIGNATURE, MANDATORY, REPLAY, FAST_ACK):
        for check in run.item(item)["checks"]:
            if check["ref"] == "static.webhook-handler":  # no repository in this profile
                assert check["outcome"] == "not-run"
                continue
            assert check["outcome"] == "pass", (item, check, run.stderr)
    forged = check_of(run, SIGNATURE, "webhook.forged-rejected")
    control = next(e for e in forged["evidence"] if e["variant"] == "control: signed")
    assert control["status"] == 200
    entry = battery_entry(forged)
    # Hundreds of candidates, packed into a few dozen requests, every one refused.
    assert entry["candidates"] > 1500 and entry["requests"] <= 40
    assert set(entry["answers"]) == {"400"} and entry["accepted"] == []
    replay = check_of(run, REPLAY, "webhook.replay-rejected")
    by_variant = {e["variant"]: e for e in replay["evidence"] if "variant" in e}
    assert by_variant["control: signed"]["status"] == 200
    assert by_variant["control: signed"]["real_order"] is True
    assert by_variant["stale-timestamp"]["status"] == 400
    assert any(str(e.get("payment_intent", "")).startswith("pi_") for e in replay["evidence"])
    ack = check_of(run, FAST_ACK, "webhook.fast-ack")
    [real] = [e for e in ack["evidence"] if e.get("variant") == "real-order"]
    assert len(real["payment_intents"]) == 3 and real["answers"] == ["200"] * 3


def test_bypasses_advertised_in_rejections_fail_both_signature_items(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    run = run_against(tmp_path, sandbox, {"advertised-header", "advertised-magic"})
    name, value = ADVERTISED_HEADER
    header = f"accepted: header {name}: {value} (mined from the app's 400 body)"
    magic = (
        f"accepted: header Stripe-Signature: {ADVERTISED_MAGIC} "
        "(mined from the app's 400 answer header X-Dev-Note)"
    )
    for item in (SIGNATURE, MANDATORY):
        assert run.item(item)["outcome"] == "fail", (item, run.stdout)
        message = check_of(run, item, "webhook.forged-rejected")["message"]
        assert header in message and magic in message, message
    # The forgeries paid a real order, and the side-effect check names them too.
    side = check_of(run, MANDATORY, "webhook.forged-no-side-effect")
    assert side["outcome"] == "fail"
    assert name in side["message"] and ADVERTISED_MAGIC in side["message"]
    # Correctly signed deliveries are still accepted: only the bypasses fail.
    assert check_of(run, SIGNATURE, "webhook.signed-accepted")["outcome"] == "pass"


def test_a_bypass_header_nobody_listed_is_caught_by_the_battery(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    run = run_against(tmp_path, sandbox, {"pattern-header"}, "--item", SIGNATURE)
    name, value = PATTERN_HEADER
    check = check_of(run, SIGNATURE, "webhook.forged-rejected")
    assert check["outcome"] == "fail"
    assert f"accepted: header {name}: {value} (built-in battery)" in check["message"]
    assert battery_entry(check)["accepted"] == [f"header {name}: {value} (built-in battery)"]


def test_an_app_that_rejects_every_webhook_passes_nothing(tmp_path: Path, sandbox: Sandbox) -> None:
    run = run_against(tmp_path, sandbox, {"rejects-all"})
    replay = run.item(REPLAY)
    assert replay["outcome"] == "error", replay
    assert "control failed" in replay["reason"] and "real paid order" in replay["reason"]
    forged = check_of(run, SIGNATURE, "webhook.forged-rejected")
    assert forged["outcome"] == "error" and "control failed" in forged["message"]
    assert check_of(run, SIGNATURE, "webhook.signed-accepted")["outcome"] == "fail"
    assert run.item(SIGNATURE)["outcome"] == "fail"
    assert run.item(FAST_ACK)["outcome"] == "fail"


def test_slow_work_only_for_real_payments_fails_fast_ack(tmp_path: Path, sandbox: Sandbox) -> None:
    run = run_against(tmp_path, sandbox, {"slow-real"}, "--item", FAST_ACK)
    item = run.item(FAST_ACK)
    assert item["outcome"] == "fail", item
    assert "real paid orders (the slow path" in item["reason"]
    [real] = [e for e in run.evidence(FAST_ACK) if e.get("variant") == "real-order"]
    assert min(real["samples_ms"]) >= 2000


def test_without_an_order_to_buy_replay_is_not_run(tmp_path: Path, sandbox: Sandbox) -> None:
    with running(tmp_path, sandbox.url) as app:
        profile = write_profile(tmp_path, app, sandbox.url)
        text = profile.read_text()
        profile.write_text(text[: text.index("observer:")])
        run = gate(profile, tmp_path / "out", "--item", REPLAY)
    item = run.item(REPLAY)
    assert item["outcome"] == "not-run", item
    assert "needs a real paid order" in item["reason"] and "observer" in item["reason"]


# --- the parts, on their own --------------------------------------------------------------


def test_mining_finds_headers_queries_and_quoted_magic_values() -> None:
    body = '{"error": "bad signature; use ?letmein=1 or send X-Any-Made-Up: on"}'
    headers = {"X-Note": "signature 'open-sesame' works in dev", "Content-Type": "json"}
    found = {(c.kind, c.name, c.value, c.origin) for c in hints.mine(400, body, headers)}
    from_body = "mined from the app's 400 body"
    assert ("query", "letmein", "1", from_body) in found
    assert ("header", "X-Any-Made-Up", "on", from_body) in found
    assert (
        "header",
        "Stripe-Signature",
        "open-sesame",
        "mined from the app's 400 answer header X-Note",
    ) in found
    # A plain rejection hints at nothing.
    assert hints.mine(400, '{"error": "invalid_signature"}', {}) == []


def test_packing_respects_the_limits_servers_have() -> None:
    candidates = battery.all_candidates(now=1)
    batches = adaptive.pack(candidates)
    assert sorted(map(id, (c for b in batches for c in b))) == sorted(map(id, candidates))
    for batch in batches:
        keys = [c.key for c in batch]
        assert len(keys) == len(set(keys))  # one value per name in a request
        assert sum(c.kind == "header" for c in batch) <= adaptive.MAX_HEADERS
        assert len(adaptive.query_string(batch)) <= 3 * adaptive.MAX_QUERY_CHARS
    assert len(batches) <= 30


def test_a_battery_request_the_app_cannot_parse_is_split_not_blamed(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    # golive's packing, not the candidates, made the app crash: the halves go apart.
    run = run_against(tmp_path, sandbox, {"query-cap"}, "--item", SIGNATURE)
    check = check_of(run, SIGNATURE, "webhook.forged-rejected")
    assert check["outcome"] == "pass", check
    entry = battery_entry(check)
    assert entry["answers"].get("500", 0) >= 1 and entry["accepted"] == []


def test_verifying_a_re_encoded_body_fails_raw_body(tmp_path: Path, sandbox: Sandbox) -> None:
    raw_body = "api-security.raw-body-middleware"
    run = run_against(tmp_path, sandbox, {"reverify-reencoded"}, "--item", raw_body)
    item = run.item(raw_body)
    assert item["outcome"] == "fail", item
    assert "re-serialized" in item["reason"] and "bytes nobody signed" in item["reason"]
    by_variant = {e["variant"]: e for e in run.evidence(raw_body) if "variant" in e}
    assert by_variant["non-canonical-json"]["status"] == 200  # the raw bytes verify too
    assert by_variant["control: wrong-secret"]["status"] == 400
    # The correct app refuses the same delivery.
    correct = run_against(tmp_path / "correct", sandbox, set(), "--item", raw_body)
    assert correct.item(raw_body)["outcome"] == "pass", correct.item(raw_body)
    by_variant = {e["variant"]: e for e in correct.evidence(raw_body) if "variant" in e}
    assert by_variant["re-serialized"]["status"] == 400


def test_a_payment_booked_again_by_its_charge_event_fails_dedup(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    dedup = "webhook-security.idempotency"
    run = run_against(tmp_path, sandbox, {"books-every-event"}, "--item", dedup)
    item = run.item(dedup)
    assert item["outcome"] == "fail", item
    assert "the payment's other events (charge.succeeded)" in item["reason"]
    assert "2 payments" in item["reason"] or "payments" in item["reason"]
    correct = run_against(tmp_path / "correct", sandbox, set(), "--item", dedup)
    assert correct.item(dedup)["outcome"] == "pass", correct.item(dedup)
    [sent] = [e["sibling_events"] for e in correct.evidence(dedup) if "sibling_events" in e]
    assert sent and sent[0].startswith("charge.succeeded evt_") and sent[0].endswith(": 200")
