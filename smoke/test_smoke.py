"""Smoke tests: one small payment through the target, each checklist line one step of it.

The smoke flow (smoke/scenarios.py) runs once per run and is shared by these checks: fill
the cart → check it out (a PaymentIntent for a small amount) → confirm it with a test card
as Stripe.js would → the webhook reaches the target → the order is paid → the payment is
recorded → a notification is written → the cart is empty. Each check judges its step and
carries the whole timeline as evidence; a step not reached fails naming the step that
stopped the flow.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from golive.context import CheckContext
from golive.registry import check
from golive.smoke.judge import judge_steps
from golive.smoke.scenarios import SUCCESS_CARD, run_flow

NEEDS = {"app", "stripe"}


class SmokeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payment_method: str = Field(SUCCESS_CARD, description="The test card the flow pays with")
    amount_max_cents: int | None = Field(
        None, ge=50, description="The smoke payment's amount must not be above this"
    )


def _smoke(ctx: CheckContext, *judged: str) -> None:
    params: SmokeParams = ctx.params  # type: ignore[assignment]
    judge_steps(ctx, run_flow(ctx, "smoke", params.payment_method), list(judged))


@check("smoke.create-intent", params=SmokeParams, needs=NEEDS)
def test_create_intent(ctx: CheckContext) -> None:
    """The checkout creates a PaymentIntent for a small amount (at most amount_max_cents)."""
    params: SmokeParams = ctx.params  # type: ignore[assignment]
    flow = run_flow(ctx, "smoke", params.payment_method)
    judge_steps(ctx, flow, ["create-intent"])
    amount = flow.values.get("amount")
    limit = params.amount_max_cents
    ctx.record(amount=amount, amount_max_cents=limit)
    if limit is not None and isinstance(amount, int) and amount > limit:
        ctx.fail(
            f"flow smoke, step create-intent: the smoke payment is {amount} cents, above the "
            f"item's {limit} (set smoke.items to a cheaper cart)"
        )


@check("smoke.confirm-test-card", params=SmokeParams, needs=NEEDS)
def test_confirm_test_card(ctx: CheckContext) -> None:
    """The PaymentIntent is confirmed with a test card, as Stripe.js would."""
    _smoke(ctx, "confirm")


@check("smoke.webhook-received", params=SmokeParams, needs=NEEDS)
def test_webhook_received(ctx: CheckContext) -> None:
    """payment_intent.succeeded reaches the target's webhook and is answered 2xx."""
    _smoke(ctx, "webhook")


@check("smoke.order-created", params=SmokeParams, needs=NEEDS)
def test_order_created(ctx: CheckContext) -> None:
    """Exactly one order exists for the PaymentIntent, and it is paid."""
    _smoke(ctx, "order")


@check("smoke.payment-recorded", params=SmokeParams, needs=NEEDS)
def test_payment_recorded(ctx: CheckContext) -> None:
    """A payment record exists for the PaymentIntent."""
    _smoke(ctx, "payment")


@check("smoke.notification-written", params=SmokeParams, needs=NEEDS)
def test_notification_written(ctx: CheckContext) -> None:
    """A notification about the paid order is written."""
    _smoke(ctx, "notification")


@check("smoke.cart-cleared", params=SmokeParams, needs=NEEDS)
def test_cart_cleared(ctx: CheckContext) -> None:
    """The customer's cart is empty once the order is paid."""
    _smoke(ctx, "cart-cleared")
