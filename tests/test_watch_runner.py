"""The watch loop and its reports, with sources that return fixed readings."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

from golive.redact import Redactor
from golive.thresholds import parse
from golive.watch import report
from golive.watch.analysis import PROMOTE, ROLLBACK, Reading, Rule
from golive.watch.runner import Plan, run


class FakeTime:
    """A clock the loop's sleeps advance: the loop runs at once, its ticks spaced as real."""

    def __init__(self) -> None:
        self.t = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += timedelta(seconds=seconds)


def plan_of(readings: list[Reading], duration_s: int = 300, interval_s: int = 60) -> Plan:
    rule = Rule("payment_success_rate", parse("rate>=0.80"), min_samples=3)
    queue = list(readings)
    windows: list[tuple[datetime, datetime]] = []

    def source(start: datetime, end: datetime) -> Reading:
        windows.append((start, end))
        return queue.pop(0) if queue else readings[-1]

    plan = Plan(
        [rule], {rule.name: source}, timedelta(seconds=duration_s), timedelta(seconds=interval_s)
    )
    plan.windows = windows  # type: ignore[attr-defined]
    return plan


def test_a_healthy_watch_ticks_its_duration_and_promotes() -> None:
    clock = FakeTime()
    plan = plan_of([Reading(samples=[True] * 9 + [False])])
    result = run(plan, now=clock.now, sleep=clock.sleep)
    assert result.verdict == PROMOTE
    assert result.ticks == 6  # t=0, 60, …, 300: the last tick at the deadline
    assert clock.slept == [60.0] * 5
    starts = {start for start, _ in plan.windows}  # type: ignore[attr-defined]
    assert starts == {result.started}  # windows from the watch's start


def test_a_breached_trigger_stops_the_watch_at_once() -> None:
    clock = FakeTime()
    plan = plan_of([Reading(samples=[True] * 9), Reading(samples=[True, False, False])])
    result = run(plan, now=clock.now, sleep=clock.sleep)
    assert (result.verdict, result.ticks) == (ROLLBACK, 2)


def test_lookback_bounds_each_window() -> None:
    clock = FakeTime()
    plan = plan_of([Reading(samples=[True] * 5)], duration_s=180)
    plan.lookback = timedelta(seconds=90)
    result = run(plan, now=clock.now, sleep=clock.sleep)
    last_start, last_end = plan.windows[-1]  # type: ignore[attr-defined]
    assert last_end - last_start == timedelta(seconds=90)
    assert result.verdict == PROMOTE


def test_interrupted_watch_writes_a_partial_report(tmp_path: Path) -> None:
    clock = FakeTime()
    plan = plan_of([Reading(samples=[True] * 5)])

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    result = run(plan, now=clock.now, sleep=interrupt)
    assert result.interrupted and result.ticks == 1
    paths = report.write(result, "demo", tmp_path, Redactor([]))
    data = json.loads(paths["json"].read_text())
    assert data["verdict"] == report.INTERRUPTED and data["ticks"] == 1
    assert "INTERRUPTED" in paths["markdown"].read_text()


def test_reports_show_the_rollback_with_a_chart_and_a_junit_failure(tmp_path: Path) -> None:
    clock = FakeTime()
    plan = plan_of([Reading(samples=[True] * 9), Reading(samples=[True, False, False, False])])
    result = run(plan, now=clock.now, sleep=clock.sleep)
    paths = report.write(result, "demo", tmp_path, Redactor([]))
    page = paths["html"].read_text()
    assert "ROLLBACK" in page and "<svg" in page and "rate&gt;=0.80 breached" in page
    suite = ET.fromstring(paths["junit"].read_text())
    assert suite.get("failures") == "1"
    assert suite.find("testcase/failure").get("message").startswith("1 failed")
    data = json.loads(paths["json"].read_text())
    observed = [m["observed"] for m in data["metrics"][0]["measurements"]]
    assert observed == [1.0, 0.25]
