"""The app as the checks act on it: users by name, jobs by name, orders placed whatever
shape the app's checkout answers (a PaymentIntent id, only its client_secret, or a
Checkout Session)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from golive import httpclient, profile
from golive.client.captures import CaptureError, intent_from_client_secret
from golive.client.errors import FlowError, FlowRun, StepRecord
from golive.client.runner import Extras, Prepared, finish, prepare
from golive.client.session import UserSession
from golive.profile.flows import JOB_OUTPUTS, Jobs
from golive.redact import Redactor, excerpt

TIMEOUT_S = 15


class MissingJob(LookupError):
    """The profile names no flow for a job golive needs: the item is not-run."""

    def __init__(self, job: str) -> None:
        super().__init__(
            f"the target profile names no flow for the `{job}` job: add flows.{job} "
            f"(or jobs.{job}: <flow>)"
        )
        self.job = job


@dataclass
class Placed:
    """What a checkout flow did: the app's answer to the submitting step, and the
    payment it started (a PaymentIntent, or a Checkout Session to complete)."""

    user: str
    request: Any
    status: int | None
    body_excerpt: str
    variables: dict[str, Any] = field(default_factory=dict)
    steps: list[StepRecord] = field(default_factory=list)
    refused: FlowError | None = None  # the app refused a step (not golive's own fault)

    @property
    def payment_intent_id(self) -> str | None:
        value = self.variables.get("payment_intent_id")
        if not value and self.variables.get("client_secret"):
            with contextlib.suppress(CaptureError):
                value = intent_from_client_secret(self.variables["client_secret"])
        return str(value) if value else None

    @property
    def checkout_session_id(self) -> str | None:
        value = self.variables.get("checkout_session_id")
        return str(value) if value else None

    @property
    def order_id(self) -> Any:
        return self.variables.get("order_id")

    @property
    def answer_amount(self) -> Any:
        return self.variables.get("amount")

    @property
    def ok(self) -> bool:
        return self.refused is None and bool(self.payment_intent_id or self.checkout_session_id)

    def evidence(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"user": self.user, "request": self.request, "status": self.status}
        if self.payment_intent_id:
            entry["payment_intent"] = self.payment_intent_id
        if self.checkout_session_id:
            entry["checkout_session"] = self.checkout_session_id
        if self.body_excerpt:
            entry["body_excerpt"] = self.body_excerpt
        if len(self.steps) > 1:
            entry["flow_steps"] = [s.evidence() for s in self.steps]
        return entry


class AppClient:
    """golive's requests to one running app, as the profile describes it."""

    def __init__(
        self,
        model: Any,
        base_url: str,
        *,
        base_dir: Path,
        redactor: Redactor | None = None,
        timeout: float = TIMEOUT_S,
    ) -> None:
        self.model = model  # golive.profile.ProfileModel
        self.base_url = base_url
        self.base_dir = base_dir
        self.redactor = redactor if redactor is not None else Redactor()
        self.timeout = timeout
        self._sessions: dict[str, UserSession] = {}

    # -- users --------------------------------------------------------------------------------

    def user_vars(self, name: str) -> dict[str, Any]:
        users = self.model.users or {}
        if name not in users:
            raise KeyError(f"the profile has no user {name!r} under `users:`")
        return {"name": name, **users[name].variables()}

    def pool(self, name: str) -> list[dict[str, Any]]:
        """The members of a pool of users, each with its variables."""
        spec = (self.model.users or {})[name].pool
        if spec is None:
            return [self.user_vars(name)]
        return [
            {"name": f"{name}[{n}]", **member}
            for n, member in enumerate(spec.members(self.base_dir), 1)
        ]

    def session(self, name: str, transport: Any = None) -> UserSession:
        """The named user's session (one per user and run, so a login is reused)."""
        if transport is None and name in self._sessions:
            return self._sessions[name]
        session = self.open_session(name, self.user_vars(name), transport)
        if transport is None:
            self._sessions[name] = session
        return session

    def open_session(
        self, name: str, variables: dict[str, Any], transport: Any = None
    ) -> UserSession:
        """A session for any user's variables (a pool member), on `transport` if given
        (Locust's HttpSession) or on a client of golive's own."""
        closer = None
        if transport is None:
            transport = httpclient.client(base_url=self.base_url, timeout=self.timeout)
            closer = transport.close
        return UserSession(
            name=name,
            variables=variables,
            auth=self.model.auth,
            flows=self.model.flows,
            transport=transport,
            excerpt=lambda text, limit: excerpt(self.redactor, text, limit),
            close=closer,
            on_login=self._mask,
        )

    def _mask(self, captured: dict[str, Any]) -> None:
        """What a login captured (a session cookie, a JWT) never shows in evidence."""
        for value in captured.values():
            if isinstance(value, str):
                self.redactor.add_secret(value, profile.CREDENTIAL_MIN_LENGTH)

    # -- jobs -----------------------------------------------------------------------------------

    def flow_for(self, job: str) -> str | None:
        named = getattr(self.model.jobs or Jobs(), job, None)
        if named:
            return named
        return job if job in self.model.flows else None

    def has(self, job: str) -> bool:
        return self.flow_for(job) is not None

    def run(
        self,
        job: str,
        user: str | UserSession,
        inputs: dict[str, Any] | None = None,
        *,
        extras: Extras | None = None,
    ) -> FlowRun:
        """Run the job's flow as `user`; MissingJob, or FlowError from the flow."""
        session, prepared = self.prepare(job, user, inputs, extras=extras)
        return self.finish(job, session, prepared, extras=extras)

    def prepare(
        self,
        job: str,
        user: str | UserSession,
        inputs: dict[str, Any] | None = None,
        *,
        extras: Extras | None = None,
    ) -> tuple[UserSession, Prepared]:
        """The job's flow up to its submitting step (a basket made and filled), for
        `finish` to submit once or, in a race, many times at once."""
        flow = self.flow_for(job)
        if flow is None:
            raise MissingJob(job)
        session = self.session(user) if isinstance(user, str) else user
        with _naming(session.name):
            return session, prepare(session, flow, dict(inputs or {}), extras=extras)

    def finish(
        self,
        job: str,
        session: UserSession,
        prepared: Prepared,
        *,
        extras: Extras | None = None,
    ) -> FlowRun:
        """Submit a prepared job's flow; FlowError when it captured none of what the job
        must give golive."""
        with _naming(session.name):
            run = finish(session, prepared, extras=extras)
        for wanted in JOB_OUTPUTS.get(job, ()):
            if not any(name in run.variables for name in wanted):
                raise FlowError(
                    prepared.flow,
                    run.steps[-1].step if run.steps else "-",
                    f"the `{job}` job's flow captured none of {', '.join(wanted)}",
                    steps=run.steps,
                    variables=run.variables,
                    kind="capture",
                    user=session.name,
                )
        return run

    def checkout(
        self,
        user: str | UserSession,
        items: list[dict[str, Any]] | None,
        *,
        per_line: dict[str, Any] | None = None,
        top: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        job: str = "checkout",
    ) -> Placed:
        """Place an order for `items` ({id, quantity}) as `user` (None: what the cart holds,
        with the `checkout_cart` job). An answer that refuses the order is returned (the
        check judges it); golive's own fault raises FlowError."""
        extras = Extras(
            per_line=dict(per_line or {}),
            top=dict(top or {}),
            submit_headers={"Idempotency-Key": idempotency_key or f"golive-{uuid.uuid4().hex}"},
        )
        name = user if isinstance(user, str) else user.name
        try:
            inputs = {"items": items} if items is not None else {}
            run = self.run(job, user, inputs, extras=extras)
        except FlowError as exc:
            if exc.setup_problem:
                raise
            last = exc.steps[-1] if exc.steps else None
            return Placed(
                name,
                last.request if last else None,
                exc.status,
                last.excerpt if last else "",
                exc.variables,
                exc.steps,
                refused=exc,
            )
        submitted = _submitted(run)
        return Placed(
            name,
            submitted.request if submitted else None,
            submitted.status if submitted else None,
            submitted.excerpt if submitted else "",
            run.variables,
            run.steps,
        )

    def close(self) -> None:
        for session in self._sessions.values():
            session.close()
        self._sessions.clear()


@contextlib.contextmanager
def _naming(user: str) -> Iterator[None]:
    """A FlowError from a user's flow names the user (the evidence says who was refused)."""
    try:
        yield
    except FlowError as exc:
        if exc.user is None:
            exc.user = user
        raise


def _submitted(run: FlowRun) -> StepRecord | None:
    """The last request of the checkout: the one that answered the payment."""
    return run.steps[-1] if run.steps else None
