"""The reference shop's webhook, end to end: the sandbox delivers real events to the shop
(paid, declined and retried, refunded, canceled), and forged, duplicate, concurrent and
mismatched deliveries are sent with golive's forge and sender.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import stripe

from golive.sandbox import Sandbox
from golive.webhooks import forge
from golive.webhooks.signing import encode_event
from tests import shopkit
from tests.shopkit import ShopProcess, event_for, wait_for

sandbox = shopkit.sandbox
stripe_client = shopkit.stripe_client

REJECTED = [
    name for name in forge.names() if forge.build(name, b"{}", "whsec_x").expect == "reject"
]


@pytest.fixture(scope="module")
def shop(
    request: pytest.FixtureRequest, sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ShopProcess]:
    for started in shopkit.module_shop(
        request, sandbox, tmp_path_factory, env={"SHOP_RATE_LIMIT": "1000/60"}
    ):
        with shopkit.registered_webhook(sandbox, started):
            yield started


def fill_cart(shop: ShopProcess, user: str, items: list[tuple[int, int]]) -> None:
    assert shop.request("DELETE", "/api/v1/cart", user).status_code == 200
    for item, quantity in items:
        response = shop.post(
            "/api/v1/cart/items", user, json={"food_item_id": item, "quantity": quantity}
        )
        assert response.status_code == 200, response.text


def payments_of(shop: ShopProcess, intent_id: str) -> list[tuple]:
    return shop.query(
        "SELECT order_id, stripe_charge_id, amount, vendor_amount, status FROM payments "
        "WHERE stripe_payment_intent_id = ?",
        (intent_id,),
    )


def test_a_paid_checkout_marks_the_order_paid_records_the_payment_and_clears_the_cart(
    shop: ShopProcess, sandbox: Sandbox, stripe_client: stripe.StripeClient
) -> None:
    fill_cart(shop, "alice", [(1, 2), (2, 1)])
    checkout = shop.checkout("alice", key=None).json()
    assert shop.cart("alice")["items"]  # nothing changes before the payment
    intent = stripe_client.v1.payment_intents.confirm(
        checkout["payment_intent_id"], params={"payment_method": "pm_card_visa"}
    )
    assert intent.status == "succeeded"
    order = shop.wait_status(checkout["order_id"], "paid")
    assert order["paid_at"]
    [payment] = order["payments"]
    assert payment["stripe_payment_intent_id"] == intent.id
    assert payment["stripe_charge_id"] == intent.latest_charge
    assert payment["amount"] == 3985 and payment["vendor_amount"] == 3399
    assert payments_of(shop, intent.id) == [
        (checkout["order_id"], intent.latest_charge, 3985, 3399, "succeeded")
    ]
    assert shop.cart("alice")["items"] == []
    [note] = shop.notifications("alice", checkout["order_id"])
    assert note["kind"] == "order_paid"
    assert shop.query(
        "SELECT type, processed, outcome FROM webhook_events WHERE type = 'payment_intent.succeeded' "
        "AND payload LIKE ?",
        (f"%{intent.id}%",),
    ) == [("payment_intent.succeeded", 1, "paid")]
    deliveries = wait_for(
        lambda: [d for d in sandbox.deliveries() if d["url"] == shop.webhook_url and d["status"]],
        "the sandbox's delivery record",
    )
    assert all(d["status"] == 200 for d in deliveries)


def test_a_declined_card_fails_the_order_and_a_new_checkout_can_pay(
    shop: ShopProcess, stripe_client: stripe.StripeClient
) -> None:
    fill_cart(shop, "bob", [(4, 1)])
    first = shop.checkout("bob", key=None).json()
    with pytest.raises(stripe.CardError):
        stripe_client.v1.payment_intents.confirm(
            first["payment_intent_id"], params={"payment_method": "pm_card_chargeDeclined"}
        )
    shop.wait_status(first["order_id"], "failed", "bob")
    assert [n["kind"] for n in shop.notifications("bob", first["order_id"])] == ["payment_failed"]
    assert shop.cart("bob")["items"]  # still there to pay
    retry = shop.checkout("bob", key=None).json()  # same cart: a new attempt, not the failed one
    assert retry["order_id"] != first["order_id"] and not retry["replayed"]
    assert retry["payment_intent_id"] != first["payment_intent_id"]
    stripe_client.v1.payment_intents.confirm(
        retry["payment_intent_id"], params={"payment_method": "pm_card_visa"}
    )
    shop.wait_status(retry["order_id"], "paid", "bob")
    assert shop.status(first["order_id"], "bob") == "failed"
    assert shop.cart("bob")["items"] == []


def test_a_refund_goes_through_stripe_and_the_event_marks_the_order_refunded(
    shop: ShopProcess, stripe_client: stripe.StripeClient
) -> None:
    checkout = shop.checkout("carol", [(9, 2)]).json()
    refund_early = shop.post(f"/api/v1/orders/{checkout['order_id']}/refund", "carol")
    assert refund_early.status_code == 409  # not paid yet
    stripe_client.v1.payment_intents.confirm(
        checkout["payment_intent_id"], params={"payment_method": "pm_card_visa"}
    )
    shop.wait_status(checkout["order_id"], "paid", "carol")
    assert shop.post(f"/api/v1/orders/{checkout['order_id']}/refund", "bob").status_code == 404
    response = shop.post(f"/api/v1/orders/{checkout['order_id']}/refund", "carol")
    assert response.status_code == 202, response.text
    refund = response.json()
    assert refund["amount"] == checkout["amount"] and refund["status"] == "succeeded"
    order = shop.wait_status(checkout["order_id"], "refunded", "carol")
    assert order["payments"][0]["amount_refunded"] == checkout["amount"]
    refunds = stripe_client.v1.refunds.list(
        params={"payment_intent": checkout["payment_intent_id"]}
    )
    assert [r.id for r in refunds.data] == [refund["refund_id"]]


def test_a_canceled_payment_intent_cancels_the_order(
    shop: ShopProcess, stripe_client: stripe.StripeClient
) -> None:
    checkout = shop.checkout("carol", [(3, 1)]).json()
    stripe_client.v1.payment_intents.cancel(checkout["payment_intent_id"])
    shop.wait_status(checkout["order_id"], "canceled", "carol")


@pytest.mark.parametrize("variant", REJECTED)
def test_forged_deliveries_are_400_and_change_nothing(
    shop: ShopProcess, sandbox: Sandbox, variant: str
) -> None:
    order = shop.pending_order("alice", [(5, 1)])
    event = event_for(sandbox, order["payment_intent_id"])
    [delivery] = shop.send(variant, event)
    assert delivery.status == 400, (variant, delivery)
    assert "invalid_signature" in delivery.body_excerpt
    assert shop.status(order["order_id"]) == "pending"
    assert payments_of(shop, order["payment_intent_id"]) == []
    assert shop.query("SELECT COUNT(*) FROM webhook_events WHERE event_id = ?", (event["id"],)) == [
        (0,)
    ]
    assert shop.notifications("alice", order["order_id"]) == []


@pytest.mark.parametrize("variant", ["signed", "multiple-v1", "non-canonical-json"])
def test_genuine_deliveries_are_accepted_whatever_their_layout(
    shop: ShopProcess, sandbox: Sandbox, variant: str
) -> None:
    order = shop.pending_order("alice", [(5, 1)])
    [delivery] = shop.send(variant, event_for(sandbox, order["payment_intent_id"]))
    assert delivery.status == 200, delivery
    shop.wait_status(order["order_id"], "paid")


def test_a_signed_body_that_is_not_an_event_is_400(shop: ShopProcess) -> None:
    nested = b"[" * 20000 + b"]" * 20000
    for payload in (b"not json", b"[1, 2]", nested, encode_event({"id": "evt_x", "type": "x"})):
        [delivery] = shop.send("signed", payload)
        assert delivery.status == 400, delivery


def test_duplicate_and_concurrent_duplicate_deliveries_pay_once(
    shop: ShopProcess, sandbox: Sandbox
) -> None:
    order = shop.pending_order("bob", [(8, 1)])
    event = event_for(sandbox, order["payment_intent_id"])
    sequential = shop.send("duplicate", event, copies=3)
    concurrent = shop.send("concurrent-duplicates", event, copies=12)
    assert [d.status for d in sequential + concurrent] == [200] * 15
    shop.wait_status(order["order_id"], "paid", "bob")
    shop.wait_processed(event["id"], count=15)
    assert len(payments_of(shop, order["payment_intent_id"])) == 1
    assert len(shop.notifications("bob", order["order_id"])) == 1
    assert shop.query("SELECT COUNT(*) FROM webhook_events WHERE event_id = ?", (event["id"],)) == [
        (1,)
    ]


def test_an_amount_mismatch_pays_nothing_and_raises_an_alert(
    shop: ShopProcess, sandbox: Sandbox
) -> None:
    order = shop.pending_order("alice", [(4, 1)])
    total = order["amount"]
    event = event_for(
        sandbox, order["payment_intent_id"], amount=total + 100, amount_received=total + 100
    )
    assert shop.send_signed(event).status == 200
    [record] = shop.wait_processed(event["id"])
    assert record["outcome"] == "amount_mismatch"
    assert shop.status(order["order_id"]) == "pending"
    assert payments_of(shop, order["payment_intent_id"]) == []
    [alert] = [r for r in shop.log_records() if r["event"] == "amount_mismatch"][-1:]
    assert alert["level"] == "error" and alert["alert"] is True
    assert alert["message"] == f"Amount mismatch: expected {total}, got {total + 100}"
    # amount_received alone differing is a mismatch too
    event = event_for(sandbox, order["payment_intent_id"], amount_received=total - 1)
    shop.send_signed(event)
    assert shop.wait_processed(event["id"])[0]["outcome"] == "amount_mismatch"
    assert shop.status(order["order_id"]) == "pending"


def test_events_about_unknown_intents_or_other_types_are_acknowledged(
    shop: ShopProcess,
) -> None:
    unknown = shopkit.make_event("payment_intent.succeeded", {"id": "pi_unknown", "amount": 1})
    other = shopkit.make_event("customer.created", {"id": "cus_1", "object": "customer"})
    for event, outcome in ((unknown, "unknown_payment_intent"), (other, "ignored")):
        assert shop.send_signed(event).status == 200
        assert shop.wait_processed(event["id"])[0]["outcome"] == outcome
