"""The window a metric is measured over: golive/profile/postdeploy.py's `window()`, with
rolling windows clipped at go-live.

    post_deploy: {go_live: 2026-12-01T09:00:00Z}

`week-1`, `month-1`, `quarter-1`, `first-day` start at go-live (they need it: without
`post_deploy.go_live` the check is an error naming the key). `last-24h`, `last-7d`, … end
at the run's time; when the profile names a go-live they start no earlier than it (the
traffic before go-live is not production's), and a go-live after the run's time makes
every window not started yet (not-run).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from golive.profile.postdeploy import ROLLING, PostDeploy, Window, WindowNotStarted, window
from golive.timeutil import as_utc


def go_live(block: dict[str, Any] | None, env: Mapping[str, str]) -> datetime | None:
    """The profile's go-live moment (None without a `post_deploy` block); ValueError naming
    post_deploy.go_live_env when the env lacks it."""
    if block is None:
        return None
    return PostDeploy.model_validate(block).anchor(env)


def metric_window(name: str, now: datetime, anchor: datetime | None) -> Window:
    """The window `name` as of `now` (ValueError, WindowNotStarted: see postdeploy.window)."""
    found = window(name, now, anchor)
    if name in ROLLING and anchor is not None:
        start = as_utc(anchor)
        if start > found.end:
            raise WindowNotStarted(
                f"go-live ({start.isoformat()}) is after the run's time ({found.end.isoformat()})"
            )
        if start > found.start:
            return replace(found, start=start)
    return found
