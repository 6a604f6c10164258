"""The metric provider's own rules, without a server: windows clipped at go-live, and how
a measurement is judged (too few samples is an error, findings fail)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from golive.metrics import Measurement, NoSamplesError, evaluate, metric_window
from golive.metrics.fees import check_source, read
from golive.metrics.stripe_source import created_range
from golive.profile.postdeploy import Window, WindowNotStarted

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_rolling_windows_start_no_earlier_than_go_live() -> None:
    live = NOW - timedelta(hours=3)
    clipped = metric_window("last-7d", NOW, live)
    assert (clipped.start, clipped.end, clipped.open) == (live, NOW, False)
    # Without a go-live, or with one long ago, the window is the whole 7 days.
    assert metric_window("last-7d", NOW, None).start == NOW - timedelta(days=7)
    assert metric_window("last-7d", NOW, NOW - timedelta(days=30)).start == NOW - timedelta(days=7)


def test_every_window_waits_for_a_go_live_after_the_run() -> None:
    for name in ("last-24h", "week-1"):
        with pytest.raises(WindowNotStarted, match="is after the run's time"):
            metric_window(name, NOW, NOW + timedelta(hours=1))


def test_an_anchored_window_without_go_live_names_the_key() -> None:
    with pytest.raises(ValueError, match="needs post_deploy.go_live"):
        metric_window("month-1", NOW, None)


def test_the_created_range_covers_whole_seconds() -> None:
    start = datetime(2026, 12, 1, 0, 0, 0, 500000, tzinfo=UTC)
    span = created_range(Window("x", start, NOW, open=False))
    # An object created in the second 00:00:00 came before 00:00:00.5: left out.
    assert span == {"gte": int(start.timestamp()) + 1, "lt": int(NOW.timestamp())}


def _rate(values: list[bool], *findings: str) -> Measurement:
    return Measurement("payment_success_rate", None, values, {}, findings)


def test_evaluate_judges_the_metric_and_the_sample_floor() -> None:
    healthy = evaluate(_rate([True] * 19 + [False]), {"payment_success_rate": "rate>0.9"})
    assert healthy.passed and healthy.results == {"payment_success_rate": "rate>0.9: 0.95"}
    poor = evaluate(_rate([True, False]), {"payment_success_rate": "rate>0.9"})
    assert not poor.passed
    assert poor.problems == [
        "payment_success_rate rate>0.9 breached: measured 0.5 over 2 sample(s)"
    ]
    with pytest.raises(NoSamplesError, match="no samples"):
        evaluate(_rate([]), {"payment_success_rate": "rate>0.9"})
    with pytest.raises(NoSamplesError, match=r"2 sample\(s\) in the window, fewer than"):
        evaluate(_rate([True, True]), {"payment_success_rate": "rate>0.9", "samples": "count>=3"})


def test_a_finding_fails_whatever_the_thresholds_say() -> None:
    judged = evaluate(_rate([True] * 5, "no enabled webhook endpoint"), {"x": "rate>0.5"})
    assert not judged.passed and judged.problems == ["no enabled webhook endpoint"]


def test_fee_sources() -> None:
    charge = {"application_fee_amount": 120, "amount": 1200, "metadata": {"fee": "99", "x": "a"}}
    assert read(charge, "application_fee_amount") == 120
    assert read(charge, "metadata.fee") == 99
    assert read(charge, "metadata.x") is None and read(charge, "metadata.none") is None
    assert check_source("metadata.platform_fee") == "metadata.platform_fee"
    with pytest.raises(ValueError, match="metadata.<key>"):
        check_source("fee")
