"""Monitoring checks: the target's Prometheus (the profile's `monitoring.prometheus` block,
golive/monitoring/profile.py) has the alerts and metrics the checklist asks for.

- monitoring.alert-rule: a loaded alerting rule covers the item's alert (the profile's
  match, or the check's default pattern), Prometheus evaluates it without error, and every
  metric its expression reads exists in Prometheus.
- monitoring.metric-exported: the profile's named query evaluates to at least one series,
  and every metric it reads exists, has current samples and comes from a target that is up.
- monitoring.error-rate / monitoring.uptime: the profile's query over a post-deploy window
  (golive/profile/postdeploy.py), judged by the item's `error_rate` / `uptime` threshold.
- monitoring.no-critical-alerts: no alert with the given labels fired during the window
  (Prometheus's ALERTS series), judged by the item's `critical_incidents` threshold.

The target's Prometheus may be one of the profile's `services:` (the demo's), started for
these checks ("services" need). No `monitoring.prometheus` block: not-run. Prometheus unreachable or refusing a request:
error naming its URL. A query that returns no series: nothing examined (error).
"""

from __future__ import annotations

import math
import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from golive import thresholds
from golive.context import CheckContext
from golive.monitoring import rules as alert_rules
from golive.monitoring.profile import PROFILE_KEY, WINDOW_PLACEHOLDER, Monitoring, Prometheus
from golive.monitoring.prometheus import PrometheusClient, PrometheusError, Series
from golive.monitoring.promql import SYNTHETIC, PromqlError, metric_names
from golive.profile import postdeploy
from golive.registry import check
from golive.validation import Regex

BLOCK = f"{PROFILE_KEY}.prometheus"
RANGE_POINTS = 240  # a query without {window} is read at this many steps over the window


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AlertParams(_Strict):
    alert: str = Field(
        description="The alert's key under the profile's monitoring.prometheus.alerts"
    )
    expr_matches: Regex = Field(
        description="Default pattern (regex, case-insensitive) searched in each rule's name "
        "and expression when the profile does not say which rule covers the alert"
    )


class QueryParams(_Strict):
    query: str = Field(
        description="A query's name under the profile's monitoring.prometheus.queries"
    )
    range: str = Field("5m", description="What {window} stands for in this query")


def _known_window(value: str) -> str:
    if value not in postdeploy.WINDOWS:
        raise ValueError(f"unknown window {value!r}; known: {', '.join(postdeploy.WINDOWS)}")
    return value


class WindowParams(_Strict):
    query: str = Field(
        description="A query's name under the profile's monitoring.prometheus.queries"
    )
    window: str = Field(description="A post-deploy window (golive/profile/postdeploy.py)")

    _window = field_validator("window")(_known_window)


class IncidentParams(_Strict):
    window: str = Field(description="A post-deploy window (golive/profile/postdeploy.py)")
    labels: dict[str, str] = Field(
        default_factory=lambda: {"severity": "critical"},
        description="Labels an alert rule carries when its alerts are critical",
    )

    _window = field_validator("window")(_known_window)


# --- the profile's block and the client -------------------------------------------------


def _block(ctx: CheckContext) -> Prometheus:
    raw = ctx.profile.model.monitoring
    try:
        block = Monitoring.model_validate(raw).prometheus if raw is not None else None
    except ValidationError as exc:  # validated when the profile loads; kept for safety
        ctx.error(f"the profile's `{PROFILE_KEY}` block is invalid: {exc}")
    if block is None:
        ctx.not_run(
            f"the target profile has no `{BLOCK}` block: golive cannot read the target's "
            f"monitoring system (set {BLOCK}.url, docs/monitoring.md)"
        )
    return block


def _client(ctx: CheckContext, block: Prometheus) -> PrometheusClient:
    url = block.resolved_url(os.environ)
    if url is None:
        ctx.not_run(
            f"{BLOCK}.url_env names {block.url_env}, which is not set in golive's "
            "environment: no Prometheus to read"
        )
    try:
        token = block.token(os.environ)
    except ValueError as exc:
        ctx.error(str(exc))
    if token:
        ctx.target.redactor.add_secret(token)  # never in evidence, even in an error text
    return PrometheusClient(url, timeout_s=block.timeout_s, token=token)


def _read(ctx: CheckContext, what: str, read: Any) -> Any:
    """One API read; a PrometheusError is the check's error (it names the URL)."""
    try:
        return read()
    except PrometheusError as exc:
        ctx.error(str(exc))
    except PromqlError as exc:
        ctx.error(f"{what}: {exc}")


def _query_expr(ctx: CheckContext, block: Prometheus, name: str) -> str:
    expr = block.queries.get(name)
    if expr is None:
        ctx.not_run(
            f"{BLOCK}.queries has no `{name}` query: golive does not know how this target "
            "measures it"
        )
    return expr


def _metrics_of(ctx: CheckContext, name: str, expr: str) -> list[str]:
    try:
        names = sorted(metric_names(expr) - SYNTHETIC)
    except PromqlError as exc:
        ctx.error(f"{BLOCK}.queries.{name}: {exc}")
    if not names:
        ctx.nothing_examined(f"the query {name} reads no metric: {expr}")
    return names


# --- alert rules ------------------------------------------------------------------------


@check("monitoring.alert-rule", params=AlertParams, needs={"services"})
def test_alert_rule(ctx: CheckContext) -> None:
    """A loaded, healthy alerting rule covers the alert, over metrics that exist."""
    block = _block(ctx)
    with _client(ctx, block) as client:
        rules = _read(
            ctx,
            "rules",
            lambda: ctx.target.cached(f"prom.rules:{client.url}", client.alerting_rules),
        )
        known = _read(
            ctx,
            "metrics",
            lambda: ctx.target.cached(f"prom.names:{client.url}", client.metric_names),
        )
    match = block.alerts.get(ctx.params.alert)
    how = (
        {"profile": f"{BLOCK}.alerts.{ctx.params.alert}", **match.describe()}
        if match is not None
        else {"default_pattern": ctx.params.expr_matches}
    )
    ctx.record(
        prometheus=client.url,
        alert=ctx.params.alert,
        matched_by=how,
        loaded_alerting_rules=len(rules),
        metric_names_known=len(known),
    )
    if not known:
        ctx.nothing_examined(f"Prometheus at {client.url} knows no metric at all")
    found = alert_rules.covering(rules, match, ctx.params.expr_matches)
    if not found:
        names = sorted({str(r.get("name")) for r in rules})
        ctx.fail(
            f"no loaded alerting rule covers {ctx.params.alert} (matched by {how}); "
            f"Prometheus at {client.url} has {len(rules)} alerting rule(s)"
            + (f": {', '.join(names[:20])}" if names else "")
        )
    judged = [alert_rules.judge(rule, known) for rule in found]
    for judgement in judged:
        ctx.record(**judgement.evidence())
    if any(j.sound for j in judged):
        return
    if any(j.pending and not j.problems for j in judged):
        ctx.error(
            "the covering rule has not been evaluated yet (health unknown): run again after "
            "one evaluation interval"
        )
    ctx.fail(
        f"the rule(s) covering {ctx.params.alert} cannot fire: "
        + "; ".join(f"{j.rule.get('name')}: {', '.join(j.problems)}" for j in judged)
    )


# --- metrics ----------------------------------------------------------------------------


@check("monitoring.metric-exported", params=QueryParams, needs={"services"})
def test_metric_exported(ctx: CheckContext) -> None:
    """The metrics of the profile's query are exported, scraped and current, and the query
    evaluates to at least one series."""
    block = _block(ctx)
    name = ctx.params.query
    expr = _query_expr(ctx, block, name).replace(WINDOW_PLACEHOLDER, ctx.params.range)
    metrics = _metrics_of(ctx, name, expr)
    problems = []
    with _client(ctx, block) as client:
        known = _read(ctx, "metrics", client.metric_names)
        targets = _read(ctx, "targets", client.targets)
        up = {
            (t["labels"].get("job"), t["labels"].get("instance")): t.get("health")
            for t in targets
            if isinstance(t.get("labels"), dict)
        }
        for metric in metrics:
            if metric not in known:
                problems.append(f"metric {metric} does not exist in Prometheus")
                ctx.record(metric=metric, exists=False)
                continue
            selector = f'count by (job, instance) ({{__name__="{metric}"}})'
            sources = _read(ctx, metric, lambda s=selector: client.query(s))
            scraped = [
                {
                    "job": s.labels.get("job"),
                    "instance": s.labels.get("instance"),
                    "series": int(s.value),
                    "target_health": up.get((s.labels.get("job"), s.labels.get("instance"))),
                }
                for s in sources
            ]
            ctx.record(metric=metric, exists=True, current_sources=scraped)
            if not scraped:
                problems.append(f"metric {metric} has no current samples (not scraped lately)")
            elif not any(s["target_health"] == "up" for s in scraped):
                problems.append(f"metric {metric} comes from no scrape target that is up")
        result = _read(ctx, name, lambda: client.query(expr))
    nan_only = bool(result) and all(math.isnan(s.value) for s in result if s.samples)
    ctx.record(
        query=name,
        expr=expr,
        series=_shown(result),
        # 0/0: the query evaluates, over a range with no traffic; the metrics are current
        note="every value is NaN (no traffic in the range)" if nan_only else None,
    )
    if problems:
        ctx.fail(f"query {name}: " + "; ".join(problems))
    if not result:
        ctx.nothing_examined(f"the query {name} returned no series: {expr}")


# --- values over a post-deploy window ----------------------------------------------------


def _window(ctx: CheckContext, name: str) -> postdeploy.Window:
    raw = ctx.profile.model.post_deploy
    try:
        # go_live, or the target env's variable post_deploy.go_live_env names
        go_live = postdeploy.PostDeploy.model_validate(raw).anchor(ctx.profile.env) if raw else None
        # The window ends when the check runs: data written during the run counts.
        return postdeploy.window(name, ctx.target.time_now(), go_live)
    except postdeploy.WindowNotStarted as exc:
        ctx.not_run(f"the {name} window has not started: {exc}")
    except ValueError as exc:
        ctx.not_run(str(exc))


def _over_window(
    ctx: CheckContext, client: PrometheusClient, name: str, expr: str, window: postdeploy.Window
) -> tuple[list[Series], dict[str, Any]]:
    """The query over the window: with {window}, one evaluation at its end over its whole
    length; without, every step of a range query across it."""
    length = (window.end - window.start).total_seconds()
    if length <= 0:
        ctx.nothing_examined(f"the {window.name} window is empty")
    if WINDOW_PLACEHOLDER in expr:
        expr = expr.replace(WINDOW_PLACEHOLDER, f"{max(int(length), 1)}s")
        series = _read(ctx, name, lambda: client.query(expr, at=window.end))
        how = {"expr": expr, "evaluated_at": window.end.isoformat()}
    else:
        step = max(length / RANGE_POINTS, 1.0)
        series = _read(ctx, name, lambda: client.query_range(expr, window.start, window.end, step))
        how = {"expr": expr, "range_step_s": round(step, 1)}
    return series, how


def _judge_window(ctx: CheckContext, metric: str) -> None:
    expression = ctx.item.thresholds.get(metric)
    if not expression:
        ctx.not_run(f"the item sets no `{metric}` threshold to judge the query by")
    threshold = thresholds.parse(expression)
    block = _block(ctx)
    name = ctx.params.query
    expr = _query_expr(ctx, block, name)
    _metrics_of(ctx, name, expr.replace(WINDOW_PLACEHOLDER, "1h"))
    window = _window(ctx, ctx.params.window)
    with _client(ctx, block) as client:
        series, how = _over_window(ctx, client, name, expr, window)
    samples = [v for s in series for _, v in s.samples if not math.isnan(v)]
    ctx.record(
        prometheus=client.url,
        query=name,
        **how,
        **window.evidence(),
        series=_shown(series),
        threshold=f"{metric}: {threshold.expression}",
    )
    if not series:
        ctx.nothing_examined(f"the query {name} returned no series over the {window.name} window")
    if not samples:
        ctx.nothing_examined(f"the query {name} has only NaN values (no traffic?) over the window")
    if threshold.aggregate == "value":
        # One number per series: each must hold (the worst decides).
        bad = [
            (s.describe(), v)
            for s in series
            for _, v in s.samples
            if not math.isnan(v) and not threshold.holds(v)
        ]
        ctx.record(observed=[round(v, 6) for v in samples][-20:])
        if bad:
            ctx.fail(
                f"{metric} {threshold.expression} does not hold over the {window.name} window"
                f"{' (open: judged so far)' if window.open else ''}: "
                + ", ".join(f"{labels} = {value:.6g}" for labels, value in bad[:5])
                + (f" (and {len(bad) - 5} more)" if len(bad) > 5 else "")
            )
        return
    passed, observed = threshold.evaluate(samples)
    ctx.record(observed=round(observed, 6), samples=len(samples))
    if not passed:
        ctx.fail(
            f"{metric} {threshold.expression} does not hold over the {window.name} window: "
            f"observed {observed:.6g} over {len(samples)} samples"
        )


@check("monitoring.error-rate", params=WindowParams, metrics={"error_rate"}, needs={"services"})
def test_error_rate(ctx: CheckContext) -> None:
    """The profile's error-rate query over the window is under the item's threshold."""
    _judge_window(ctx, "error_rate")


@check("monitoring.uptime", params=WindowParams, metrics={"uptime"}, needs={"services"})
def test_uptime(ctx: CheckContext) -> None:
    """The profile's uptime query over the window meets the item's threshold."""
    _judge_window(ctx, "uptime")


@check(
    "monitoring.no-critical-alerts",
    params=IncidentParams,
    metrics={"critical_incidents"},
    needs={"services"},
)
def test_no_critical_alerts(ctx: CheckContext) -> None:
    """No alert of a rule with the critical labels fired during the window."""
    metric = "critical_incidents"
    expression = ctx.item.thresholds.get(metric)
    if not expression:
        ctx.not_run(f"the item sets no `{metric}` threshold to judge the alerts by")
    threshold = thresholds.parse(expression)
    block = _block(ctx)
    window = _window(ctx, ctx.params.window)
    wanted = ctx.params.labels
    with _client(ctx, block) as client:
        rules = _read(ctx, "rules", client.alerting_rules)
        critical = [
            r for r in rules if all((r.get("labels") or {}).get(k) == v for k, v in wanted.items())
        ]
        ctx.record(
            prometheus=client.url,
            **window.evidence(),
            labels=wanted,
            critical_rules=sorted(str(r.get("name")) for r in critical),
        )
        if not critical:
            # Nothing could have fired: no rule says which alerts are critical.
            ctx.nothing_examined(
                f"no loaded alerting rule carries the labels {wanted}: no alert could count "
                "as a critical incident"
            )
        matchers = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(wanted.items()))
        expr = f'max by (alertname) (max_over_time(ALERTS{{alertstate="firing",{matchers}}}[{WINDOW_PLACEHOLDER}]))'
        fired, how = _over_window(ctx, client, "critical alerts", expr, window)
    names = sorted(str(s.labels.get("alertname")) for s in fired)
    ctx.record(**how, fired=names, threshold=f"{metric}: {threshold.expression}")
    if not threshold.holds(float(len(names))):
        ctx.fail(
            f"{len(names)} critical alert(s) fired during the {window.name} window "
            f"({metric} {threshold.expression}): {', '.join(names)}"
        )


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _shown(series: list[Series], limit: int = 10) -> list[dict[str, Any]]:
    return [
        {
            "labels": s.describe(),
            "value": None if not s.samples or math.isnan(s.value) else round(s.value, 6),
        }
        for s in series[:limit]
    ]
