"""The production smoke (smoke.production, item deployment.production-smoke) through the
gate, on demo copies whose Stripe backend is a sandbox this test process starts, so the
test reads the sandbox's own counts (GET /_golive/stats) and PaymentIntents afterwards.

- Live mode (the profile's `mode: live`, or an sk_live_ key in the env) without the
  opt-in: only read-only requests; the sandbox holds no PaymentIntent and no refund; the
  item passes on the read-only requests. A page that does not load fails it.
- With `smoke.production.real_payment` naming the app's host: one small payment and its
  refund. Above amount_max: refused before confirming (nothing charged), fail. An opt-in
  naming another host: not-run.
- Test mode: the payment and its refund, no opt-in needed.
- `golive load` refuses a live-mode profile, as it refuses live keys.

The sandbox refuses live keys itself (golive/sandbox/auth.py): the live-mode runs use test
keys with `mode: live`, and the sk_live_ run keeps the harness's key apart (gatekit).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import stripe
import yaml
from gatekit import GateRun, demo_copy, gate, golive, load_yaml, sandbox_key_apart, set_env

from golive.loadtests import safety
from golive.sandbox import Sandbox

pytestmark = pytest.mark.slow

ITEM = "deployment.production-smoke"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    started = Sandbox(port=0).start()
    try:
        yield started
    finally:
        started.stop()


def profile_for(tmp_path: Path, sandbox: Sandbox, *, mode: str, **production: object) -> Path:
    profile = demo_copy(tmp_path)
    data = load_yaml(profile)
    data["mode"] = mode
    data["stripe"] = {"backend": "sandbox", "api_base": sandbox.url}
    data["smoke"]["production"] = {"pages": ["/api/v1/menu"], **production}
    data.pop("traffic", None)  # a production target plays no traffic: count golive's own calls
    profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return profile


def run(profile: Path, out: Path) -> GateRun:
    return gate(profile, out, "--item", ITEM)


def objects(sandbox: Sandbox) -> dict[str, int]:
    return httpx.get(f"{sandbox.url}/_golive/stats").json()["objects"]


def intents(sandbox: Sandbox) -> list:
    client = stripe.StripeClient(
        "sk_test_" + "production0smoke0check", base_addresses={"api": sandbox.url}
    )
    return list(client.v1.payment_intents.list().data)


def evidence(result: GateRun) -> list[dict]:
    return result.evidence(ITEM)


def read_only(result: GateRun) -> dict[str, int]:
    entry = next(e for e in evidence(result) if "read_only" in e)
    return {r["request"]: r["status"] for r in entry["read_only"]}


def timeline(result: GateRun) -> dict[str, dict]:
    entry = next(e for e in evidence(result) if "timeline" in e)
    return {s["step"]: s for s in entry["timeline"]}


# --- live keys, no opt-in: read-only ---------------------------------------------------------


def test_live_mode_without_the_opt_in_only_reads(tmp_path: Path, sandbox: Sandbox) -> None:
    result = run(profile_for(tmp_path, sandbox, mode="live"), tmp_path / "out")
    assert result.outcomes() == {ITEM: "pass"}, result.stdout + result.stderr
    assert read_only(result) == {
        "GET /healthz": 200,
        "GET /v1/account": 200,
        "GET /v1/webhook_endpoints": 200,
        "GET /api/v1/menu as erin": 200,
    }
    entry = next(e for e in evidence(result) if "payment" in e)
    assert entry["payment"].startswith("none: live keys (the profile's mode is live)")
    assert not any("timeline" in e for e in evidence(result))
    # What reached the Stripe backend: no PaymentIntent was created, nothing refunded.
    counts = objects(sandbox)
    assert counts.get("payment_intent", 0) == 0 and counts.get("refund", 0) == 0
    assert intents(sandbox) == []


def test_an_sk_live_key_without_the_opt_in_only_reads(tmp_path: Path, sandbox: Sandbox) -> None:
    profile = profile_for(tmp_path, sandbox, mode="test")
    live = "sk_" + "live_" + "ProdSmokeCanary" + secrets.token_hex(8)
    set_env(profile, STRIPE_SECRET_KEY=live)
    sandbox_key_apart(profile)  # the sandbox refuses live keys: golive reads with its own
    result = run(profile, tmp_path / "out")
    assert result.outcomes() == {ITEM: "pass"}, result.stdout + result.stderr
    entry = next(e for e in evidence(result) if "live" in e)
    assert entry["live"] == [f"STRIPE_SECRET_KEY is a live key (sk_live_…{live[-4:]})"]
    assert objects(sandbox).get("payment_intent", 0) == 0
    texts = "".join(result.report_texts().values()) + result.stdout + result.stderr
    assert live not in texts


def test_a_backend_that_keeps_no_account_is_not_read(tmp_path: Path, sandbox: Sandbox) -> None:
    # The stripe-mock kind (pointed at a sandbox: stateless to golive) keeps no account and
    # no endpoints: those reads are not sent; health and pages still judge the item.
    profile = profile_for(tmp_path, sandbox, mode="live")
    data = load_yaml(profile)
    data["stripe"]["backend"] = "stripe-mock"
    profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = run(profile, tmp_path / "out")
    assert result.outcomes() == {ITEM: "pass"}, result.stdout + result.stderr
    entry = next(e for e in evidence(result) if "read_only" in e)
    stripe_reads = [r for r in entry["read_only"] if r["request"].startswith("GET /v1/")]
    assert [r["seen"].startswith("not sent: backend stripe-mock cannot") for r in stripe_reads] == [
        True,
        True,
    ]


def test_a_page_that_does_not_load_fails_the_read_only_smoke(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    profile = profile_for(tmp_path, sandbox, mode="live")
    data = load_yaml(profile)
    data["smoke"]["production"]["pages"] = ["/api/v1/menu", "/api/v1/no-such-page"]
    profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = run(profile, tmp_path / "out")
    assert result.outcomes() == {ITEM: "fail"}
    assert result.item(ITEM)["reason"] == "GET /api/v1/no-such-page as erin answered 404"
    assert objects(sandbox).get("payment_intent", 0) == 0


# --- the opt-in: one small payment and its refund ----------------------------------------------


def test_the_opt_in_makes_one_small_payment_and_refunds_it(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    profile = profile_for(
        tmp_path, sandbox, mode="live", real_payment={"host": "127.0.0.1", "amount_max": 100}
    )
    result = run(profile, tmp_path / "out")
    assert result.outcomes() == {ITEM: "pass"}, result.stdout + result.stderr
    steps = timeline(result)
    assert steps["amount-limit"]["seen"] == "59 usd is within amount_max 100"
    assert all(s["ok"] for s in steps.values())
    assert "refunded" in steps["order-refunded"]["seen"]
    [intent] = intents(sandbox)
    assert intent.amount == 59 and intent.status == "succeeded"
    assert objects(sandbox)["refund"] == 1


def test_above_amount_max_nothing_is_confirmed(tmp_path: Path, sandbox: Sandbox) -> None:
    profile = profile_for(
        tmp_path, sandbox, mode="live", real_payment={"host": "127.0.0.1", "amount_max": 50}
    )
    result = run(profile, tmp_path / "out")
    assert result.outcomes() == {ITEM: "fail"}
    reason = result.item(ITEM)["reason"]
    assert "refusing to confirm: the payment is 59 usd, above" in reason
    assert "smoke.production.real_payment.amount_max 50" in reason
    assert timeline(result)["confirm"]["ok"] is None  # not reached
    [intent] = intents(sandbox)  # the checkout created it; nobody paid it
    assert intent.status != "succeeded"
    assert objects(sandbox).get("refund", 0) == 0


def test_an_opt_in_for_another_host_is_no_opt_in(tmp_path: Path, sandbox: Sandbox) -> None:
    profile = profile_for(
        tmp_path,
        sandbox,
        mode="live",
        real_payment={"host": "shop.example.com", "amount_max": 100},
    )
    result = run(profile, tmp_path / "out")
    assert result.outcomes() == {ITEM: "not-run"}
    assert result.item(ITEM)["reason"] == (
        "smoke.production.real_payment names host shop.example.com, but the app is at "
        "127.0.0.1: refusing to run payment flows with live keys elsewhere"
    )
    assert objects(sandbox).get("payment_intent", 0) == 0


def test_test_mode_pays_and_refunds_without_an_opt_in(tmp_path: Path, sandbox: Sandbox) -> None:
    result = run(profile_for(tmp_path, sandbox, mode="test"), tmp_path / "out")
    assert result.outcomes() == {ITEM: "pass"}, result.stdout + result.stderr
    assert timeline(result)["amount-limit"]["seen"] == "59 usd: no amount_max (test mode)"
    assert len(intents(sandbox)) == 1 and objects(sandbox)["refund"] == 1


# --- load never runs on production ------------------------------------------------------------


def test_load_refuses_a_live_mode_profile(tmp_path: Path) -> None:
    with pytest.raises(safety.Refused, match="production environment"):
        safety.check_mode("live")
    safety.check_mode("test")
    profile = demo_copy(tmp_path)
    data = load_yaml(profile)
    data["mode"] = "live"
    profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    done = golive("load", "--target", str(profile), "--duration", "2s", timeout=90)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "refusing to load-test a production environment" in done.stderr
    assert not list(tmp_path.glob("**/locust*"))  # nothing was sent
