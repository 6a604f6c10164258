"""Disputes: opened on a succeeded card charge, listed and retrieved as Stripe shows them.

    GET  /v1/disputes             filters: charge, payment_intent, created; expand data.charge
    GET  /v1/disputes/{id}
    POST /v1/disputes/{id}        evidence (text fields), metadata, submit (default true):
                                  needs_response -> under_review, charge.dispute.updated
    POST /v1/disputes/{id}/close  the merchant accepts it: lost (an inquiry: warning_closed),
                                  charge.dispute.closed

A dispute comes from Stripe's dispute test cards (testcards.py: `pm_card_createDispute`,
`pm_card_createDisputeProductNotReceived`, `pm_card_createDisputeInquiry`), opened right
after the charge succeeds, or from past payments given to /_golive/history. Opening one
marks the charge `disputed` and emits `charge.dispute.created`, plus
`charge.dispute.funds_withdrawn` for a chargeback (an inquiry, `warning_*`, withdraws
nothing); a dispute already decided (won, lost, warning_closed, prevented) also emits
`charge.dispute.closed`. Simplified: the balance does not move (balance.py), evidence is
text only (no file uploads), and a submitted dispute stays under review (the issuer never
decides; /_golive/history makes decided ones).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from golive.sandbox import pagination
from golive.sandbox import params as p
from golive.sandbox.endpoint import Call, Operation
from golive.sandbox.errors import invalid_request
from golive.sandbox.events import emit
from golive.sandbox.expand import expand
from golive.sandbox.ids import new_id
from golive.sandbox.resources import early_fraud_warnings

if TYPE_CHECKING:
    from golive.sandbox.state import SandboxState

REASONS = (
    "bank_cannot_process",
    "check_returned",
    "credit_not_processed",
    "customer_initiated",
    "debit_not_authorized",
    "duplicate",
    "fraudulent",
    "general",
    "incorrect_account_details",
    "insufficient_funds",
    "noncompliant",
    "product_not_received",
    "product_unacceptable",
    "subscription_canceled",
    "unrecognized",
)
STATUSES = (
    "warning_needs_response",
    "warning_under_review",
    "warning_closed",
    "needs_response",
    "under_review",
    "won",
    "lost",
    "prevented",
)
CLOSED = frozenset({"warning_closed", "won", "lost", "prevented"})
DISPUTE_FEE = 1500  # Stripe's US dispute fee, in the charge's currency (simplified)
RESPONSE_WINDOW_S = 21 * 86_400  # evidence due by (Stripe's example shows about three weeks)
# Visa's reason codes for the reasons the test cards give (Stripe shows the network's code).
VISA_CODES = {"fraudulent": "10.4", "product_not_received": "13.1", "general": "10.4"}
UPDATE: p.Schema = {
    "evidence": None,
    "expand": None,
    "intended_submission_method": None,
    "metadata": None,
    "submit": None,
}
# Submitting evidence puts a dispute under review.
SUBMITTED = {"needs_response": "under_review", "warning_needs_response": "warning_under_review"}

# Nested values never change in place (store.py): one copy shared by every dispute.
EVIDENCE: dict[str, Any] = {
    **dict.fromkeys(
        (
            "access_activity_log",
            "billing_address",
            "cancellation_policy",
            "cancellation_policy_disclosure",
            "cancellation_rebuttal",
            "customer_communication",
            "customer_email_address",
            "customer_name",
            "customer_purchase_ip",
            "customer_signature",
            "duplicate_charge_documentation",
            "duplicate_charge_explanation",
            "duplicate_charge_id",
        )
    ),
    "enhanced_evidence": {},
    **dict.fromkeys(
        (
            "product_description",
            "receipt",
            "refund_policy",
            "refund_policy_disclosure",
            "refund_refusal_explanation",
            "service_date",
            "service_documentation",
            "shipping_address",
            "shipping_carrier",
            "shipping_date",
            "shipping_documentation",
            "shipping_tracking_number",
            "uncategorized_file",
            "uncategorized_text",
        )
    ),
}


# The evidence fields that take text (the others, enhanced_evidence and appeal, are objects).
TEXT_EVIDENCE = frozenset(name for name, value in EVIDENCE.items() if value is None)


def build(
    state: SandboxState,
    charge: dict[str, Any],
    *,
    created: int,
    reason: str,
    status: str,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A dispute of `charge`, stored; the charge shows `disputed`. No event yet (`announce`)."""
    inquiry = status.startswith("warning_")
    dispute_id = state.store.new_id("du")
    amount, currency = charge["amount"], charge["currency"]
    card = charge["payment_method_details"]["card"] if charge["payment_method_details"] else {}
    code = VISA_CODES.get(reason) if card.get("brand", "visa") == "visa" else None
    transactions = []
    if not inquiry:
        transactions.append(
            _transaction(dispute_id, charge, -amount, DISPUTE_FEE, created, "withdrawal")
        )
        if status == "won":
            transactions.append(
                _transaction(dispute_id, charge, amount, -DISPUTE_FEE, created, "reversal")
            )
    dispute = {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "balance_transactions": transactions,
        "charge": charge["id"],
        "created": created,
        "currency": currency,
        "enhanced_eligibility_types": [],
        "evidence": EVIDENCE,
        "evidence_details": {
            "due_by": created + RESPONSE_WINDOW_S,
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
            "submission_method": "not_submitted",
        },
        "intended_submission_method": None,
        "is_charge_refundable": inquiry,  # a chargeback's funds are already withdrawn
        "livemode": False,
        "metadata": metadata or {},
        "network_reason_code": code,
        "payment_intent": charge["payment_intent"],
        "payment_method_details": {
            "card": {
                "brand": card.get("brand", "visa"),
                "case_type": "inquiry" if inquiry else "chargeback",
                "network_reason_code": code,
            },
            "type": "card",
        },
        "reason": reason,
        "status": status,
    }
    state.store.add(dispute)
    charge["disputed"] = True
    return dispute


def announce(state: SandboxState, dispute: dict[str, Any], *, closed: int | None = None) -> None:
    """The events of a dispute's opening, at its `created`, and of its closing (at `closed`,
    default the same moment) if it is already decided. Stripe makes them, not a request."""
    opened = dispute["created"]
    emit(state, "charge.dispute.created", dispute, created=opened)
    if not dispute["status"].startswith("warning_"):
        emit(state, "charge.dispute.funds_withdrawn", dispute, created=opened)
    if dispute["status"] in CLOSED:
        emit(state, "charge.dispute.closed", dispute, created=opened if closed is None else closed)
    charge = state.store.get("charge", dispute["charge"])
    if charge is not None:
        early_fraud_warnings.settle(state, charge, opened)


def _transaction(
    dispute_id: str, charge: dict[str, Any], amount: int, fee: int, created: int, kind: str
) -> dict[str, Any]:
    currency = charge["currency"]
    label = "withdrawal" if kind == "withdrawal" else "reversal"
    return {
        "id": new_id("txn"),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": created,
        "created": created,
        "currency": currency,
        "description": f"Chargeback {label} for {charge['id']}",
        "exchange_rate": None,
        "fee": fee,
        "fee_details": [
            {
                "amount": fee,
                "application": None,
                "currency": currency,
                "description": "Dispute fee",
                "type": "stripe_fee",
            }
        ],
        "net": amount - fee,
        "reporting_category": "dispute" if kind == "withdrawal" else "dispute_reversal",
        "source": dispute_id,
        "status": "available",
        "type": "adjustment",
    }


def update(call: Call) -> dict[str, Any]:
    params = call.params
    p.check_known(params, UPDATE)
    dispute = _get(call)
    _check_open(dispute)
    # Everything checked before anything changes: a refused update changes nothing.
    metadata = dispute["metadata"]
    if "metadata" in params:
        metadata = p.metadata(params["metadata"], metadata)
    evidence = dispute["evidence"]
    if "evidence" in params:
        given = p.hash_(params["evidence"], "evidence")
        p.check_known(given, {**dict.fromkeys(EVIDENCE), "appeal": None}, "evidence")
        evidence = dict(evidence)
        for name, value in given.items():
            if name in TEXT_EVIDENCE:
                evidence[name] = p.string(value, f"evidence[{name}]", max_length=20_000) or None
    submit = p.boolean(params["submit"], "submit") if "submit" in params else True
    details = dict(dispute["evidence_details"])
    details["has_evidence"] = any(evidence[name] is not None for name in TEXT_EVIDENCE)
    if submit and "evidence" in params:
        details["submission_count"] += 1
        details["submission_method"] = "manual"
        dispute["status"] = SUBMITTED.get(dispute["status"], dispute["status"])
    dispute.update(metadata=metadata, evidence=evidence, evidence_details=details)
    emit(call.state, "charge.dispute.updated", dispute, call.request)
    return expand(dispute, p.expand_paths(params), call.state.store)


def close(call: Call) -> dict[str, Any]:
    p.check_known(call.params, {"expand": None})
    dispute = _get(call)
    _check_open(dispute)
    dispute["status"] = "warning_closed" if dispute["status"].startswith("warning_") else "lost"
    emit(call.state, "charge.dispute.closed", dispute, call.request)
    return expand(dispute, p.expand_paths(call.params), call.state.store)


def _get(call: Call) -> dict[str, Any]:
    return call.state.store.require("dispute", call.path["id"], "dispute")


def _check_open(dispute: dict[str, Any]) -> None:
    if dispute["status"] in CLOSED:
        raise invalid_request(
            f"This dispute is already closed (status {dispute['status']}): it cannot be changed."
        )


def retrieve(call: Call) -> dict[str, Any]:
    p.check_known(call.params, {"expand": None})
    return expand(_get(call), p.expand_paths(call.params), call.state.store)


def list_(call: Call) -> dict[str, Any]:
    return pagination.page_by_payment(
        call.state.store, "dispute", call.params, "/v1/disputes", "dispute"
    )


OPERATIONS = [
    Operation("GET", "/v1/disputes", list_),
    Operation("GET", "/v1/disputes/{id}", retrieve),
    Operation("POST", "/v1/disputes/{id}", update),
    Operation("POST", "/v1/disputes/{id}/close", close),
]
