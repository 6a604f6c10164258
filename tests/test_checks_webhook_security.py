"""webhook.forged-rejected / signed-accepted / raw-body / replay-rejected / fast-ack: the
gate on a demo copy, against the real shop behind the sandbox, with and without its
webhook flaws. The runs are the detection matrix's (gatekit.SharedRuns): the correct
shop's control run and each flaw's run, on which these tests assert the evidence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from gatekit import ROOT, GateRun, SharedRuns, demo_copy, gate

from golive.webhooks import forge

CATALOGUE = yaml.safe_load((ROOT / "shop" / "catalogue.yaml").read_text())["flaws"]
CHECKLIST = yaml.safe_load((ROOT / "checklist.yaml").read_text())
ITEMS = {item["id"]: item for section in CHECKLIST["sections"] for item in section["items"]}
SECTION_ITEMS = {
    i: item for i, item in ITEMS.items() if i.split(".")[0] in ("api-security", "webhook-security")
}
FORGED = list(forge.FORGERIES)
BATTERY = "bypass-battery"
# item -> the index of each of our checks in its `checks` list
SIGNATURE = "api-security.webhook-signature-verification"  # forged-rejected, signed-accepted
MANDATORY = "webhook-security.signature-mandatory"  # forged-rejected, (forged-no-side-effect)
RAW_BODY = "api-security.raw-body-middleware"
REPLAY = "webhook-security.replay-prevention"
FAST_ACK = "webhook-security.fast-ack"
ASYNC = "webhook-security.async-processing"


def by_variant(run: GateRun, item: str, check: int = 0) -> dict[str, dict]:
    return {e["variant"]: e for e in run.evidence(item, check) if "variant" in e}


def check_outcome(run: GateRun, item: str, check: int = 0) -> str:
    return run.item(item)["checks"][check]["outcome"]


def check_message(run: GateRun, item: str, check: int = 0) -> str:
    return run.item(item)["checks"][check]["message"]


def test_the_correct_shop_passes_every_webhook_check(shared_runs: SharedRuns) -> None:
    run = shared_runs.control()
    outcomes = run.outcomes()
    for item in (SIGNATURE, MANDATORY, RAW_BODY, REPLAY, FAST_ACK, ASYNC):
        assert outcomes[item] == "pass", (item, run.stdout)

    forged = by_variant(run, SIGNATURE)
    assert list(forged) == ["control: signed", *FORGED, BATTERY]
    assert forged["control: signed"]["status"] == 200
    for variant in FORGED:
        entry = forged[variant]
        assert entry["status"] == 400, variant
        assert "invalid_signature" in entry["body_excerpt"]
        assert isinstance(entry["latency_ms"], float)
    battery = forged[BATTERY]
    assert battery["answers"] == {"400": battery["requests"]} and battery["accepted"] == []
    assert battery["candidates"] > 1500 and battery["requests"] <= 40
    signed = by_variant(run, SIGNATURE, 1)
    assert {v: e["status"] for v, e in signed.items()} == {"signed": 200, "multiple-v1": 200}
    assert by_variant(run, RAW_BODY)["non-canonical-json"]["status"] == 200
    replay = by_variant(run, REPLAY)
    assert replay["control: signed"]["status"] == 200 and replay["control: signed"]["real_order"]
    assert replay["stale-timestamp"]["status"] == 400
    assert replay["stale-timestamp"]["timestamp_age_s"] == 600  # twice tolerance_s: 300
    assert replay["future-timestamp"]["status"] == 400
    assert "finding" not in replay["future-timestamp"]
    timings = {item: by_variant(run, item) for item in (FAST_ACK, ASYNC)}
    ack = timings[FAST_ACK]["signed"]
    assert ack["threshold"] == "p(95)<2000" and ack["metric"] == "ack_time_ms"
    assert ack["deliveries"] == ack["planned"] == 20 and len(ack["samples_ms"]) == 20
    assert ack["stopped_early"] is False
    real = timings[FAST_ACK]["real-order"]
    assert real["answers"] == ["200"] * 3 and len(set(real["payment_intents"])) == 3
    # Both items of the fast-ack threshold share one measurement.
    assert timings[ASYNC] == timings[FAST_ACK]
    # No secret in the evidence: signatures are never recorded, the secret never echoed.
    secret = next(
        line.split("=", 1)[1]
        for line in (run.out.parent / "demo" / "demo.env").read_text().splitlines()
        if line.startswith("STRIPE_WEBHOOK_SECRET=")
    )
    assert secret not in (run.out / "results.json").read_text()


def _unsigned(run: GateRun) -> None:
    forged = by_variant(run, SIGNATURE)
    assert all(forged[v]["status"] == 200 for v in FORGED)
    assert forged[BATTERY]["sent"] == 0  # every bypass would be accepted, naming nothing
    message = check_message(run, SIGNATURE)
    assert "accepted with a 2xx" in message
    for variant in FORGED:
        assert f"{variant} (200)" in message
    assert "stale-timestamp" in check_message(run, REPLAY)
    assert by_variant(run, REPLAY)["stale-timestamp"]["status"] == 200


def _bypass_header(run: GateRun) -> None:
    # The shop's switch is in no list: the battery's grammar (skip × signature) builds it.
    forged = by_variant(run, SIGNATURE)
    assert {forged[v]["status"] for v in FORGED} == {400}
    named = "header X-Skip-Signature: true (built-in battery)"
    assert forged[BATTERY]["accepted"] == [named]
    message = check_message(run, SIGNATURE)
    assert f"accepted: {named}" in message
    assert "unsigned" not in message
    assert check_message(run, MANDATORY) == message


def _rejects_with_500(run: GateRun) -> None:
    forged = by_variant(run, SIGNATURE)
    assert {forged[v]["status"] for v in FORGED} == {500}
    assert forged[BATTERY]["answers"] == {"500": forged[BATTERY]["requests"]}
    message = check_message(run, SIGNATURE)
    assert "5xx instead of a 4xx" in message and "Stripe retries" in message
    assert "unsigned (500)" in message and "accepted" not in message
    assert "500 instead of a 4xx" in check_message(run, REPLAY)
    # Correctly signed events are still accepted.
    assert check_outcome(run, SIGNATURE, 1) == "pass"


def _parses_before_verify(run: GateRun) -> None:
    entry = by_variant(run, RAW_BODY)["non-canonical-json"]
    assert entry["status"] == 400
    assert "non-canonical-json" in check_message(run, RAW_BODY)
    assert "got 400" in check_message(run, RAW_BODY)
    # Stripe-formatted bytes still verify: signed and multiple-v1 pass.
    assert check_outcome(run, SIGNATURE, 1) == "pass"


def _stale_accepted(run: GateRun) -> None:
    replay = by_variant(run, REPLAY)
    assert replay["stale-timestamp"]["status"] == 200
    # A future-dated delivery is accepted too: recorded as a minor finding, and the
    # failure names only the stale one.
    assert replay["future-timestamp"]["status"] == 200
    assert replay["future-timestamp"]["finding"].startswith("minor finding")
    message = check_message(run, REPLAY)
    assert message.startswith("stale-timestamp: a delivery signed 600 s ago")
    assert "future" not in message


def _slow(run: GateRun) -> None:
    for item in (FAST_ACK, ASYNC):
        ack = by_variant(run, item)["signed"]
        assert ack["observed_ms"] >= 2000  # the flaw's own delay is 2.5 s
        assert ack["stopped_early"] is True and ack["deliveries"] < ack["planned"]
        assert "ack_time_ms p(95) is" in check_message(run, item)
        assert "p(95)<2000" in check_message(run, item)


FLAWS: dict[str, Callable[[GateRun], None]] = {
    "unsigned-webhooks": _unsigned,
    "signature-bypass-header": _bypass_header,
    "rejects-with-500": _rejects_with_500,
    "parses-before-verify": _parses_before_verify,
    "stale-timestamps-accepted": _stale_accepted,
    "slow-webhook": _slow,
}


@pytest.mark.parametrize("flaw", list(FLAWS))
def test_a_webhook_flaw_fails_its_catalogued_items(shared_runs: SharedRuns, flaw: str) -> None:
    # tests/test_matrix.py judges the item sets of the same run; here, the evidence.
    run = shared_runs.flaw(flaw)
    catalogued = set(CATALOGUE[flaw]["fails"])
    blocker = any(ITEMS[i]["severity"] == "blocker" for i in catalogued)
    # A failed blocker is NO-GO; failed majors alone still GO (with the failures reported).
    assert run.returncode == (1 if blocker else 0), run.stdout + run.stderr
    failing = {item for item, outcome in run.outcomes().items() if outcome == "fail"}
    assert failing & set(SECTION_ITEMS) == catalogued & set(SECTION_ITEMS)
    assert "error" not in run.outcomes().values()
    FLAWS[flaw](run)


def test_without_the_signing_secret_the_checks_do_not_run(tmp_path: Path) -> None:
    # The shop still gets its secret (through the app's own env), but the profile's env
    # has none for golive to sign with: every check is not-run, saying why.
    profile = demo_copy(tmp_path)
    env_file = profile.parent / "demo.env"
    lines = env_file.read_text().splitlines()
    [secret_line] = [line for line in lines if line.startswith("STRIPE_WEBHOOK_SECRET=")]
    env_file.write_text("\n".join(line for line in lines if line != secret_line) + "\n")
    data = yaml.safe_load(profile.read_text())
    data["app"]["env"]["STRIPE_WEBHOOK_SECRET"] = secret_line.split("=", 1)[1]
    del data["app"]["register_webhook"]
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    run = gate(profile, tmp_path / "out", "--item", SIGNATURE, "--item", REPLAY)
    for item in (SIGNATURE, REPLAY):
        for check in run.item(item)["checks"]:
            assert check["outcome"] == "not-run", run.stdout + run.stderr
            assert "STRIPE_WEBHOOK_SECRET is not set" in check["message"]
