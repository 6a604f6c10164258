"""Which loaded alerting rule covers one of the checklist's alerts, and is it sound.

A rule covers the alert when the profile's `monitoring.prometheus.alerts.<alert>` says so
(name, labels, expr_matches: all given must hold), or, when the profile says nothing about
that alert, when the check's default pattern (a case-insensitive regular expression,
checklist.yaml's `expr_matches` param) is found in the rule's alert name or expression.

A covering rule is sound when Prometheus evaluates it without error (health `ok`) and
every metric its expression reads exists in Prometheus (a rule over a misspelled metric
never fires: it is reported with the closest names Prometheus has).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from golive.monitoring.profile import AlertMatch
from golive.monitoring.promql import SYNTHETIC, PromqlError, metric_names


def covering(
    rules: list[dict[str, Any]], match: AlertMatch | None, default_pattern: str
) -> list[dict[str, Any]]:
    """The rules that cover the alert, by the profile's match or the default pattern."""
    if match is None:
        pattern = re.compile(default_pattern, re.IGNORECASE)
        return [
            r
            for r in rules
            if pattern.search(str(r.get("name", ""))) or pattern.search(str(r.get("query", "")))
        ]
    found = []
    for rule in rules:
        labels = rule.get("labels") or {}
        if match.name is not None and rule.get("name") != match.name:
            continue
        if match.labels and any(labels.get(k) != v for k, v in match.labels.items()):
            continue
        if match.expr_matches is not None and not re.search(
            match.expr_matches, str(rule.get("query", ""))
        ):
            continue
        found.append(rule)
    return found


@dataclass
class Judgement:
    """One covering rule, judged: `problems` empty means sound."""

    rule: dict[str, Any]
    metrics: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    pending: bool = False  # not evaluated yet (health `unknown`)

    @property
    def sound(self) -> bool:
        return not self.problems and not self.pending

    def evidence(self) -> dict[str, Any]:
        return {
            "alert": self.rule.get("name"),
            "group": self.rule.get("group"),
            "file": self.rule.get("file"),
            "expr": self.rule.get("query"),
            "for_s": self.rule.get("duration"),
            "labels": self.rule.get("labels") or {},
            "health": self.rule.get("health"),
            "state": self.rule.get("state"),
            "last_error": self.rule.get("lastError") or None,
            "metrics": self.metrics,
            "problems": self.problems,
        }


def judge(rule: dict[str, Any], known_metrics: set[str]) -> Judgement:
    judgement = Judgement(rule)
    health = rule.get("health")
    if health == "err":
        judgement.problems.append(
            f"Prometheus fails to evaluate it: {rule.get('lastError') or 'no error text'}"
        )
    elif health == "unknown":
        judgement.pending = True
    elif health != "ok":
        judgement.problems.append(f"its health is {health!r}, not ok")
    try:
        names = sorted(metric_names(str(rule.get("query", ""))))
    except PromqlError as exc:
        judgement.problems.append(str(exc))
        return judgement
    judgement.metrics = names
    real = [n for n in names if n not in SYNTHETIC]
    if not real:
        judgement.problems.append("its expression reads no metric of the application")
    for name in real:
        if name not in known_metrics:
            close = difflib.get_close_matches(name, sorted(known_metrics), n=3, cutoff=0.6)
            hint = f" (closest: {', '.join(close)})" if close else ""
            judgement.problems.append(f"metric {name} does not exist in Prometheus{hint}")
    return judgement
