"""Reconciliation checks: the app's orders against Stripe over a post-deploy window.

Each check runs golive's reconciliation (golive/reconcile/) over its item's window
(golive/profile/postdeploy.py: `last-24h`, `last-7d`, `last-30d`, `week-1`, …, or
`since-go-live`, from the profile's `post_deploy.go_live` to the run's time) and judges
the findings of the kinds its item is about (golive/reconcile/match.py):

```yaml
- ref: reconcile.findings
  params: {window: last-24h, kinds: [stuck-order]}
```

Items sharing a window share one reconciliation per run. The positive control is that
both sides were read and something was examined: no payment and no order in the window
is an error (nothing examined), a side that cannot be read (bad query, unreachable) is
an error naming it, and a profile without a `reconcile` block leaves the checks not-run.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from golive import thresholds
from golive.context import CheckContext
from golive.profile.postdeploy import WINDOWS, PostDeploy, Window, WindowNotStarted, window
from golive.reconcile.engine import ListSink, Result
from golive.reconcile.match import KINDS, Finding
from golive.reconcile.orders_side import SourceError
from golive.reconcile.profile import PROFILE_KEY
from golive.reconcile.run import NoBlock, run
from golive.reconcile.stripe_side import StripeSideError
from golive.registry import check

NEEDS = {"stripe"}
SINCE_GO_LIVE = "since-go-live"
SHOWN = 20  # findings in the evidence (each names both records)
LATENCY_METRIC = "order_creation_ms"
FEE_KINDS = ("fee-mismatch", "fee-rule-mismatch")


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")
    window: str = Field(description=f"The window judged: {', '.join(WINDOWS)} or {SINCE_GO_LIVE}")

    @field_validator("window")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in (*WINDOWS, SINCE_GO_LIVE):
            raise ValueError(
                f"unknown window {value!r}; known: {', '.join(WINDOWS)}, {SINCE_GO_LIVE}"
            )
        return value


class FindingsParams(_Params):
    kinds: list[str] = Field(min_length=1, description="The kinds of finding that fail the item")

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(KINDS))
        if unknown:
            raise ValueError(
                f"unknown finding kind(s) {', '.join(unknown)}; known: {', '.join(KINDS)}"
            )
        return value


class FirstParams(_Params):
    count: int = Field(10, ge=1, le=1000, description="How many of the first payments")


# --- the shared reconciliation ------------------------------------------------------------


def _window(ctx: CheckContext, name: str) -> Window:
    now = ctx.target.now
    go_live: datetime | None = None
    raw = ctx.profile.model.post_deploy
    if raw is not None:
        try:
            go_live = PostDeploy.model_validate(raw).anchor(ctx.profile.env)
        except ValueError as exc:
            ctx.not_run(str(exc))
    try:
        if name == SINCE_GO_LIVE:
            if go_live is None:
                raise ValueError(
                    "the since-go-live window needs post_deploy.go_live in the target profile"
                )
            start = window("first-hour", now, go_live).start  # raises when go-live is ahead
            return Window(SINCE_GO_LIVE, start, now, open=True)
        return window(name, now, go_live)
    except (ValueError, WindowNotStarted) as exc:
        ctx.not_run(str(exc))


def _reconciled(
    ctx: CheckContext, span: Window, earliest: int = 10
) -> tuple[Result, list[Finding]]:
    backend = ctx.require_backend("stateful")
    offset = _app_clock_s(ctx)
    if offset:
        ctx.record(app_clock_ahead_of_stripe_s=round(offset, 1))

    def compute() -> tuple[Result, list[Finding]]:
        sink = ListSink()
        result = run(
            ctx.profile,
            backend,
            span.start,
            span.end,
            sink,
            app=ctx.target.app,
            app_client=ctx.target.client() if ctx.target.app is not None else None,
            redactor=ctx.target.redactor,
            earliest=max(earliest, 10),
            app_clock_s=offset,
        )
        return result, sink.findings

    try:
        result, findings = ctx.target.cached(
            f"reconcile:{span.start.isoformat()}:{span.end.isoformat()}:{max(earliest, 10)}",
            compute,
        )
    except NoBlock as exc:
        ctx.not_run(str(exc))
    except (SourceError, StripeSideError) as exc:
        ctx.error(f"the reconciliation could not read a side: {exc}")
    ctx.record(**span.evidence(), reconciliation=result.summary())
    if result.examined == 0:
        ctx.nothing_examined(
            f"no payment and no order in the {span.name} window "
            f"({span.start.isoformat()} → {span.end.isoformat()})"
        )
    return result, findings


def _show(ctx: CheckContext, findings: list[Finding], what: str) -> None:
    ctx.record(
        **{what: [f.row() for f in findings[:SHOWN]]},
        **({"more": len(findings) - SHOWN} if len(findings) > SHOWN else {}),
    )


def _fail_on(ctx: CheckContext, findings: list[Finding], what: str) -> None:
    if not findings:
        return
    _show(ctx, findings, "findings")
    first = findings[0]
    counts = Counter(f.kind for f in findings)
    ctx.fail(
        f"{len(findings)} {what} ({', '.join(f'{k} {n}' for k, n in sorted(counts.items()))}): "
        f"e.g. {first.kind} — PaymentIntent {first.payment_intent}, order {first.order_id}: "
        f"{first.detail}"
    )


# --- the checks ---------------------------------------------------------------------------


@check("reconcile.findings", params=FindingsParams, needs=NEEDS)
def test_findings(ctx: CheckContext) -> None:
    """Over the window, no finding of the item's kinds (stuck orders, mismatches, …)."""
    span = _window(ctx, ctx.params.window)
    result, findings = _reconciled(ctx, span)
    wanted = [f for f in findings if f.kind in ctx.params.kinds]
    ctx.record(judged_kinds=ctx.params.kinds, found=len(wanted))
    _fail_on(ctx, wanted, f"finding(s) over the {span.name} window")


@check("reconcile.orders-created", params=_Params, needs=NEEDS)
def test_orders_created(ctx: CheckContext) -> None:
    """Succeeded payments have their orders: at least one matched, none stuck."""
    span = _window(ctx, ctx.params.window)
    result, findings = _reconciled(ctx, span)
    stuck = [f for f in findings if f.kind == "stuck-order"]
    _fail_on(ctx, stuck, "succeeded payment(s) without an order marked paid")
    if result.succeeded == 0:
        ctx.nothing_examined(f"no succeeded payment in the {span.name} window")
    if result.matched < 1:
        ctx.fail(
            f"{result.succeeded} succeeded payment(s) but no order marked paid for any of them"
        )


@check("reconcile.first-payments", params=FirstParams, needs=NEEDS)
def test_first_payments(ctx: CheckContext) -> None:
    """The first payments of the window each reconcile cleanly with their order."""
    span = _window(ctx, ctx.params.window)
    result, findings = _reconciled(ctx, span, ctx.params.count)
    first = [pi for _, pi in result.earliest[: ctx.params.count]]
    if not first:
        ctx.nothing_examined(f"no succeeded payment in the {span.name} window")
    ctx.record(
        first_payments=first,
        judged=len(first),
        note=None
        if len(first) >= ctx.params.count
        else f"only {len(first)} succeeded payment(s) so far; those are judged",
    )
    chosen = set(first)
    _fail_on(
        ctx,
        [f for f in findings if f.payment_intent in chosen],
        f"finding(s) among the first {len(first)} payments",
    )


@check("reconcile.platform-fee", params=_Params, needs=NEEDS)
def test_platform_fee(ctx: CheckContext) -> None:
    """Paid orders' platform fees match Stripe's application fees and the pricing rules."""
    span = _window(ctx, ctx.params.window)
    result, findings = _reconciled(ctx, span)
    if result.matched == 0:
        _never_paid(ctx, result, span, "no platform fee was collected")
        ctx.nothing_examined(f"no paid order matched a succeeded payment in the {span.name} window")
    if result.fee_orders == 0:
        ctx.not_run(
            f"the `{PROFILE_KEY}` source returns no platform_fee for the {result.matched} paid "
            "order(s): add the column to judge the fees"
        )
    ctx.record(
        fee_orders=result.fee_orders,
        collected=result.fee_collected,
        expected_by_rules=result.fee_expected,
    )
    _fail_on(ctx, [f for f in findings if f.kind in FEE_KINDS], "platform fee finding(s)")


def _never_paid(ctx: CheckContext, result: Result, span: Window, what: str) -> None:
    """Payments succeeded in Stripe and not one order was paid for them: the app never
    finished its side (a silent webhook endpoint), which fails the item — there is
    something to judge, and it is wrong."""
    if result.succeeded > 0:
        ctx.fail(
            f"{result.succeeded} payment(s) succeeded in the {span.name} window and no order "
            f"was marked paid for any of them: {what}"
        )


def _app_clock_s(ctx: CheckContext) -> float:
    """How far the app's clock is ahead of Stripe's for this run: when the run's own traffic
    (golive/traffic/) dated Stripe's objects on a moved sandbox clock, the ledger says by
    how much (`clock_behind_s`)."""
    from golive.traffic.gate_hook import LEDGER_KEY

    ledger = ctx.target.cache.get(LEDGER_KEY)
    if not isinstance(ledger, dict):
        return 0.0
    try:
        return float(ledger.get("clock_behind_s") or 0.0)
    except (TypeError, ValueError):
        ctx.error(f"cannot read the traffic ledger's clock: {ledger.get('clock_behind_s')!r}")


@check("reconcile.order-creation-time", params=_Params, needs=NEEDS, metrics={LATENCY_METRIC})
def test_order_creation_time(ctx: CheckContext) -> None:
    """From a payment to its order being paid, within the item's `order_creation_ms`."""
    expression = ctx.item.thresholds.get(LATENCY_METRIC)
    if expression is None:
        ctx.not_run(f"the item sets no `{LATENCY_METRIC}` threshold")
    threshold = thresholds.parse(expression)
    span = _window(ctx, ctx.params.window)
    result, _ = _reconciled(ctx, span)
    samples = list(result.latencies_ms)
    if not samples:
        if result.matched == 0:
            _never_paid(ctx, result, span, "order creation never completed")
        ctx.nothing_examined(f"no paid order with a time to measure in the {span.name} window")
    passed, observed = threshold.evaluate(samples)
    ctx.record(
        metric=LATENCY_METRIC,
        threshold=threshold.expression,
        samples=len(samples),
        observed=round(observed, 1),
        max_ms=round(max(samples), 1),
    )
    if not passed:
        ctx.fail(
            f"{LATENCY_METRIC} is {observed:.0f} ms over {len(samples)} paid orders; the "
            f"threshold is {threshold.expression}"
        )
