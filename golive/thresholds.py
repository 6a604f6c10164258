"""One threshold language for every numeric target, k6-style.

    p(95)<2000      95th percentile of the samples, in the samples' unit (ms for latencies)
    avg<5000        mean; also min, max, med
    rate>0.95       share of true samples (a success or failure rate), 0..1
    count>=1        number of samples
    value<0.05      a single measured number

Zero samples never pass: k6 lets a threshold with no data through, we call it an error.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass

_OPS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_GRAMMAR = re.compile(
    r"^\s*(?P<agg>p\((?P<pct>\d+(?:\.\d+)?)\)|avg|min|max|med|rate|count|value)\s*"
    r"(?P<op><=|>=|==|!=|<|>)\s*(?P<num>-?\d+(?:\.\d+)?)\s*$"
)


class ThresholdSyntaxError(ValueError):
    pass


class NoSamplesError(ValueError):
    """A threshold evaluated over nothing: an error, never a pass."""


@dataclass(frozen=True)
class Threshold:
    expression: str
    aggregate: str  # "p", "avg", "min", "max", "med", "rate", "count", "value"
    percentile: float | None
    op: str
    limit: float

    def measure(self, samples: Sequence[float | bool]) -> float:
        if not samples:
            raise NoSamplesError(f"{self.expression}: no samples to evaluate")
        if self.aggregate == "count":
            return float(len(samples))
        values = [float(s) for s in samples]
        if self.aggregate == "rate":
            return sum(1.0 for v in values if v) / len(values)
        if self.aggregate == "value":
            return values[-1]
        if self.aggregate == "avg":
            return sum(values) / len(values)
        if self.aggregate == "min":
            return min(values)
        if self.aggregate == "max":
            return max(values)
        if self.aggregate == "med":
            return percentile(values, 50)
        return percentile(values, self.percentile or 0.0)

    def holds(self, observed: float) -> bool:
        return _OPS[self.op](observed, self.limit)

    def evaluate(self, samples: Sequence[float | bool]) -> tuple[bool, float]:
        """(passed, observed value); raises NoSamplesError on empty input."""
        observed = self.measure(samples)
        return self.holds(observed), observed


def parse(expression: str) -> Threshold:
    if not isinstance(expression, str):
        raise ThresholdSyntaxError(f"threshold must be a string, got {expression!r}")
    match = _GRAMMAR.match(expression)
    if not match:
        raise ThresholdSyntaxError(
            f"malformed threshold {expression!r}: expected e.g. 'p(95)<2000', 'rate<0.05', "
            "'count>=1' (aggregates: p(N), avg, min, max, med, rate, count, value)"
        )
    pct = match["pct"]
    if pct is not None and not 0 <= float(pct) <= 100:
        raise ThresholdSyntaxError(f"percentile out of range in {expression!r}")
    agg = "p" if pct is not None else match["agg"]
    limit = float(match["num"])
    if agg == "rate" and not 0 <= limit <= 1:
        raise ThresholdSyntaxError(f"a rate is between 0 and 1 in {expression!r}")
    return Threshold(expression.strip(), agg, float(pct) if pct else None, match["op"], limit)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile, as k6 and Locust report them."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
