"""The production smoke (item deployment.production-smoke): safe on live keys.

Read-only requests always (the health URL, the Stripe account and its webhook endpoints,
the profile's `smoke.production.pages`). A payment and its refund only in test mode, or
with live keys when the profile opts in naming the app's host with an amount limit
(`smoke.production.real_payment: {host, amount_max}`); without that opt-in, on live keys,
no PaymentIntent is created and the item is judged on the read-only requests. See
golive/smoke/production.py.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from golive.context import CheckContext
from golive.registry import check
from golive.smoke.flows import verdict
from golive.smoke.production import (
    OPT_IN,
    payment_opt_in,
    production_spec,
    read_only,
    run_payment,
)
from golive.smoke.scenarios import SUCCESS_CARD

NEEDS = {"app", "stripe"}
JUDGED = [
    "create-intent",
    "amount-limit",
    "confirm",
    "webhook",
    "order",
    "refund",
    "refund-webhook",
    "order-refunded",
]


class ProductionParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payment_method: str = Field(SUCCESS_CARD, description="The test card a payment is made with")


@check("smoke.production", params=ProductionParams, needs=NEEDS)
def test_production_smoke(ctx: CheckContext) -> None:
    """Read-only requests succeed; a real payment and its refund only when allowed."""
    params: ProductionParams = ctx.params  # type: ignore[assignment]
    if ctx.target.app is None:
        ctx.not_run("the target profile names no running app (set app)")
    if ctx.target.stripe is None:
        ctx.not_run("the target profile names no Stripe backend (set stripe)")
    spec, production = production_spec(ctx)
    live, opt_in = payment_opt_in(ctx, production)
    seen = read_only(ctx, spec, production)
    ctx.record(live=live or False, read_only=seen.requests)
    if seen.errors:
        ctx.error("; ".join(seen.errors))
    if live and opt_in.host is None:
        ctx.record(
            payment=f"none: live keys ({'; '.join(live)}) and no {OPT_IN} opt-in, so only "
            "read-only requests were made"
        )
    else:
        flow = run_payment(ctx, production, opt_in, params.payment_method)
        ctx.record(**flow.evidence(JUDGED))
        outcome, message = verdict(flow, JUDGED)
        if outcome == "error":
            ctx.error(message)
        if outcome in ("not-run", "not-applicable"):
            ctx.not_run(message)  # the payment could not be made here: untested
        if outcome == "fail":
            seen.failures.append(message)
    if seen.failures:
        ctx.fail("; ".join(seen.failures))
