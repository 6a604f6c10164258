"""The flaw switches: each name turns off exactly one protection of the reference shop.

`SHOP_FLAWS=name,name…` selects them at start; an unknown name is a start-up error (exit 2).
`FLAWS` is the registry the tests and `catalogue.yaml` are checked against: the catalogue
adds, per flaw, the checklist items that must fail while it is on.

`realized_by: shop` flaws live in this process. `realized_by: build` flaws (test keys in a
production environment, a secret committed to the repository) are planted by the demo's
build step around the shop, never by the shop itself: naming one in SHOP_FLAWS is accepted
and does nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RealizedBy = Literal["shop", "build"]


@dataclass(frozen=True)
class Flaw:
    name: str
    summary: str
    realized_by: RealizedBy = "shop"


_INDEXES = {
    "order-payment-intent-id": "orders.stripe_payment_intent_id (unique, partial)",
    "order-idempotency-key": "orders.idempotency_key (unique, partial)",
    "order-payment-status": "orders.payment_status",
    "payment-payment-intent-id": "payments.stripe_payment_intent_id (unique, partial)",
    "webhook-event-id": "webhook_events.event_id (unique)",
    "webhook-event-processed": "webhook_events.processed",
}

_LIST = [
    # webhook authenticity
    Flaw("unsigned-webhooks", "the webhook verifies no signature at all"),
    Flaw(
        "signature-bypass-header",
        "`X-Skip-Signature: true` on a webhook request skips signature verification",
    ),
    Flaw("stale-timestamps-accepted", "the signature's timestamp is not bounded (no tolerance)"),
    Flaw(
        "parses-before-verify",
        "the signature is checked over a re-serialization of the parsed body, not the raw bytes",
    ),
    Flaw("rejects-with-500", "a webhook that fails verification is answered 500, not 400"),
    # webhook processing
    Flaw("no-event-dedup", "a redelivered event is processed again"),
    Flaw(
        "no-amount-check-in-webhook",
        "payment_intent.succeeded is not checked against the order total",
    ),
    Flaw("slow-webhook", "events are processed synchronously, and slowly, before the answer"),
    Flaw("no-cart-clear", "a paid order leaves the customer's cart as it was"),
    Flaw("no-notification", "a paid order writes no notification"),
    Flaw("ignores-payment-failed", "payment_intent.payment_failed leaves the order pending"),
    Flaw("ignores-refund", "charge.refunded leaves the order paid"),
    Flaw(
        "drops-some-orders",
        "payment_intent.succeeded of $50 or more is acknowledged and held for a review "
        "that never comes: the payment succeeded, the order stays pending",
    ),
    Flaw(
        "refund-not-reflected",
        "charge.refunded records the refund on the payment but leaves the order paid",
    ),
    Flaw(
        "double-order-on-race",
        "no unique keys and a check-then-insert window: concurrent duplicates create duplicates",
    ),
    # prices
    Flaw("trusts-client-amount", "the client's `amount`/`total` becomes the charge"),
    Flaw(
        "prices-from-client", "the client's per-item `unit_price`/`price` replaces the menu price"
    ),
    Flaw("fee-from-client", "the client's `platform_fee`/`fee` replaces the computed fee"),
    Flaw("no-state-tax", "no sales tax is charged in any state"),
    Flaw("no-price-snapshot", "the PaymentIntent carries no price snapshot in its metadata"),
    # API security
    Flaw("no-auth", "requests without a valid token act as the first customer"),
    Flaw("idor", "an order is shown (and refunded) to any authenticated user"),
    Flaw("cors-wildcard", "CORS answers `*` with credentials to any origin"),
    Flaw("no-rate-limit", "the payment endpoints are not rate limited"),
    Flaw("no-hsts", "no Strict-Transport-Security header behind an HTTPS proxy"),
    Flaw("verbose-errors", "malformed input raises; errors answer 500 with a traceback"),
    # data security
    Flaw("logs-card-data", "the checkout request body is logged with any card number in it"),
    Flaw("stores-card-number", "a card number sent at checkout is stored in orders.note"),
    Flaw("logs-secret-key", "the Stripe secret key and webhook secret are logged at start"),
    # monitoring
    Flaw(
        "no-payment-event-logs",
        "webhook events are logged without their event id (a payment cannot be traced in the logs)",
    ),
    # schema
    *(
        Flaw(f"missing-index-{suffix}", f"the index on {what} is not created")
        for suffix, what in _INDEXES.items()
    ),
    # after go-live: seen in the data (shop/ops_flaws.py)
    Flaw("refunds-too-many", "the shop refunds every fourth paid order by itself"),
    Flaw(
        "silent-webhook-endpoint",
        "the webhook route stops answering deliveries: events stay undelivered",
    ),
    # outside the process: planted by the demo's build step
    Flaw(
        "test-keys-in-prod",
        "the env carries keys of the wrong mode for the environment (a live publishable key in the test-mode demo)",
        "build",
    ),
    Flaw("secret-committed", "a Stripe secret key is committed to the repository", "build"),
    Flaw(
        "missing-alert-rule",
        "the Prometheus rule file deployed with the shop lacks the amount-mismatch alert",
        "build",
    ),
]

FLAWS: dict[str, Flaw] = {flaw.name: flaw for flaw in _LIST}
INDEX_FLAWS: dict[str, str] = {f"missing-index-{suffix}": suffix for suffix in _INDEXES}


class UnknownFlaw(ValueError):
    def __init__(self, names: list[str]) -> None:
        self.names = names
        listed = ", ".join(sorted(FLAWS))
        super().__init__(
            f"unknown flaw{'s' if len(names) > 1 else ''} in SHOP_FLAWS: {', '.join(names)}; "
            f"valid flaws: {listed}"
        )


def parse(text: str | None) -> frozenset[str]:
    """`a, b,,c` -> {a, b, c}; raises UnknownFlaw naming every unknown entry."""
    names = [part.strip() for part in (text or "").split(",") if part.strip()]
    unknown = [name for name in names if name not in FLAWS]
    if unknown:
        raise UnknownFlaw(unknown)
    return frozenset(names)


def shop_flaws() -> list[str]:
    """The flaws this process realizes (the rest are planted by the build)."""
    return [name for name, flaw in FLAWS.items() if flaw.realized_by == "shop"]
