"""The watch's Argo-style judgement: limits, streaks, roles and verdicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from golive.thresholds import parse
from golive.watch.analysis import (
    INCONCLUSIVE,
    PROMOTE,
    ROLLBACK,
    RUNNING,
    Analysis,
    Reading,
    Rule,
    judge,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SUCCESS = Rule("payment_success_rate", parse("rate>=0.80"), min_samples=5)


def ticks(analysis: Analysis, rule: Rule, readings: list[Reading | Exception]) -> None:
    for n, reading in enumerate(readings):
        analysis.add(judge(rule, T0 + timedelta(minutes=n), reading))


def rate(ok: int, bad: int) -> Reading:
    return Reading(samples=[True] * ok + [False] * bad)


def test_a_healthy_hour_promotes() -> None:
    analysis = Analysis([SUCCESS])
    ticks(analysis, SUCCESS, [rate(9, 1), rate(18, 2), rate(40, 3)])
    assert analysis.verdict(finished=False) == (RUNNING, [])
    verdict, reasons = analysis.verdict(finished=True)
    assert verdict == PROMOTE, reasons


def test_the_first_failure_rolls_back_under_the_default_failure_limit() -> None:
    analysis = Analysis([SUCCESS])
    ticks(analysis, SUCCESS, [rate(9, 1), rate(7, 3)])
    verdict, reasons = analysis.verdict(finished=False)
    assert verdict == ROLLBACK
    assert "1 failed measurement(s), failure_limit 0" in reasons[0]
    last = analysis.metrics[SUCCESS.name].measurements[-1]
    assert (last.phase, last.observed) == ("failed", 0.7)
    assert "rate>=0.80 breached: observed 0.7" in last.message


def test_failure_limit_and_consecutive_failures() -> None:
    lenient = Rule("s", parse("rate>=0.80"), failure_limit=3, consecutive_failure_limit=1)
    analysis = Analysis([lenient])
    ticks(analysis, lenient, [rate(1, 1), rate(9, 1), rate(1, 1)])  # failures apart: tolerated
    assert analysis.verdict(finished=False)[0] == RUNNING
    ticks(analysis, lenient, [rate(1, 1)])  # two in a row: beyond consecutive_failure_limit 1
    verdict, reasons = analysis.verdict(finished=False)
    assert verdict == ROLLBACK and "in a row" in reasons[0]


def test_too_few_samples_is_inconclusive_never_a_pass() -> None:
    analysis = Analysis([SUCCESS])
    ticks(analysis, SUCCESS, [rate(2, 0), Reading(samples=[])])
    assert [m.phase for m in analysis.metrics[SUCCESS.name].measurements] == [
        "inconclusive",
        "inconclusive",
    ]
    verdict, reasons = analysis.verdict(finished=True)
    assert verdict == INCONCLUSIVE and "no measurement could be judged" in reasons[0]


def test_errors_in_a_row_beyond_the_limit_roll_back() -> None:
    rule = Rule("error-rate", parse("value<0.05"), consecutive_error_limit=2)
    analysis = Analysis([rule])
    down = ConnectionError("prometheus at http://127.0.0.1:9 refused")
    ticks(analysis, rule, [Reading(value=0.01), down, down])
    assert analysis.verdict(finished=False)[0] == RUNNING
    ticks(analysis, rule, [down])
    verdict, reasons = analysis.verdict(finished=False)
    assert verdict == ROLLBACK and "could not be taken" in reasons[0] and "refused" in reasons[0]


def test_a_missed_target_warns_without_rolling_back() -> None:
    target = Rule("month_success", parse("rate>0.95"), role="target")
    analysis = Analysis([SUCCESS, target])
    ticks(analysis, SUCCESS, [rate(90, 10)])
    ticks(analysis, target, [rate(90, 10)])
    assert analysis.verdict(finished=True)[0] == PROMOTE
    assert analysis.warnings() == ["month_success: 1 failed measurement(s), failure_limit 0"]


def test_a_single_value_is_judged_as_it_is() -> None:
    rule = Rule("error-rate", parse("value<0.05"))
    assert judge(rule, T0, Reading(value=0.2)).phase == "failed"
    assert judge(rule, T0, Reading(value=0.01)).phase == "successful"


def test_a_finding_fails_the_measurement_whatever_the_samples() -> None:
    finding = "no enabled webhook endpoint: every event would look delivered"
    measured = judge(SUCCESS, T0, Reading(samples=[True] * 10, findings=(finding,)))
    assert (measured.phase, measured.message) == ("failed", finding)
