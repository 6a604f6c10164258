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
    totals = Totals({default: 0}, {default: 0})
    totals.add_all(state.evicted_balance)
    private = state.store.private
    for charge in state.store.tables["charge"].values():
        totals.add(charge, private.get(charge["id"], {}))
    return {
        "object": "balance",
        "available": _amounts(totals.available),
        "livemode": False,
        "pending": _amounts(totals.pending),
    }


class Totals:
    """Captured minus refunded amounts per currency, available and pending."""

    def __init__(
        self, available: dict[str, int] | None = None, pending: dict[str, int] | None = None
    ) -> None:
        self.available = available or {}
        self.pending = pending or {}

    def add(self, charge: dict[str, Any], private: dict[str, Any]) -> None:
        if not charge["amount_captured"]:
            return
        currency = charge["currency"]
        bucket, other = self.pending, self.available
        if private.get("bypass_pending"):
            bucket, other = other, bucket
        net = charge["amount_captured"] - private.get("refunded", 0)
        bucket[currency] = bucket.get(currency, 0) + net
        other.setdefault(currency, 0)

    def add_all(self, totals: Totals) -> None:
        for mine, theirs in ((self.available, totals.available), (self.pending, totals.pending)):
            for currency, amount in theirs.items():
                mine[currency] = mine.get(currency, 0) + amount


def _amounts(by_currency: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"amount": amount, "currency": currency, "source_types": {"card": amount}}
        for currency, amount in sorted(by_currency.items())
    ]


OPERATIONS = [Operation("GET", "/v1/balance", retrieve)]
