"""What goes wrong between golive and the app, told apart from what the app got wrong.

A flow golive configured that the app answers 401, 403 or 404 where the flow expected
success means golive's own setup is wrong (credentials, a route, an id): the check that
ran it must end as `error`, never `fail`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Answers that say "golive's request was not the one the app expects".
SETUP_STATUSES = frozenset({401, 403, 404, 405})


@dataclass
class StepRecord:
    """One request a flow sent and what came back, for evidence (redacted excerpts)."""

    flow: str
    step: str
    method: str
    path: str
    status: int | None
    excerpt: str = ""
    request: Any = None
    retry_after_s: float | None = None  # a 429's Retry-After, in seconds

    def evidence(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "flow": self.flow,
            "step": self.step,
            "request": f"{self.method} {self.path}",
            "status": self.status,
        }
        if self.request is not None:
            entry["body"] = self.request
        if self.excerpt:
            entry["answer_excerpt"] = self.excerpt
        return entry


class FlowError(Exception):
    """A flow could not go on: an unexpected status, a missing capture, a transport error
    or a template without a value. `steps` holds what was sent so far."""

    def __init__(
        self,
        flow: str,
        step: str,
        reason: str,
        *,
        status: int | None = None,
        steps: list[StepRecord] | None = None,
        variables: dict[str, Any] | None = None,
        kind: str = "status",
        user: str | None = None,
    ) -> None:
        self.kind = kind  # status | capture | transport | template | control
        self.user = user  # whose flow it was, when known (AppClient names it)
        self.flow = flow
        self.step = step
        self.reason = reason
        self.status = status
        self.steps = list(steps or [])
        self.variables = dict(variables or {})
        super().__init__(reason)

    def __str__(self) -> str:
        who = f" as {self.user!r}" if self.user else ""
        return (
            f"golive could not follow flow {self.flow!r}{who} at step {self.step!r}: {self.reason}"
        )

    @property
    def setup_problem(self) -> bool:
        """golive's own configuration is at fault (not a verdict on the app): no answer,
        an answer that refuses golive's credentials or route, a capture not found, a
        template without a value."""
        return self.kind != "status" or self.status in SETUP_STATUSES

    def evidence(self) -> dict[str, Any]:
        return {"flow_error": str(self), "steps": [s.evidence() for s in self.steps]}


class LoginError(FlowError):
    """The user could not be logged in."""

    def __init__(self, user: str, cause: FlowError | str) -> None:
        reason = cause.reason if isinstance(cause, FlowError) else cause
        steps = cause.steps if isinstance(cause, FlowError) else []
        status = cause.status if isinstance(cause, FlowError) else None
        step = cause.step if isinstance(cause, FlowError) else "login"
        flow = cause.flow if isinstance(cause, FlowError) else "login"
        kind = cause.kind if isinstance(cause, FlowError) else "status"
        super().__init__(flow, step, reason, status=status, steps=steps, kind=kind, user=user)
        at = f" (flow {flow!r}, step {step!r})" if isinstance(cause, FlowError) else ""
        self.args = (f"golive could not log in as {user!r}{at}: {reason}",)

    def __str__(self) -> str:
        return self.args[0]

    @property
    def setup_problem(self) -> bool:
        return True


@dataclass
class FlowRun:
    """What a flow produced: its variables (captures included) and the requests sent."""

    flow: str
    variables: dict[str, Any] = field(default_factory=dict)
    steps: list[StepRecord] = field(default_factory=list)

    def evidence(self) -> list[dict[str, Any]]:
        return [s.evidence() for s in self.steps]
