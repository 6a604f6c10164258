"""What a metric measurement is, and how an item's thresholds judge it.

A Measurement holds the samples a k6-style threshold is evaluated over (golive/thresholds.py):
one boolean per charge or event for a rate (`rate>0.95`), one amount per charge for an
average (`avg>500`); `samples: count>=N` asks for at least N of them.

    judgement = evaluate(measurement, {"payment_success_rate": "rate>0.95",
                                       "samples": "count>=20"})

Zero samples, or fewer than `samples:` asks for, raise NoSamplesError: too little data to
judge is an error, never a pass (k6 lets a threshold with no data through).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from golive import thresholds
from golive.thresholds import NoSamplesError

SAMPLES = "samples"  # the threshold name that bounds the number of samples from below


class MetricInputError(ValueError):
    """The metric cannot be computed as asked (e.g. charges in several currencies and no
    `currency` to choose one): golive's own problem, an error."""


@dataclass(frozen=True)
class Measurement:
    """One metric over one window: its headline value, the samples thresholds evaluate,
    and the evidence (window, counts, the ids of a few failures).

    `findings` are problems no threshold sees (e.g. no enabled webhook endpoint, which
    makes every event look delivered): a measurement with findings fails whatever the
    thresholds say."""

    metric: str
    value: float | None
    values: Sequence[float | bool]
    evidence: dict[str, Any]
    findings: tuple[str, ...] = ()
    # What `samples:` counts when it is not the values themselves (a comparison's single
    # value stands for the charges it was computed from).
    sample_count: int | None = None

    @property
    def samples(self) -> int:
        return len(self.values) if self.sample_count is None else self.sample_count


@dataclass
class Judgement:
    passed: bool
    results: dict[str, str] = field(default_factory=dict)  # name -> "rate>0.95: 0.97"
    problems: list[str] = field(default_factory=list)  # what failed, with the numbers


def evaluate(measurement: Measurement, expressions: Mapping[str, str]) -> Judgement:
    """Judge `measurement` by the thresholds named after its metric (and `samples`).

    NoSamplesError when there are no samples, or fewer than `samples:` asks for."""
    n = measurement.samples
    if n == 0:
        raise NoSamplesError(f"{measurement.metric}: no samples in the window")
    judgement = Judgement(passed=True)
    if SAMPLES in expressions:
        floor = thresholds.parse(expressions[SAMPLES])
        if not floor.holds(float(n)):
            raise NoSamplesError(
                f"{measurement.metric}: {n} sample(s) in the window, fewer than "
                f"`samples: {floor.expression}` asks for: too little data to judge"
            )
        judgement.results[SAMPLES] = f"{floor.expression}: {n}"
    if measurement.metric in expressions:
        threshold = thresholds.parse(expressions[measurement.metric])
        passed, observed = threshold.evaluate(measurement.values)
        judgement.results[measurement.metric] = f"{threshold.expression}: {observed:.6g}" + (
            "" if passed else " (breached)"
        )
        if not passed:
            judgement.problems.append(
                f"{measurement.metric} {threshold.expression} breached: measured "
                f"{observed:.4g} over {n} sample(s)"
            )
    judgement.problems.extend(measurement.findings)
    judgement.passed = not judgement.problems
    return judgement


__all__ = ["SAMPLES", "Judgement", "Measurement", "MetricInputError", "NoSamplesError", "evaluate"]
