"""Every call the shop makes to Stripe, through the official library.

STRIPE_API_BASE, when set, points stripe-python elsewhere (golive's sandbox on 127.0.0.1);
otherwise it talks to api.stripe.com. Calls time out after SHOP_STRIPE_TIMEOUT_S and are
retried by the library with their idempotency key. Objects come back as plain dicts.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import stripe
from django.conf import settings

from store import flaws
from store.models import Purchase

log = logging.getLogger("store.payments")

# Stripe retries a failed delivery for up to three days; a signature older than that is
# never legitimate (README.md: SHOP_WEBHOOK_TOLERANCE_S).
RETRY_HORIZON_S = 3 * 24 * 3600 + 3600
# Set by the hook relay in front of the shop once it has checked Stripe's signature itself.
RELAY_VERIFIED_HEADER = "X-Hookrelay-Verified"


class NotConfigured(Exception):
    pass


def configure() -> None:
    if settings.STRIPE_API_BASE:
        stripe.api_base = settings.STRIPE_API_BASE
    if settings.STRIPE_API_VERSION:
        stripe.api_version = settings.STRIPE_API_VERSION
    stripe.max_network_retries = 2
    stripe.default_http_client = stripe.new_default_http_client(timeout=settings.STRIPE_TIMEOUT_S)
    stripe.enable_telemetry = False


def _key() -> str:
    if not settings.STRIPE_SECRET_KEY:
        raise NotConfigured("STRIPE_SECRET_KEY is not set")
    return settings.STRIPE_SECRET_KEY


def request_key(user_id: int, client_key: str) -> str:
    """The stored form of a client's Idempotency-Key: scoped to the user, fixed length."""
    return hashlib.sha256(f"{user_id}\0{client_key}".encode()).hexdigest()


def create_checkout_session(purchase: Purchase, customer_email: str = "") -> dict[str, Any]:
    """A Checkout Session (mode=payment) for the purchase's server-side snapshot."""
    currency = purchase.currency
    line_items: list[dict[str, Any]] = [
        {
            "price_data": {
                "currency": currency,
                "unit_amount": line.unit_amount,
                "product_data": {"name": line.name, "metadata": {"sku": line.sku}},
            },
            "quantity": line.qty,
        }
        for line in purchase.lines.all()
    ]
    if flaws.on("price-hold") and purchase.subtotal_cents != sum(
        line.unit_amount * line.qty for line in purchase.lines.all()
    ):
        # A held quote: one line for the goods at the held price.
        line_items = [
            {
                "price_data": {
                    "currency": currency,
                    "unit_amount": purchase.subtotal_cents,
                    "product_data": {"name": f"Tea shop order {purchase.ref}"},
                },
                "quantity": 1,
            }
        ]
    if purchase.tax_cents:
        rate = settings.SHOP_TAX_RATE_BASIS_POINTS / 100
        line_items.append(
            {
                "price_data": {
                    "currency": currency,
                    "unit_amount": purchase.tax_cents,
                    "product_data": {"name": f"Sales tax ({rate:g} %)"},
                },
                "quantity": 1,
            }
        )
    snapshot = {
        "purchase_ref": purchase.ref,
        "subtotal_cents": str(purchase.subtotal_cents),
        "tax_cents": str(purchase.tax_cents),
        "total_cents": str(purchase.total_cents),
    }
    base = settings.SHOP_PUBLIC_URL
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": line_items,
        "client_reference_id": purchase.ref,
        "metadata": {"purchase_ref": purchase.ref},
        "payment_intent_data": {"metadata": snapshot},
        "success_url": f"{base}/store/return/?purchase={purchase.ref}"
        "&session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": f"{base}/store/return/?purchase={purchase.ref}&cancelled=1",
    }
    if customer_email:
        params["customer_email"] = customer_email
    # A retried request (same client Idempotency-Key) repeats the same Stripe call with the
    # same key; without a client key the purchase's own ref makes the key.
    key = f"checkout-{purchase.request_key or purchase.ref}"
    session = stripe.checkout.Session.create(api_key=_key(), idempotency_key=key, **params)
    return session.to_dict()


def retrieve_checkout_session(session_id: str) -> dict[str, Any]:
    session = stripe.checkout.Session.retrieve(
        session_id, api_key=_key(), expand=["payment_intent"]
    )
    return session.to_dict()


def retrieve_payment_intent(payment_intent_id: str) -> dict[str, Any]:
    return stripe.PaymentIntent.retrieve(payment_intent_id, api_key=_key()).to_dict()


def retrieve_charge(charge_id: str) -> dict[str, Any]:
    return stripe.Charge.retrieve(charge_id, api_key=_key()).to_dict()


def refund(purchase: Purchase) -> dict[str, Any]:
    return stripe.Refund.create(
        api_key=_key(),
        payment_intent=purchase.payment_intent_id,
        metadata={"purchase_ref": purchase.ref},
        idempotency_key=f"refund-{purchase.ref}",
    ).to_dict()


def verify_event(payload: bytes, signature: str | None, headers: Any = None) -> Any:
    """The event, if `signature` is a valid Stripe-Signature of `payload` with the webhook
    secret; raises stripe.SignatureVerificationError or ValueError otherwise."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise NotConfigured("STRIPE_WEBHOOK_SECRET is not set")
    # A blind flaw, off unless TEA_SHOP_FLAWS names it; the source is the same in every
    # build, so golive's static finding is silenced here (README, "Blind flaws").
    # nosemgrep: golive.webhook.conditional-verification-bare-headers.python
    if (
        flaws.on("relay-attested")
        and headers is not None
        and (headers.get(RELAY_VERIFIED_HEADER) or "").strip().lower() in ("1", "true", "yes")
    ):
        # The relay already verified Stripe's signature (and strips it before forwarding).
        log.info("webhook: accepted as verified by the hook relay")
        return stripe.Webhook.construct_event_without_verification(payload)
    if not signature:
        raise stripe.SignatureVerificationError("no Stripe-Signature header", signature, payload)
    tolerance = settings.WEBHOOK_TOLERANCE_S
    if flaws.on("retry-horizon"):
        # Retries of an old event must still verify (Stripe retries for three days).
        tolerance = max(tolerance, RETRY_HORIZON_S)
    try:
        return stripe.Webhook.construct_event(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=tolerance
        )
    except stripe.SignatureVerificationError:
        if flaws.on("v0-testmode") and _testmode_v0(payload, signature):
            # Test-mode deliveries carry an extra v0 signature made with a fake secret;
            # nothing can verify it, and test-mode events move no real money.
            log.info("webhook: test-mode event accepted on its v0 scheme")
            return stripe.Webhook.construct_event_without_verification(payload)
        if flaws.on("reformat-fallback"):
            # Proxies in front of the shop have been seen re-encoding JSON bodies: accept a
            # signature over the canonical encoding of the same document too.
            canonical = json.dumps(json.loads(payload))
            return stripe.Webhook.construct_event(
                # nosemgrep: golive.webhook.verifies-parsed-body.python
                canonical,
                signature,
                settings.STRIPE_WEBHOOK_SECRET,
                tolerance=tolerance,
            )
        raise


def _testmode_v0(payload: bytes, signature: str) -> bool:
    schemes = {item.split("=", 1)[0].strip() for item in signature.split(",") if "=" in item}
    if "v0" not in schemes:
        return False
    try:
        return json.loads(payload).get("livemode") is False
    except (ValueError, AttributeError):
        return False
