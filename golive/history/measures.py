"""The numbers a check measured against a threshold, found in its evidence.

Checks record them in one of two shapes (no item id is known here):

- an entry with a number at `observed` or `observed_<unit>` (`observed_ms`, `observed_days`),
  judged by the threshold expression at `threshold` in the same entry or, failing that, in
  the nearest earlier entry of the same check (`load.*`, `webhook.fast-ack`,
  `api.https-hsts`, `monitoring.*`, the reconcile checks). The metric is named by the entry's
  `metric`, else by the name written before the expression (`"error_rate: rate<0.05"`,
  `"hsts_max_age_days value>=180"`), else by the key;
- an entry with `thresholds: {name: "<expression>: <value>"}` (golive/metrics/model.py's
  judgement, the `metrics.*` and `e2e.*` latency checks).

A list at `observed` (one number per series) is not one measured value and is left out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from golive import thresholds
from golive.results import ItemResult

# An expression at the end of a text, with an optional name before it.
_NAMED = re.compile(
    r"^\s*(?P<name>.*?)[\s:]*(?P<expr>(?:p\(\d+(?:\.\d+)?\)|avg|min|max|med|rate|count|value)"
    r"\s*(?:<=|>=|==|!=|<|>)\s*-?\d+(?:\.\d+)?)\s*$"
)
# "p(95)<2000: 67.3" or "rate>0.95: 0.97 (breached)"
_JUDGED = re.compile(r"^(?P<threshold>.+?):\s*(?P<value>-?[\d.]+(?:e[-+]?\d+)?)\b")


@dataclass(frozen=True)
class Measure:
    check: str
    metric: str
    threshold: str | None
    value: float

    @property
    def label(self) -> str:
        return f"{self.check} {self.metric}"


def of_item(item: ItemResult) -> dict[str, Measure]:
    """`check metric` -> what was measured, for every check of the item; a label met twice
    in one item gets `#2`, `#3` (in evidence order, the same in every run of a check)."""
    found: dict[str, Measure] = {}
    for check in item.checks:
        for measure in _of_check(check.ref, check.evidence):
            label, n = measure.label, 1
            while label in found:
                n += 1
                label = f"{measure.label} #{n}"
            found[label] = measure
    return found


def direction(threshold: str | None) -> int:
    """+1 when a larger value is better (`>`, `>=`), -1 when smaller is, 0 when unknown."""
    if not threshold:
        return 0
    match = _NAMED.match(threshold)
    if not match:
        return 0
    try:
        op = thresholds.parse(match["expr"]).op
    except thresholds.ThresholdSyntaxError:
        return 0
    return {"<": -1, "<=": -1, ">": 1, ">=": 1}.get(op, 0)


def _of_check(ref: str, evidence: Iterable[Any]) -> list[Measure]:
    found: list[Measure] = []
    last_expr: str | None = None  # the nearest earlier entry's threshold
    last_name: str | None = None
    for entry in evidence:
        if not isinstance(entry, Mapping):
            continue
        found += _judged(ref, entry.get("thresholds"))
        named = _split(entry.get("threshold"))
        if named is not None:
            last_expr = named[1]
            last_name = named[0] or last_name
        for key, value in entry.items():
            if key != "observed" and not key.startswith("observed_"):
                continue
            number = _number(value)
            if number is None:
                continue
            metric = entry.get("metric")
            if not isinstance(metric, str) or not metric:
                metric = (named[0] if named else None) or last_name or key
            variant = entry.get("variant")
            if isinstance(variant, str) and variant:
                metric = f"{metric} ({variant})"
            found.append(Measure(ref, metric, last_expr, number))
    return found


def _judged(ref: str, judged: Any) -> list[Measure]:
    if not isinstance(judged, Mapping):
        return []
    found = []
    for name, text in judged.items():
        match = _JUDGED.match(text) if isinstance(text, str) else None
        number = _number(match["value"]) if match else None
        if match and number is not None:
            found.append(Measure(ref, str(name), match["threshold"].strip(), number))
    return found


def _split(text: Any) -> tuple[str, str] | None:
    """(name, expression) of a threshold text; None when it holds no expression."""
    if not isinstance(text, str):
        return None
    match = _NAMED.match(text)
    return (match["name"].strip(), match["expr"]) if match else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None
