"""Charges: made by PaymentIntent confirmations (one per attempt, failed or succeeded);
retrieved, listed, updated. Creating one directly (the legacy Charges API) is not served."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from golive.sandbox import pagination
from golive.sandbox import params as p
from golive.sandbox.endpoint import Call, Operation
from golive.sandbox.errors import invalid_request
from golive.sandbox.expand import expand, expand_list_items
from golive.sandbox.ids import new_id
from golive.sandbox.testcards import DECLINE_MESSAGES, SELLER_MESSAGES, TestCard

if TYPE_CHECKING:
    from golive.sandbox.state import SandboxState

LIST: p.Schema = {
    **pagination.PAGING,
    "created": None,
    "customer": None,
    "payment_intent": None,
    "transfer_group": None,
}
# Nested values are never changed in place (store.py): the constant ones are shared by all
# charges instead of copied into each.
APPROVED: dict[str, Any] = {
    "advice_code": None,
    "network_advice_code": None,
    "network_decline_code": None,
    "network_status": "approved_by_network",
    "reason": None,
    "risk_level": "normal",
    "risk_score": 20,
    "seller_message": "Payment complete.",
    "type": "authorized",
}
DISABLED: dict[str, Any] = {"status": "disabled"}
UNAVAILABLE: dict[str, Any] = {"status": "unavailable"}
NOT_USED: dict[str, Any] = {"used": False}
EMPTY: dict[str, Any] = {}
UPDATE: p.Schema = {
    "description": None,
    "metadata": None,
    "receipt_email": None,
    "shipping": None,
    "fraud_details": None,
    "transfer_group": None,
    "customer": None,
    "expand": None,
}


def build(
    state: SandboxState,
    pi: dict[str, Any],
    pm: dict[str, Any],
    card: TestCard,
    *,
    decline_code: str | None,
    error_code: str | None,
    authenticated: bool,
    created: int | None = None,
) -> dict[str, Any]:
    """The Charge of one payment attempt (at `created`, default now); stored, not yet
    announced by an event."""
    now = state.clock.seconds() if created is None else created
    declined = decline_code is not None
    captured = not declined and pi["capture_method"] != "manual"
    amount = pi["amount"]
    if declined:
        outcome = {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "declined_by_network",
            "reason": decline_code,
            "risk_level": "normal",
            "risk_score": 40,
            "seller_message": SELLER_MESSAGES.get(
                decline_code, f"The bank returned the decline code `{decline_code}`."
            ),
            "type": "issuer_declined",
        }
    else:
        outcome = APPROVED
    pm_card = pm["card"]
    details = {
        "card": {
            "amount_authorized": None if declined else amount,
            "authorization_code": None if declined else "123456",
            "brand": pm_card["brand"],
            "capture_before": now + 7 * 86400 if pi["capture_method"] == "manual" else None,
            "checks": pm_card["checks"],
            "country": pm_card["country"],
            "exp_month": pm_card["exp_month"],
            "exp_year": pm_card["exp_year"],
            "extended_authorization": DISABLED,
            "fingerprint": pm_card["fingerprint"],
            "funding": pm_card["funding"],
            "incremental_authorization": UNAVAILABLE,
            "installments": None,
            "last4": pm_card["last4"],
            "mandate": None,
            "multicapture": UNAVAILABLE,
            "network": pm_card["brand"],
            "network_token": NOT_USED,
            "network_transaction_id": None if declined else new_id("ntx", 15),
            "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
            "regulated_status": "unregulated",
            "three_d_secure": (
                {
                    "authentication_flow": "challenge",
                    "electronic_commerce_indicator": "05",
                    "result": "authenticated",
                    "result_reason": None,
                    "version": "2.2.0",
                }
                if authenticated
                else None
            ),
            "wallet": None,
        },
        "type": "card",
    }
    charge = {
        "id": state.store.new_id("ch"),
        "object": "charge",
        "amount": amount,
        "amount_captured": amount if captured else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": pi["application_fee_amount"],
        "balance_transaction": new_id("txn") if captured else None,
        "billing_details": pm["billing_details"],
        "calculated_statement_descriptor": statement_descriptor(state.account, pi),
        "captured": captured,
        "created": now,
        "currency": pi["currency"],
        "customer": pi["customer"],
        "description": pi["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": error_code if declined else None,
        "failure_message": (
            DECLINE_MESSAGES.get(decline_code, DECLINE_MESSAGES["generic_decline"])
            if declined
            else None
        ),
        "fraud_details": EMPTY,
        "livemode": False,
        "metadata": pi["metadata"],
        "on_behalf_of": pi["on_behalf_of"],
        "outcome": outcome,
        "paid": not declined,
        "payment_intent": pi["id"],
        "payment_method": pm["id"],
        "payment_method_details": details,
        "radar_options": EMPTY,
        "receipt_email": pi["receipt_email"],
        "receipt_number": None,
        "receipt_url": None,
        "refunded": False,
        "review": None,
        "shipping": pi["shipping"],
        "source": None,
        "source_transfer": None,
        "statement_descriptor": pi["statement_descriptor"],
        "statement_descriptor_suffix": pi["statement_descriptor_suffix"],
        "status": "failed" if declined else "succeeded",
        "transfer_data": pi["transfer_data"],
        "transfer_group": pi["transfer_group"],
    }
    return state.store.add(charge, bypass_pending=card.bypass_pending, card=card)


def statement_descriptor(account: dict[str, Any], pi: dict[str, Any]) -> str | None:
    """What the customer's statement shows: prefix* SUFFIX, or the full descriptor."""
    settings = account["settings"]
    full = (
        pi.get("statement_descriptor")
        or settings["payments"].get("statement_descriptor")
        or account["business_profile"].get("name")
        or settings["dashboard"].get("display_name")
        or ""
    )
    suffix = pi.get("statement_descriptor_suffix")
    if suffix:
        prefix = settings["card_payments"].get("statement_descriptor_prefix") or full[:10]
        full = f"{prefix}* {suffix}"
    return full.upper()[:22] or None


def get(
    state: SandboxState, charge_id: Any, *, param: str = "id", status: int = 404
) -> dict[str, Any]:
    charge_id = p.string(charge_id, param)
    return state.store.require("charge", charge_id, "charge", param=param, status=status)


def retrieve(call: Call) -> dict[str, Any]:
    p.check_known(call.params, {"expand": None})
    return expand(get(call.state, call.path["id"]), p.expand_paths(call.params), call.state.store)


def update(call: Call) -> dict[str, Any]:
    params = call.params
    p.check_known(params, UPDATE)
    charge = get(call.state, call.path["id"])
    if "metadata" in params:
        charge["metadata"] = p.metadata(params["metadata"], charge["metadata"])
    for field in ("description", "receipt_email", "transfer_group", "customer"):
        if field in params:
            charge[field] = p.optional_string(params[field], field)
    return expand(charge, p.expand_paths(params), call.state.store)


def list_(call: Call) -> dict[str, Any]:
    query = call.params
    p.check_known(query, LIST)
    checks = []
    for field in ("customer", "payment_intent", "transfer_group"):
        if field in query:
            wanted = p.string(query[field], field)
            checks.append(lambda c, f=field, w=wanted: c[f] == w)
    store = call.state.store
    items = expand_list_items(p.expand_paths(query))
    return pagination.page(
        store,
        "charge",
        query,
        "/v1/charges",
        "charge",
        filters=checks,
        render=(lambda c: expand(c, items, store)) if items else None,
    )


def create_direct(call: Call) -> dict[str, Any]:
    raise invalid_request(
        "The golive sandbox does not serve the legacy Charges API: create and confirm a PaymentIntent instead (Stripe recommends PaymentIntents for all new integrations)."
    )


OPERATIONS = [
    Operation("GET", "/v1/charges", list_),
    Operation("POST", "/v1/charges", create_direct),
    Operation("GET", "/v1/charges/{id}", retrieve),
    Operation("POST", "/v1/charges/{id}", update),
]
