"""Flows as timelines: named steps, each timed, judged and described by what was seen.

A flow (the smoke flow, a full checkout, a refund…) runs its steps in order. A step that
fails and is `blocking` stops the flow: the later steps are recorded as not reached. A
non-blocking step (an observation such as "the cart is empty") fails on its own and the
flow goes on, so one flaw fails exactly the items that judge it.

Evidence carries the timeline as `[{step, at_ms, duration_ms, ok, seen}]`; `ok` is null
for a step not reached. Listeners (`golive smoke`'s live progress) hear every step as it
ends.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from golive.client.errors import FlowError
from golive.observer import NotObservable

# (flow name, step) for every step that ends; `golive smoke` prints them as they come.
LISTENERS: list[Callable[[str, Step], None]] = []


class StepFailed(Exception):
    """Raised inside a step: the step failed, `seen` says what was seen instead."""

    def __init__(self, seen: str) -> None:
        super().__init__(seen)
        self.seen = seen


class BackendAnswered(Exception):
    """The Stripe backend failed golive's own request (a 5xx, a 404, no answer): the step
    errs and judges nothing; the app did not cause it."""

    def __init__(self, seen: str) -> None:
        super().__init__(seen)
        self.seen = seen


class Skipped(Exception):
    """Raised inside a step that cannot be judged here; `outcome` is not-run (something
    the profile does not give) or not-applicable (the backend cannot do it)."""

    def __init__(self, reason: str, outcome: str = "not-run") -> None:
        super().__init__(reason)
        self.outcome = outcome


@dataclass
class Step:
    name: str
    at_ms: float
    duration_ms: float
    ok: bool | None  # None: not reached, or skipped
    seen: str
    skipped: str | None = None  # not-run | not-applicable, when the step was skipped
    errored: bool = False  # golive's own request failed (setup, the backend): no verdict

    def evidence(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "step": self.name,
            "at_ms": round(self.at_ms, 1),
            "duration_ms": round(self.duration_ms, 1),
            "ok": self.ok,
            "seen": self.seen,
        }
        if self.skipped:
            entry["skipped"] = self.skipped
        if self.errored:
            entry["golive_error"] = True
        return entry


@dataclass
class Flow:
    """One run of one flow; `values` carries what later steps and the checks need."""

    name: str
    steps: list[Step] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)
    refused: str | None = None  # set when the whole flow could not start
    _t0: float = field(default_factory=time.perf_counter)
    _stopped_by: Step | None = None

    def elapsed_ms(self, at: float | None = None) -> float:
        return ((time.perf_counter() if at is None else at) - self._t0) * 1000

    def run(self, name: str, action: Callable[[], str], *, blocking: bool = True) -> bool:
        """Run one step; True when it passed. `action` returns what it saw, or raises
        StepFailed / Skipped; any other exception fails the step with its text."""
        if self._stopped_by is not None:
            stopper = self._stopped_by
            self._add(
                Step(name, self.elapsed_ms(), 0.0, None, f"not reached: {stopper.name} failed")
            )
            return False
        started = time.perf_counter()
        skipped: str | None = None
        errored = False
        try:
            seen, ok = action(), True
        except StepFailed as exc:
            seen, ok = exc.seen, False
        except Skipped as exc:
            seen, ok, skipped = str(exc), None, exc.outcome
        except BackendAnswered as exc:
            seen, ok, errored = exc.seen, False, True
        except FlowError as exc:
            # The app refused what golive sent: a failed step; golive's own configuration
            # (credentials, a route, a capture) failed: the step errs and judges nothing.
            seen, ok, errored = str(exc) + _steps_seen(exc), False, exc.setup_problem
        except NotObservable as exc:  # `observer: {none: …}`: the step cannot be judged
            seen, ok, skipped = str(exc), None, "not-applicable"
        except Exception as exc:  # noqa: BLE001 - a network or driver error is what was seen
            seen, ok = f"{type(exc).__name__}: {exc}", False
        step = Step(
            name,
            self.elapsed_ms(started),
            (time.perf_counter() - started) * 1000,
            ok,
            seen,
            skipped,
            errored,
        )
        self._add(step)
        if ok is False and blocking:
            self._stopped_by = step
        return bool(ok)

    def _add(self, step: Step) -> None:
        self.steps.append(step)
        for listener in list(LISTENERS):
            # Progress output must never break a flow.
            with contextlib.suppress(Exception):
                listener(self.name, step)

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)

    def sample(self, metric: str, value_ms: float) -> None:
        self.samples.setdefault(metric, []).append(round(value_ms, 1))

    @property
    def failed_step(self) -> Step | None:
        return next((s for s in self.steps if s.ok is False), None)

    def timeline(self) -> list[dict[str, Any]]:
        return [s.evidence() for s in self.steps]

    def evidence(self, judged: list[str]) -> dict[str, Any]:
        entry: dict[str, Any] = {"flow": self.name, "judged_steps": judged}
        if "backend" in self.values:
            entry["backend"] = self.values["backend"]
        failed = self.failed_step
        if failed is not None:
            entry["failed_step"] = failed.name
        entry["timeline"] = self.timeline()
        return entry


def verdict(flow: Flow, judged: list[str]) -> tuple[str, str]:
    """How the judged steps came out: (pass | fail | not-run | not-applicable, message).

    A judged step that failed fails the item, naming it; one not reached fails the item
    naming the step that stopped the flow; otherwise the first skipped one gives the item
    its outcome (a failure later in the flow is never hidden behind a skipped step). A step
    where golive's own request failed makes the item an error, never a fail."""
    skipped: Step | None = None
    for name in judged:
        step = flow.step(name)
        if step is not None and step.errored:
            return "error", f"flow {flow.name}, step {name}: {step.seen}"
        if step is not None and step.ok is False:
            return "fail", f"flow {flow.name}, step {name} failed: {step.seen}"
        if step is not None and step.ok is None and step.skipped:
            skipped = skipped or step
            continue
        if step is None or step.ok is None:
            # Not reached (or never started, behind a failed step).
            stopper = flow.failed_step
            if stopper is None:
                return "fail", f"flow {flow.name}: step {name} did not run"
            return (
                "error" if stopper.errored else "fail",
                f"flow {flow.name} stopped before step {name}: step {stopper.name} failed: "
                f"{stopper.seen}",
            )
    if skipped is not None:
        return str(skipped.skipped), f"flow {flow.name}, step {skipped.name}: {skipped.seen}"
    return "pass", ""


def _steps_seen(exc: FlowError) -> str:
    """The requests the profile's flow sent before it stopped, for the step's `seen`."""
    if not exc.steps:
        return ""
    sent = "; ".join(f"{s.method} {s.path} -> {s.status}" for s in exc.steps)
    return f" (sent: {sent})"


def poll(
    probe: Callable[[], tuple[bool, str]], deadline_s: float, interval_s: float
) -> tuple[bool, str, float]:
    """Call `probe` until it says done or `deadline_s` passes: (done, last seen, waited s).
    Bounded in time; the probe runs at least once."""
    started = time.monotonic()
    while True:
        done, seen = probe()
        waited = time.monotonic() - started
        if done or waited >= deadline_s:
            return done, seen, waited
        time.sleep(min(interval_s, max(0.0, deadline_s - waited)))
