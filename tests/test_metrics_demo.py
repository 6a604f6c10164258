"""The demo on the success metrics: its go-live is 15 minutes before the run (its setup
writes GOLIVE_DEMO_GO_LIVE) and its traffic is played inside every window, so its
post-deploy metric items judge that traffic — as of the tests' fixed --now too (the
sandbox's clock dates it there) — and the day-against-week comparison has no baseline yet."""

from __future__ import annotations

from pathlib import Path

from gatekit import demo_copy, gate

ITEMS = (
    "week-1.payment-success-rate",
    "metrics.refund-rate",
    "post-deployment.webhook-delivery",
    "daily-operations.dashboard-anomalies",
)


def test_the_demo_judges_the_traffic_it_played(tmp_path: Path) -> None:
    selection = [arg for item in ITEMS for arg in ("--item", item)]
    run = gate(demo_copy(tmp_path), tmp_path / "out", "--phase", "post-deploy", *selection)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outcomes() == {
        "week-1.payment-success-rate": "pass",
        "metrics.refund-rate": "pass",
        "post-deployment.webhook-delivery": "pass",
        "daily-operations.dashboard-anomalies": "not-run",
    }, run.stdout
    [success] = [e for e in run.evidence("week-1.payment-success-rate") if "samples" in e]
    assert success["samples"] == 150 and success["open"] is True  # the window runs on
    assert (
        "no day before it to compare with"
        in run.item("daily-operations.dashboard-anomalies")["reason"]
    )
