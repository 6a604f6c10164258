"""One payment attempt of a PaymentIntent, and the customer's side of 3-D Secure.

An attempt charges the PaymentIntent's card: a card that needs authentication (and has not
passed it) parks the intent in `requires_action` — or, off session, is declined with
`authentication_required`; a declining card leaves a failed charge and
`requires_payment_method` with `last_payment_error`; otherwise a charge succeeds and the
intent is `succeeded` (or `requires_capture` for manual capture). The admin calls
`complete_action` / `fail_action` play the customer passing or failing 3-D Secure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from golive.sandbox.errors import StripeError, card_error, unexpected_state
from golive.sandbox.events import emit
from golive.sandbox.ids import new_id
from golive.sandbox.resources import charges, disputes, early_fraud_warnings, payment_methods
from golive.sandbox.resources.payment_intent_params import AUTHENTICATION_FAILED
from golive.sandbox.testcards import DECLINE_MESSAGES, TestCard

if TYPE_CHECKING:
    from golive.sandbox.state import SandboxState


def complete_action(state: SandboxState, pi: dict[str, Any]) -> dict[str, Any]:
    """The customer passed 3-D Secure: the payment proceeds (or awaits a manual confirm)."""
    _check_awaiting_action(pi)
    state.store.extra(pi["id"])["authenticated"] = pi["payment_method"]
    pi["next_action"] = None
    if pi["confirmation_method"] == "manual":
        pi["status"] = "requires_confirmation"
        return pi
    pay(state, pi, None)
    return pi


def fail_action(state: SandboxState, pi: dict[str, Any]) -> dict[str, Any]:
    """The customer failed (or abandoned) 3-D Secure: back to requires_payment_method."""
    _check_awaiting_action(pi)
    pm = state.store.get("payment_method", pi["payment_method"])
    pi["last_payment_error"] = {
        "code": "payment_intent_authentication_failure",
        "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
        "message": AUTHENTICATION_FAILED,
        "payment_method": dict(pm) if pm else None,
        "type": "invalid_request_error",
    }
    pi["payment_method"] = None
    pi["next_action"] = None
    pi["status"] = "requires_payment_method"
    emit(state, "payment_intent.payment_failed", pi)
    return pi


def _check_awaiting_action(pi: dict[str, Any]) -> None:
    if pi["status"] != "requires_action":
        raise unexpected_state(
            f"This PaymentIntent has a status of {pi['status']}; only a PaymentIntent with status requires_action awaits the customer's authentication.",
            dict(pi),
        )


def pay(state: SandboxState, pi: dict[str, Any], request: dict[str, Any] | None) -> None:
    """One payment attempt with the PaymentIntent's payment method; raises the card error
    (402) after recording a decline, as Stripe answers a declined confirmation."""
    # The PaymentIntent may outlive its PaymentMethod (made before it) in a full store.
    pm = payment_methods.stored(state, pi["payment_method"], "payment_method", status=400)
    card = payment_methods.card_of(state, pm)
    extra = state.store.extra(pi["id"])
    requested = pi["payment_method_options"]["card"]["request_three_d_secure"]
    needs_authentication = card.needs_authentication or requested in ("any", "challenge")
    authenticated = extra.get("authenticated") == pm["id"]
    if needs_authentication and not authenticated:
        if extra.get("off_session") or extra.get("error_on_requires_action"):
            raise _decline(
                state, pi, pm, "authentication_required", "authentication_required", request
            )
        pi["status"] = "requires_action"
        pi["next_action"] = _next_action(state, pi, extra.get("return_url"))
        emit(state, "payment_intent.requires_action", pi, request)
        return
    if card.decline_code is not None:
        raise _decline(state, pi, pm, card.decline_code, card.error_code, request)
    charge = charges.build(
        state, pi, pm, card, decline_code=None, error_code=None, authenticated=authenticated
    )
    pi["latest_charge"] = charge["id"]
    pi["next_action"] = None
    pi["last_payment_error"] = None
    emit(state, "charge.succeeded", charge, request)
    if pi["capture_method"] == "manual":
        pi["status"] = "requires_capture"
        pi["amount_capturable"] = pi["amount"]
        emit(state, "payment_intent.amount_capturable_updated", pi, request)
    else:
        pi["status"] = "succeeded"
        pi["amount_received"] = pi["amount"]
        emit(state, "payment_intent.succeeded", pi, request)
        after_capture(state, charge)


def after_capture(state: SandboxState, charge: dict[str, Any]) -> None:
    """What Stripe's dispute and early-fraud-warning test cards bring once the payment is
    captured (on Stripe, moments later; here at once, as events made by Stripe itself,
    without the request's id)."""
    card: TestCard | None = state.store.private.get(charge["id"], {}).get("card")
    if card is None:
        return
    if card.dispute is not None:
        reason, status = card.dispute
        now = state.clock.seconds()
        disputes.announce(
            state, disputes.build(state, charge, created=now, reason=reason, status=status)
        )
    if card.early_fraud_warning:
        warning = early_fraud_warnings.build(
            state, charge, created=state.clock.seconds(), fraud_type="misc"
        )
        emit(state, "radar.early_fraud_warning.created", warning)


def _decline(
    state: SandboxState,
    pi: dict[str, Any],
    pm: dict[str, Any],
    decline_code: str,
    error_code: str,
    request: dict[str, Any] | None,
) -> StripeError:
    card = payment_methods.card_of(state, pm)
    charge = charges.build(
        state, pi, pm, card, decline_code=decline_code, error_code=error_code, authenticated=False
    )
    message = DECLINE_MESSAGES[decline_code]
    pi["last_payment_error"] = {
        "charge": charge["id"],
        "code": error_code,
        "decline_code": decline_code,
        "doc_url": "https://stripe.com/docs/error-codes/" + error_code.replace("_", "-"),
        "message": message,
        "payment_method": dict(pm),
        "type": "card_error",
    }
    pi["latest_charge"] = charge["id"]
    pi["payment_method"] = None
    pi["next_action"] = None
    pi["status"] = "requires_payment_method"
    emit(state, "charge.failed", charge, request)
    emit(state, "payment_intent.payment_failed", pi, request)
    return card_error(
        message,
        code=error_code,
        decline_code=decline_code,
        extra={"charge": charge["id"], "payment_intent": dict(pi), "payment_method": dict(pm)},
    )


def _next_action(state: SandboxState, pi: dict[str, Any], return_url: str | None) -> dict[str, Any]:
    # Following this URL is the customer completing 3-D Secure (see admin.py).
    url = f"{state.settings.base_url}/_golive/payment_intents/{pi['id']}/authenticate"
    if return_url:
        return {
            "redirect_to_url": {"return_url": return_url, "url": url},
            "type": "redirect_to_url",
        }
    return {
        "type": "use_stripe_sdk",
        "use_stripe_sdk": {
            "source": new_id("src"),
            "stripe_js": url,
            "type": "three_d_secure_redirect",
        },
    }
