"""GET /metrics: the shop's Prometheus metrics (prometheus-client's text format), no auth —
like /healthz, it is read by the monitoring system, which holds no user's token; it
carries counts and timings only, never an id, an amount or a user.

    shop_payment_intents_created_total            PaymentIntents created at checkout
    shop_payment_intent_failures_total            … refused or unanswered by Stripe
    shop_orders_created_total                     orders stored
    shop_order_creation_failures_total            orders whose insert failed
    shop_checkout_tamper_attempts_total           checkouts that sent a money field the
                                                  server ignored (it prices every order)
    shop_webhook_signature_failures_total         deliveries refused: bad Stripe-Signature
    shop_webhooks_processed_total{type,outcome}   events processed, by type and outcome
    shop_webhook_processing_seconds{type}         how long processing an event took
    shop_amount_mismatches_total                  payment events whose amount was not the
                                                  order's server-side total (not paid)
    shop_payments_total{result}                   payments that succeeded / failed
    shop_refunds_total                            refunds requested through the shop
    http_requests_total{method,status}            every HTTP answer, by status code

Each Shop has its own registry, so several shops in one process never share counts.
Label values are bounded: the event type is one of the handled types or `other`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

EVENT_TYPES = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "charge.refunded",
    "charge.dispute.created",
)
# Processing outcomes (shop/webhooks.py) that say what happened to a payment.
PAYMENT_RESULTS = {"paid": "succeeded", "failed": "failed"}
WEBHOOK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class ShopMetrics:
    """The shop's counters and histograms, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.intents_created = Counter(
            "shop_payment_intents_created", "PaymentIntents created at checkout", registry=r
        )
        self.intent_failures = Counter(
            "shop_payment_intent_failures",
            "PaymentIntent creations refused or unanswered by the payment provider",
            registry=r,
        )
        self.orders_created = Counter("shop_orders_created", "Orders stored", registry=r)
        self.order_failures = Counter(
            "shop_order_creation_failures", "Orders whose insert failed", registry=r
        )
        self.tamper_attempts = Counter(
            "shop_checkout_tamper_attempts",
            "Checkouts that sent a money field the server ignored",
            registry=r,
        )
        self.signature_failures = Counter(
            "shop_webhook_signature_failures",
            "Webhook deliveries refused for their Stripe-Signature",
            registry=r,
        )
        self.webhooks_processed = Counter(
            "shop_webhooks_processed",
            "Webhook events processed, by type and outcome",
            ["type", "outcome"],
            registry=r,
        )
        self.webhook_seconds = Histogram(
            "shop_webhook_processing_seconds",
            "Seconds spent processing one webhook event",
            ["type"],
            buckets=WEBHOOK_BUCKETS,
            registry=r,
        )
        self.amount_mismatches = Counter(
            "shop_amount_mismatches",
            "Payment events whose amount was not the order's server-side total",
            registry=r,
        )
        self.payments = Counter(
            "shop_payments", "Payments by result (succeeded, failed)", ["result"], registry=r
        )
        self.refunds = Counter("shop_refunds", "Refunds requested through the shop", registry=r)
        self.http_requests = Counter(
            "http_requests", "HTTP answers by method and status", ["method", "status"], registry=r
        )
        # Series that exist from the start, at 0: a rate over them is 0, not "no data".
        for result in PAYMENT_RESULTS.values():
            self.payments.labels(result)
        for event_type in EVENT_TYPES:
            self.webhook_seconds.labels(event_type)
            self.webhooks_processed.labels(event_type, "error")  # what the alerts read

    # -- hooks the shop's modules call ---------------------------------------------------

    @contextmanager
    def order_insert(self, ignore: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
        """Count an order stored, or its insert failing (`ignore`: a duplicate-key race
        the caller resolves, not a failure)."""
        try:
            yield
        except ignore:
            raise
        except BaseException:
            self.order_failures.inc()
            raise
        self.orders_created.inc()

    def webhook_processed(self, event_type: str, outcome: str, started: float) -> None:
        kind = event_type if event_type in EVENT_TYPES else "other"
        self.webhooks_processed.labels(kind, outcome).inc()
        self.webhook_seconds.labels(kind).observe(time.perf_counter() - started)
        if outcome == "amount_mismatch":
            self.amount_mismatches.inc()
        if outcome in PAYMENT_RESULTS and kind.startswith("payment_intent."):
            self.payments.labels(PAYMENT_RESULTS[outcome]).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


async def endpoint(request: Request) -> Response:
    """GET /metrics."""
    metrics: ShopMetrics = request.app.state.shop.metrics
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


class HttpMetrics:
    """ASGI middleware: counts every HTTP answer by method and status."""

    def __init__(self, app: ASGIApp, metrics: ShopMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status: dict[str, Any] = {"code": 500}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            self.metrics.http_requests.labels(method, str(status["code"])).inc()


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
