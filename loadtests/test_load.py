"""Load checks: the Locust scenarios' thresholds and the invariants after the storm.

The five items share ONE load run per gate run (loadtests/session.py): the gate runs the
profile's short mixed run (`load.gate`, a few seconds), `golive load` its own. Each item
judges its thresholds (checklist.yaml, k6 syntax) on Locust's stats for the requests its
metrics name (loadtests/metrics.py); the race item judges the invariants.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from golive.context import CheckContext
from golive.loadtests import metrics, session
from golive.plugin import SESSION_KEY
from golive.registry import check

NEEDS = {"app"}
CHART_POINTS = 240


class LoadParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    abort_on_fail: bool = Field(
        False, description="Stop the whole load run as soon as one of the item's thresholds fails"
    )


def _shared(ctx: CheckContext, request: pytest.FixtureRequest) -> session.Shared:
    gate = request.config.stash.get(SESSION_KEY, None)
    rules = session.abort_rules_for(gate.selected if gate else [ctx.item], ctx.profile.model.params)
    result = session.shared(ctx.target, rules)
    if result.not_run:
        ctx.not_run(result.not_run)
    if result.error:
        # golive could not follow the profile's own flows: not a verdict on the app.
        ctx.record(**result.error_evidence)
        ctx.error(result.error)
    return result


def _run_evidence(result: session.Shared) -> dict[str, Any]:
    run = result.run
    assert run is not None
    return {
        "scenario": run.spec.scenario,
        "users": run.spec.users,
        "spawn_rate": run.spec.spawn_rate,
        "duration_s": run.spec.duration_s,
        "workers": run.spec.workers,
        "requests": run.total_requests,
        "took_s": run.duration_s,
        "aborted_by": [f"{a['item']} {a['metric']} {a['threshold']}" for a in result.aborted],
    }


def _thin(rows: list[dict[str, Any]], most: int = CHART_POINTS) -> list[dict[str, Any]]:
    # A long run's chart needs no more points than the report has pixels.
    step = max(1, -(-len(rows) // most))
    return rows[::step] if rows[-1:] == rows[::step][-1:] else [*rows[::step], rows[-1]]


def _thresholds(ctx: CheckContext, request: pytest.FixtureRequest) -> None:
    check_id = ctx.ref.ref
    if not ctx.item.thresholds:
        ctx.not_run("the item sets no thresholds to judge the load run by")
    result = _shared(ctx, request)
    assert result.run is not None
    judged = metrics.judge(check_id, ctx.item.thresholds, result.run.stats)
    ctx.record(**_run_evidence(result))
    for judgement in judged:
        ctx.record(**judgement.evidence())
    if check_id == "load.response-times" and result.run.history:
        ctx.record(load_chart=_thin(result.run.history))
    empty = [j for j in judged if j.passed is None]
    breached = [j for j in judged if j.passed is False]
    if empty:
        ctx.nothing_examined(
            "no samples for "
            + ", ".join(f"{j.metric} ({'+'.join(j.requests)})" for j in empty)
            + f" in the {result.run.spec.scenario} run"
        )
    if breached:
        ctx.fail(
            "; ".join(
                f"{j.metric} is {j.observed:.4g} over {j.samples} samples of "
                f"{'+'.join(j.requests)}, the threshold is {j.threshold}"
                for j in breached
            )
        )


@check(
    "load.concurrent-intents",
    params=LoadParams,
    needs=NEEDS,
    metrics=set(metrics.CHECK_METRICS["load.concurrent-intents"]),
)
def test_concurrent_intents(ctx: CheckContext, request: pytest.FixtureRequest) -> None:
    """Many customers check out and pay at once: checkout latency and failures stay within
    the item's thresholds."""
    _thresholds(ctx, request)


@check(
    "load.webhook-burst",
    params=LoadParams,
    needs=NEEDS,
    metrics=set(metrics.CHECK_METRICS["load.webhook-burst"]),
)
def test_webhook_burst(ctx: CheckContext, request: pytest.FixtureRequest) -> None:
    """Signed events at a steady rate are acknowledged within the item's thresholds."""
    _thresholds(ctx, request)


@check(
    "load.database",
    params=LoadParams,
    needs=NEEDS,
    metrics=set(metrics.CHECK_METRICS["load.database"]),
)
def test_database(ctx: CheckContext, request: pytest.FixtureRequest) -> None:
    """Requests that write (cart) and read (order) the database stay fast under load."""
    _thresholds(ctx, request)


@check(
    "load.response-times",
    params=LoadParams,
    needs=NEEDS,
    metrics=set(metrics.CHECK_METRICS["load.response-times"]),
)
def test_response_times(ctx: CheckContext, request: pytest.FixtureRequest) -> None:
    """The app's API answers within the item's p95/p99 under load (not the webhook)."""
    _thresholds(ctx, request)


@check("load.race-invariants", params=LoadParams, needs=NEEDS)
def test_race_invariants(ctx: CheckContext, request: pytest.FixtureRequest) -> None:
    """After concurrent duplicate checkouts and deliveries: one order and one payment per
    PaymentIntent, every succeeded intent paid exactly once, no webhook 5xx."""
    ctx.needs_observer()  # counted through the observer: `observer: {none: …}` has none
    # Each intent's status is read back, and the storm's orders are paid by the backend's
    # own webhooks: without both, nothing here says whether a race was survived.
    ctx.require_backend("stateful", "webhook-delivery")
    result = _shared(ctx, request)
    assert result.run is not None
    if result.no_invariants:
        ctx.not_run(result.no_invariants)
    findings = result.findings
    assert findings is not None
    ctx.record(**_run_evidence(result))
    if findings.intents == 0:
        ctx.nothing_examined("the load run created no PaymentIntent to judge")
    race_rounds = sum(
        1 for e in result.run.ledger if e.get("kind") == "intent" and e.get("scenario") == "race"
    )
    ctx.record(race_intents=race_rounds, **findings.evidence())
    if findings.succeeded == 0:
        # No payment went through: a double-paid order cannot have happened, nor been seen.
        ctx.nothing_examined(
            f"none of the {findings.intents} PaymentIntent(s) succeeded at the backend "
            f"(statuses {findings.statuses})"
        )
    if findings.violations:
        ctx.fail(
            "invariants broken after the load run: "
            + "; ".join(
                f"{kind}: {', '.join(ids[:5])}"
                + (f" (+{len(ids) - 5} more)" if len(ids) > 5 else "")
                for kind, ids in findings.violations.items()
            )
        )
