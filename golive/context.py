"""What a check receives: its item, validated params, the target, and an evidence log.

Checks end in one of these ways:
- return normally after recording evidence           -> pass
- `assert` or `ctx.fail(...)`                         -> fail
- `ctx.not_applicable(reason)`                        -> not-applicable
- `ctx.not_run(reason)` (e.g. an opt-in not given)    -> not-run
- `ctx.require_backend(capability, …)` the backend lacks -> not-run, naming what would run it
- `ctx.needs_observer()` under `observer: {none: …}`  -> not-applicable, with its reason
- `ctx.nothing_examined(what)`, or no evidence at all -> error (never a vacuous pass)
- `ctx.error(message)` (golive's own request failed)  -> error
- a time limit reached (golive/budget.py)             -> error, however the check ended
- any other exception                                 -> error
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import pytest
from pydantic import BaseModel

from golive import budget
from golive.budget import BudgetExceeded, RunClock
from golive.checklist import CheckRef, Item
from golive.client.app import AppClient, MissingJob
from golive.client.errors import FlowError, FlowRun
from golive.profile import Profile
from golive.redact import Redactor


class CheckFailed(AssertionError):
    """The target does not meet the item; the message says what was expected and seen."""


class NotApplicable(pytest.skip.Exception):
    """The item does not apply to this target (e.g. a MongoDB-only rule on PostgreSQL)."""


class NotRun(pytest.skip.Exception):
    """The check could not run for a stated reason, e.g. an opt-in was not given."""


class NothingExamined(Exception):
    """The check looked at zero things: an error, never a pass."""


class CheckError(Exception):
    """golive could not judge the item (its own request got no usable answer): an error."""


@dataclass
class Target:
    """The system under verification, shared by all checks of one run."""

    profile: Profile
    redactor: Redactor
    now: datetime
    workdir: Path
    stripe: Any = None  # golive.backends.Backend once booted, when the profile names one
    app: Any = None  # golive.target_app.RunningApp once booted, when the profile has `app`
    services: list[Any] = field(default_factory=list)  # golive.services.RunningService
    cache: dict[str, Any] = field(default_factory=dict)
    # The run's deadline and the hosts that stopped answering; counted from here (the gate
    # makes the Target when it prepares the run).
    clock: RunClock = field(init=False)
    _cut_short: dict[str, BudgetExceeded] = field(default_factory=dict, repr=False)
    _client: AppClient | None = field(default=None, repr=False)

    _started: float = field(default_factory=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        self.clock = RunClock(self.profile.model.limits)

    def time_now(self) -> datetime:
        """The run's time as a check runs: `now` (the run's start, or --now) plus the time
        the run has taken since. Post-deploy windows end here, so payments made during the
        run (the demo's traffic) fall inside them."""
        return self.now + timedelta(seconds=time.monotonic() - self._started)

    def client(self) -> AppClient:
        """golive's requests to the running app (users, auth, flows), one per run."""
        assert self.app is not None
        if self._client is None:
            self._client = AppClient(
                self.profile.model,
                self.app.base_url,
                base_dir=self.profile.base_dir,
                redactor=self.redactor,
            )
        return self._client

    def close_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def cached(self, key: str, compute: Any) -> Any:
        """Run `compute()` once per run: several items may share one expensive scan.

        A result made while a time limit cut the check short (a flow that caught the
        timeout as a failed step) is incomplete: every check that reuses it is stopped
        for the same reason, so none of them passes or fails on it."""
        if key not in self.cache:
            self.cache[key] = compute()
            running = budget.active()
            if running is not None and running.stopped is not None:
                self._cut_short[key] = running.stopped
        elif key in self._cut_short and budget.active() is not None:
            budget.active().stopped = self._cut_short[key]
        return self.cache[key]


@dataclass
class CheckContext:
    item: Item
    ref: CheckRef
    params: BaseModel
    target: Target
    evidence: list[dict[str, Any]] = field(default_factory=list)

    @property
    def profile(self) -> Profile:
        return self.target.profile

    def record(self, **entry: Any) -> None:
        """Keep what was sent and seen; redacted before it is stored."""
        self.evidence.append(self.target.redactor.value(entry))

    def redact(self, text: str) -> str:
        return self.target.redactor.text(text)

    def fail(self, message: str) -> NoReturn:
        raise CheckFailed(self.redact(message))

    def not_applicable(self, reason: str) -> NoReturn:
        raise NotApplicable(self.redact(reason))

    def not_run(self, reason: str) -> NoReturn:
        raise NotRun(self.redact(reason))

    def require_backend(self, *capabilities: str) -> Any:
        """The run's Stripe backend, able to do every one of `capabilities`
        (golive/capabilities.py). Otherwise not-run: an item the backend cannot exercise is
        untestable there, never not-applicable (that would count toward GO)."""
        backend = self.target.stripe
        if backend is None:
            self.not_run("the target profile names no Stripe backend (set stripe.backend)")
        reason = backend.lacking(*capabilities)
        if reason is not None:
            self.not_run(reason)
        return backend

    def needs_observer(self) -> None:
        """For a check that judges side effects through the profile's observer: when the
        profile declares `observer: {none: reason}` (nothing to observe), the check is
        not-applicable with that reason. Without an `observer` block it returns: the check
        itself says it cannot run (not-run)."""
        from golive.observer import declared_none, not_observable

        reason = declared_none(self.profile.model.observer)
        if reason is not None:
            self.not_applicable(not_observable(reason))

    def nothing_examined(self, what: str) -> NoReturn:
        raise NothingExamined(self.redact(f"examined nothing: {what}"))

    def error(self, message: str) -> NoReturn:
        raise CheckError(self.redact(message))

    # -- the app, through the profile's users, auth and flows ---------------------------------

    def app_client(self) -> AppClient:
        """The running app's client; not-run when the profile names no app."""
        if self.target.app is None:
            self.not_run("the target profile names no running app (set app in the profile)")
        return self.target.client()

    def require_job(self, job: str) -> str:
        """The flow that does `job`; not-run naming the job when the profile has none."""
        flow = self.app_client().flow_for(job)
        if flow is None:
            self.not_run(str(MissingJob(job)))
        return flow

    def flow_error(self, exc: FlowError) -> NoReturn:
        """golive could not follow its own flow (log in, a route, a capture): an error,
        never a verdict on the app; the requests sent so far are the evidence."""
        self.record(**exc.evidence())
        self.error(str(exc))

    def run_job(self, job: str, user: str, inputs: dict[str, Any] | None = None) -> FlowRun:
        """Run the job's flow as `user`: not-run without the flow, error when golive's own
        request was refused (401/403/404) or a capture is missing; other refusals raise
        FlowError for the check to judge."""
        self.require_job(job)
        try:
            return self.app_client().run(job, user, inputs)
        except FlowError as exc:
            if exc.setup_problem:
                self.flow_error(exc)
            raise
