"""Success metrics from the Stripe API (golive/metrics), judged by the item's thresholds
over a post-deploy window (docs/metrics.md).

```yaml
- id: week-1.payment-success-rate
  thresholds: {payment_success_rate: rate>0.90, samples: count>=20}
  automated:
    checks:
    - ref: metrics.payment-rates
      params: {window: week-1}      # anchored on post_deploy.go_live, or last-24h, last-7d…
```

Each check reads the objects created in the window from the profile's Stripe backend
(read-only; lists need a backend that keeps objects: not-run on stripe-mock), measures the
metrics its item names thresholds for, records the measurement (window, counts, the ids of
a few failures) and judges it. Too few samples (none, or below `samples: count>=N`) is an
error, never a pass. An anchored window without `post_deploy.go_live` is an error naming
the key; a window that has not started (go-live after the run's time) is not-run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import stripe
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from golive.backends import backend_answered
from golive.client import stripe_api
from golive.context import CheckContext
from golive.metrics import (
    SAMPLES,
    MetricInputError,
    NoSamplesError,
    StripeData,
    TooManyObjects,
    Unlisted,
    evaluate,
    fees,
    go_live,
    measure,
    metric_window,
)
from golive.profile.postdeploy import WINDOWS, Window, WindowNotStarted, parse_duration
from golive.profile.pricing import Pricing
from golive.registry import check


class WindowParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    window: str = Field(
        description="The post-deploy window: first-hour, first-day, week-1, month-1, "
        "quarter-1 (from post_deploy.go_live), or last-1h, last-24h, last-7d, last-30d"
    )

    @field_validator("window")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in WINDOWS:
            raise ValueError(f"unknown window {value!r}; known: {', '.join(WINDOWS)}")
        return value


class OrderValueParams(WindowParams):
    currency: str | None = Field(
        None, description="The currency averaged (default: the only one charged)"
    )
    min: int | None = Field(None, ge=0, description="Expected lowest average, minor units")
    max: int | None = Field(None, ge=0, description="Expected highest average, minor units")


class FeeParams(WindowParams):
    fee: str = Field(
        "application_fee_amount",
        description="Where a charge's fee is: application_fee_amount or metadata.<key>",
    )
    base: str = Field(
        "amount", description="What the fee rate applies to: amount or metadata.<key>"
    )
    tolerance: int = Field(1, ge=0, description="Allowed difference per charge, minor units")

    @field_validator("fee", "base")
    @classmethod
    def _source(cls, value: str) -> str:
        return fees.check_source(value)


class DeliveryParams(WindowParams):
    grace: str = Field("10m", description="How old an event must be to be judged (e.g. 10m, 1h)")

    @field_validator("grace")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value


PAYMENTS = ("payment_success_rate", "failed_payment_rate")
REFUNDS = ("refund_rate",)
FRAUD = ("fraud_rate", "dispute_rate")
ORDER_VALUE = ("average_order_value",)
FEES = ("platform_fee_collected", "platform_fee_on_target")
DELIVERY = ("webhook_delivery_rate",)
ANOMALIES = ("decline_rate_change",)


def _go_live(ctx: CheckContext) -> datetime | None:
    try:
        return go_live(ctx.profile.model.post_deploy, ctx.profile.env)
    except ValueError as exc:  # go_live_env not set in the target's env
        ctx.error(str(exc))


def _window(ctx: CheckContext) -> Window:
    name = ctx.params.window
    anchor = _go_live(ctx)
    try:
        return metric_window(name, ctx.target.now, anchor)
    except WindowNotStarted as exc:
        ctx.not_run(f"the {name} window has not started: {exc}")
    except ValueError as exc:  # an anchored window without post_deploy.go_live
        ctx.error(str(exc))


def _judge(
    ctx: CheckContext,
    metrics: tuple[str, ...],
    capabilities: tuple[str, ...] = ("stateful",),
    options: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Measure each of `metrics` the item names a threshold for, record, then judge."""
    names = [name for name in metrics if name in ctx.item.thresholds]
    if not names:
        ctx.not_run(f"the item sets no threshold for {' or '.join(metrics)}: nothing to judge by")
    window = _window(ctx)
    backend = ctx.require_backend(*capabilities)
    # One reader per run: items over the same window share its pages.
    data = ctx.target.cached("metrics.stripe-data", lambda: StripeData(stripe_api.client(backend)))
    problems: list[str] = []
    for name in names:
        try:
            measured = measure(data, name, window, **(options or {}).get(name, {}))
        except Unlisted as exc:
            ctx.not_run(f"{exc}; backend {backend.kind} cannot measure {name}")
        except (TooManyObjects, MetricInputError) as exc:
            ctx.error(str(exc))
        except NoSamplesError as exc:  # a comparison with nothing on one side
            ctx.nothing_examined(f"{exc} ({_span(window)})")
        except WindowNotStarted as exc:  # a comparison's baseline from before go-live
            ctx.not_run(str(exc))
        except stripe.StripeError as exc:
            ctx.error(backend_answered(backend, exc))
        ctx.record(**measured.evidence, samples=measured.samples, findings=list(measured.findings))
        try:
            judgement = evaluate(measured, ctx.item.thresholds)
        except NoSamplesError as exc:
            ctx.nothing_examined(f"{exc} ({_span(window)})")
        ctx.record(metric=name, value=measured.value, thresholds=judgement.results)
        problems.extend(judgement.problems)
    if problems:
        ctx.fail("; ".join(problems) + f" ({_span(window)})")


def _span(window: Window) -> str:
    still = ", still open: judged on the data so far" if window.open else ""
    return f"{window.name} window {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC{still}"


@check("metrics.payment-rates", params=WindowParams, needs={"stripe"}, metrics={*PAYMENTS, SAMPLES})
def test_payment_rates(ctx: CheckContext) -> None:
    """Payment success and failure rates: charges (confirmation attempts) in the window."""
    _judge(ctx, PAYMENTS)


@check("metrics.refund-rate", params=WindowParams, needs={"stripe"}, metrics={*REFUNDS, SAMPLES})
def test_refund_rate(ctx: CheckContext) -> None:
    """Refund rate: the window's succeeded charges refunded within it."""
    _judge(ctx, REFUNDS)


@check("metrics.fraud-rate", params=WindowParams, needs={"stripe"}, metrics={*FRAUD, SAMPLES})
def test_fraud_rate(ctx: CheckContext) -> None:
    """Fraud and dispute rates: disputes and early fraud warnings of the window's charges."""
    _judge(ctx, FRAUD)


@check(
    "metrics.order-value",
    params=OrderValueParams,
    needs={"stripe"},
    metrics={*ORDER_VALUE, SAMPLES},
)
def test_order_value(ctx: CheckContext) -> None:
    """Average order value of the window's succeeded charges, in the expected range if given."""
    params = ctx.params
    options = {"currency": params.currency, "minimum": params.min, "maximum": params.max}
    _judge(ctx, ORDER_VALUE, options={"average_order_value": options})


@check("metrics.platform-fee", params=FeeParams, needs={"stripe"}, metrics={*FEES, SAMPLES})
def test_platform_fee(ctx: CheckContext) -> None:
    """Platform fee collected on the window's succeeded charges, and on target.

    On target: each charge's fee is the profile's pricing.rules.platform_fee_bps of its base."""
    params = ctx.params
    options: dict[str, dict[str, Any]] = {"platform_fee_collected": {"fee": params.fee}}
    if "platform_fee_on_target" in ctx.item.thresholds:
        options["platform_fee_on_target"] = {
            "fee": params.fee,
            "base": params.base,
            "bps": _fee_bps(ctx),
            "tolerance": params.tolerance,
        }
    _judge(ctx, FEES, options=options)


def _fee_bps(ctx: CheckContext) -> int:
    raw = ctx.profile.model.pricing
    try:
        rules = Pricing.model_validate(raw).rules if raw is not None else None
    except ValidationError as exc:
        ctx.error(f"the profile's `pricing` block is invalid: {exc}")
    if rules is None:
        ctx.not_run(
            "the profile has no pricing.rules.platform_fee_bps: golive cannot know the fee "
            "to compare with"
        )
    return rules.platform_fee_bps


@check(
    "metrics.webhook-delivery",
    params=DeliveryParams,
    needs={"stripe"},
    metrics={*DELIVERY, SAMPLES},
)
def test_webhook_delivery(ctx: CheckContext) -> None:
    """Webhook delivery rate: the window's events no endpoint still waits for."""
    options = {"now": ctx.target.now, "grace": parse_duration(ctx.params.grace)}
    _judge(ctx, DELIVERY, ("stateful", "webhook-endpoints"), {"webhook_delivery_rate": options})


class AnomalyParams(WindowParams):
    baseline_days: int = Field(
        7, ge=1, le=90, description="The days before the window its rate is compared with"
    )


@check("metrics.anomalies", params=AnomalyParams, needs={"stripe"}, metrics={*ANOMALIES, SAMPLES})
def test_anomalies(ctx: CheckContext) -> None:
    """The window's decline rate against the days before it (in rate points)."""
    options = {"baseline_days": ctx.params.baseline_days, "go_live": _go_live(ctx)}
    _judge(ctx, ANOMALIES, options={"decline_rate_change": options})
