"""Each user's rate-limit quota: golive never makes a user go over what the app allows
(`traffic.quota_per_min`), so the traffic measures payments, not the app's limiter."""

from __future__ import annotations

import threading
import time
from collections import deque

WINDOW_S = 61.0  # the app's window is a minute; a second more for clocks that differ


class Quota:
    """Uses per user within a sliding window, one short of the app's limit."""

    def __init__(self, per_min: int, window_s: float = WINDOW_S) -> None:
        self.per_window = max(1, per_min - 1)  # one short: clocks and windows differ
        self.window_s = window_s
        self._used: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, user: str, deadline: float) -> bool:
        """One use of `user`'s quota, waiting for it to free up until `deadline`
        (time.monotonic()); False when it does not in time."""
        while True:
            with self._lock:
                now = time.monotonic()
                stamps = self._used.setdefault(user, deque())
                while stamps and stamps[0] <= now - self.window_s:
                    stamps.popleft()
                if len(stamps) < self.per_window:
                    stamps.append(now)
                    return True
                free_at = stamps[0] + self.window_s
            if free_at > deadline:
                return False
            time.sleep(min(0.5, max(0.01, free_at - time.monotonic())))
