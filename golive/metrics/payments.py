"""Payment metrics from the charges created in a window (and the refunds, disputes and
early fraud warnings about them).

An **attempt** is a Charge: Stripe makes one for every confirmation of a PaymentIntent
that reached the card network, succeeded or failed. A PaymentIntent never confirmed (the
customer left the page) has no charge and is no attempt, so it is no failure; a customer
who retries after a decline makes two attempts, one failed (Stripe's authorization rate
counts the same way). A charge still `pending` is not decided yet and is left out (the
evidence counts it).

| metric                  | samples (one per …)            | true when                          |
| ----------------------- | ------------------------------ | ---------------------------------- |
| payment_success_rate    | decided charge                 | status succeeded                   |
| failed_payment_rate     | decided charge                 | status failed                      |
| refund_rate             | succeeded charge               | refunded (in part or whole) in the window |
| dispute_rate            | succeeded charge               | disputed in the window             |
| fraud_rate              | succeeded charge               | a dispute of reason `fraudulent` or an early fraud warning in the window |
| average_order_value     | succeeded charge (one currency) | its amount, in the currency's minor unit |

Refunds, disputes and warnings count for the charges of the window, when they were made
before the window's end: a rate of the charges made in the window (a cohort), so a share
between 0 and 1. A recent window understates disputes (they come weeks after the charge);
the quarter-1 window, judged at its end, holds most of them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from golive.metrics.model import Measurement, MetricInputError
from golive.metrics.stripe_source import StripeData
from golive.profile.postdeploy import Window

LISTED = 10  # failures named in the evidence
LIVE_REFUND = {"succeeded", "pending", "requires_action"}  # not failed or canceled


def _decided(charges: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    decided = [c for c in charges if c.get("status") in ("succeeded", "failed")]
    return decided, len(charges) - len(decided)


def _succeeded(data: StripeData, window: Window) -> list[dict[str, Any]]:
    return [c for c in data.created_in("charges", window) if c.get("status") == "succeeded"]


def _decline(charge: dict[str, Any]) -> dict[str, Any]:
    outcome = charge.get("outcome") or {}
    return {
        "charge": charge.get("id"),
        "payment_intent": charge.get("payment_intent"),
        "amount": charge.get("amount"),
        "currency": charge.get("currency"),
        "failure_code": charge.get("failure_code"),
        "decline_code": outcome.get("reason"),
        "outcome_type": outcome.get("type"),
        "message": charge.get("failure_message"),
    }


def _never_attempted(data: StripeData, window: Window, charges: list[dict[str, Any]]) -> int:
    charged = {c.get("payment_intent") for c in charges}
    intents = data.created_in("payment_intents", window)
    return sum(1 for pi in intents if pi.get("id") not in charged)


def _attempt_rate(data: StripeData, window: Window, metric: str, wanted: str) -> Measurement:
    charges = data.created_in("charges", window)
    decided, pending = _decided(charges)
    failed = [c for c in decided if c["status"] == "failed"]
    values = [c["status"] == wanted for c in decided]
    codes = Counter(
        (c.get("outcome") or {}).get("reason") or c.get("failure_code") or "unknown" for c in failed
    )
    evidence = {
        "metric": metric,
        **window.evidence(),
        "definition": f"charges {wanted} / charges succeeded or failed, created in the window "
        "(a charge is one confirmation attempt; PaymentIntents never confirmed are no attempt)",
        "attempts": len(decided),
        "succeeded": len(decided) - len(failed),
        "failed": len(failed),
        "pending_not_counted": pending,
        "payment_intents_never_attempted": _never_attempted(data, window, charges),
        "decline_codes": dict(codes.most_common()),
        "failures": [_decline(c) for c in failed[:LISTED]],
    }
    return Measurement(metric, _share(values), values, evidence)


def payment_success_rate(data: StripeData, window: Window) -> Measurement:
    return _attempt_rate(data, window, "payment_success_rate", "succeeded")


def failed_payment_rate(data: StripeData, window: Window) -> Measurement:
    return _attempt_rate(data, window, "failed_payment_rate", "failed")


def refund_rate(data: StripeData, window: Window) -> Measurement:
    charges = _succeeded(data, window)
    refunds = [r for r in data.created_in("refunds", window) if r.get("status") in LIVE_REFUND]
    by_charge: dict[str, list[dict[str, Any]]] = {}
    for refund in refunds:
        by_charge.setdefault(str(refund.get("charge")), []).append(refund)
    values = [c["id"] in by_charge for c in charges]
    refunded = [c for c in charges if c["id"] in by_charge]
    ours = {c["id"] for c in charges}
    evidence = {
        "metric": "refund_rate",
        **window.evidence(),
        "definition": "succeeded charges of the window refunded (in part or whole) by a refund "
        "made in the window / succeeded charges of the window (a share of charges, not of "
        "amounts; the amounts are in the evidence)",
        "succeeded_charges": len(charges),
        "refunded_charges": len(refunded),
        "amount_charged": sum(int(c.get("amount") or 0) for c in charges),
        "amount_refunded": sum(
            int(r.get("amount") or 0) for r in refunds if str(r.get("charge")) in ours
        ),
        "refunds_of_earlier_charges": sum(1 for r in refunds if str(r.get("charge")) not in ours),
        "refunded": [
            {
                "charge": c["id"],
                "amount": c.get("amount"),
                "refunds": [r.get("id") for r in by_charge[c["id"]]],
                "reasons": sorted({r.get("reason") or "none given" for r in by_charge[c["id"]]}),
            }
            for c in refunded[:LISTED]
        ],
    }
    return Measurement("refund_rate", _share(values), values, evidence)


def _flagged(
    data: StripeData, window: Window, *, fraud_only: bool
) -> tuple[dict[str, list[str]], dict[str, int]]:
    """charge id -> the disputes (and warnings) that flag it, and how many of each kind."""
    flagged: dict[str, list[str]] = {}
    counts = {"disputes": 0, "fraudulent_disputes": 0, "early_fraud_warnings": 0}
    for dispute in data.created_in("disputes", window):
        counts["disputes"] += 1
        fraudulent = dispute.get("reason") == "fraudulent"
        counts["fraudulent_disputes"] += fraudulent
        if fraudulent or not fraud_only:
            flagged.setdefault(str(dispute.get("charge")), []).append(
                f"{dispute.get('id')} ({dispute.get('reason')})"
            )
    if fraud_only:
        for warning in data.created_in("early_fraud_warnings", window):
            counts["early_fraud_warnings"] += 1
            flagged.setdefault(str(warning.get("charge")), []).append(
                f"{warning.get('id')} ({warning.get('fraud_type')})"
            )
    return flagged, counts


def _flag_rate(data: StripeData, window: Window, metric: str, *, fraud_only: bool) -> Measurement:
    charges = _succeeded(data, window)
    flagged, counts = _flagged(data, window, fraud_only=fraud_only)
    values = [c["id"] in flagged for c in charges]
    hit = [c for c in charges if c["id"] in flagged]
    what = (
        "a dispute of reason `fraudulent` or an early fraud warning"
        if fraud_only
        else "a dispute (any reason)"
    )
    evidence = {
        "metric": metric,
        **window.evidence(),
        "definition": f"succeeded charges of the window with {what} made in the window / "
        "succeeded charges of the window",
        "succeeded_charges": len(charges),
        "flagged_charges": len(hit),
        **counts,
        "about_earlier_charges": len(set(flagged) - {c["id"] for c in charges}),
        "flagged": [{"charge": c["id"], "by": flagged[c["id"]]} for c in hit[:LISTED]],
    }
    return Measurement(metric, _share(values), values, evidence)


def dispute_rate(data: StripeData, window: Window) -> Measurement:
    return _flag_rate(data, window, "dispute_rate", fraud_only=False)


def fraud_rate(data: StripeData, window: Window) -> Measurement:
    return _flag_rate(data, window, "fraud_rate", fraud_only=True)


def average_order_value(
    data: StripeData,
    window: Window,
    *,
    currency: str | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
) -> Measurement:
    """The mean amount of the succeeded charges in one currency; `minimum`/`maximum` (the
    profile's expected range, minor units) turn an average outside it into a finding."""
    charges = _succeeded(data, window)
    currencies = Counter(str(c.get("currency")) for c in charges)
    if currency is None and len(currencies) > 1:
        raise MetricInputError(
            "succeeded charges in several currencies ("
            + ", ".join(f"{k}: {n}" for k, n in currencies.most_common())
            + "): set the check's `currency` param to average one of them"
        )
    chosen = currency.lower() if currency else next(iter(currencies), None)
    amounts = [int(c.get("amount") or 0) for c in charges if c.get("currency") == chosen]
    value = sum(amounts) / len(amounts) if amounts else None
    findings = []
    if value is not None and minimum is not None and value < minimum:
        findings.append(f"average order value {value:.2f} is below the expected minimum {minimum}")
    if value is not None and maximum is not None and value > maximum:
        findings.append(f"average order value {value:.2f} is above the expected maximum {maximum}")
    evidence = {
        "metric": "average_order_value",
        **window.evidence(),
        "definition": "mean amount (minor units) of the succeeded charges of the window in "
        "one currency, refunds not deducted",
        "currency": chosen,
        "succeeded_charges": len(amounts),
        "other_currencies": {k: n for k, n in currencies.items() if k != chosen},
        "total": sum(amounts),
        "value": round(value, 2) if value is not None else None,
        "min": min(amounts, default=None),
        "max": max(amounts, default=None),
        "expected_range": {"min": minimum, "max": maximum},
    }
    return Measurement("average_order_value", value, amounts, evidence, tuple(findings))


def _share(values: list[bool]) -> float | None:
    return sum(values) / len(values) if values else None
