"""Platform fee metrics: was the fee collected on each succeeded charge, and was it the
fee the profile's pricing rules say (`pricing.rules.platform_fee_bps`).

Where the fee is, and what it is a share of, are the target's own (check params the
profile may override, `params: {metrics.platform-fee: {fee: …, base: …}}`):

    fee:  application_fee_amount     # Connect's application fee (the default), or
          metadata.<key>             # a metadata key of the charge (copied from the
                                     # PaymentIntent), e.g. metadata.platform_fee
    base: amount                     # the charge's amount (the default), or
          metadata.<key>             # e.g. metadata.subtotal when the fee is on the subtotal

| metric                  | samples (one per …) | true when                                   |
| ----------------------- | ------------------- | ------------------------------------------- |
| platform_fee_collected  | succeeded charge    | it carries a fee above zero                 |
| platform_fee_on_target  | succeeded charge    | its fee is half_up(base × bps / 10000), within `tolerance` minor units |
"""

from __future__ import annotations

from typing import Any

from golive.metrics.model import Measurement, MetricInputError
from golive.metrics.payments import LISTED
from golive.metrics.stripe_source import StripeData
from golive.profile.postdeploy import Window
from golive.profile.pricing import round_half_up

FIELDS = ("application_fee_amount", "amount")


def check_source(source: str) -> str:
    """A fee or base source as the params give it; ValueError saying the forms."""
    if source in FIELDS or (source.startswith("metadata.") and len(source) > len("metadata.")):
        return source
    raise ValueError(
        f"{source!r}: write application_fee_amount, amount, or metadata.<key> (a metadata "
        "key of the charge)"
    )


def read(charge: dict[str, Any], source: str) -> int | None:
    """The integer at `source` on the charge, None when absent or not a whole number."""
    if source.startswith("metadata."):
        raw = (charge.get("metadata") or {}).get(source.removeprefix("metadata."))
    else:
        raw = charge.get(source)
    if isinstance(raw, bool):
        return None
    try:
        return int(str(raw).strip()) if raw is not None else None
    except ValueError:
        return None


def platform_fee_collected(data: StripeData, window: Window, *, fee: str) -> Measurement:
    charges = [c for c in data.created_in("charges", window) if c.get("status") == "succeeded"]
    fees = [read(c, fee) for c in charges]
    values = [f is not None and f > 0 for f in fees]
    missing = [c for c, ok in zip(charges, values, strict=True) if not ok]
    evidence = {
        "metric": "platform_fee_collected",
        **window.evidence(),
        "definition": f"succeeded charges of the window whose fee ({fee}) is above zero / "
        "succeeded charges of the window",
        "fee": fee,
        "succeeded_charges": len(charges),
        "with_fee": sum(values),
        "fee_total": sum(f for f in fees if f),
        "amount_total": sum(int(c.get("amount") or 0) for c in charges),
        "without_fee": [{"charge": c["id"], "amount": c.get("amount")} for c in missing[:LISTED]],
    }
    share = sum(values) / len(values) if values else None
    return Measurement("platform_fee_collected", share, values, evidence)


def platform_fee_on_target(
    data: StripeData, window: Window, *, fee: str, base: str, bps: int | None, tolerance: int
) -> Measurement:
    if bps is None:
        raise MetricInputError(
            "no platform fee rate to compare with: the profile needs pricing.rules.platform_fee_bps"
        )
    charges = [c for c in data.created_in("charges", window) if c.get("status") == "succeeded"]
    values: list[bool] = []
    off: list[dict[str, Any]] = []
    collected = expected_total = 0
    for charge in charges:
        got, on = read(charge, fee), read(charge, base)
        expected = round_half_up(on, bps) if on is not None else None
        ok = got is not None and expected is not None and abs(got - expected) <= tolerance
        values.append(ok)
        collected += got or 0
        expected_total += expected or 0
        if not ok:
            off.append({"charge": charge["id"], "fee": got, "base": on, "expected": expected})
    evidence = {
        "metric": "platform_fee_on_target",
        **window.evidence(),
        "definition": f"succeeded charges of the window whose fee ({fee}) is half_up({base} x "
        f"{bps} bp) within {tolerance} / succeeded charges of the window",
        "fee": fee,
        "base": base,
        "platform_fee_bps": bps,
        "succeeded_charges": len(charges),
        "on_target": sum(values),
        "fee_collected": collected,
        "fee_expected": expected_total,
        "collected_over_expected": round(collected / expected_total, 4) if expected_total else None,
        "off_target": off[:LISTED],
    }
    share = sum(values) / len(values) if values else None
    return Measurement("platform_fee_on_target", share, values, evidence)
