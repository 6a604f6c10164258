"""The flows' machinery on its own: timelines, blocking steps, verdicts, polling, and the
profile's `smoke:` block. (The flows against a running shop: test_smoke_gate.py.)"""

from __future__ import annotations

import time

import pytest
from gatekit import ROOT, load_yaml
from pydantic import ValidationError

from golive.profile import ProfileModel
from golive.profile.pricing import Pricing, quote
from golive.profile.smoke import Smoke
from golive.smoke.flows import LISTENERS, Flow, Skipped, StepFailed, poll, verdict


def _fail(seen: str) -> str:
    raise StepFailed(seen)


def test_a_blocking_failure_stops_the_flow_and_names_the_step() -> None:
    flow = Flow("smoke")
    assert flow.run("create-intent", lambda: "PaymentIntent pi_1")
    assert not flow.run("confirm", lambda: _fail("HTTP 402 card_declined"))
    assert not flow.run("webhook", lambda: "never called")
    timeline = flow.timeline()
    assert [s["step"] for s in timeline] == ["create-intent", "confirm", "webhook"]
    assert [s["ok"] for s in timeline] == [True, False, None]
    assert timeline[2]["seen"] == "not reached: confirm failed"
    assert set(timeline[0]) == {"step", "at_ms", "duration_ms", "ok", "seen"}
    assert verdict(flow, ["create-intent"]) == ("pass", "")
    outcome, message = verdict(flow, ["confirm"])
    assert outcome == "fail" and "step confirm failed: HTTP 402 card_declined" in message
    # A step behind the failure fails too, naming the step that stopped the flow.
    outcome, message = verdict(flow, ["webhook"])
    assert outcome == "fail"
    assert "stopped before step webhook: step confirm failed: HTTP 402" in message
    assert flow.evidence(["webhook"])["failed_step"] == "confirm"
    # So does a step the flow never started (an `and` chain stops at the failure).
    outcome, message = verdict(flow, ["order"])
    assert outcome == "fail" and "stopped before step order: step confirm failed" in message


def test_an_observation_fails_alone_and_the_flow_goes_on() -> None:
    flow = Flow("smoke")
    flow.run("notification", lambda: _fail("notifications 0"), blocking=False)
    assert flow.run("cart-cleared", lambda: "the cart is empty")
    assert verdict(flow, ["cart-cleared"]) == ("pass", "")
    assert verdict(flow, ["notification"])[0] == "fail"


def test_skipped_steps_and_unexpected_errors() -> None:
    flow = Flow("refund")

    def stateless() -> str:
        raise Skipped("stripe-mock keeps no charge", "not-applicable")

    def broken() -> str:
        raise ConnectionError("refused")

    flow.run("refund", stateless)
    assert verdict(flow, ["refund"]) == (
        "not-applicable",
        "flow refund, step refund: stripe-mock keeps no charge",
    )
    assert flow.timeline()[0]["skipped"] == "not-applicable"
    flow.run("order", broken)
    assert verdict(flow, ["order"]) == (
        "fail",
        "flow refund, step order failed: ConnectionError: refused",
    )
    assert verdict(flow, ["missing"])[0] == "fail"


def test_listeners_hear_every_step_and_cannot_break_a_flow() -> None:
    heard: list[tuple[str, str]] = []

    def listen(flow: str, step: object) -> None:
        heard.append((flow, step.name))  # type: ignore[attr-defined]
        raise RuntimeError("a broken terminal")

    LISTENERS.append(listen)
    try:
        flow = Flow("smoke")
        assert flow.run("fill-cart", lambda: "ok")
    finally:
        LISTENERS.remove(listen)
    assert heard == [("smoke", "fill-cart")]


def test_poll_is_bounded_in_time() -> None:
    calls = []
    started = time.monotonic()
    done, seen, waited = poll(lambda: (calls.append(1) or False, "not yet"), 0.2, 0.05)
    assert not done and seen == "not yet" and 0.2 <= waited < 1.0
    assert time.monotonic() - started < 1.0 and 2 <= len(calls) <= 10
    assert poll(lambda: (True, "at once"), 5, 1)[:2] == (True, "at once")


def test_latency_samples_stay_with_their_flow() -> None:
    flow = Flow("full-checkout")
    flow.sample("order_creation_ms", 12.345)
    assert flow.samples == {"order_creation_ms": [12.3]}


# --- the profile block ----------------------------------------------------------------------


def demo_smoke() -> Smoke:
    return Smoke.model_validate(load_yaml(ROOT / "targets" / "demo" / "target.yaml")["smoke"])


def test_the_demo_block_is_valid_and_its_smoke_cart_is_a_small_amount() -> None:
    spec = demo_smoke()
    users = load_yaml(ROOT / "targets" / "demo" / "target.yaml")["users"]
    assert users[spec.customer]["state"] == "CA"
    assert spec.other_customer is not None and users[spec.other_customer]["state"] == "NY"
    assert spec.retry_failures == 2 and spec.allow_live is None
    pricing = Pricing.model_validate(
        load_yaml(ROOT / "targets" / "demo" / "target.yaml")["pricing"]
    )
    menu = {"1": 1250, "2": 899, "6": 50, "7": 425}
    # smoke-tests.create-intent: amount_max_cents 100.
    assert quote(pricing.rules, menu, spec.items, "CA").total == 59
    multi = quote(pricing.rules, menu, spec.multi_items, "CA")
    assert multi.subtotal == 3824 and multi.total == 3824 + 382 + 277


CARTS = {
    "items": [{"id": "A", "quantity": 1}],
    "full_items": [{"id": "A", "quantity": 1}],
    "multi_items": [{"id": "A", "quantity": 2}, {"id": "B", "quantity": 1}],
}


def test_a_customer_and_the_carts_are_required_and_the_defaults_name_no_shop() -> None:
    with pytest.raises(ValidationError) as raised:
        Smoke.model_validate({"customer": "x"})  # the item ids are the app's: no default cart
    assert "items" in str(raised.value)
    spec = Smoke.model_validate({"customer": "x", **CARTS})
    assert spec.order.line_id == "id" and spec.order.paid == ["paid"]
    assert spec.refund.via == "target" and spec.state_var == "state"
    assert spec.deadlines.webhook_s == 15 and spec.deadlines.cart_s == 5


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({}, "customer"),
        ({"customer": "a", "colour": 1}, "colour"),
        ({"customer": {"token": "a"}}, "customer"),
        ({"customer": "a", "deadlines": {"webhook_s": 0}}, "webhook_s"),
        ({"customer": "a", "retry_failures": 9}, "retry_failures"),
        ({"customer": "a", "refund": {"via": "email"}}, "via"),
        ({"customer": "a", "allow_live": {}}, "host"),
    ],
)
def test_an_invalid_block_names_the_field(block: dict, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Smoke.model_validate(block)
    assert message in str(raised.value)


def test_the_profile_accepts_the_block_as_data() -> None:
    data = load_yaml(ROOT / "targets" / "demo" / "target.yaml")
    assert ProfileModel.model_validate(data).smoke == data["smoke"]
