"""The profile's `post_deploy:` block: when the target went live, and the windows the
post-deploy items are judged over.

```yaml
post_deploy:
  go_live: 2026-12-01T09:00:00Z   # when production started taking payments (UTC)
  # go_live_env: DEPLOYED_AT      # or: read it from the target's env (e.g. set by CI)
```

The checklist's success metrics name windows anchored on that moment (`first-hour`,
`week-1`, `month-1`, `quarter-1`) and rolling windows that end at the run's time
(`last-24h`, `last-7d`, `last-30d`). A window still open when golive runs is judged on the
data so far and says so in the evidence (`open: true`); a window that starts after the
run's time is not-run (nothing can be known yet).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from golive.timeutil import as_utc, in_range, parse_utc

PROFILE_KEY = "post_deploy"

# Windows anchored on go-live: (offset from go-live, length).
ANCHORED: dict[str, timedelta] = {
    "first-hour": timedelta(hours=1),
    "first-day": timedelta(days=1),
    "week-1": timedelta(days=7),
    "month-1": timedelta(days=30),
    "quarter-1": timedelta(days=90),
}
# Rolling windows ending at the run's time.
ROLLING: dict[str, timedelta] = {
    "last-1h": timedelta(hours=1),
    "last-24h": timedelta(days=1),
    "last-7d": timedelta(days=7),
    "last-30d": timedelta(days=30),
}
WINDOWS = tuple(ANCHORED) + tuple(ROLLING)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class PostDeploy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    go_live: datetime | None = Field(
        None,
        description="When production started taking payments (ISO 8601, UTC if no zone); "
        "the week-1, month-1 and quarter-1 windows start here",
    )
    go_live_env: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Instead of go_live: the name of a variable of the target's env holding "
        "it (ISO 8601), e.g. set by the deploy job",
    )

    @field_validator("go_live")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else as_utc(in_range(value))

    @model_validator(mode="after")
    def _one_anchor(self) -> PostDeploy:
        if (self.go_live is None) == (self.go_live_env is None):
            raise ValueError("give exactly one of go_live and go_live_env")
        return self

    def anchor(self, env: Mapping[str, str]) -> datetime:
        """The go-live moment; ValueError naming the variable when the env lacks it or it
        is not an ISO 8601 time."""
        if self.go_live is not None:
            return self.go_live
        assert self.go_live_env is not None
        text = env.get(self.go_live_env)
        if not text:
            raise ValueError(
                f"post_deploy.go_live_env names {self.go_live_env}, which the target's env "
                "does not set"
            )
        try:
            return parse_utc(text)
        except ValueError as exc:
            raise ValueError(f"{self.go_live_env} (post_deploy.go_live_env): {exc}") from None


class WindowNotStarted(Exception):
    """The window starts after the run's time: nothing in it can be judged yet."""


@dataclass(frozen=True)
class Window:
    """A half-open time range [start, end) the post-deploy data is taken from."""

    name: str
    start: datetime
    end: datetime
    open: bool  # the window's nominal end is after the run's time: judged on data so far

    def evidence(self) -> dict[str, Any]:
        return {
            "window": self.name,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "open": self.open,
        }


def window(name: str, now: datetime, go_live: datetime | None) -> Window:
    """The window `name` as of `now`. Anchored windows need `go_live` (ValueError without
    it, naming the profile key) and raise WindowNotStarted when go-live is after `now`."""
    now = as_utc(now)
    if name in ROLLING:
        return Window(name, now - ROLLING[name], now, open=False)
    if name not in ANCHORED:
        raise ValueError(f"unknown window {name!r}; known: {', '.join(WINDOWS)}")
    if go_live is None:
        raise ValueError(f"the {name} window needs post_deploy.go_live in the target profile")
    start = as_utc(go_live)
    if start > now:
        raise WindowNotStarted(
            f"go-live ({start.isoformat()}) is after the run's time ({now.isoformat()})"
        )
    nominal_end = start + ANCHORED[name]
    return Window(name, start, min(nominal_end, now), open=nominal_end > now)


def parse_duration(text: str) -> timedelta:
    """`90s`, `30m`, `24h`, `7d`, `2w` as a timedelta; ValueError saying the form."""
    match = _DURATION.match(str(text))
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"not a duration: {text!r} (write e.g. 90s, 30m, 24h, 7d, 2w)")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
