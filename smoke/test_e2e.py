"""End-to-end flows and the latency figures measured on them.

Each flow (smoke/scenarios.py) runs once per run; its check judges every step and carries
the timeline as evidence, naming the step that failed. On a stateless backend
(stripe-mock) the flows that need state — a decline, a refund, a retried delivery — are
not-applicable with the reason; the rest run with events golive synthesizes and signs.

Latency: order creation (payment confirmed → paid order visible) and webhook processing
(delivery sent → side effect visible), sampled on every paid order of the flows without
injected faults, judged against the item's thresholds; the samples are the evidence.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from golive.context import CheckContext
from golive.registry import check
from golive.smoke.judge import judge_latency, judge_steps
from golive.smoke.scenarios import run_flow
from golive.smoke.steps import ORDER_MS, WEBHOOK_MS

NEEDS = {"app", "stripe"}


class CardParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payment_method: str | None = Field(None, description="The test card (default per flow)")


def _judge(ctx: CheckContext, name: str) -> None:
    params: CardParams = ctx.params  # type: ignore[assignment]
    flow = run_flow(ctx, name, params.payment_method)
    judge_steps(ctx, flow, [step.name for step in flow.steps])


@check("e2e.full-checkout", params=CardParams, needs=NEEDS)
def test_full_checkout(ctx: CheckContext) -> None:
    """A full checkout: PaymentIntent, confirmation, webhook, paid order, payment record."""
    _judge(ctx, "full-checkout")


@check("e2e.state-tax", params=CardParams, needs=NEEDS)
def test_state_tax(ctx: CheckContext) -> None:
    """One cart bought in California and in another state: the amounts follow the rules."""
    _judge(ctx, "state-tax")


@check("e2e.multi-item", params=CardParams, needs=NEEDS)
def test_multi_item(ctx: CheckContext) -> None:
    """Several items in one order: paid, with the cart's lines and subtotal."""
    _judge(ctx, "multi-item")


@check("e2e.payment-failure", params=CardParams, needs=NEEDS)
def test_payment_failure(ctx: CheckContext) -> None:
    """A declined card: no paid order, the order failed, and the customer can retry."""
    _judge(ctx, "payment-failure")


@check("e2e.refund", params=CardParams, needs=NEEDS)
def test_refund(ctx: CheckContext) -> None:
    """A refund reaches the target as charge.refunded and the order is refunded."""
    _judge(ctx, "refund")


@check("e2e.webhook-retry", params=CardParams, needs=NEEDS)
def test_webhook_retry(ctx: CheckContext) -> None:
    """Deliveries failed at first are retried; the event makes exactly one paid order."""
    _judge(ctx, "webhook-retry")


@check("e2e.webhook-latency", needs=NEEDS)
def test_webhook_latency(ctx: CheckContext) -> None:
    """Webhook processing time: delivery sent → side effect visible, over the flows."""
    judge_latency(ctx, WEBHOOK_MS, "delivery sent -> side effect visible in the observer")


@check("e2e.order-latency", needs=NEEDS)
def test_order_latency(ctx: CheckContext) -> None:
    """Order creation latency: payment confirmed → paid order visible, over the flows."""
    judge_latency(ctx, ORDER_MS, "confirmation answered -> paid order visible in the observer")
