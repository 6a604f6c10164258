"""golive/monitoring's pure parts: the metric names a PromQL expression reads, which rule
covers an alert, how a rule is judged, and the profile block's validation (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from gatekit import golive_here

from golive.monitoring.profile import AlertMatch
from golive.monitoring.promql import PromqlError, metric_names
from golive.monitoring.rules import covering, judge


def test_metric_names_walk_every_kind_of_expression() -> None:
    expr = (
        'sum by (job) (rate(http_requests_total{status=~"5.."}[5m]))'
        " / on(job) group_left sum(rate(http_requests_total[5m]))"
        ' or -max_over_time(up{job="shop"}[1h:5m]) or topk(3, (a_b))'
        " or histogram_quantile(0.95, sum by (le) (rate(h_bucket[5m]))) > 2"
        ' or {__name__="by_name", x="y"} or {__name__=~"regex_.*"} or vector(1)'
    )
    assert metric_names(expr) == {"http_requests_total", "up", "a_b", "h_bucket", "by_name"}
    assert metric_names("vector(0)") == set()
    with pytest.raises(PromqlError, match="not a PromQL expression"):
        metric_names("rate(x[5m]")


RULES = [
    {"name": "PaymentIntentCreationFailures", "query": "increase(app_intent_errors[5m]) > 0",
     "labels": {"severity": "critical"}, "health": "ok"},
    {"name": "Refunds", "query": "rate(app_refunds_total[1h]) > 1", "labels": {}, "health": "ok"},
    {"name": "Slow", "query": "histogram_quantile(0.9, rate(webhook_seconds_bucket[5m])) > 5",
     "labels": {"severity": "warning"}, "health": "ok"},
]  # fmt: skip


def test_the_default_pattern_searches_names_and_expressions_the_profile_overrides_it() -> None:
    assert [r["name"] for r in covering(RULES, None, "intent.*(fail|error)")] == [
        "PaymentIntentCreationFailures"
    ]
    assert [r["name"] for r in covering(RULES, None, "webhook.*seconds")] == ["Slow"]
    assert covering(RULES, None, "dispute") == []
    by_name = AlertMatch(name="Refunds")
    assert [r["name"] for r in covering(RULES, by_name, "nothing")] == ["Refunds"]
    both = AlertMatch(labels={"severity": "critical"}, expr_matches="refunds")
    assert covering(RULES, both, "refund") == []  # every given criterion must hold


def test_a_rule_is_sound_only_healthy_and_over_metrics_that_exist() -> None:
    known = {"app_intent_errors", "app_refunds_total"}
    assert judge(RULES[0], known).sound
    misspelled = judge({**RULES[1], "query": "rate(app_refund_total[1h]) > 1"}, known)
    assert misspelled.problems == [
        "metric app_refund_total does not exist in Prometheus (closest: app_refunds_total)"
    ]
    erroring = judge({**RULES[0], "health": "err", "lastError": "many-to-many"}, known)
    assert erroring.problems == ["Prometheus fails to evaluate it: many-to-many"]
    pending = judge({**RULES[0], "health": "unknown"}, known)
    assert pending.pending and not pending.sound and not pending.problems
    only_alerts = judge({**RULES[0], "query": 'ALERTS{alertstate="firing"} > 0'}, known)
    assert only_alerts.problems == ["its expression reads no metric of the application"]


@pytest.mark.parametrize(
    ("prometheus", "message"),
    [
        ({}, "give exactly one of url and url_env"),
        ({"url": "http://a:9090", "url_env": "X"}, "give exactly one of url and url_env"),
        ({"url": "prometheus:9090"}, "url must be http(s)://host"),
        ({"url_env": "P", "queries": {"up": "rate(up[5m]"}}, "queries.up: not a PromQL"),
        ({"url_env": "P", "alerts": {"x": {}}}, "give name, labels or expr_matches"),
        ({"url_env": "P", "alerts": {"x": {"expr_matches": "("}}}, "not a regular expression"),
        ({"url_env": "P", "scrape": 1}, "scrape"),
    ],
)
def test_a_bad_monitoring_block_is_exit_2_naming_the_line(
    tmp_path: Path, prometheus: dict, message: str
) -> None:
    path = tmp_path / "target.yaml"
    path.write_text(
        yaml.safe_dump({"name": "t", "mode": "live", "monitoring": {"prometheus": prometheus}})
    )
    done = golive_here("validate", "--target", str(path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert f"{path}:" in done.stderr and "monitoring" in done.stderr
