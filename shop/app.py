"""The shop as an ASGI application (Starlette), and `Shop`, what its handlers share.

    GET  /healthz                                  no auth
    GET  /metrics                                  no auth (Prometheus, shop/metrics.py)
    POST /api/v1/stripe/webhook                    Stripe signature instead of a token
    POST /api/v1/stripe/create-payment-intent      rate limited
    POST /api/v1/orders/{id}/refund                rate limited
    … and the customer endpoints of orders.py      bearer token

Errors are JSON everywhere (`{"error": code, "message": text}`): unknown paths 404, wrong
methods 405, anything unexpected a generic 500 with a reference id that is also logged.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shop import checkout, db, logs, metrics, orders, security, webhooks
from shop.api import ApiError
from shop.config import MAX_BODY_BYTES, MAX_WEBHOOK_BYTES, Config
from shop.flaws import INDEX_FLAWS
from shop.seed import seed_if_empty
from shop.stripe_api import StripeGateway

WEBHOOK_PATH = "/api/v1/stripe/webhook"


class Shop:
    """Configuration, database, Stripe, limits and the webhook worker of one process."""

    def __init__(self, config: Config) -> None:
        self.config = config
        missing = {db.INDEX_OF_FLAW[INDEX_FLAWS[f]] for f in config.flaws if f in INDEX_FLAWS}
        self.tables = db.build_tables(
            missing=missing, unique_keys=not config.flawed("double-order-on-race")
        )
        self.engine = db.make_engine(config.database_url)
        self.stripe = StripeGateway(config)
        self.limiter = security.RateLimiter(*config.rate_limit)
        self.key_locks = checkout.KeyLocks()
        self.webhooks = webhooks.Webhooks(self)
        self.metrics = metrics.ShopMetrics()
        self.instance_id = ""

    def prepare(self) -> dict[str, Any]:
        """Schema, indexes and seed data; returns what changed, for the start-up log."""
        changes = db.create_schema(self.engine, self.tables)
        self.instance_id = seed_if_empty(self.engine, self.tables)
        return changes

    def check_rate(self, user_id: int) -> None:
        if self.config.flawed("no-rate-limit"):
            return
        wait_s = self.limiter.hit(user_id)
        if wait_s is not None:
            logs.get().warning("rate_limited", user_id=user_id)
            error = ApiError(429, "rate_limited", "too many payment requests; slow down")
            error.headers["Retry-After"] = str(max(1, int(wait_s + 0.999)))
            raise error

    def key_lock(self, key: str) -> contextlib.AbstractContextManager[None]:
        return self.key_locks.hold(key)


# --- handlers -------------------------------------------------------------------------------


async def healthz(request: Request) -> Response:
    shop: Shop = request.app.state.shop

    def probe() -> None:
        with db.read(shop.engine) as conn:
            conn.execute(sa.text("SELECT 1"))

    try:
        await run_in_threadpool(probe)
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    body = {"error": codes.get(exc.status_code, "http_error"), "message": str(exc.detail)}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    reference = secrets.token_hex(6)
    logs.get().error(
        "unhandled_error",
        reference=reference,
        method=request.method,
        path=request.url.path,
        error_type=type(exc).__name__,
    )
    return JSONResponse(
        {"error": "internal_error", "message": "internal server error", "reference": reference},
        status_code=500,
    )


ROUTES = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/metrics", metrics.endpoint, methods=["GET"]),  # Prometheus scrapes it; no auth
    Route(WEBHOOK_PATH, webhooks.receive, methods=["POST"]),
    Route("/api/v1/stripe/create-payment-intent", checkout.create_payment_intent, methods=["POST"]),
    Route("/api/v1/me", orders.me, methods=["GET"]),
    Route("/api/v1/menu", orders.menu, methods=["GET"]),
    Route("/api/v1/cart", orders.get_cart, methods=["GET"]),
    Route("/api/v1/cart", orders.clear_cart, methods=["DELETE"]),
    Route("/api/v1/cart/items", orders.add_cart_item, methods=["POST"]),
    Route("/api/v1/cart/items/{food_item_id}", orders.remove_cart_item, methods=["DELETE"]),
    Route("/api/v1/orders", orders.list_orders, methods=["GET"]),
    Route("/api/v1/orders/{order_id}", orders.get_order, methods=["GET"]),
    Route("/api/v1/orders/{order_id}/refund", orders.refund_order, methods=["POST"]),
    Route("/api/v1/notifications", orders.list_notifications, methods=["GET"]),
]


def build_app(shop: Shop) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        queued = shop.webhooks.start()
        shop.stripe.warm()
        logs.get().info("started", queued_webhook_events=queued)
        try:
            yield
        finally:
            shop.webhooks.stop()
            shop.engine.dispose()
            logs.get().info("stopped")

    verbose = shop.config.flawed("verbose-errors")
    app = Starlette(
        debug=verbose,  # verbose-errors: Starlette's traceback page instead of our 500
        routes=ROUTES,
        lifespan=lifespan,
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
    app.state.shop = shop
    asgi: Any = security.BodyLimit(
        app, limit=MAX_BODY_BYTES, limits={WEBHOOK_PATH: MAX_WEBHOOK_BYTES}
    )
    asgi = security.Cors(
        asgi, shop.config.cors_origins, wildcard=shop.config.flawed("cors-wildcard")
    )
    asgi = security.HttpsOnly(asgi, hsts=not shop.config.flawed("no-hsts"))
    return security.RequestLog(metrics.HttpMetrics(asgi, shop.metrics))
