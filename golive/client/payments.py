"""The payment a checkout started, read back from the Stripe backend: a PaymentIntent (by
id, or named by its client_secret), or a Checkout Session, which golive pays as Stripe's
hosted page would (sandbox only) before reading the PaymentIntent it made."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import stripe

from golive.client import stripe_api
from golive.client.app import Placed


@dataclass
class Paid:
    reference: str | None  # the PaymentIntent id (or the session's, when none yet)
    amount: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    session: dict[str, Any] | None = None
    currency: str | None = None


def read(backend: Any, placed: Placed, *, complete: bool = False) -> Paid:
    """The payment behind `placed`. With `complete`, an open Checkout Session is paid with
    a test card first (sandbox), so the amount read is the one charged."""
    client = stripe_api.client(backend)
    try:
        if placed.payment_intent_id:
            return _intent(client, placed.payment_intent_id)
        session_id = placed.checkout_session_id
        assert session_id, "a placed order names a PaymentIntent or a Checkout Session"
        session = client.v1.checkout.sessions.retrieve(session_id).to_dict()
        if complete and session.get("status") == "open" and backend.can("admin-payments"):
            session = complete_session(backend, session_id)
        intent_id = session.get("payment_intent")
        if isinstance(intent_id, dict):
            intent_id = intent_id.get("id")
        if intent_id:
            paid = _intent(client, str(intent_id))
            paid.session = session
            return paid
        return Paid(
            session_id,
            session.get("amount_total"),
            dict(session.get("metadata") or {}),
            session=session,
            currency=session.get("currency"),
        )
    except stripe.StripeError as exc:
        return Paid(placed.payment_intent_id or placed.checkout_session_id, error=_said(exc))
    except SessionNotCompleted as exc:
        return Paid(placed.checkout_session_id, error=str(exc))


def _intent(client: stripe.StripeClient, intent_id: str) -> Paid:
    intent = client.v1.payment_intents.retrieve(intent_id).to_dict()
    return Paid(
        intent_id,
        intent.get("amount"),
        dict(intent.get("metadata") or {}),
        currency=intent.get("currency"),
    )


def _said(exc: stripe.StripeError) -> str:
    return f"{type(exc).__name__}: {exc.user_message or exc}"


class SessionNotCompleted(Exception):
    """The sandbox would not pay the session (declined card, expired session)."""


def complete_session(
    backend: Any, session_id: str, payment_method: str = "pm_card_visa"
) -> dict[str, Any]:
    """Pay an open Checkout Session as Stripe's hosted page would (the sandbox only)."""
    from golive.backends import BackendError, CheckoutCompletionError, complete_checkout_session

    try:
        return complete_checkout_session(backend, session_id, payment_method)
    except (CheckoutCompletionError, BackendError) as exc:
        raise SessionNotCompleted(str(exc)) from None
