"""Every flaw switch changes exactly the behaviour it names.

For each flaw the shop realizes, one probe runs twice: against the correct shop, where
the protection holds, and against a shop started with `SHOP_FLAWS=<flaw>`, where it
visibly does not. Both are real processes on the same in-process sandbox.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import stripe

from golive.sandbox import Sandbox
from shop.flaws import FLAWS, shop_flaws
from tests import shopkit
from tests.shopkit import (
    SECRET_KEY,
    ShopProcess,
    event_for,
    judge_schema,
    pay_with_signed_event,
    refund_event,
)

sandbox = shopkit.sandbox
shop_factory = shopkit.shop_factory

Probe = Callable[[ShopProcess, bool], None]
BASE_ENV = {"SHOP_RATE_LIMIT": "1000/60"}


@dataclass
class Spec:
    run: Probe
    env: dict[str, str] = field(default_factory=dict)


PROBES: dict[str, Spec] = {}


def probe(*names: str, env: dict[str, str] | None = None) -> Callable[[Probe], Probe]:
    def register(run: Probe) -> Probe:
        for name in names:
            assert name in FLAWS, name
            PROBES[name] = Spec(run, env or {})
        return run

    return register


@pytest.fixture(scope="module")
def baseline(
    request: pytest.FixtureRequest, sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ShopProcess]:
    yield from shopkit.module_shop(request, sandbox, tmp_path_factory, env=BASE_ENV)


def stripe_for(shop: ShopProcess) -> stripe.StripeClient:
    return shopkit.client_for(shop.sandbox)


# --- webhook authenticity ----------------------------------------------------------------------


def forged_delivery(
    shop: ShopProcess,
    variant: str,
    flawed: bool,
    *,
    rejected: int = 400,
    headers: dict[str, str] | None = None,
) -> None:
    order = shop.pending_order("alice", [(5, 1)])
    event = event_for(shop.sandbox, order["payment_intent_id"])
    [delivery] = shop.send(variant, event, headers=headers)
    if flawed:
        assert delivery.status == 200, delivery
        shop.wait_status(order["order_id"], "paid")  # and it had its effect
    else:
        assert delivery.status == rejected, delivery
        assert shop.status(order["order_id"]) == "pending"


@probe("unsigned-webhooks")
def _unsigned(shop: ShopProcess, flawed: bool) -> None:
    forged_delivery(shop, "unsigned", flawed)


@probe("signature-bypass-header")
def _bypass(shop: ShopProcess, flawed: bool) -> None:
    # The shop's own switch (shop/webhooks.py), as its catalogue entry describes it.
    forged_delivery(shop, "unsigned", flawed, headers={"X-Skip-Signature": "true"})


@probe("stale-timestamps-accepted")
def _stale(shop: ShopProcess, flawed: bool) -> None:
    forged_delivery(shop, "stale-timestamp", flawed)
    forged_delivery(shop, "future-timestamp", flawed)


@probe("parses-before-verify")
def _parses(shop: ShopProcess, flawed: bool) -> None:
    order = shop.pending_order("alice", [(5, 1)])
    event = event_for(shop.sandbox, order["payment_intent_id"])
    [reformatted] = shop.send("non-canonical-json", event)
    assert reformatted.status == (400 if flawed else 200)
    # Stripe's own layout still passes: the flaw only shows on other bytes.
    [stripe_layout] = shop.send("signed", event)
    assert stripe_layout.status == 200
    shop.wait_status(order["order_id"], "paid")


@probe("rejects-with-500")
def _rejects_500(shop: ShopProcess, flawed: bool) -> None:
    for variant in ("wrong-secret", "unsigned", "stale-timestamp"):
        order = shop.pending_order("alice", [(5, 1)])
        [delivery] = shop.send(variant, event_for(shop.sandbox, order["payment_intent_id"]))
        assert delivery.status == (500 if flawed else 400), (variant, delivery)
        assert shop.status(order["order_id"]) == "pending"


# --- webhook processing ------------------------------------------------------------------------


@probe("no-event-dedup")
def _dedup(shop: ShopProcess, flawed: bool) -> None:
    order = shop.pending_order("alice", [(5, 1)])
    event = event_for(shop.sandbox, order["payment_intent_id"])
    assert [d.status for d in shop.send("duplicate", event, copies=3)] == [200] * 3
    shop.wait_status(order["order_id"], "paid")
    records = shop.wait_processed(event["id"], count=3)
    assert len([r for r in records if r["event"] == "webhook_processed"]) == (3 if flawed else 1)
    assert len(shop.notifications("alice", order["order_id"])) == (3 if flawed else 1)
    assert len(shop.order(order["order_id"])["payments"]) == 1  # the unique index holds


@probe("no-amount-check-in-webhook")
def _amount_check(shop: ShopProcess, flawed: bool) -> None:
    order = shop.pending_order("alice", [(5, 1)])
    event = event_for(
        shop.sandbox,
        order["payment_intent_id"],
        amount=order["amount"] + 100,
        amount_received=order["amount"] + 100,
    )
    assert shop.send_signed(event).status == 200
    [record] = shop.wait_processed(event["id"])
    assert record["outcome"] == ("paid" if flawed else "amount_mismatch")
    assert shop.status(order["order_id"]) == ("paid" if flawed else "pending")
    alerts = [r for r in shop.log_records() if r["event"] == "amount_mismatch"]
    assert bool(alerts) is not flawed


@probe("slow-webhook")
def _slow(shop: ShopProcess, flawed: bool) -> None:
    order = shop.pending_order("alice", [(5, 1)])
    delivery = shop.send_signed(event_for(shop.sandbox, order["payment_intent_id"]))
    assert delivery.status == 200
    if flawed:
        assert delivery.latency_ms >= 2000, delivery
        assert shop.status(order["order_id"]) == "paid"  # done before the answer
    else:
        assert delivery.latency_ms < 1000, delivery
        shop.wait_status(order["order_id"], "paid")


@probe("no-cart-clear")
def _cart(shop: ShopProcess, flawed: bool) -> None:
    shop.request("DELETE", "/api/v1/cart", "bob")
    shop.post("/api/v1/cart/items", "bob", json={"food_item_id": 3, "quantity": 2})
    checkout = shop.checkout("bob").json()  # the cart
    pay_with_signed_event(shop, checkout, "bob")
    items = shop.cart("bob")["items"]
    assert [(i["food_item_id"], i["quantity"]) for i in items] == ([(3, 2)] if flawed else [])
    shop.request("DELETE", "/api/v1/cart", "bob")


@probe("no-notification")
def _notification(shop: ShopProcess, flawed: bool) -> None:
    order = shop.pending_order("alice", [(5, 1)])
    pay_with_signed_event(shop, order)
    kinds = [n["kind"] for n in shop.notifications("alice", order["order_id"])]
    assert kinds == ([] if flawed else ["order_paid"])


@probe("ignores-payment-failed")
def _failed(shop: ShopProcess, flawed: bool) -> None:
    order = shop.pending_order("alice", [(5, 1)])
    event = event_for(shop.sandbox, order["payment_intent_id"], "payment_intent.payment_failed")
    assert shop.send_signed(event).status == 200
    shop.wait_processed(event["id"])
    assert shop.status(order["order_id"]) == ("pending" if flawed else "failed")


@probe("ignores-refund")
def _refund(shop: ShopProcess, flawed: bool) -> None:
    order = shop.pending_order("alice", [(5, 1)])
    pay_with_signed_event(shop, order)
    event = refund_event(order["payment_intent_id"], order["amount"])
    assert shop.send_signed(event).status == 200
    shop.wait_processed(event["id"])
    assert shop.status(order["order_id"]) == ("paid" if flawed else "refunded")


@probe("drops-some-orders")
def _drops(shop: ShopProcess, flawed: bool) -> None:
    # $50 and more is "held for review"; smaller orders are marked paid as always.
    orders = [shop.pending_order("alice", [(5, 1)]), shop.pending_order("alice", [(9, 4)])]
    assert orders[0]["amount"] < 5000 <= orders[1]["amount"]
    for order in orders:
        event = event_for(shop.sandbox, order["payment_intent_id"])
        assert shop.send_signed(event).status == 200
        shop.wait_processed(event["id"])
    statuses = [shop.status(order["order_id"]) for order in orders]
    assert statuses == ["paid", "pending" if flawed else "paid"]


@probe("refund-not-reflected")
def _refund_not_reflected(shop: ShopProcess, flawed: bool) -> None:
    order = shop.pending_order("alice", [(5, 1)])
    pay_with_signed_event(shop, order)
    event = refund_event(order["payment_intent_id"], order["amount"])
    assert shop.send_signed(event).status == 200
    shop.wait_processed(event["id"])
    # The payment records the refund either way; the order shows it only when correct.
    [payment] = shop.order(order["order_id"])["payments"]
    assert payment["amount_refunded"] == order["amount"], payment
    assert shop.status(order["order_id"]) == ("paid" if flawed else "refunded")


@probe("double-order-on-race")
def _race(shop: ShopProcess, flawed: bool) -> None:
    order = shop.pending_order("alice", [(5, 1)])
    event = event_for(shop.sandbox, order["payment_intent_id"])
    deliveries = shop.send("concurrent-duplicates", event, copies=6)
    assert [d.status for d in deliveries] == [200] * 6
    shop.wait_processed(event["id"], count=6)
    shop.wait_status(order["order_id"], "paid")
    payments = shop.order(order["order_id"])["payments"]
    assert (len(payments) > 1) is flawed, payments
    # Concurrent retries of one checkout.
    key, barrier, ids = uuid.uuid4().hex, threading.Barrier(5), []

    def retry() -> None:
        barrier.wait(10)
        ids.append(shop.checkout("bob", [(7, 1)], key=key).json()["order_id"])

    threads = [threading.Thread(target=retry) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(ids) == 5
    assert (len(set(ids)) > 1) is flawed, ids
    failing = {k for k, ok in judge_schema(f"sqlite:///{shop.db_path}").items() if not ok}
    assert failing == (
        {
            "index Order.stripePaymentIntentId",
            "index Order.idempotencyKey",
            "index Payment.stripePaymentIntentId",
            "index WebhookEvent.eventId",
        }
        if flawed
        else set()
    )


# --- prices ------------------------------------------------------------------------------------


def intent_amount(shop: ShopProcess, body: dict) -> int:
    return stripe_for(shop).v1.payment_intents.retrieve(body["payment_intent_id"]).amount


@probe("trusts-client-amount")
def _client_amount(shop: ShopProcess, flawed: bool) -> None:
    body = shop.checkout("alice", [(1, 2)], amount=100).json()
    assert intent_amount(shop, body) == body["amount"] == (100 if flawed else 2500 + 250 + 181)


@probe("prices-from-client")
def _client_prices(shop: ShopProcess, flawed: bool) -> None:
    response = shop.post(
        "/api/v1/stripe/create-payment-intent",
        "bob",
        json={"items": [{"food_item_id": 1, "quantity": 2, "unit_price": 100}]},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    body = response.json()
    assert body["breakdown"]["subtotal"] == (200 if flawed else 2500)
    assert intent_amount(shop, body) == body["amount"]


@probe("fee-from-client")
def _client_fee(shop: ShopProcess, flawed: bool) -> None:
    body = shop.checkout("bob", [(1, 2)], platform_fee=0).json()
    assert body["breakdown"]["platform_fee"] == (0 if flawed else 250)
    assert intent_amount(shop, body) == (2625 if flawed else 2875)


@probe("no-state-tax")
def _tax(shop: ShopProcess, flawed: bool) -> None:
    ca = shop.checkout("alice", [(1, 2)]).json()["breakdown"]
    ny = shop.checkout("bob", [(1, 2)]).json()["breakdown"]
    assert (ca["tax"], ny["tax"]) == ((0, 0) if flawed else (181, 125))


@probe("no-price-snapshot")
def _snapshot(shop: ShopProcess, flawed: bool) -> None:
    body = shop.checkout("alice", [(1, 2)]).json()
    metadata = stripe_for(shop).v1.payment_intents.retrieve(body["payment_intent_id"]).metadata
    if flawed:
        assert metadata.to_dict() == {}
    else:
        assert metadata["total"] == str(body["amount"]) and metadata["tax"] == "181"


# --- API security ------------------------------------------------------------------------------


@probe("no-auth")
def _auth(shop: ShopProcess, flawed: bool) -> None:
    for headers in ({}, {"Authorization": "Bearer tok_nobody"}):
        response = shop.get("/api/v1/orders", headers=headers)
        assert response.status_code == (200 if flawed else 401)


@probe("idor")
def _idor(shop: ShopProcess, flawed: bool) -> None:
    order = shop.pending_order("alice", [(5, 1)])
    response = shop.get(f"/api/v1/orders/{order['order_id']}", "bob")
    assert response.status_code == (200 if flawed else 404)
    assert order["order_id"] not in [
        o["id"] for o in shop.get("/api/v1/orders", "bob").json()["data"]
    ]


@probe("cors-wildcard")
def _cors(shop: ShopProcess, flawed: bool) -> None:
    evil = {"Origin": "https://evil.example"}
    preflight = shop.request(
        "OPTIONS", "/api/v1/orders", headers={**evil, "Access-Control-Request-Method": "GET"}
    )
    simple = shop.get("/api/v1/orders", "alice", headers=evil)
    if flawed:
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "*"
        assert simple.headers["access-control-allow-origin"] == "*"
        assert simple.headers["access-control-allow-credentials"] == "true"
    else:
        assert preflight.status_code == 403
        assert "access-control-allow-origin" not in preflight.headers
        assert "access-control-allow-origin" not in simple.headers


@probe("no-rate-limit", env={"SHOP_RATE_LIMIT": "2/60"})
def _rate(shop: ShopProcess, flawed: bool) -> None:
    statuses = [
        shop.post("/api/v1/stripe/create-payment-intent", "carol", json={}).status_code
        for _ in range(4)
    ]
    assert statuses == ([400] * 4 if flawed else [400, 400, 429, 429])


@probe("no-hsts")
def _hsts(shop: ShopProcess, flawed: bool) -> None:
    https = shop.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert ("strict-transport-security" in https.headers) is not flawed
    http = shop.get("/healthz", headers={"X-Forwarded-Proto": "http"}, follow_redirects=False)
    assert http.status_code == 308  # the redirect is not what this flaw removes


@probe("verbose-errors")
def _errors(shop: ShopProcess, flawed: bool) -> None:
    response = shop.post(
        "/api/v1/stripe/create-payment-intent",
        "alice",
        content=b'{"items": [',
        headers={"Content-Type": "application/json"},
    )
    if flawed:
        assert response.status_code == 500
        assert "Traceback" in response.text and "JSONDecodeError" in response.text
    else:
        assert response.status_code == 400
        assert response.json()["error"] == "malformed_json"
        assert "Traceback" not in response.text


# --- data security -----------------------------------------------------------------------------

CARD = "4242424242424242"


def checkout_with_card(shop: ShopProcess) -> None:
    response = shop.checkout("bob", [(2, 1)], card_number=CARD, card={"number": CARD, "cvc": "314"})
    assert response.status_code == 200, response.text


@probe("logs-card-data")
def _card_logs(shop: ShopProcess, flawed: bool) -> None:
    checkout_with_card(shop)
    assert (CARD in shop.log_text()) is flawed
    assert CARD not in shop.database_dump()


@probe("stores-card-number")
def _card_db(shop: ShopProcess, flawed: bool) -> None:
    checkout_with_card(shop)
    assert (CARD in shop.database_dump()) is flawed
    assert CARD not in shop.log_text()


@probe("logs-secret-key")
def _secret(shop: ShopProcess, flawed: bool) -> None:
    log = shop.log_text()
    assert (SECRET_KEY in log) is flawed
    assert (shop.webhook_secret in log) is flawed


@probe("no-payment-event-logs")
def _event_logs(shop: ShopProcess, flawed: bool) -> None:
    order = shop.pending_order("alice", [(5, 1)])
    event = event_for(shop.sandbox, order["payment_intent_id"])
    assert shop.send_signed(event).status == 200
    shop.wait_status(order["order_id"], "paid", "alice")
    named = [r for r in shop.log_records() if r.get("event_id") == event["id"]]
    assert (named == []) is flawed
    # Only the event ids go: the PaymentIntent is still named.
    assert any(r.get("payment_intent_id") == order["payment_intent_id"] for r in shop.log_records())


# --- schema ------------------------------------------------------------------------------------

INDEX_SUBJECTS = {
    "missing-index-order-payment-intent-id": "index Order.stripePaymentIntentId",
    "missing-index-order-idempotency-key": "index Order.idempotencyKey",
    "missing-index-order-payment-status": "index Order.paymentStatus",
    "missing-index-payment-payment-intent-id": "index Payment.stripePaymentIntentId",
    "missing-index-webhook-event-id": "index WebhookEvent.eventId",
    "missing-index-webhook-event-processed": "index WebhookEvent.processed",
}


def _index_probe(name: str) -> Probe:
    def run(shop: ShopProcess, flawed: bool) -> None:
        failing = {k for k, ok in judge_schema(f"sqlite:///{shop.db_path}").items() if not ok}
        assert failing == ({INDEX_SUBJECTS[name]} if flawed else set())
        # Only the schema changes: duplicates are still stopped (by a lock).
        order = shop.pending_order("alice", [(5, 1)])
        event = event_for(shop.sandbox, order["payment_intent_id"])
        shop.send("concurrent-duplicates", event, copies=5)
        shop.wait_processed(event["id"], count=5)
        assert len(shop.wait_status(order["order_id"], "paid")["payments"]) == 1

    return run


for _name in INDEX_SUBJECTS:
    probe(_name)(_index_probe(_name))


# --- after go-live (shop/ops_flaws.py) ----------------------------------------------------------


@probe("refunds-too-many")
def _refunds_too_many(shop: ShopProcess, flawed: bool) -> None:
    # Four real payments (REFUND_EVERY): the flawed shop refunds one of them by itself.
    client = stripe_for(shop)
    intents = []
    for _ in range(4):
        order = shop.pending_order("alice", [(5, 1)])
        intent = order["payment_intent_id"]
        client.v1.payment_intents.confirm(intent, params={"payment_method": "pm_card_visa"})
        event = event_for(shop.sandbox, intent)
        assert shop.send_signed(event).status == 200
        shop.wait_processed(event["id"])  # logged after the refund, if any, was made
        intents.append(intent)
    refunds = [r for i in intents for r in client.v1.refunds.list(params={"payment_intent": i})]
    assert len(refunds) == (1 if flawed else 0), refunds


@probe("silent-webhook-endpoint")
def _silent_webhook_endpoint(shop: ShopProcess, flawed: bool) -> None:
    from golive.webhooks import forge
    from golive.webhooks.sender import send_forged
    from golive.webhooks.signing import encode_event

    order = shop.pending_order("alice", [(5, 1)])
    event = event_for(shop.sandbox, order["payment_intent_id"])
    forged = forge.build("signed", encode_event(event), shop.webhook_secret)
    [delivery] = send_forged(shop.webhook_url, forged, timeout=3)
    if flawed:
        assert delivery.status is None and delivery.timed_out, delivery
        assert shop.status(order["order_id"]) == "pending"
    else:
        assert delivery.status == 200, delivery
        shop.wait_status(order["order_id"], "paid")


# --- the tests -----------------------------------------------------------------------------------


def test_every_flaw_the_shop_realizes_has_a_probe() -> None:
    assert sorted(PROBES) == sorted(shop_flaws())
    assert {n for n, f in FLAWS.items() if f.realized_by == "build"} == {
        "test-keys-in-prod",
        "secret-committed",
        "missing-alert-rule",
    }


@pytest.mark.parametrize("flaw", shop_flaws())
def test_the_flaw_switch_turns_off_what_it_names(
    flaw: str,
    baseline: ShopProcess,
    shop_factory: Callable[..., ShopProcess],
) -> None:
    spec = PROBES[flaw]
    correct = shop_factory(env={**BASE_ENV, **spec.env}) if spec.env else baseline
    spec.run(correct, False)
    flawed = shop_factory(flaws=[flaw], env={**BASE_ENV, **spec.env})
    spec.run(flawed, True)
