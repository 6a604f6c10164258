"""The reference shop's checkout: server-side prices (exact cents, CA vs other states),
tampering ignored, input validation, the price snapshot, idempotent order creation.

Expected amounts are computed here independently of the shop (Decimal, ROUND_HALF_UP) from
the rules in shop/README.md; the PaymentIntent is read back from the sandbox.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

import pytest
import stripe

from golive.sandbox import Sandbox
from tests import shopkit
from tests.shopkit import PRICES, ShopProcess

sandbox = shopkit.sandbox
stripe_client = shopkit.stripe_client

TAX = {"alice": Decimal("0.0725"), "bob": Decimal("0.05"), "carol": Decimal("0.05")}
STATE = {"alice": "CA", "bob": "NY", "carol": "TX"}


@pytest.fixture(scope="module")
def shop(
    request: pytest.FixtureRequest, sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ShopProcess]:
    yield from shopkit.module_shop(
        request, sandbox, tmp_path_factory, env={"SHOP_RATE_LIMIT": "1000/60"}
    )


def cents(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def expected(user: str, items: list[tuple[int, int]]) -> dict[str, int]:
    subtotal = sum(PRICES[i] * q for i, q in items)
    fee = cents(Decimal(subtotal) * Decimal("0.10"))
    tax = cents(Decimal(subtotal) * TAX[user])
    return {"subtotal": subtotal, "platform_fee": fee, "tax": tax, "total": subtotal + fee + tax}


def amounts(body: dict) -> dict[str, int]:
    b = body["breakdown"]
    return {k: b[k] for k in ("subtotal", "platform_fee", "tax", "total")}


# --- prices -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "items", "total"),
    [
        # documented examples: 3399 -> fee 340; CA tax 246.4275 -> 246; NY tax 169.95 -> 170
        ("alice", [(1, 2), (2, 1)], 3985),
        ("bob", [(1, 2), (2, 1)], 3909),
        ("carol", [(1, 2), (2, 1)], 3909),
        # 50 cents: fee 5; CA tax 3.625 -> 4; NY tax 2.5 -> 3 (half-up)
        ("alice", [(6, 1)], 59),
        ("bob", [(6, 1)], 58),
    ],
)
def test_prices_are_computed_on_the_server_in_exact_cents(
    shop: ShopProcess,
    stripe_client: stripe.StripeClient,
    user: str,
    items: list[tuple[int, int]],
    total: int,
) -> None:
    response = shop.checkout(user, items)
    assert response.status_code == 200, response.text
    body = response.json()
    assert amounts(body) == expected(user, items)
    assert body["amount"] == body["breakdown"]["total"] == total
    assert body["breakdown"]["state"] == STATE[user]
    assert body["breakdown"]["vendor_amount"] == body["breakdown"]["subtotal"]
    intent = stripe_client.v1.payment_intents.retrieve(body["payment_intent_id"])
    assert (intent.amount, intent.currency) == (total, "usd")
    assert intent.payment_method_types == ["card"]
    assert body["client_secret"] == intent.client_secret
    assert body["payment_status"] == "pending"


def test_ca_and_other_states_differ_only_by_tax(shop: ShopProcess) -> None:
    items = [(4, 2), (5, 1)]
    ca = shop.checkout("alice", items).json()["breakdown"]
    ny = shop.checkout("bob", items).json()["breakdown"]
    assert ca["subtotal"] == ny["subtotal"] and ca["platform_fee"] == ny["platform_fee"]
    assert (ca["tax_rate_bps"], ny["tax_rate_bps"]) == (725, 500)
    assert ca["tax"] > ny["tax"]


def test_multi_item_order_from_several_vendors(
    shop: ShopProcess, stripe_client: stripe.StripeClient
) -> None:
    items = [(1, 1), (4, 2), (7, 3), (3, 1)]
    body = shop.checkout("bob", items).json()
    assert amounts(body) == expected("bob", items)
    lines = {line["food_item_id"]: line for line in body["breakdown"]["items"]}
    assert {i: (lines[i]["unit_price"], lines[i]["quantity"]) for i in lines} == {
        i: (PRICES[i], q) for i, q in items
    }
    assert all(
        line["line_total"] == line["unit_price"] * line["quantity"] for line in lines.values()
    )
    assert {line["vendor_id"] for line in lines.values()} == {1, 2, 3}
    intent = stripe_client.v1.payment_intents.retrieve(body["payment_intent_id"])
    assert intent.amount == expected("bob", items)["total"]


def test_repeated_lines_of_one_item_are_merged(shop: ShopProcess) -> None:
    body = shop.checkout("bob", [(2, 1), (2, 2)]).json()
    assert [(i["food_item_id"], i["quantity"]) for i in body["breakdown"]["items"]] == [(2, 3)]
    assert amounts(body) == expected("bob", [(2, 3)])


def test_checkout_of_the_cart(shop: ShopProcess) -> None:
    assert shop.request("DELETE", "/api/v1/cart", "carol").status_code == 200
    for item, quantity in [(8, 2), (9, 1), (8, 1)]:
        response = shop.post(
            "/api/v1/cart/items", "carol", json={"food_item_id": item, "quantity": quantity}
        )
        assert response.status_code == 200, response.text
    cart = shop.cart("carol")
    assert [(i["food_item_id"], i["quantity"]) for i in cart["items"]] == [(8, 3), (9, 1)]
    assert cart["subtotal"] == 3 * 575 + 1200
    body = shop.checkout("carol").json()  # no items: the cart
    assert amounts(body) == expected("carol", [(8, 3), (9, 1)])
    shop.request("DELETE", "/api/v1/cart", "carol")


# --- tampering ----------------------------------------------------------------------------------


def test_client_amounts_are_ignored_and_logged(
    shop: ShopProcess, stripe_client: stripe.StripeClient
) -> None:
    items = [(1, 2), (2, 1)]
    clean = shop.checkout("alice", items).json()
    tampered = {
        "amount": 100,
        "total": 100,
        "subtotal": 1,
        "fee": 0,
        "platform_fee": 0,
        "tax": 0,
        "tax_rate": 0,
        "price": 1,
        "unit_price": 1,
    }
    body = {
        "items": [
            {"food_item_id": 1, "quantity": 2, "unit_price": 1, "price": 1, "total": 2},
            {"food_item_id": 2, "quantity": 1, "amount": 1},
        ],
        **tampered,
    }
    response = shop.post(
        "/api/v1/stripe/create-payment-intent",
        "alice",
        json=body,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["order_id"] != clean["order_id"]
    assert amounts(result) == amounts(clean) == expected("alice", items)
    intent = stripe_client.v1.payment_intents.retrieve(result["payment_intent_id"])
    assert intent.amount == clean["amount"] == 3985
    assert intent.metadata["platform_fee"] == "340" and intent.metadata["tax"] == "246"
    records = [r for r in shop.log_records() if r["event"] == "tamper_attempt"]
    assert records and set(tampered) <= set(records[-1]["ignored"])


# --- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"items": [{"food_item_id": 1, "quantity": -1}]}, "invalid_value"),
        ({"items": [{"food_item_id": 1, "quantity": 0}]}, "invalid_value"),
        ({"items": [{"food_item_id": 1, "quantity": 100}]}, "invalid_value"),
        (
            {"items": [{"food_item_id": 1, "quantity": 60}, {"food_item_id": 1, "quantity": 60}]},
            "invalid_value",
        ),
        ({"items": [{"food_item_id": 1, "quantity": "2"}]}, "invalid_type"),
        ({"items": [{"food_item_id": 1, "quantity": 1.5}]}, "invalid_type"),
        ({"items": [{"food_item_id": True, "quantity": 1}]}, "invalid_type"),
        ({"items": [{"food_item_id": 999, "quantity": 1}]}, "unknown_item"),
        ({"items": [{"food_item_id": 10, "quantity": 1}]}, "item_unavailable"),
        ({"items": [{"quantity": 1}]}, "missing_field"),
        ({"items": []}, "invalid_value"),
        ({"items": {"food_item_id": 1}}, "invalid_type"),
        ({"items": ["1"]}, "invalid_type"),
        ({"items": [{"food_item_id": 1, "quantity": 1, "coupon": "FREE"}]}, "unknown_field"),
        ({"items": [{"food_item_id": 1, "quantity": 1}], "coupon": "FREE"}, "unknown_field"),
        ({"items": [{"food_item_id": 1, "quantity": 1}], "currency": "eur"}, "invalid_value"),
        ({"items": [{"food_item_id": 1, "quantity": 1}], "note": 5}, "invalid_type"),
        ([{"food_item_id": 1, "quantity": 1}], "invalid_type"),
        ({}, "cart_empty"),
    ],
)
def test_invalid_checkouts_are_400(shop: ShopProcess, body: object, code: str) -> None:
    shop.request("DELETE", "/api/v1/cart", "bob")
    orders_before = len(shop.get("/api/v1/orders", "bob").json()["data"])
    response = shop.post("/api/v1/stripe/create-payment-intent", "bob", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == code
    assert len(shop.get("/api/v1/orders", "bob").json()["data"]) == orders_before


@pytest.mark.parametrize("key", ["has spaces", "x" * 201, "semi;colon"])
def test_bad_idempotency_key_is_400(shop: ShopProcess, key: str) -> None:
    response = shop.checkout("bob", [(1, 1)], key=key)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_idempotency_key"


# --- the snapshot -----------------------------------------------------------------------------


def test_the_payment_intent_carries_a_price_snapshot(
    shop: ShopProcess, stripe_client: stripe.StripeClient
) -> None:
    items = [(1, 1), (4, 2), (7, 3)]
    body = shop.checkout("alice", items).json()
    metadata = stripe_client.v1.payment_intents.retrieve(body["payment_intent_id"]).metadata
    meta = metadata.to_dict()
    assert len(meta) <= 50 and all(len(k) <= 40 and len(v) <= 500 for k, v in meta.items())
    want = expected("alice", items)
    assert {k: int(meta[k]) for k in want} == want
    assert meta["state"] == "CA" and meta["tax_rate_bps"] == "725"
    assert meta["platform_fee_bps"] == "1000" and meta["currency"] == "usd"
    assert sorted(json.loads(meta["items"])) == sorted([i, q, PRICES[i]] for i, q in items)
    assert int(meta["subtotal"]) + int(meta["platform_fee"]) + int(meta["tax"]) == int(
        meta["total"]
    )


def test_snapshot_stays_within_stripe_limits_for_the_largest_order(
    shop: ShopProcess, stripe_client: stripe.StripeClient
) -> None:
    items = [(i, 99) for i in range(1, 10)]
    body = shop.checkout("carol", items).json()
    meta = stripe_client.v1.payment_intents.retrieve(body["payment_intent_id"]).metadata.to_dict()
    assert all(len(v) <= 500 for v in meta.values())
    assert int(meta["total"]) == body["amount"] == expected("carol", items)["total"]


# --- idempotency --------------------------------------------------------------------------------


def test_same_idempotency_key_gives_the_same_order(shop: ShopProcess) -> None:
    key = uuid.uuid4().hex
    first = shop.checkout("bob", [(3, 2)], key=key).json()
    again = shop.checkout("bob", [(3, 2)], key=key).json()
    assert (again["order_id"], again["payment_intent_id"]) == (
        first["order_id"],
        first["payment_intent_id"],
    )
    assert again["client_secret"] == first["client_secret"]
    assert (first["replayed"], again["replayed"]) == (False, True)
    other = shop.checkout("bob", [(3, 2)], key=uuid.uuid4().hex).json()
    assert other["order_id"] != first["order_id"]
    mismatch = shop.checkout("bob", [(3, 3)], key=key)
    assert mismatch.status_code == 409
    assert mismatch.json()["error"] == "idempotency_key_reused"


def test_the_same_key_of_another_user_is_another_checkout(shop: ShopProcess) -> None:
    key = uuid.uuid4().hex
    alice = shop.checkout("alice", [(3, 1)], key=key).json()
    bob = shop.checkout("bob", [(3, 1)], key=key).json()
    assert alice["order_id"] != bob["order_id"]


def test_without_a_key_the_same_cart_version_and_items_give_the_same_order(
    shop: ShopProcess,
) -> None:
    items = [(5, 2), (9, 1)]
    first = shop.checkout("carol", items, key=None).json()
    again = shop.checkout("carol", items, key=None).json()
    assert again["order_id"] == first["order_id"] and again["replayed"]
    assert (
        shop.checkout("carol", [(5, 1), (9, 1)], key=None).json()["order_id"] != first["order_id"]
    )
    # A cart change is a new checkout, even for the same items.
    shop.post("/api/v1/cart/items", "carol", json={"food_item_id": 3, "quantity": 1})
    shop.request("DELETE", "/api/v1/cart/items/3", "carol")
    assert shop.checkout("carol", items, key=None).json()["order_id"] != first["order_id"]


def test_concurrent_retries_of_one_checkout_create_one_order(shop: ShopProcess) -> None:
    key = uuid.uuid4().hex
    barrier = threading.Barrier(6)
    results: list[dict] = []

    def one() -> None:
        barrier.wait(10)
        response = shop.checkout("alice", [(7, 2)], key=key)
        assert response.status_code == 200, response.text
        results.append(response.json())

    threads = [threading.Thread(target=one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 6
    assert len({r["order_id"] for r in results}) == 1
    assert len({r["payment_intent_id"] for r in results}) == 1
    rows = shop.query("SELECT COUNT(*) FROM orders WHERE idempotency_key = ?", (f"u1:h:{key}",))
    assert rows == [(1,)]
