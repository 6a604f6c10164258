"""The customer's side: who am I, the menu, the cart, my orders (and their refund), my
notifications. Every endpoint needs a bearer token; a user only ever sees their own rows —
anyone else's order is 404, exactly like one that does not exist.

    GET    /api/v1/me
    GET    /api/v1/menu
    GET    /api/v1/cart
    POST   /api/v1/cart/items            {"food_item_id": 1, "quantity": 2}   adds to the line
    DELETE /api/v1/cart/items/{food_item_id}
    DELETE /api/v1/cart
    GET    /api/v1/orders
    GET    /api/v1/orders/{id}
    POST   /api/v1/orders/{id}/refund    a paid order, refunded in full through Stripe
    GET    /api/v1/notifications
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from shop import db, logs
from shop.api import ApiError, bad_request, not_found, ok, path_int, read_json, require_int
from shop.auth import current_user
from shop.stripe_api import error_summary

if TYPE_CHECKING:
    from shop.app import Shop

MAX_CART_QUANTITY = 99


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def load_order(conn: sa.Connection, t: db.Tables, order_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(t.orders).where(t.orders.c.id == order_id)).mappings().first()
    if row is None:
        return None
    order = dict(row)
    order["items"] = [
        dict(item)
        for item in conn.execute(
            sa.select(t.order_items)
            .where(t.order_items.c.order_id == order_id)
            .order_by(t.order_items.c.id)
        ).mappings()
    ]
    order["payments"] = [
        dict(payment)
        for payment in conn.execute(
            sa.select(t.payments).where(t.payments.c.order_id == order_id).order_by(t.payments.c.id)
        ).mappings()
    ]
    return order


def breakdown(order: dict[str, Any]) -> dict[str, Any]:
    return {
        "currency": order["currency"],
        "state": order["tax_state"],
        "items": [
            {
                "food_item_id": item["food_item_id"],
                "name": item["name"],
                "vendor_id": item["vendor_id"],
                "unit_price": item["unit_price"],
                "quantity": item["quantity"],
                "line_total": item["line_total"],
            }
            for item in order["items"]
        ],
        "subtotal": order["subtotal"],
        "platform_fee": order["platform_fee"],
        "tax": order["tax"],
        "tax_rate_bps": order["tax_rate_bps"],
        "total": order["total"],
        "vendor_amount": order["vendor_amount"],
    }


def render_order(order: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": order["id"],
        "payment_status": order["payment_status"],
        "stripe_payment_intent_id": order["stripe_payment_intent_id"],
        "total": order["total"],
        "currency": order["currency"],
        "vendor_amount": order["vendor_amount"],
        "note": order["note"],
        "created_at": _iso(order["created_at"]),
        "paid_at": _iso(order["paid_at"]),
        "breakdown": breakdown(order),
        "payments": [
            {
                "id": p["id"],
                "stripe_payment_intent_id": p["stripe_payment_intent_id"],
                "stripe_charge_id": p["stripe_charge_id"],
                "amount": p["amount"],
                "amount_refunded": p["amount_refunded"],
                "vendor_amount": p["vendor_amount"],
                "status": p["status"],
            }
            for p in order["payments"]
        ],
    }


def _shop(request: Request) -> Shop:
    return request.app.state.shop


async def _user(request: Request) -> tuple[Shop, dict[str, Any]]:
    shop = _shop(request)
    return shop, await run_in_threadpool(current_user, request, shop)


# --- me, menu -------------------------------------------------------------------------------


async def me(request: Request) -> Any:
    _, user = await _user(request)
    return ok({k: user[k] for k in ("id", "email", "name", "state")})


async def menu(request: Request) -> Any:
    shop, _ = await _user(request)
    return ok(await run_in_threadpool(_menu, shop))


def _menu(shop: Shop) -> dict[str, Any]:
    t = shop.tables
    with db.read(shop.engine) as conn:
        vendors = conn.execute(sa.select(t.vendors).order_by(t.vendors.c.id)).mappings().all()
        items = conn.execute(sa.select(t.food_items).order_by(t.food_items.c.id)).mappings().all()
    return {
        "currency": "usd",
        "vendors": [
            {
                "id": v["id"],
                "name": v["name"],
                "items": [
                    {
                        "id": i["id"],
                        "name": i["name"],
                        "price": i["price_cents"],
                        "available": bool(i["available"]),
                    }
                    for i in items
                    if i["vendor_id"] == v["id"]
                ],
            }
            for v in vendors
        ],
    }


# --- cart -----------------------------------------------------------------------------------


def cart_json(shop: Shop, user_id: int) -> dict[str, Any]:
    t = shop.tables
    with db.read(shop.engine) as conn:
        version = conn.execute(
            sa.select(t.users.c.cart_version).where(t.users.c.id == user_id)
        ).scalar_one()
        rows = conn.execute(
            sa.select(
                t.cart_items.c.food_item_id,
                t.cart_items.c.quantity,
                t.food_items.c.name,
                t.food_items.c.price_cents,
            )
            .join(t.food_items, t.food_items.c.id == t.cart_items.c.food_item_id)
            .where(t.cart_items.c.user_id == user_id)
            .order_by(t.cart_items.c.food_item_id)
        ).all()
    items = [
        {
            "food_item_id": r.food_item_id,
            "name": r.name,
            "unit_price": r.price_cents,
            "quantity": r.quantity,
            "line_total": r.price_cents * r.quantity,
        }
        for r in rows
    ]
    return {
        "cart_version": version,
        "items": items,
        "subtotal": sum(i["line_total"] for i in items),
    }


async def get_cart(request: Request) -> Any:
    shop, user = await _user(request)
    return ok(await run_in_threadpool(cart_json, shop, user["id"]))


async def add_cart_item(request: Request) -> Any:
    shop, user = await _user(request)
    body = await read_json(request, verbose_errors=shop.config.flawed("verbose-errors"))
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object", "invalid_type")
    unknown = sorted(set(body) - {"food_item_id", "quantity"})
    if unknown:
        raise bad_request(
            f"unknown field: {unknown[0][:64]}", "unknown_field", field=unknown[0][:64]
        )
    if "food_item_id" not in body:
        raise bad_request("food_item_id is required", "missing_field", field="food_item_id")
    food_item_id = require_int(body["food_item_id"], "food_item_id", minimum=1)
    quantity = require_int(
        body.get("quantity", 1), "quantity", minimum=1, maximum=MAX_CART_QUANTITY
    )
    return ok(await run_in_threadpool(_add, shop, user["id"], food_item_id, quantity))


def _add(shop: Shop, user_id: int, food_item_id: int, quantity: int) -> dict[str, Any]:
    t = shop.tables
    with db.write(shop.engine) as conn:
        item = (
            conn.execute(sa.select(t.food_items).where(t.food_items.c.id == food_item_id))
            .mappings()
            .first()
        )
        if item is None:
            raise bad_request(f"unknown food item {food_item_id}", "unknown_item")
        if not item["available"]:
            raise bad_request(f"{item['name']} is not available", "item_unavailable")
        line = (
            conn.execute(
                sa.select(t.cart_items).where(
                    t.cart_items.c.user_id == user_id, t.cart_items.c.food_item_id == food_item_id
                )
            )
            .mappings()
            .first()
        )
        if line is None:
            conn.execute(
                sa.insert(t.cart_items).values(
                    user_id=user_id, food_item_id=food_item_id, quantity=quantity
                )
            )
        else:
            total = line["quantity"] + quantity
            if total > MAX_CART_QUANTITY:
                raise bad_request(f"at most {MAX_CART_QUANTITY} of one item", "invalid_value")
            conn.execute(
                sa.update(t.cart_items)
                .where(t.cart_items.c.id == line["id"])
                .values(quantity=total)
            )
        _bump(conn, t, user_id)
    return cart_json(shop, user_id)


def _bump(conn: sa.Connection, t: db.Tables, user_id: int) -> None:
    conn.execute(
        sa.update(t.users)
        .where(t.users.c.id == user_id)
        .values(cart_version=t.users.c.cart_version + 1)
    )


async def remove_cart_item(request: Request) -> Any:
    shop, user = await _user(request)
    food_item_id = path_int(request, "food_item_id")
    return ok(await run_in_threadpool(_remove, shop, user["id"], food_item_id))


def _remove(shop: Shop, user_id: int, food_item_id: int | None) -> dict[str, Any]:
    t = shop.tables
    with db.write(shop.engine) as conn:
        query = sa.delete(t.cart_items).where(t.cart_items.c.user_id == user_id)
        if food_item_id is not None:
            query = query.where(t.cart_items.c.food_item_id == food_item_id)
        if conn.execute(query).rowcount == 0 and food_item_id is not None:
            raise not_found("cart item")
        _bump(conn, t, user_id)
    return cart_json(shop, user_id)


async def clear_cart(request: Request) -> Any:
    shop, user = await _user(request)
    return ok(await run_in_threadpool(_remove, shop, user["id"], None))


# --- orders ---------------------------------------------------------------------------------


async def list_orders(request: Request) -> Any:
    shop, user = await _user(request)
    return ok(await run_in_threadpool(_list, shop, user["id"]))


def _list(shop: Shop, user_id: int) -> dict[str, Any]:
    t = shop.tables
    with db.read(shop.engine) as conn:
        ids = (
            conn.execute(
                sa.select(t.orders.c.id)
                .where(t.orders.c.user_id == user_id)
                .order_by(t.orders.c.id.desc())
            )
            .scalars()
            .all()
        )
        return {"data": [render_order(load_order(conn, t, i)) for i in ids]}


def _owned(shop: Shop, user_id: int, order_id: int) -> dict[str, Any]:
    with db.read(shop.engine) as conn:
        order = load_order(conn, shop.tables, order_id)
    # Someone else's order looks exactly like a missing one (the `idor` flaw skips this).
    if order is None or (order["user_id"] != user_id and not shop.config.flawed("idor")):
        raise not_found("order")
    return order


async def get_order(request: Request) -> Any:
    shop, user = await _user(request)
    order_id = path_int(request, "order_id")
    order = await run_in_threadpool(_owned, shop, user["id"], order_id)
    return ok(render_order(order))


async def refund_order(request: Request) -> Any:
    shop, user = await _user(request)
    order_id = path_int(request, "order_id")
    shop.check_rate(user["id"])
    return ok(await run_in_threadpool(_refund, shop, user, order_id), status=202)


def _refund(shop: Shop, user: dict[str, Any], order_id: int) -> dict[str, Any]:
    order = _owned(shop, user["id"], order_id)
    if order["payment_status"] != "paid":
        raise ApiError(
            409,
            "not_refundable",
            f"only a paid order can be refunded (this one is {order['payment_status']})",
        )
    try:
        refund = shop.stripe.refund(
            order["stripe_payment_intent_id"],
            f"shop-{shop.instance_id}-refund-{order_id}",
            {"order_id": str(order_id)},
        )
    except Exception as exc:
        logs.get().error(
            "refund_failed", order_id=order_id, user_id=user["id"], **error_summary(exc)
        )
        raise ApiError(502, "payment_provider_error", "the refund could not be made") from None
    shop.metrics.refunds.inc()
    logs.get().info(
        "refund_requested",
        order_id=order_id,
        user_id=user["id"],
        refund_id=refund.id,
        amount=refund.amount,
        status=refund.status,
    )
    # The order turns `refunded` when Stripe's charge.refunded event arrives.
    return {
        "order_id": order_id,
        "refund_id": refund.id,
        "amount": refund.amount,
        "status": refund.status,
        "payment_status": order["payment_status"],
    }


# --- notifications --------------------------------------------------------------------------


async def list_notifications(request: Request) -> Any:
    shop, user = await _user(request)
    return ok(await run_in_threadpool(_notifications, shop, user["id"]))


def _notifications(shop: Shop, user_id: int) -> dict[str, Any]:
    n = shop.tables.notifications
    with db.read(shop.engine) as conn:
        rows = (
            conn.execute(sa.select(n).where(n.c.user_id == user_id).order_by(n.c.id))
            .mappings()
            .all()
        )
    return {
        "data": [
            {
                "id": r["id"],
                "order_id": r["order_id"],
                "kind": r["kind"],
                "message": r["message"],
                "created_at": _iso(r["created_at"]),
            }
            for r in rows
        ]
    }
