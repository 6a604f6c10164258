"""The first hour after go-live, watched after the fact: `golive watch`'s analysis replayed
over the Stripe data of [go-live, go-live + 1 h] (golive/watch/).

```yaml
- id: deployment.monitor-first-hour
  thresholds: {payment_success_rate: rate>=0.80, webhook_delivery_rate: rate>=0.90}
  automated:
    checks:
    - ref: watch.first-hour
      params: {interval: 10m, min_samples: 5}
```

Every `interval` from go-live, the item's thresholds (the rollback triggers) are measured
over the data since go-live and judged with Argo's failure limit (golive/watch/analysis.py):
the item passes when the replayed watch would have promoted, fails naming the tick and the
number that would have rolled back, and is an error when no tick had enough samples to be
judged. An hour still running is judged on the ticks so far (the evidence says so); a
go-live after the run's time is not-run.
"""

from __future__ import annotations

import stripe
from pydantic import BaseModel, ConfigDict, Field, field_validator

from golive.backends import backend_answered
from golive.client import stripe_api
from golive.context import CheckContext
from golive.metrics import MetricInputError, StripeData, Unlisted, go_live, measure, metric_window
from golive.profile.postdeploy import Window, WindowNotStarted, parse_duration
from golive.registry import check
from golive.thresholds import parse as parse_threshold
from golive.watch.analysis import INCONCLUSIVE, PROMOTE, ROLLBACK, Analysis, Reading, Rule, judge
from golive.watch.providers import WATCHABLE

MAX_TICKS = 60  # an hour at one-minute ticks: the replay is bounded whatever the params say


class FirstHourParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    interval: str = Field("10m", description="Time between two replayed ticks (e.g. 5m)")
    min_samples: int = Field(5, ge=1, description="Fewer charges or events: not judged")
    failure_limit: int = Field(0, ge=0, description="Failed ticks allowed (Argo's failureLimit)")
    grace: str = Field(
        "60s", description="webhook_delivery_rate: how old an event must be to be judged"
    )

    @field_validator("interval", "grace")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("interval")
    @classmethod
    def _a_minute_at_least(cls, value: str) -> str:
        if parse_duration(value).total_seconds() < 60:
            raise ValueError("interval: one minute at least (an hour is 60 ticks at most)")
        return value


@check(
    "watch.first-hour",
    params=FirstHourParams,
    needs={"stripe"},
    metrics=WATCHABLE,
)
def test_first_hour(ctx: CheckContext) -> None:
    """The first hour after go-live replayed tick by tick: the rollback triggers held."""
    params: FirstHourParams = ctx.params  # type: ignore[assignment]
    try:
        anchor = go_live(ctx.profile.model.post_deploy, ctx.profile.env)
        hour = metric_window("first-hour", ctx.target.time_now(), anchor)
    except WindowNotStarted as exc:
        ctx.not_run(f"the first hour has not started: {exc}")
    except ValueError as exc:  # no go-live, or its env variable unset
        ctx.error(str(exc))
    rules = [
        Rule(
            name,
            parse_threshold(expr),
            failure_limit=params.failure_limit,
            min_samples=params.min_samples,
        )  # fmt: skip
        for name, expr in ctx.item.thresholds.items()
        if name in WATCHABLE
    ]
    if not rules:
        ctx.not_run(f"the item sets no threshold on a watched metric ({', '.join(WATCHABLE)})")
    backend = ctx.require_backend("stateful")
    client = stripe_api.client(backend)
    analysis = Analysis(rules)
    interval = parse_duration(params.interval)
    ticks = 0
    at = min(hour.start + interval, hour.end)
    while ticks < MAX_TICKS:
        data = StripeData(client)
        window = Window("first-hour", hour.start, at, open=hour.open)
        for rule in rules:
            options = {"now": ctx.target.time_now(), "grace": parse_duration(params.grace)}
            try:
                measured = measure(
                    data, rule.name, window,
                    **(options if rule.name == "webhook_delivery_rate" else {}),
                )  # fmt: skip
            except Unlisted as exc:
                ctx.not_run(f"{exc}; backend {backend.kind} cannot measure {rule.name}")
            except MetricInputError as exc:
                ctx.error(str(exc))
            except stripe.StripeError as exc:
                ctx.error(backend_answered(backend, exc))
            reading = Reading(samples=list(measured.values), findings=measured.findings)
            analysis.add(judge(rule, at, reading))
        ticks += 1
        if analysis.verdict(finished=False)[0] == ROLLBACK or at >= hour.end:
            break
        at = min(at + interval, hour.end)
    verdict, reasons = analysis.verdict(finished=True)
    ctx.record(
        **hour.evidence(),
        ticks=ticks,
        interval=params.interval,
        verdict=verdict,
        measurements=[
            m.as_dict() | {"detail": None}
            for state in analysis.metrics.values()
            for m in state.measurements
        ],
    )
    if verdict == ROLLBACK:
        ctx.fail("the first hour would have rolled back: " + "; ".join(reasons))
    if verdict == INCONCLUSIVE:
        ctx.nothing_examined("no tick of the first hour had enough samples: " + "; ".join(reasons))
    assert verdict == PROMOTE, (verdict, reasons)
    if hour.open:
        ctx.record(note=f"the first hour is still running: judged on {ticks} tick(s) so far")
