"""Creates PaymentIntents from server-side totals; keys come from the environment."""

import os

import stripe

stripe.api_key = os.environ["STRIPE_SECRET_KEY"]
stripe.api_version = os.environ.get("STRIPE_API_VERSION", "2024-11-20.acacia")


def create_payment_intent(total_cents: int, idempotency_key: str) -> "stripe.PaymentIntent":
    return stripe.PaymentIntent.create(
        amount=total_cents, currency="usd", idempotency_key=idempotency_key
    )
