"""Bounded time: a run-wide deadline, a budget per check, and a target that stops answering.

A gate against a target that accepts connections but never answers must still end in
minutes, not after every 10 s timeout of every request in series. Three limits, set by
the profile's `limits` block:

- `run_s`: the whole run (from the moment the gate prepared it). Once it has passed, the
  checks still to run are not started, and a request in flight gets at most what is left.
- `check_s`: one check. A request never waits longer than what its check has left.
- `consecutive_timeouts`: requests in a row to one host (host:port) that got no answer in
  time. When a check reaches it, the rest of that check is not run. The count is kept for
  the whole run and reset by any answer, so once a host is silent a later check tries it
  once with a short timeout (PROBE_TIMEOUT_S) and gives up at once if it is still silent.

Each way ends the check as an **error** (golive could not judge the item), never a pass:
the plugin maps BudgetExceeded to `error` with its message, however the check ended.

The HTTP helpers consult the check that is running (`active()`): httpclient's transport
for httpx clients, the webhook sender for its raw deliveries. The gate runs one check at a
time, so one module-level slot is enough, and threads of a check (concurrent deliveries)
see it too. Outside a check (set-up, `golive webhook send`) nothing is limited.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

# A silent host's later checks try it once with this timeout rather than the full one.
# (A target that answered nothing for `consecutive_timeouts` full timeouts in a row is
# down; one that recovered answers a request within a second.)
PROBE_TIMEOUT_S = 1.0


class Limits(BaseModel):
    """The profile's `limits` block."""

    model_config = ConfigDict(extra="forbid")
    run_s: float = Field(
        900, gt=0, le=86400, description="The whole run: checks not started by then are errors"
    )
    check_s: float = Field(
        120, gt=0, le=3600, description="One check: its requests get no more than what is left"
    )
    consecutive_timeouts: int = Field(
        3,
        ge=1,
        le=100,
        description="Requests in a row to one host without an answer before the check stops",
    )


class BudgetExceeded(Exception):
    """golive ran out of time for a check: an error, never a pass."""


class TargetSilent(BudgetExceeded):
    """A host did not answer `consecutive_timeouts` requests in a row."""


class CheckBudgetSpent(BudgetExceeded):
    """The check used its `check_s`."""


class RunDeadlinePassed(BudgetExceeded):
    """The run used its `run_s`."""


@dataclass
class RunClock:
    """One run's deadline and what each host has (not) answered."""

    limits: Limits = field(default_factory=Limits)
    started: float = field(default_factory=time.monotonic)
    _timeouts: dict[str, list[float]] = field(default_factory=dict)  # host -> waits in a row
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def remaining(self) -> float:
        return self.started + self.limits.run_s - time.monotonic()

    def deadline_passed(self) -> RunDeadlinePassed | None:
        if self.remaining() > 0:
            return None
        return RunDeadlinePassed(
            f"not run: the run deadline of {self.limits.run_s:g} s passed "
            "(limits.run_s in the profile)"
        )

    def check(self) -> CheckBudget:
        """A fresh budget for the check about to run."""
        return CheckBudget(self)

    def silent(self, host: str) -> bool:
        with self._lock:
            return len(self._timeouts.get(host, ())) >= self.limits.consecutive_timeouts

    def answered(self, host: str) -> None:
        with self._lock:
            self._timeouts.pop(host, None)

    def timed_out(self, host: str, waited_s: float) -> list[float]:
        """Count one more request in a row without an answer; the waits so far."""
        with self._lock:
            waits = self._timeouts.setdefault(host, [])
            waits.append(waited_s)
            return list(waits)


class CheckBudget:
    """What one check may still spend; the HTTP helpers ask it before each request."""

    def __init__(self, clock: RunClock) -> None:
        self.clock = clock
        self.started = time.monotonic()
        self.stopped: BudgetExceeded | None = None  # why the check was cut short, if it was
        self._silent_this_check: set[str] = set()

    @property
    def limits(self) -> Limits:
        return self.clock.limits

    def remaining(self) -> float:
        return min(self.started + self.limits.check_s - time.monotonic(), self.clock.remaining())

    def timeout(self, host: str, wanted_s: float) -> float:
        """The timeout a request to `host` may use; raises when it may not be sent."""
        if self.stopped is not None:
            raise type(self.stopped)(str(self.stopped))
        left = self.remaining()
        if left <= 0:
            self._stop(self._spent())
        allowed = min(wanted_s, left)
        if self.clock.silent(host):
            allowed = min(allowed, PROBE_TIMEOUT_S)
        return max(allowed, 0.001)

    def answered(self, host: str) -> None:
        self.clock.answered(host)

    def timed_out(self, host: str, waited_s: float) -> None:
        """A request to `host` got no answer within `waited_s`; raises when the check must
        stop (that host silent too often, or the budget spent while waiting)."""
        if self.remaining() <= 0.05:
            self._stop(self._spent())
        waits = self.clock.timed_out(host, waited_s)
        if len(waits) >= self.limits.consecutive_timeouts:
            self._stop(
                TargetSilent(
                    f"the target {host} did not answer within {waited_s:g} s ({len(waits)} "
                    "requests in a row without an answer, the longest wait "
                    f"{max(waits):g} s; limits.consecutive_timeouts is "
                    f"{self.limits.consecutive_timeouts}): the rest of this check was not run"
                )
            )

    def _spent(self) -> BudgetExceeded:
        passed = self.clock.deadline_passed()
        if passed is not None:
            return RunDeadlinePassed(
                f"stopped: the run deadline of {self.limits.run_s:g} s passed while this check "
                "ran (limits.run_s in the profile)"
            )
        return CheckBudgetSpent(
            f"stopped: the check's budget of {self.limits.check_s:g} s was spent "
            "(limits.check_s in the profile)"
        )

    def _stop(self, reason: BudgetExceeded) -> None:
        self.stopped = reason
        raise reason


# --- the check that is running ----------------------------------------------------------

_active: CheckBudget | None = None


def active() -> CheckBudget | None:
    return _active


def activate(budget: CheckBudget | None) -> None:
    global _active
    _active = budget


@contextlib.contextmanager
def not_counted() -> Iterator[None]:
    """Time spent inside is charged neither to the running check nor to the run: for work
    bounded on its own that may rightly last longer (a load run of a chosen duration,
    `golive load --duration 30m`)."""
    started = time.monotonic()
    try:
        yield
    finally:
        budget, spent = _active, time.monotonic() - started
        if budget is not None:
            budget.started += spent
            budget.clock.started += spent


def request_timeout(host: str, wanted_s: float) -> float:
    """The timeout for a request to `host` under the running check's budget (unchanged
    outside a check)."""
    budget = _active
    return wanted_s if budget is None else budget.timeout(host, wanted_s)


def answered(host: str) -> None:
    if _active is not None:
        _active.answered(host)


def timed_out(host: str, waited_s: float) -> None:
    if _active is not None:
        _active.timed_out(host, waited_s)
