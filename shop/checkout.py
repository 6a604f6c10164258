"""POST /api/v1/stripe/create-payment-intent: price the order on the server, create the
PaymentIntent with a price snapshot, store the Order — once per checkout.

Body: `{"items": [{"food_item_id": 1, "quantity": 2}, …], "note": "…"}`; without `items`
the user's cart is checked out. Fields the server computes itself (amount, price,
unit_price, fee, platform_fee, tax, total, …) are ignored and logged as a tamper attempt;
card-looking fields (card, card_number, cvc, …) are dropped unread and logged by name only;
any other unknown field is 400.

Idempotency: the order's key is the `Idempotency-Key` header (scoped to the user) or, when
absent, the user + cart version + the priced items. A retry with the same key answers the
same order and PaymentIntent (`"replayed": true`); concurrent retries are serialized per key,
and the unique index on orders.idempotency_key backs that up. A derived key whose order
failed or was canceled moves on to `…:r1`, `…:r2` so the customer can try again. The key
sent to Stripe is the order's key prefixed with this database's instance id.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from shop import db, logs, orders, pricing
from shop.api import ApiError, bad_request, ok, read_json, require_int
from shop.auth import current_user
from shop.seed import now
from shop.stripe_api import error_summary

if TYPE_CHECKING:
    from shop.app import Shop

TAMPER_FIELDS = {
    "amount",
    "price",
    "unit_price",
    "fee",
    "platform_fee",
    "application_fee_amount",
    "tax",
    "tax_rate",
    "total",
    "subtotal",
    "vendor_amount",
    "discount",
}
ITEM_TAMPER_FIELDS = {"price", "unit_price", "amount", "total", "line_total"}
# Compared with `_`, `-` and case removed.
CARD_FIELDS = {
    "card",
    "cardnumber",
    "number",
    "pan",
    "cvc",
    "cvv",
    "cvv2",
    "securitycode",
    "exp",
    "expmonth",
    "expyear",
    "expiry",
    "expiration",
    "carddetails",
    "cardcvc",
    "cardexp",
    "paymentmethoddata",
    "source",
}
MAX_LINES = 20
MAX_QUANTITY = 99
MAX_NOTE = 500
RETRY_SUFFIXES = 50
RACE_WINDOW_S = 0.15  # double-order-on-race: the gap between "is it there?" and "insert"
_HEADER_KEY = re.compile(r"^[A-Za-z0-9._:\-]{1,200}$")
REUSABLE = {"pending", "paid", "refunded", "partially_refunded"}


def _norm(name: str) -> str:
    return re.sub(r"[_\-\s]", "", name).lower()


def _card_values(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [v for item in value.values() for v in _card_values(item)]
    if isinstance(value, list):
        return [v for item in value for v in _card_values(item)]
    return [str(value)] if value is not None else []


class CheckoutRequest:
    """A checkout request after sanitizing: what the server will use, and what it dropped."""

    def __init__(self) -> None:
        self.items: list[tuple[int, int, dict[str, Any]]] | None = None  # id, qty, tampered
        self.note: str | None = None
        self.tampered: dict[str, Any] = {}
        self.card_fields: list[str] = []
        self.card_values: list[str] = []


def sanitize(body: Any) -> CheckoutRequest:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object", "invalid_type")
    out = CheckoutRequest()
    for key, value in body.items():
        if _norm(key) in CARD_FIELDS:
            out.card_fields.append(key)
            out.card_values += _card_values(value)
        elif key in TAMPER_FIELDS:
            out.tampered[key] = value
        elif key == "items":
            out.items = _items(value, out)
        elif key == "note":
            if value is not None and not isinstance(value, str):
                raise bad_request("note must be a string", "invalid_type", field="note")
            if value is not None and len(value) > MAX_NOTE:
                raise bad_request(
                    f"note is over {MAX_NOTE} characters", "invalid_value", field="note"
                )
            out.note = value
        elif key == "currency":
            if not isinstance(value, str) or value.lower() != pricing.CURRENCY:
                raise bad_request("the shop charges in usd only", "invalid_value", field="currency")
        else:
            raise bad_request(f"unknown field: {key[:64]}", "unknown_field", field=key[:64])
    return out


def _items(value: Any, out: CheckoutRequest) -> list[tuple[int, int, dict[str, Any]]]:
    if not isinstance(value, list):
        raise bad_request("items must be a list", "invalid_type", field="items")
    if not value:
        raise bad_request("items is empty", "invalid_value", field="items")
    if len(value) > MAX_LINES:
        raise bad_request(f"at most {MAX_LINES} items per order", "invalid_value", field="items")
    merged: dict[int, list[Any]] = {}
    for index, item in enumerate(value):
        where = f"items[{index}]"
        if not isinstance(item, dict):
            raise bad_request(f"{where} must be an object", "invalid_type", field=where)
        tampered: dict[str, Any] = {}
        for key in item:
            if _norm(key) in CARD_FIELDS:
                out.card_fields.append(f"{where}.{key}")
                out.card_values += _card_values(item[key])
            elif key in ITEM_TAMPER_FIELDS:
                tampered[key] = item[key]
                out.tampered[f"{where}.{key}"] = item[key]
            elif key not in ("food_item_id", "quantity"):
                raise bad_request(
                    f"unknown field: {where}.{key[:64]}",
                    "unknown_field",
                    field=f"{where}.{key[:64]}",
                )
        if "food_item_id" not in item:
            raise bad_request(f"{where}.food_item_id is required", "missing_field", field=where)
        food_item_id = require_int(item["food_item_id"], f"{where}.food_item_id", minimum=1)
        quantity = require_int(
            item.get("quantity", 1), f"{where}.quantity", minimum=1, maximum=MAX_QUANTITY
        )
        if food_item_id in merged:
            merged[food_item_id][0] += quantity
            merged[food_item_id][1].update(tampered)
        else:
            merged[food_item_id] = [quantity, tampered]
    for food_item_id, (quantity, _) in merged.items():
        if quantity > MAX_QUANTITY:
            raise bad_request(
                f"at most {MAX_QUANTITY} of food item {food_item_id}",
                "invalid_value",
                field="items",
            )
    return [(i, q, t) for i, (q, t) in merged.items()]


# --- the handler ----------------------------------------------------------------------------


async def create_payment_intent(request: Request) -> Any:
    shop: Shop = request.app.state.shop
    user = await run_in_threadpool(current_user, request, shop)
    shop.check_rate(user["id"])
    body = await read_json(request, verbose_errors=shop.config.flawed("verbose-errors"))
    header_key = request.headers.get("idempotency-key")
    result = await run_in_threadpool(checkout, shop, user, body, header_key)
    return ok(result)


def checkout(shop: Shop, user: dict[str, Any], body: Any, header_key: str | None) -> dict:
    config, log = shop.config, logs.get()
    if config.flawed("logs-card-data"):
        # A debug print of the request, card number and all.
        log.write("info", "checkout_request", raw=True, user_id=user["id"], body=body)
    req = sanitize(body)
    if req.card_fields:
        log.warning("card_data_dropped", user_id=user["id"], fields=req.card_fields)
    if req.tampered:
        log.warning("tamper_attempt", user_id=user["id"], ignored=req.tampered)
        shop.metrics.tamper_attempts.inc()
    if header_key is not None and not _HEADER_KEY.match(header_key):
        raise bad_request(
            "Idempotency-Key must be 1-200 characters of A-Z a-z 0-9 . _ : -",
            "invalid_idempotency_key",
        )

    with db.read(shop.engine) as conn:
        cart_version = conn.execute(
            sa.select(shop.tables.users.c.cart_version).where(shop.tables.users.c.id == user["id"])
        ).scalar_one()
        wanted = req.items if req.items is not None else _cart_lines(conn, shop, user["id"])
        lines = _price_lines(conn, shop, wanted)
    quote = _quote(shop, user, lines, req)
    if quote.total < 50:
        raise bad_request("the order total is below the $0.50 minimum", "amount_too_small")
    note = _note(shop, req)
    if header_key is not None:
        key = f"u{user['id']}:h:{header_key}"
    else:
        key = f"u{user['id']}:c{cart_version}:{_digest(quote)}"

    if config.flawed("double-order-on-race"):
        return _checkout_racy(shop, user, quote, key, note)
    with shop.key_lock(key):
        return _checkout_once(shop, user, quote, key, note, derived=header_key is None)


def _checkout_once(
    shop: Shop, user: dict, quote: pricing.Quote, key: str, note: str | None, *, derived: bool
) -> dict:
    base = key
    for attempt in range(RETRY_SUFFIXES + 1):
        key = base if attempt == 0 else f"{base}:r{attempt}"
        existing = _order_by_key(shop, key)
        if existing is None:
            break
        if not derived or existing["payment_status"] in REUSABLE:
            if not derived and not _same_items(shop, existing["id"], quote):
                raise ApiError(
                    409,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used for a different checkout",
                )
            return _replay(shop, existing)
    else:
        raise ApiError(409, "too_many_attempts", "too many failed attempts for this checkout")
    intent = _create_intent(shop, user, quote, key)
    try:
        order_id = _insert_order(shop, user, quote, key, intent.id, note)
    except sa.exc.IntegrityError:
        existing = _order_by_key(shop, key)  # someone else's insert won: same checkout
        if existing is None:
            raise
        return _replay(shop, existing)
    return _response(shop, order_id, intent, replayed=False)


def _checkout_racy(
    shop: Shop, user: dict, quote: pricing.Quote, key: str, note: str | None
) -> dict:
    # double-order-on-race: look, wait, insert — no lock, no unique index behind it.
    existing = _order_by_key(shop, key)
    if existing is not None:
        return _replay(shop, existing)
    time.sleep(RACE_WINDOW_S)
    intent = _create_intent(shop, user, quote, key)
    order_id = _insert_order(shop, user, quote, key, intent.id, note)
    return _response(shop, order_id, intent, replayed=False)


# --- pieces ---------------------------------------------------------------------------------


def _cart_lines(conn: sa.Connection, shop: Shop, user_id: int) -> list[tuple[int, int, dict]]:
    cart = shop.tables.cart_items
    rows = conn.execute(
        sa.select(cart.c.food_item_id, cart.c.quantity)
        .where(cart.c.user_id == user_id)
        .order_by(cart.c.food_item_id)
    ).all()
    if not rows:
        raise bad_request("the cart is empty and no items were given", "cart_empty")
    return [(row.food_item_id, row.quantity, {}) for row in rows]


def _price_lines(
    conn: sa.Connection, shop: Shop, wanted: list[tuple[int, int, dict]]
) -> list[pricing.Line]:
    food = shop.tables.food_items
    ids = [food_item_id for food_item_id, _, _ in wanted]
    rows = {row.id: row for row in conn.execute(sa.select(food).where(food.c.id.in_(ids))).all()}
    lines = []
    for food_item_id, quantity, tampered in sorted(wanted, key=lambda w: w[0]):
        row = rows.get(food_item_id)
        if row is None:
            raise bad_request(
                f"unknown food item {food_item_id}", "unknown_item", food_item_id=food_item_id
            )
        if not row.available:
            raise bad_request(
                f"{row.name} is not available", "item_unavailable", food_item_id=food_item_id
            )
        unit_price = row.price_cents
        if shop.config.flawed("prices-from-client"):
            client = tampered.get("unit_price", tampered.get("price"))
            if isinstance(client, int) and not isinstance(client, bool) and client >= 0:
                unit_price = client
        lines.append(pricing.Line(row.id, row.name, row.vendor_id, unit_price, quantity))
    return lines


def _client_int(tampered: dict[str, Any], *names: str) -> int | None:
    for name in names:
        value = tampered.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def _quote(
    shop: Shop, user: dict, lines: list[pricing.Line], req: CheckoutRequest
) -> pricing.Quote:
    flawed = shop.config.flawed
    return pricing.quote(
        lines,
        user["state"],
        fee_override=_client_int(req.tampered, "platform_fee", "fee")
        if flawed("fee-from-client")
        else None,
        total_override=_client_int(req.tampered, "amount", "total")
        if flawed("trusts-client-amount")
        else None,
        charge_tax=not flawed("no-state-tax"),
    )


def _note(shop: Shop, req: CheckoutRequest) -> str | None:
    if shop.config.flawed("stores-card-number"):
        parts = [req.note or ""] + [f"card: {value}" for value in req.card_values]
        return " ".join(p for p in parts if p) or None
    if req.note is None:
        return None
    return logs.mask_cards(req.note, "[card number removed]")


def _digest(quote: pricing.Quote) -> str:
    material = {
        "lines": [[line.food_item_id, line.quantity, line.unit_price] for line in quote.lines],
        "overrides": quote.overrides,
        "total": quote.total,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:24]


def snapshot(user: dict, quote: pricing.Quote, key: str) -> dict[str, str]:
    """The price snapshot in the PaymentIntent's metadata (14 keys, values under 500 chars)."""
    items = [[line.food_item_id, line.quantity, line.unit_price] for line in quote.lines]
    return {
        "shop_order_key": key[:500],
        "user_id": str(user["id"]),
        "state": quote.state,
        "currency": quote.currency,
        "items": json.dumps(items, separators=(",", ":")),
        "items_format": "[food_item_id,quantity,unit_price_cents]",
        "subtotal": str(quote.subtotal),
        "platform_fee": str(quote.platform_fee),
        "platform_fee_bps": str(quote.platform_fee_bps),
        "tax": str(quote.tax),
        "tax_rate_bps": str(quote.tax_rate_bps),
        "total": str(quote.total),
        "vendor_amount": str(quote.vendor_amount),
        "pricing": pricing.PRICING_VERSION,
    }


def _create_intent(shop: Shop, user: dict, quote: pricing.Quote, key: str) -> Any:
    params: dict[str, Any] = {
        "amount": quote.total,
        "currency": quote.currency,
        "payment_method_types": ["card"],
        "description": f"Reference shop order ({len(quote.lines)} items)",
    }
    if not shop.config.flawed("no-price-snapshot"):
        params["metadata"] = snapshot(user, quote, key)
    started = time.perf_counter()
    try:
        intent = shop.stripe.create_payment_intent(params, f"shop-{shop.instance_id}-{key}")
        if not str(getattr(intent, "id", "")).startswith("pi_") or not getattr(
            intent, "client_secret", None
        ):
            raise ValueError("the payment provider answered something that is not a PaymentIntent")
    except Exception as exc:
        shop.metrics.intent_failures.inc()
        summary = error_summary(exc)
        logs.get().error("payment_intent_create_failed", user_id=user["id"], **summary)
        status = summary.get("http_status")
        if isinstance(status, int) and 400 <= status < 500 and status not in (401, 403, 429):
            raise ApiError(
                400, "payment_rejected", "the payment provider refused this order"
            ) from None
        raise ApiError(
            502, "payment_provider_error", "the payment provider is unavailable"
        ) from None
    shop.metrics.intents_created.inc()
    logs.get().info(
        "payment_intent_created",
        user_id=user["id"],
        payment_intent_id=intent.id,
        amount=quote.total,
        duration_ms=logs.elapsed_ms(started),
    )
    return intent


def _insert_order(
    shop: Shop, user: dict, quote: pricing.Quote, key: str, intent_id: str, note: str | None
) -> int:
    t = shop.tables
    stamp = now()
    # A duplicate-key race is resolved by the caller (the same checkout), not a failure.
    with shop.metrics.order_insert(ignore=(sa.exc.IntegrityError,)), db.write(shop.engine) as conn:
        result = conn.execute(
            sa.insert(t.orders).values(
                user_id=user["id"],
                stripe_payment_intent_id=intent_id,
                idempotency_key=key,
                payment_status="pending",
                currency=quote.currency,
                subtotal=quote.subtotal,
                platform_fee=quote.platform_fee,
                tax=quote.tax,
                tax_rate_bps=quote.tax_rate_bps,
                tax_state=quote.state,
                total=quote.total,
                vendor_amount=quote.vendor_amount,
                note=note,
                created_at=stamp,
                updated_at=stamp,
            )
        )
        order_id = result.inserted_primary_key[0]
        conn.execute(
            sa.insert(t.order_items),
            [
                {
                    "order_id": order_id,
                    "food_item_id": line.food_item_id,
                    "vendor_id": line.vendor_id,
                    "name": line.name,
                    "unit_price": line.unit_price,
                    "quantity": line.quantity,
                    "line_total": line.line_total,
                }
                for line in quote.lines
            ],
        )
    logs.get().info(
        "order_created",
        order_id=order_id,
        user_id=user["id"],
        payment_intent_id=intent_id,
        total=quote.total,
        subtotal=quote.subtotal,
        platform_fee=quote.platform_fee,
        tax=quote.tax,
        state=quote.state,
    )
    return order_id


def _order_by_key(shop: Shop, key: str) -> dict | None:
    orders_t = shop.tables.orders
    with db.read(shop.engine) as conn:
        row = (
            conn.execute(
                sa.select(orders_t).where(orders_t.c.idempotency_key == key).order_by(orders_t.c.id)
            )
            .mappings()
            .first()
        )
    return dict(row) if row else None


def _same_items(shop: Shop, order_id: int, quote: pricing.Quote) -> bool:
    items = shop.tables.order_items
    with db.read(shop.engine) as conn:
        rows = conn.execute(
            sa.select(items.c.food_item_id, items.c.quantity)
            .where(items.c.order_id == order_id)
            .order_by(items.c.food_item_id)
        ).all()
    return [(r.food_item_id, r.quantity) for r in rows] == [
        (line.food_item_id, line.quantity) for line in quote.lines
    ]


def _replay(shop: Shop, order: dict) -> dict:
    try:
        intent = shop.stripe.retrieve_payment_intent(order["stripe_payment_intent_id"])
    except Exception as exc:
        logs.get().error(
            "payment_intent_retrieve_failed", order_id=order["id"], **error_summary(exc)
        )
        raise ApiError(
            502, "payment_provider_error", "the payment provider is unavailable"
        ) from None
    logs.get().info("checkout_replayed", order_id=order["id"], user_id=order["user_id"])
    return _response(shop, order["id"], intent, replayed=True)


def _response(shop: Shop, order_id: int, intent: Any, *, replayed: bool) -> dict:
    with db.read(shop.engine) as conn:
        order = orders.load_order(conn, shop.tables, order_id)
    return {
        "order_id": order_id,
        "payment_intent_id": intent.id,
        "client_secret": intent.client_secret,
        "publishable_key": shop.config.stripe_publishable_key or None,
        "amount": intent.amount,
        "currency": intent.currency,
        "payment_status": order["payment_status"],
        "replayed": replayed,
        "breakdown": orders.breakdown(order),
    }


class KeyLocks:
    """One lock per key, created on demand and dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, list[Any]] = {}  # key -> [lock, users]

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._guard:
            entry = self._locks.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if entry[1] == 0:
                    self._locks.pop(key, None)
