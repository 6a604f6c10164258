"""The demo on the success metrics: it does not go live (post_deploy.go_live is past every
run's time), so its post-deploy metric items are not-run, on any day, whatever its
sandbox holds."""

from __future__ import annotations

from pathlib import Path

from gatekit import demo_copy, gate

ITEMS = (
    "week-1.payment-success-rate",
    "metrics.refund-rate",
    "post-deployment.webhook-delivery",
    "daily-operations.dashboard-anomalies",
)


def test_the_demo_has_not_gone_live(tmp_path: Path) -> None:
    selection = [arg for item in ITEMS for arg in ("--item", item)]
    run = gate(demo_copy(tmp_path), tmp_path / "out", "--phase", "post-deploy", *selection)
    assert run.outcomes() == dict.fromkeys(ITEMS, "not-run"), run.stdout
    assert run.returncode == 1  # post-deployment.webhook-delivery is a blocker
    reason = run.item("week-1.payment-success-rate")["reason"]
    assert reason == (
        "the week-1 window has not started: go-live (2099-12-31T00:00:00+00:00) is after the "
        "run's time (2026-11-26T12:00:00+00:00)"
    )
    assert run.item("metrics.refund-rate")["reason"].startswith(
        "the last-7d window has not started: go-live (2099-12-31"
    )
