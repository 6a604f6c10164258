"""Post-deploy windows: anchored on the profile's go-live, or rolling back from the run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from golive.profile.postdeploy import PostDeploy, WindowNotStarted, parse_duration, window

GO_LIVE = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_an_anchored_window_still_open_ends_at_the_run() -> None:
    now = GO_LIVE + timedelta(days=3)
    week = window("week-1", now, GO_LIVE)
    assert (week.start, week.end, week.open) == (GO_LIVE, now, True)


def test_an_anchored_window_that_closed_keeps_its_length() -> None:
    now = GO_LIVE + timedelta(days=40)
    month = window("month-1", now, GO_LIVE)
    assert (month.end - month.start, month.open) == (timedelta(days=30), False)


def test_a_window_before_go_live_is_not_started() -> None:
    with pytest.raises(WindowNotStarted, match="after the run's time"):
        window("week-1", GO_LIVE - timedelta(hours=1), GO_LIVE)


def test_anchored_windows_need_go_live_and_rolling_ones_do_not() -> None:
    with pytest.raises(ValueError, match="post_deploy.go_live"):
        window("quarter-1", GO_LIVE, None)
    day = window("last-24h", GO_LIVE, None)
    assert day.end - day.start == timedelta(days=1)
    with pytest.raises(ValueError, match="unknown window"):
        window("fortnight", GO_LIVE, GO_LIVE)


def test_go_live_is_read_as_utc_and_durations_parse() -> None:
    naive = PostDeploy.model_validate({"go_live": "2026-12-01T09:00:00"})
    assert naive.go_live == GO_LIVE
    assert parse_duration("30m") == timedelta(minutes=30)
    assert parse_duration("2w") == timedelta(days=14)
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")


def test_go_live_may_come_from_the_targets_env() -> None:
    block = PostDeploy.model_validate({"go_live_env": "DEPLOYED_AT"})
    assert block.anchor({"DEPLOYED_AT": "2026-12-01T09:00:00Z"}) == GO_LIVE
    with pytest.raises(ValueError, match="DEPLOYED_AT, which the target's env does not set"):
        block.anchor({})
    with pytest.raises(ValueError, match="not an ISO 8601"):
        block.anchor({"DEPLOYED_AT": "yesterday"})
    with pytest.raises(ValueError, match="exactly one of go_live and go_live_env"):
        PostDeploy.model_validate({})
