"""The watch's judgement, as Argo Rollouts' AnalysisRun judges a canary.

Every tick measures each metric once. A measurement is one of:

- `successful`   the metric's threshold held;
- `failed`       it did not;
- `inconclusive` too few samples to judge (fewer than the metric's `min_samples`);
- `error`        golive could not measure (provider unreachable, a query that failed).

A metric is **failed** once its failed measurements exceed `failure_limit` (Argo's
failureLimit: 0 means the first failure fails it), or once more than
`consecutive_failure_limit` failed in a row (when given); **errored** once more than
`consecutive_error_limit` errors came in a row (Argo's consecutiveErrorLimit, default 4):
golive could no longer see the rollout, which never counts as healthy.

A metric with `role: trigger` (a rollback trigger) decides the verdict; a `role: target`
metric (a post-deploy threshold such as success >95 %) is shown and reported but only
warns. The verdict:

- ROLLBACK      a trigger metric failed or errored (the watch stops at once, as Argo aborts);
- PROMOTE       the watch ran its duration and every trigger had at least one successful
                measurement and no failure beyond its limits;
- INCONCLUSIVE  the watch ran its duration but some trigger was never judged (only
                inconclusive measurements: no traffic) — a person decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from golive.thresholds import NoSamplesError, Threshold

Phase = Literal["successful", "failed", "inconclusive", "error"]
Role = Literal["trigger", "target"]
PROMOTE, ROLLBACK, INCONCLUSIVE, RUNNING = "PROMOTE", "ROLLBACK", "INCONCLUSIVE", "RUNNING"


@dataclass(frozen=True)
class Rule:
    """How one metric is judged on each tick."""

    name: str
    threshold: Threshold
    role: Role = "trigger"
    failure_limit: int = 0
    consecutive_failure_limit: int | None = None
    consecutive_error_limit: int = 4
    min_samples: int = 1


@dataclass(frozen=True)
class Reading:
    """What a provider measured: boolean or numeric samples (a rate over payments, say), or
    one value (a PromQL result); `detail` is evidence (ids, counts, the query)."""

    samples: list[float | bool] | None = None
    value: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    # Problems no threshold sees (no enabled webhook endpoint, say): the measurement fails.
    findings: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        if self.samples is not None:
            return len(self.samples)
        return 0 if self.value is None else 1


@dataclass(frozen=True)
class Measurement:
    metric: str
    at: datetime
    phase: Phase
    observed: float | None
    samples: int
    message: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "at": self.at.isoformat(),
            "phase": self.phase,
            "observed": self.observed,
            "samples": self.samples,
            "message": self.message,
            "detail": self.detail,
        }


def judge(rule: Rule, at: datetime, reading: Reading | Exception) -> Measurement:
    """One measurement of `rule`'s metric from what the provider returned (or raised)."""
    if isinstance(reading, Exception):
        return Measurement(rule.name, at, "error", None, 0, f"{type(reading).__name__}: {reading}")
    if reading.count < rule.min_samples:
        return Measurement(
            rule.name,
            at,
            "inconclusive",
            None,
            reading.count,
            f"{reading.count} sample(s), fewer than the {rule.min_samples} needed to judge",
            reading.detail,
        )
    if reading.findings:
        return Measurement(
            rule.name,
            at,
            "failed",
            None,
            reading.count,
            "; ".join(reading.findings),
            reading.detail,
        )
    try:
        if reading.samples is not None:
            held, observed = rule.threshold.evaluate(reading.samples)
        else:
            assert reading.value is not None
            observed = float(reading.value)
            held = rule.threshold.holds(observed)
    except NoSamplesError as exc:
        return Measurement(rule.name, at, "inconclusive", None, 0, str(exc), reading.detail)
    phase: Phase = "successful" if held else "failed"
    verb = "holds" if held else "breached"
    return Measurement(
        rule.name,
        at,
        phase,
        observed,
        reading.count,
        f"{rule.threshold.expression} {verb}: observed {observed:.4g}",
        reading.detail,
    )


@dataclass
class MetricState:
    rule: Rule
    measurements: list[Measurement] = field(default_factory=list)

    def add(self, measurement: Measurement) -> None:
        self.measurements.append(measurement)

    def count(self, phase: Phase) -> int:
        return sum(1 for m in self.measurements if m.phase == phase)

    def _run_of(self, phase: Phase) -> int:
        run = 0
        for m in reversed(self.measurements):
            if m.phase != phase:
                break
            run += 1
        return run

    def status(self) -> tuple[str, str]:
        """("failed" | "errored" | "ok" | "unjudged", why)."""
        rule = self.rule
        failed = self.count("failed")
        if failed > rule.failure_limit:
            return "failed", f"{failed} failed measurement(s), failure_limit {rule.failure_limit}"
        streak = self._run_of("failed")
        limit = rule.consecutive_failure_limit
        if limit is not None and streak > limit:
            return "failed", f"{streak} failed in a row, consecutive_failure_limit {limit}"
        errors = self._run_of("error")
        if errors > rule.consecutive_error_limit:
            return "errored", (
                f"{errors} measurements in a row could not be taken "
                f"(consecutive_error_limit {rule.consecutive_error_limit}): "
                f"{self.measurements[-1].message}"
            )
        if self.count("successful") == 0:
            return "unjudged", "no measurement could be judged yet"
        return "ok", f"{self.count('successful')} successful, {failed} failed"


@dataclass
class Analysis:
    """Every metric's measurements so far, and the verdict they make."""

    rules: list[Rule]
    metrics: dict[str, MetricState] = field(init=False)

    def __post_init__(self) -> None:
        self.metrics = {rule.name: MetricState(rule) for rule in self.rules}

    def add(self, measurement: Measurement) -> None:
        self.metrics[measurement.metric].add(measurement)

    def verdict(self, finished: bool) -> tuple[str, list[str]]:
        """(PROMOTE | ROLLBACK | INCONCLUSIVE | RUNNING, the reasons). ROLLBACK as soon as a
        trigger fails or errors; the other two only once the watch has run its duration."""
        reasons: list[str] = []
        unjudged: list[str] = []
        for state in self.metrics.values():
            status, why = state.status()
            if state.rule.role != "trigger":
                continue
            if status in ("failed", "errored"):
                reasons.append(f"{state.rule.name}: {why}")
            elif status == "unjudged":
                unjudged.append(f"{state.rule.name}: {why}")
        if reasons:
            return ROLLBACK, reasons
        if not finished:
            return RUNNING, []
        if unjudged:
            return INCONCLUSIVE, unjudged
        return PROMOTE, ["every rollback trigger held"]

    def warnings(self) -> list[str]:
        """Post-deploy targets (role: target) that failed: reported, never a rollback."""
        out = []
        for state in self.metrics.values():
            status, why = state.status()
            if state.rule.role == "target" and status in ("failed", "errored"):
                out.append(f"{state.rule.name}: {why}")
        return out
