"""The watch loop: measure every metric on every tick until the duration ends or a rollback
trigger fails; Ctrl-C or SIGTERM ends it early with what was measured so far.

Each tick's window ends at the tick and starts at the watch's `since` (by default the
moment the watch began) or `lookback` before the tick, whichever is later. The loop is
bounded: at most duration / interval + 1 ticks, and no tick waits past the duration.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from golive.timeutil import utcnow
from golive.watch.analysis import RUNNING, Analysis, Measurement, Reading, Rule, judge

# A metric's source: (window start, window end) -> what it measured (or it raises).
Source = Callable[[datetime, datetime], Reading]


@dataclass
class Plan:
    rules: list[Rule]
    sources: dict[str, Source]
    duration: timedelta
    interval: timedelta
    lookback: timedelta | None = None


@dataclass
class WatchResult:
    plan: Plan
    started: datetime
    since: datetime
    analysis: Analysis
    verdict: str = RUNNING
    reasons: list[str] = field(default_factory=list)
    ticks: int = 0
    ended: datetime | None = None
    interrupted: bool = False


def tick(result: WatchResult, at: datetime) -> list[Measurement]:
    """Measure every metric once, as of `at`."""
    plan = result.plan
    start = result.since
    if plan.lookback is not None:
        start = max(start, at - plan.lookback)
    out = []
    for rule in plan.rules:
        try:
            reading: Reading | Exception = plan.sources[rule.name](start, at)
        except Exception as exc:  # noqa: BLE001 - any provider failure is an `error` measurement
            reading = exc
        measurement = judge(rule, at, reading)
        result.analysis.add(measurement)
        out.append(measurement)
    result.ticks += 1
    return out


def run(
    plan: Plan,
    *,
    since: datetime | None = None,
    now: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    on_tick: Callable[[WatchResult, list[Measurement]], None] | None = None,
) -> WatchResult:
    """Tick every `interval` for `duration`; stop at the first rollback."""
    started = now()
    result = WatchResult(plan, started, since or started, Analysis(plan.rules))
    deadline = started + plan.duration
    try:
        while True:
            at = now()
            measurements = tick(result, at)
            finished = at >= deadline
            result.verdict, result.reasons = result.analysis.verdict(finished)
            if on_tick is not None:
                on_tick(result, measurements)
            if result.verdict != RUNNING:
                break
            wait = min(plan.interval, deadline - now()).total_seconds()
            if wait > 0:
                sleep(wait)
    except KeyboardInterrupt:
        result.interrupted = True
        result.reasons = ["interrupted (Ctrl-C or SIGTERM) before the watch ended"]
    result.ended = now()
    return result
