"""The balance (`GET /v1/balance`): captured charges minus refunds, per currency.

Simplified: no fees and no payout schedule. Funds stay `pending` (as a new card payment's
do on Stripe), except those of the `bypassPending` test card (4000000000000077), which Stripe
makes available at once.
"""

from __future__ import annotations

from typing import Any

from golive.sandbox import params as p
from golive.sandbox.endpoint import Call, Operation


def retrieve(call: Call) -> dict[str, Any]:
    p.check_known(call.params, {"expand": None})
    state = call.state
    default = state.account["default_currency"]
    available: dict[str, int] = {default: 0}
    pending: dict[str, int] = {default: 0}
    private = state.store.private
    for charge in state.store.tables["charge"].values():
        if not charge["amount_captured"]:
            continue
        extra = private.get(charge["id"], {})
        bucket = available if extra.get("bypass_pending") else pending
        net = charge["amount_captured"] - extra.get("refunded", 0)
        bucket[charge["currency"]] = bucket.get(charge["currency"], 0) + net
        (pending if bucket is available else available).setdefault(charge["currency"], 0)
    return {
        "object": "balance",
        "available": _amounts(available),
        "livemode": False,
        "pending": _amounts(pending),
    }


def _amounts(by_currency: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"amount": amount, "currency": currency, "source_types": {"card": amount}}
        for currency, amount in sorted(by_currency.items())
    ]


OPERATIONS = [Operation("GET", "/v1/balance", retrieve)]
