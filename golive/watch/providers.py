"""What the watch measures and where each measurement comes from.

The rules come from the checklist, not from code: every threshold of an item tagged
`rollback-trigger` (the rollback plan's "success rate below 80 %", "webhook failures above
10 %") is a trigger, and every threshold of an automated post-deploy item on a metric the
Stripe provider knows (golive.metrics: payment_success_rate, refund_rate, …) is a target,
shown and reported but never a rollback. The profile's `watch:` block tunes their limits
and adds metrics from Stripe or Prometheus (golive/watch/profile.py).

Sources: a Stripe metric is measured over the tick's window through golive.metrics
(`measure`, its boolean or numeric samples); a Prometheus metric is the profile's PromQL,
evaluated at the tick through the profile's `monitoring.prometheus` server, `{window}`
filled with the window's length.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from golive import gate
from golive.errors import InputError
from golive.metrics import StripeData, measure
from golive.metrics import go_live as profile_go_live
from golive.profile.postdeploy import Window, parse_duration
from golive.thresholds import Threshold
from golive.thresholds import parse as parse_threshold
from golive.validation import validate
from golive.watch.analysis import Reading, Rule
from golive.watch.profile import PROFILE_KEY, Limits, WatchMetric, WatchModel
from golive.watch.runner import Plan, Source

TRIGGER_TAG = "rollback-trigger"
DEFAULT_MIN_SAMPLES = 5  # a rate over fewer payments than this is not judged
# The Stripe metrics a tick can judge over the minutes since a deploy. Fee metrics and the
# day-over-week decline comparison need days of data and the checks' params: checks only.
WATCHABLE = frozenset(
    {
        "payment_success_rate",
        "failed_payment_rate",
        "refund_rate",
        "dispute_rate",
        "fraud_rate",
        "webhook_delivery_rate",
    }
)
# The check whose params (the profile's `params:` by check id) the watch measures with.
DELIVERY_CHECK = "metrics.webhook-delivery"


def model_of(prepared: gate.Prepared) -> WatchModel:
    located = prepared.profile.located
    if prepared.profile.model.watch is None or located is None:
        return WatchModel()
    return validate(WatchModel, located.sub(PROFILE_KEY), prefix=PROFILE_KEY)


def go_live(prepared: gate.Prepared) -> datetime:
    """The profile's go-live (for --since go-live); InputError naming the key without it."""
    try:
        anchor = profile_go_live(prepared.profile.model.post_deploy, prepared.profile.env)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if anchor is None:
        raise InputError(
            "--since go-live needs post_deploy.go_live (or go_live_env) in the target profile"
        )
    return anchor


def checklist_rules(prepared: gate.Prepared, model: WatchModel) -> list[tuple[Rule, str]]:
    """(rule, Stripe metric) for the checklist's rollback triggers and post-deploy targets
    (one target per metric and threshold, however many items share it)."""
    found: dict[tuple[str, str], tuple[Rule, str]] = {}
    for item in prepared.checklist.items.values():
        trigger = TRIGGER_TAG in item.tags
        if not trigger and (item.phase != "post-deploy" or item.automated is None):
            continue
        for metric, expression in item.thresholds.items():
            if metric not in WATCHABLE:
                continue
            threshold = parse_threshold(expression)
            role = "trigger" if trigger else "target"
            name = metric if trigger else f"{metric} {threshold.expression}"
            rule = _rule(name, threshold, role, model.triggers.get(metric))
            found.setdefault((role, name), (rule, metric))
    # A target with a trigger's own threshold says nothing more (monitor-first-hour's).
    triggers = {
        (metric, r.threshold.expression) for r, metric in found.values() if r.role == "trigger"
    }
    kept = [
        (rule, metric)
        for rule, metric in found.values()
        if rule.role == "trigger" or (metric, rule.threshold.expression) not in triggers
    ]
    return sorted(kept, key=lambda pair: (pair[0].role != "trigger", pair[0].name))


def _rule(name: str, threshold: Threshold, role: str, limits: Limits | None) -> Rule:
    limits = limits or Limits()
    return Rule(
        name,
        threshold,
        role,  # type: ignore[arg-type]
        failure_limit=limits.failure_limit if limits.failure_limit is not None else 0,
        consecutive_failure_limit=limits.consecutive_failure_limit,
        consecutive_error_limit=(
            limits.consecutive_error_limit if limits.consecutive_error_limit is not None else 4
        ),
        min_samples=limits.min_samples if limits.min_samples is not None else DEFAULT_MIN_SAMPLES,
    )


class StripeTicks:
    """One reader per tick, shared by every Stripe metric of the tick: a window's pages are
    listed once, not once per metric."""

    def __init__(self, prepared: gate.Prepared) -> None:
        backend = prepared.target.stripe
        if backend is None:
            raise InputError(
                "the watch measures through the Stripe API, and the target profile names no "
                "Stripe backend (stripe: in the profile)"
            )
        from golive.client import stripe_api

        self.client = stripe_api.client(backend)
        self._window: tuple[datetime, datetime] | None = None
        self._data: StripeData | None = None
        grace = (prepared.profile.model.params.get(DELIVERY_CHECK) or {}).get("grace")
        self.grace = parse_duration(grace) if grace else None

    def data(self, start: datetime, end: datetime) -> StripeData:
        if self._window != (start, end) or self._data is None:
            self._window, self._data = (start, end), StripeData(self.client)
        return self._data

    def source(self, metric: str) -> Source:
        def read(start: datetime, end: datetime) -> Reading:
            options: dict[str, Any] = {}
            if metric == "webhook_delivery_rate":
                options["now"] = end
                if self.grace is not None:
                    options["grace"] = self.grace
            window = Window("watch", start, end, open=True)
            measured = measure(self.data(start, end), metric, window, **options)
            return Reading(
                samples=list(measured.values),
                detail=dict(measured.evidence),
                findings=measured.findings,
            )

        return read


def preflight(prepared: gate.Prepared) -> WatchModel:
    """The watch block, checked before anything starts: a Prometheus metric needs the
    profile's server, a Stripe one a metric the watch measures (InputError: exit 2)."""
    model = model_of(prepared)
    for metric in model.metrics:
        if metric.prometheus is not None:
            _prometheus_url(prepared)
        elif metric.stripe not in WATCHABLE:
            raise InputError(
                f"watch.metrics {metric.name}: {metric.stripe!r} is not a Stripe metric the "
                f"watch measures; choose one of {', '.join(sorted(WATCHABLE))}"
            )
    return model


def _prometheus_url(prepared: gate.Prepared) -> tuple[Any, str, str | None]:
    """The profile's Prometheus block, its URL and bearer token (InputError: exit 2)."""
    from golive.monitoring.profile import Monitoring

    block = Monitoring.model_validate(prepared.profile.model.monitoring or {}).prometheus
    if block is None:
        raise InputError(
            "a watch metric reads Prometheus, and the target profile has no "
            "monitoring.prometheus block"
        )
    url = block.resolved_url(os.environ)
    if url is None:
        raise InputError(f"monitoring.prometheus.url_env names {block.url_env}, which is not set")
    try:
        return block, url, block.token(os.environ)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def prometheus_source(prepared: gate.Prepared, query: str) -> Source:
    from golive.monitoring.prometheus import PrometheusClient

    block, url, token = _prometheus_url(prepared)
    if token:
        prepared.target.redactor.add_secret(token)
    client = PrometheusClient(url, timeout_s=block.timeout_s, token=token)

    def read(start: datetime, end: datetime) -> Reading:
        seconds = max(1, int((end - start).total_seconds()))
        expr = query.replace("{window}", f"{seconds}s")
        series = client.query(expr, at=end)
        detail: dict[str, Any] = {"query": expr, "series": [s.describe() for s in series[:5]]}
        if not series:
            return Reading(detail=detail)  # no series: nothing to judge (inconclusive)
        if len(series) > 1:
            raise ValueError(f"{expr!r} returned {len(series)} series; the watch needs one")
        return Reading(value=series[0].value, detail=detail)

    return read


def plan(
    prepared: gate.Prepared,
    *,
    duration: str | None = None,
    interval: str | None = None,
    lookback: str | None = None,
) -> Plan:
    """The watch's rules and sources; InputError for a bad option or profile block."""
    model = preflight(prepared)
    rules: list[Rule] = []
    sources: dict[str, Source] = {}
    stripe_ticks = StripeTicks(prepared)
    for rule, metric in checklist_rules(prepared, model):
        rules.append(rule)
        sources[rule.name] = stripe_ticks.source(metric)
    for extra in model.metrics:
        if extra.name in sources:
            raise InputError(f"watch.metrics: {extra.name} is already a metric of the watch")
        rules.append(_rule(extra.name, parse_threshold(extra.threshold), extra.role, extra))
        sources[extra.name] = _extra_source(prepared, extra, stripe_ticks)
    if not any(rule.role == "trigger" for rule in rules):
        raise InputError(
            f"nothing to watch: no checklist item tagged {TRIGGER_TAG} with a Stripe metric "
            "threshold, and no watch.metrics with role: trigger in the profile"
        )
    try:
        return Plan(
            rules,
            sources,
            parse_duration(duration or model.duration),
            parse_duration(interval or model.interval),
            parse_duration(lookback) if lookback else model.lookback_delta(),
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _extra_source(prepared: gate.Prepared, metric: WatchMetric, ticks: StripeTicks) -> Source:
    if metric.stripe is not None:
        return ticks.source(metric.stripe)
    assert metric.prometheus is not None
    return prometheus_source(prepared, metric.prometheus)
