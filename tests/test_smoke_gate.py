"""The smoke and end-to-end flows against the running reference shop, through `golive smoke`
(a subprocess, real files) on a copy of the demo target.

- The correct shop passes every flow item, against the sandbox the gate embeds, a sandbox
  this test process starts (`Sandbox(port=0).start()`) and one run as its own process
  (`python -m golive.sandbox`); the retry flow survives its injected delivery failures.
- Each shop flaw that breaks a flow fails exactly the flow items the catalogue lists,
  naming the step; the others (no-event-dedup, double-order-on-race) fail none.
- A stateless backend (the stripe-mock kind, pointed at a real sandbox process: stateless
  to golive, so every event is synthesized and signed by golive) runs the stateless flows
  and makes the others not-applicable with the reason.
- Live keys are refused without the opt-in; read-only test mode is refused; zero latency
  samples are an error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from gatekit import ROOT, GateRun, SharedRuns, demo_copy, golive, load_yaml, set_env
from localstripekit import free_port, running_server

from golive.sandbox import Sandbox

CATALOGUE = yaml.safe_load((ROOT / "shop" / "catalogue.yaml").read_text())["flaws"]
CHECKLIST = load_yaml(ROOT / "checklist.yaml")
ITEMS = {i["id"]: i for s in CHECKLIST["sections"] for i in s["items"]}
# The staging items the flows prove (what `golive smoke` selects).
FLOW_ITEMS = sorted(
    item_id
    for item_id, item in ITEMS.items()
    if item["phase"] == "staging"
    and item.get("automated")
    and any(c["ref"].startswith(("smoke.", "e2e.")) for c in item["automated"]["checks"])
)
SMOKE_ITEMS = [i for i in FLOW_ITEMS if i.startswith("smoke-tests.")]
FAST = {"order_s": 4, "notification_s": 3, "cart_s": 3, "payment_s": 3, "webhook_s": 10}


def smoke(profile: Path, out: Path, *args: str, env: dict[str, str] | None = None) -> GateRun:
    done = golive("smoke", "--target", str(profile), "--out", str(out), *args, env=env)
    return GateRun(done.returncode, done.stdout, done.stderr, out)


def edit_smoke(profile: Path, stripe: dict | None = None, **changes: object) -> None:
    data = load_yaml(profile)
    data["smoke"].update(changes)
    if stripe is not None:
        data["stripe"] = stripe
    profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def timeline(run: GateRun, item_id: str) -> dict[str, dict]:
    entry = next(e for e in run.evidence(item_id) if "timeline" in e)
    return {step["step"]: step for step in entry["timeline"]}


@contextmanager
def sandbox_process() -> Iterator[str]:
    port = free_port()
    argv = [sys.executable, "-m", "golive.sandbox", "--port", str(port)]
    with running_server(argv, port, "/_golive/health", "golive sandbox") as url:
        yield url


@contextmanager
def sandbox_here() -> Iterator[str]:
    sandbox = Sandbox(port=0).start()
    try:
        yield sandbox.url
    finally:
        sandbox.stop()


# --- the correct shop -----------------------------------------------------------------------


def test_the_correct_shop_passes_every_flow_with_live_progress_and_a_timeline(
    tmp_path: Path,
) -> None:
    run = smoke(demo_copy(tmp_path), tmp_path / "out")
    assert run.returncode == 0, run.stdout + run.stderr
    assert set(run.outcomes()) == set(FLOW_ITEMS)
    assert set(run.outcomes().values()) == {"pass"}
    # Live progress: every step of every flow, as it ends.
    for line in ("smoke › cart-cleared", "refund › order-refunded", "webhook-retry › retried"):
        assert line in run.stdout, run.stdout
    steps = timeline(run, "smoke-tests.cart-cleared")
    assert list(steps) == [
        "fill-cart",
        "create-intent",
        "confirm",
        "webhook",
        "order",
        "payment",
        "notification",
        "cart-cleared",
    ]
    assert all(s["ok"] is True and s["duration_ms"] >= 0 for s in steps.values())
    assert "publishable key + client_secret" in steps["confirm"]["seen"]
    assert "delivered to /api/v1/stripe/webhook" in steps["webhook"]["seen"]
    [amount] = [e for e in run.evidence("smoke-tests.create-intent") if "amount" in e]
    assert amount == {"amount": 59, "amount_max_cents": 100}
    retry = timeline(run, "e2e-tests.webhook-retry")
    assert "after 2 failed attempt(s): attempt 3 answered 200" in retry["webhook"]["seen"]
    assert retry["settled"]["ok"] is True
    tax = timeline(run, "e2e-tests.state-tax")["tax-difference"]["seen"]
    assert "the difference 86 is the rules' tax difference" in tax
    # Latency figures: samples as evidence, thresholds evaluated over them.
    webhook = run.evidence("metrics.webhook-processing-time")
    samples = webhook[0]["samples"]
    assert len(samples) >= 6 and {s["flow"] for s in samples} >= {"smoke", "refund"}
    assert all(0 < s["ms"] < 2000 for s in samples)
    assert webhook[1]["thresholds"]["samples"].startswith("count>=1: ")
    assert run.evidence("metrics.order-creation-latency")[0]["metric"] == "order_creation_ms"
    # The report shows each flow as a timeline.
    html = (run.out / "report.html").read_text()
    assert 'class="kv timeline"' in html and "<svg" in html
    assert "sk_test_51Demo" not in html and "whsec_Demo" not in html


def test_one_flow_alone(tmp_path: Path) -> None:
    run = smoke(demo_copy(tmp_path), tmp_path / "out", "--flow", "multi-item")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outcomes() == {"e2e-tests.multiple-items": "pass"}
    lines = timeline(run, "e2e-tests.multiple-items")["order-lines"]["seen"]
    assert "3 lines as in the cart, subtotal 3824" in lines
    assert "smoke ›" not in run.stdout


@pytest.mark.parametrize("where", ["this process", "its own process"])
def test_the_flows_run_unchanged_against_a_sandbox_started_apart(
    tmp_path: Path, where: str
) -> None:
    started = sandbox_here if where == "this process" else sandbox_process
    with started() as url:
        profile = demo_copy(tmp_path)
        edit_smoke(profile, stripe={"backend": "sandbox", "api_base": url})
        run = smoke(profile, tmp_path / "out", "--flow", "smoke", "--flow", "webhook-retry")
    assert run.returncode == 0, run.stdout + run.stderr
    assert set(run.outcomes().values()) == {"pass"}
    assert run.results["meta"]["stripe_backend"]["api_base"] == url
    retry = timeline(run, "e2e-tests.webhook-retry")
    assert "after 2 failed attempt(s)" in retry["webhook"]["seen"]


def test_a_stateless_backend_gets_synthesized_events_and_skips_what_needs_state(
    tmp_path: Path,
) -> None:
    # The stripe-mock backend kind is stateless and sends no webhooks; here it points at a
    # real sandbox process (stripe-mock itself needs Docker), so the shop still works
    # while golive reads nothing back and signs every event itself.
    with sandbox_process() as url:
        profile = demo_copy(tmp_path)
        edit_smoke(profile, stripe={"backend": "stripe-mock", "api_base": url})
        run = smoke(profile, tmp_path / "out")
    outcomes = run.outcomes()
    skipped = {"e2e-tests.payment-failure", "e2e-tests.refund", "e2e-tests.webhook-retry"}
    skipped.add("webhook-config.retry-logic")
    # Untestable on stripe-mock: not-run, which blocks GO (e2e-tests.payment-failure is a
    # blocker), never not-applicable, which would let a flawed shop through.
    assert {k for k, v in outcomes.items() if v == "not-run"} == skipped, outcomes
    assert {k for k, v in outcomes.items() if v != "not-run"} == set(FLOW_ITEMS) - skipped
    assert set(outcomes.values()) == {"pass", "not-run"}, run.stdout
    assert run.returncode == 1, run.stdout + run.stderr
    steps = timeline(run, "smoke-tests.webhook-received")
    assert "golive signed payment_intent.succeeded" in steps["webhook"]["seen"]
    assert "from the checkout's answer" in steps["create-intent"]["seen"]
    assert run.item("e2e-tests.payment-failure")["reason"] == (
        "flow payment-failure, step decline: backend stripe-mock cannot keep the objects it "
        "creates (PaymentIntents, charges) to read them back; nor decline a test card, then "
        "let the same PaymentIntent be paid with another (Stripe.js's retry): use the sandbox "
        "or Stripe test mode"
    )
    assert run.item("e2e-tests.webhook-retry")["reason"].endswith(
        "backend stripe-mock cannot be made to fail webhook deliveries on purpose, then retry "
        "them: use the sandbox"
    )


def test_the_retry_flow_fails_when_the_retries_never_get_through(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    # The sandbox retries after 0.5, 1 and 2 s…; five failures outlast a 2 s deadline.
    edit_smoke(profile, retry_failures=5, deadlines={"webhook_s": 2})
    run = smoke(profile, tmp_path / "out", "--flow", "webhook-retry")
    assert run.returncode == 0, run.stdout + run.stderr  # its items are major: still GO
    item = run.item("e2e-tests.webhook-retry")
    assert item["outcome"] == "fail"
    assert "step webhook failed" in item["reason"] and "none answered 2xx" in item["reason"]
    assert "fail_first fault" in item["reason"]
    assert run.evidence("e2e-tests.webhook-retry")[0]["failed_step"] == "webhook"


# --- shop flaws -----------------------------------------------------------------------------

FLAWS = [
    "no-cart-clear",
    "no-notification",
    "ignores-payment-failed",
    "ignores-refund",
    "no-state-tax",
    "slow-webhook",
]
# Flaws of the webhook's bookkeeping that must leave every flow passing.
HARMLESS_TO_FLOWS = "no-event-dedup,double-order-on-race"
# The step each flaw breaks, per failing item.
BROKEN_STEP = {
    "smoke-tests.cart-cleared": "cart-cleared",
    "smoke-tests.notification-sent": "notification",
    "e2e-tests.payment-failure": "order-failed",
    "e2e-tests.refund": "order-refunded",
    "e2e-tests.state-tax": "tax-difference",
}


@pytest.mark.parametrize("flaw", FLAWS)
def test_a_flaw_fails_exactly_its_catalogued_flow_items(shared_runs: SharedRuns, flaw: str) -> None:
    # The detection matrix's run for the flaw (gatekit.SharedRuns): the sections of its
    # catalogued items, which hold the flows' items it breaks.
    run = shared_runs.flaw(flaw)
    expected = set(CATALOGUE[flaw]["fails"]) & set(FLOW_ITEMS)
    flow_outcomes = {i: o for i, o in run.outcomes().items() if i in FLOW_ITEMS}
    failing = {item for item, outcome in flow_outcomes.items() if outcome == "fail"}
    assert failing == expected, run.stdout + run.stderr
    assert set(flow_outcomes.values()) <= {"pass", "fail"}, flow_outcomes
    blocker = any(ITEMS[i]["severity"] == "blocker" for i in CATALOGUE[flaw]["fails"])
    assert run.returncode == (1 if blocker else 0)
    for item in expected:
        reason = run.item(item)["reason"]
        if item in BROKEN_STEP:
            assert f"step {BROKEN_STEP[item]} failed" in reason, reason
            assert run.evidence(item)[0]["failed_step"] == BROKEN_STEP[item]
        assert f"fail {item}: " in run.stdout
    if flaw == "slow-webhook":
        # Every delivery waits 2.5 s: the samples are the evidence; order creation (< 5 s)
        # still passes.
        reason = run.item("metrics.webhook-processing-time")["reason"]
        assert "webhook_processing_ms p(95)<2000 breached" in reason
        samples = run.evidence("metrics.webhook-processing-time")[0]["samples"]
        assert len(samples) >= 6 and all(s["ms"] > 2000 for s in samples)
        assert run.outcomes()["metrics.order-creation-latency"] == "pass"


def test_webhook_bookkeeping_flaws_leave_every_flow_passing(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    edit_smoke(profile, deadlines=FAST)
    run = smoke(profile, tmp_path / "out", env={**os.environ, "SHOP_FLAWS": HARMLESS_TO_FLOWS})
    assert run.returncode == 0, run.stdout + run.stderr
    assert set(run.outcomes()) == set(FLOW_ITEMS)
    assert set(run.outcomes().values()) == {"pass"}, run.outcomes()


def test_no_latency_samples_is_an_error_and_the_flows_name_the_step(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    data = load_yaml(profile)
    data["flows"]["checkout"]["steps"][0]["request"]["path"] = "/api/v1/no-such-checkout"
    data["flows"]["checkout_cart"][0]["request"]["path"] = "/api/v1/no-such-checkout"
    profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    run = smoke(profile, tmp_path / "out", "--flow", "latency", "--flow", "full-checkout")
    assert run.returncode == 1
    outcomes = run.outcomes()
    assert outcomes["metrics.webhook-processing-time"] == "error"
    assert outcomes["metrics.order-creation-latency"] == "error"
    assert (
        "examined nothing: no webhook_processing_ms samples"
        in run.item("metrics.webhook-processing-time")["reason"]
    )
    # golive's own checkout flow was refused (404): an error naming the flow, never a fail.
    reason = run.item("e2e-tests.full-checkout")["reason"]
    assert outcomes["e2e-tests.full-checkout"] == "error"
    assert "golive could not follow flow 'checkout'" in reason and "answered 404" in reason


# --- each remaining check, failing on a target (or profile) that breaks its step ---------


def test_a_declined_smoke_card_and_breached_or_misspelled_latency_targets(tmp_path: Path) -> None:
    checklist = tmp_path / "checklist.yaml"
    text = (ROOT / "checklist.yaml").read_text()
    for old, new in (
        (
            "params: {payment_method: pm_card_visa}",
            "params: {payment_method: pm_card_chargeDeclined}",
        ),
        ("{order_creation_ms: p(95)<5000,", "{order_creation_ms: p(95)<1,"),
        ("{webhook_processing_ms: p(95)<2000,", "{webhook_processing_msec: p(95)<2000,"),
    ):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    checklist.write_text(text)
    run = smoke(
        demo_copy(tmp_path),
        tmp_path / "out",
        "--checklist",
        str(checklist),
        "--flow",
        "smoke",
        "--flow",
        "latency",
    )
    outcomes = run.outcomes()
    assert outcomes.pop("smoke-tests.confirm-test-card") == "fail"
    reason = run.item("smoke-tests.confirm-test-card")["reason"]
    assert "step confirm failed: confirming with pm_card_chargeDeclined" in reason
    assert "HTTP 402 card_declined" in reason
    assert outcomes.pop("metrics.order-creation-latency") == "fail"
    assert (
        "order_creation_ms p(95)<1 breached" in run.item("metrics.order-creation-latency")["reason"]
    )
    assert outcomes.pop("metrics.webhook-processing-time") == "fail"
    assert (
        "unknown threshold name(s) webhook_processing_msec"
        in run.item("metrics.webhook-processing-time")["reason"]
    )
    # The other smoke items judge their own flow, paid with the visa test card.
    assert set(outcomes.values()) == {"pass"}, outcomes


def test_steps_the_observer_never_sees_fail_by_name(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    data = load_yaml(profile)
    counts = data["observer"]["sql"]["counts"]
    counts["paid_orders"] = counts["paid_orders"].replace("'paid'", "'settled'")
    counts["payments"] += " AND status = 'settled'"
    data["smoke"]["items"] = [{"id": 1, "quantity": 1}]  # $14.66: not a small amount
    data["smoke"]["deadlines"] = FAST
    profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    run = smoke(profile, tmp_path / "out", "--flow", "smoke", "--flow", "multi-item")
    outcomes = run.outcomes()
    assert "above the item's 100" in run.item("smoke-tests.create-intent")["reason"]
    for item, step in (
        ("smoke-tests.order-created", "order"),
        ("smoke-tests.payment-record", "payment"),
        ("e2e-tests.multiple-items", "order"),
    ):
        assert outcomes[item] == "fail"
        assert f"step {step} failed" in run.item(item)["reason"]
    assert (
        "the observer saw orders 1, paid_orders 0"
        in run.item("smoke-tests.order-created")["reason"]
    )
    for item in (
        "smoke-tests.confirm-test-card",
        "smoke-tests.webhook-received",
        "smoke-tests.cart-cleared",
    ):
        assert outcomes[item] == "pass"


def test_a_webhook_the_target_rejects_fails_the_webhook_step(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    data = load_yaml(profile)
    # The shop verifies with another secret than the endpoint signs with.
    data["app"]["env"]["STRIPE_WEBHOOK_SECRET"] = "whsec_" + "NotTheEndpoints" + "0" * 20
    data["smoke"]["deadlines"] = {"webhook_s": 2}
    profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    run = smoke(profile, tmp_path / "out", "--flow", "smoke")
    reason = run.item("smoke-tests.webhook-received")["reason"]
    assert "step webhook failed" in reason and "receiver answered HTTP 400" in reason
    order = run.item("smoke-tests.order-created")["reason"]
    assert "stopped before step order: step webhook failed" in order
    assert run.outcomes()["smoke-tests.confirm-test-card"] == "pass"
    assert run.returncode == 1


# --- refusals ---------------------------------------------------------------------------------

LIVE_PK = "pk_" + "live_" + "SmokeCanary" + "7" * 20


def test_live_keys_are_refused_without_the_opt_in_naming_the_host(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    set_env(profile, STRIPE_PUBLISHABLE_KEY=LIVE_PK)
    run = smoke(profile, tmp_path / "out", "--flow", "smoke")
    assert run.returncode == 1
    assert set(run.outcomes().values()) == {"not-run"}
    reason = run.item("smoke-tests.create-intent")["reason"]
    assert "refusing to run payment flows with live keys" in reason
    assert "STRIPE_PUBLISHABLE_KEY is a live key (pk_live_…7777)" in reason
    assert "smoke.allow_live: {host: 127.0.0.1}" in reason
    assert LIVE_PK not in "".join(run.report_texts().values()) + run.stdout
    # An opt-in for another host is no opt-in.
    edit_smoke(profile, allow_live={"host": "shop.example.com"})
    run = smoke(profile, tmp_path / "out2", "--flow", "smoke")
    reason = run.item("smoke-tests.order-created")["reason"]
    assert "smoke.allow_live names host shop.example.com, but the app is at 127.0.0.1" in reason


def test_stripe_test_mode_read_only_is_refused_before_any_call(tmp_path: Path) -> None:
    # No request leaves the machine: the refusal comes before the flows touch Stripe.
    profile = demo_copy(tmp_path)
    edit_smoke(profile, stripe={"backend": "stripe-test"})
    run = smoke(profile, tmp_path / "out", "--flow", "smoke")
    assert set(run.outcomes().values()) == {"not-run"}, run.stdout + run.stderr
    assert "stripe.allow_writes: true" in run.item("smoke-tests.webhook-received")["reason"]


def test_without_a_smoke_block_the_flows_do_not_run(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    data = load_yaml(profile)
    del data["smoke"]
    profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    run = smoke(profile, tmp_path / "out", "--flow", "refund")
    assert run.outcomes() == {"e2e-tests.refund": "not-run"}
    assert "no `smoke` block" in run.item("e2e-tests.refund")["reason"]


def test_an_invalid_smoke_block_is_exit_2_naming_the_line(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    edit_smoke(profile, retry_failures=0)
    run = smoke(profile, tmp_path / "out")
    assert run.returncode == 2
    assert "smoke.retry_failures" in run.stderr and "target.yaml:" in run.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(
    not os.environ.get("GOLIVE_STRIPE_TEST_PROFILE"),
    reason="needs GOLIVE_STRIPE_TEST_PROFILE: a staging profile with stripe.backend "
    "stripe-test, an sk_test_ key and a target Stripe can deliver webhooks to",
)
def test_the_flows_run_as_written_in_stripe_test_mode(tmp_path: Path) -> None:
    run = smoke(Path(os.environ["GOLIVE_STRIPE_TEST_PROFILE"]), tmp_path / "out")
    assert run.returncode == 0, run.stdout + run.stderr
