"""Refunds of a PaymentIntent's captured charge, full or partial; retrieved, listed, updated.

Card refunds succeed at once in test mode, as on Stripe. Each one raises the charge's
`amount_refunded` (and sets `refunded` once nothing is left) and emits `refund.created`
and `charge.refunded`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from golive.sandbox import currencies, pagination
from golive.sandbox import params as p
from golive.sandbox.endpoint import Call, Operation
from golive.sandbox.errors import invalid_request
from golive.sandbox.events import emit
from golive.sandbox.expand import expand
from golive.sandbox.ids import new_id, random_token
from golive.sandbox.resources import charges, early_fraud_warnings, payment_intents

if TYPE_CHECKING:
    from golive.sandbox.state import SandboxState

REASONS = ("duplicate", "fraudulent", "requested_by_customer")
CREATE: p.Schema = {
    "amount": None,
    "charge": None,
    "currency": None,
    "customer": None,
    "expand": None,
    "instructions_email": None,
    "metadata": None,
    "origin": None,
    "payment_intent": None,
    "reason": None,
    "refund_application_fee": None,
    "reverse_transfer": None,
}
UPDATE: p.Schema = {"metadata": None, "expand": None}


def create(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    p.check_known(params, CREATE)
    charge = _charge_to_refund(call)
    _not_charged_back(state, charge)
    captured_refunded = state.store.extra(charge["id"]).get("refunded", 0)
    refundable = charge["amount_captured"] - captured_refunded
    if refundable <= 0:
        raise invalid_request(
            f"Charge {charge['id']} has already been refunded.",
            param="charge",
            code="charge_already_refunded",
        )
    amount = refundable
    if "amount" in params:
        amount = p.integer(params["amount"], "amount", minimum=1)
        if amount > refundable:
            currency = charge["currency"]
            raise invalid_request(
                f"Refund amount ({currencies.format_amount(amount, currency, code=False)}) is greater than unrefunded amount on charge ({currencies.format_amount(refundable, currency, code=False)})",
                param="amount",
            )
    if "currency" in params and str(params["currency"]).lower() != charge["currency"]:
        raise invalid_request(
            f"The currency of a card refund must be the charge's ({charge['currency']}).",
            param="currency",
        )
    reason = p.choice(params["reason"], "reason", REASONS) if "reason" in params else None
    meta = p.metadata(params["metadata"]) if "metadata" in params else {}
    refund = build(state, charge, amount, reason=reason, metadata=meta, request=call.request)
    return expand(refund, p.expand_paths(params), state.store)


def _not_charged_back(state: SandboxState, charge: dict[str, Any]) -> None:
    """Stripe refuses to refund a charge under a chargeback (an inquiry may be refunded)."""
    if not charge.get("disputed"):
        return
    for dispute in state.store.children("dispute", "charge", charge["id"]):
        if not dispute["status"].startswith("warning_"):
            raise invalid_request(
                f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                param="charge",
                code="charge_disputed",
            )


def build(
    state: SandboxState,
    charge: dict[str, Any],
    amount: int,
    *,
    reason: str | None = None,
    metadata: dict[str, str] | None = None,
    created: int | None = None,
    request: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A succeeded refund of `amount` (checked by the caller) of `charge`, at `created`
    (default now): stored, the charge's amounts updated, its events emitted."""
    created = state.clock.seconds() if created is None else created
    refund = {
        "id": state.store.new_id("re"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": new_id("txn"),
        "charge": charge["id"],
        "created": created,
        "currency": charge["currency"],
        "destination_details": {
            "card": {
                "reference": random_token(23).upper(),
                "reference_status": "pending",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        },
        "metadata": metadata or {},
        "payment_intent": charge["payment_intent"],
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }
    state.store.add(refund)
    extra = state.store.extra(charge["id"])
    extra["refunded"] = extra.get("refunded", 0) + amount
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    emit(state, "refund.created", refund, request, created=created)
    emit(state, "charge.refunded", charge, request, created=created)
    early_fraud_warnings.settle(state, charge, created)
    return refund


def retrieve(call: Call) -> dict[str, Any]:
    p.check_known(call.params, {"expand": None})
    return expand(_get(call), p.expand_paths(call.params), call.state.store)


def update(call: Call) -> dict[str, Any]:
    p.check_known(call.params, UPDATE)
    refund = _get(call)
    if "metadata" in call.params:
        refund["metadata"] = p.metadata(call.params["metadata"], refund["metadata"])
    return expand(refund, p.expand_paths(call.params), call.state.store)


def list_(call: Call) -> dict[str, Any]:
    return pagination.page_by_payment(
        call.state.store, "refund", call.params, "/v1/refunds", "refund"
    )


def _get(call: Call) -> dict[str, Any]:
    return call.state.store.require("refund", call.path["id"], "refund")


def _charge_to_refund(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    if "charge" not in params and "payment_intent" not in params:
        raise invalid_request(
            "One of the following params should be provided for this request: charge or payment_intent.",
            param="charge",
            code="parameter_missing",
        )
    if "charge" in params:
        charge = charges.get(state, params["charge"], param="charge", status=400)
        if "payment_intent" in params and charge["payment_intent"] != params["payment_intent"]:
            raise invalid_request(
                f"Charge {charge['id']} does not belong to PaymentIntent {params['payment_intent']}.",
                param="payment_intent",
            )
    else:
        pi = payment_intents.get(
            state, params["payment_intent"], param="payment_intent", status=400
        )
        charge = state.store.get("charge", pi["latest_charge"] or "")
        if pi["status"] == "requires_capture":
            raise invalid_request(
                f"PaymentIntent {pi['id']} has not been captured. Cancel it to release the authorization, or capture it before refunding.",
                param="payment_intent",
            )
        if charge is None or pi["status"] != "succeeded":
            raise invalid_request(
                f"This PaymentIntent ({pi['id']}) does not have a successful charge to refund.",
                param="payment_intent",
            )
    if charge["status"] != "succeeded":
        raise invalid_request(
            f"Charge {charge['id']} has a status of {charge['status']} and cannot be refunded.",
            param="charge",
        )
    if not charge["captured"]:
        raise invalid_request(
            f"Charge {charge['id']} has not been captured. Cancel its PaymentIntent to release the authorization instead.",
            param="charge",
        )
    return charge


OPERATIONS = [
    Operation("POST", "/v1/refunds", create),
    Operation("GET", "/v1/refunds", list_),
    Operation("GET", "/v1/refunds/{id}", retrieve),
    Operation("POST", "/v1/refunds/{id}", update),
]
