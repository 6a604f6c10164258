"""Anomalies: the last window's decline rate against the baseline of the days before it
(daily-operations.dashboard-anomalies: what a person looks for on the Dashboard each
morning).

    decline_rate_change = failed_payment_rate(window) - failed_payment_rate(baseline)

in rate points (0.05 is five points more than usual), judged with `value<…`. The baseline
is the `baseline_days` (default 7) before the window's start, from go-live at the
earliest; `samples:` counts the window's charges. A window or a baseline without charges
cannot be compared: NoSamplesError (an error). A baseline that go-live leaves empty (the
deployment is younger than the window) has not started: WindowNotStarted (not-run).

Disputes are left out on purpose: they arrive weeks after their charge, so a day's
dispute rate against last week's says nothing about that day (the weekly fraud review and
quarter-1's fraud rate judge them).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from golive.metrics import payments
from golive.metrics.model import Measurement, NoSamplesError
from golive.metrics.stripe_source import StripeData
from golive.profile.postdeploy import Window, WindowNotStarted
from golive.timeutil import as_utc


def baseline_of(window: Window, days: int, go_live: datetime | None) -> Window:
    start = window.start - timedelta(days=days)
    if go_live is not None:
        start = max(start, as_utc(go_live))
        if start >= window.start:
            raise WindowNotStarted(
                f"the baseline before the {window.name} window starts at go-live "
                f"({as_utc(go_live):%Y-%m-%d %H:%M} UTC): no day before it to compare with"
            )
    return Window(f"{days}d before {window.name}", min(start, window.start), window.start, False)


def _change(
    metric: str, now: Measurement, before: Measurement, window: Window, baseline: Window
) -> Measurement:
    if now.value is None:
        raise NoSamplesError(f"{metric}: no charges in the {window.name} window to compare")
    if before.value is None:
        raise NoSamplesError(
            f"{metric}: no charges in the baseline ({baseline.start:%Y-%m-%d %H:%M} to "
            f"{baseline.end:%Y-%m-%d %H:%M} UTC) to compare the {window.name} window with"
        )
    change = now.value - before.value
    keep = ("failures", "decline_codes", "flagged")
    evidence = {
        "metric": metric,
        **window.evidence(),
        "definition": f"{now.metric} of the window - {before.metric} of the baseline (rate points)",
        "rate": round(now.value, 4),
        "baseline_rate": round(before.value, 4),
        "change": round(change, 4),
        "samples_in_window": now.samples,
        "samples_in_baseline": before.samples,
        "baseline": {"from": baseline.start.isoformat(), "to": baseline.end.isoformat()},
        **{key: now.evidence[key] for key in keep if key in now.evidence},
    }
    return Measurement(metric, change, [change], evidence, sample_count=now.samples)


def decline_rate_change(
    data: StripeData, window: Window, *, baseline_days: int = 7, go_live: datetime | None = None
) -> Measurement:
    baseline = baseline_of(window, baseline_days, go_live)
    now = payments.failed_payment_rate(data, window)
    before = payments.failed_payment_rate(data, baseline)
    return _change("decline_rate_change", now, before, window, baseline)


__all__ = ["baseline_of", "decline_rate_change"]
