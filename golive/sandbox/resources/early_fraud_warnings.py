"""Radar's Early Fraud Warnings: the issuer's word that a charge may be fraudulent.

    GET /v1/radar/early_fraud_warnings        filters: charge, payment_intent, created
    GET /v1/radar/early_fraud_warnings/{id}

One comes from Stripe's early-fraud-warning test card (4000000000005423,
`pm_card_createIssuerFraudRecord`), right after its charge succeeds, or from past payments
given to /_golive/history; it emits `radar.early_fraud_warning.created`. `actionable` is
Stripe's rule: the charge is neither disputed nor fully refunded; a later dispute or full
refund turns it off (`radar.early_fraud_warning.updated`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from golive.sandbox import pagination
from golive.sandbox import params as p
from golive.sandbox.endpoint import Call, Operation
from golive.sandbox.events import emit
from golive.sandbox.expand import expand

if TYPE_CHECKING:
    from golive.sandbox.state import SandboxState

FRAUD_TYPES = (
    "card_never_received",
    "fraudulent_card_application",
    "made_with_counterfeit_card",
    "made_with_lost_card",
    "made_with_stolen_card",
    "misc",
    "unauthorized_use_of_card",
)


def build(
    state: SandboxState, charge: dict[str, Any], *, created: int, fraud_type: str
) -> dict[str, Any]:
    """An early fraud warning on `charge`, stored (no event: the caller emits it)."""
    warning = {
        "id": state.store.new_id("issfr"),
        "object": "radar.early_fraud_warning",
        "actionable": not charge["disputed"] and not charge["refunded"],
        "charge": charge["id"],
        "created": created,
        "fraud_type": fraud_type,
        "livemode": False,
        "payment_intent": charge["payment_intent"],
    }
    return state.store.add(warning)


def settle(state: SandboxState, charge: dict[str, Any], when: int) -> None:
    """Stripe's rule after a dispute or a refund: a warning on a charge now disputed or fully
    refunded is no longer actionable (`radar.early_fraud_warning.updated`)."""
    if not (charge["disputed"] or charge["refunded"]):
        return
    for warning in state.store.children("radar.early_fraud_warning", "charge", charge["id"]):
        if warning["actionable"]:
            warning["actionable"] = False
            emit(state, "radar.early_fraud_warning.updated", warning, created=when)


def retrieve(call: Call) -> dict[str, Any]:
    p.check_known(call.params, {"expand": None})
    store = call.state.store
    warning = store.require("radar.early_fraud_warning", call.path["id"], "early fraud warning")
    return expand(warning, p.expand_paths(call.params), store)


def list_(call: Call) -> dict[str, Any]:
    return pagination.page_by_payment(
        call.state.store,
        "radar.early_fraud_warning",
        call.params,
        "/v1/radar/early_fraud_warnings",
        "early fraud warning",
    )


OPERATIONS = [
    Operation("GET", "/v1/radar/early_fraud_warnings", list_),
    Operation("GET", "/v1/radar/early_fraud_warnings/{id}", retrieve),
]
