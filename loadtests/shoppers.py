"""The load's customers, acting through the profile's users, auth and flows.

- `members_of`: the users `load.users` names, a pool expanded into its members (with their
  variables), for the plan the scenarios read;
- `app_plan` / `AppModel`: what the scenarios need of the profile to act as those users
  (`auth:`, `flows:`, `jobs:`), written into the plan as JSON and validated again by the
  scenarios with the profile's own models;
- `Members`: who buys next without going over the app's rate-limit quota, and each member's
  UserSession, opened when the member first buys (signed up by the `signup` job when its
  pool says so, logged in by the login flow when the profile has one: once per member);
- `Shop`: a purchase as the profile's jobs do it: `fill_cart` (when present), then
  `checkout` with the cart's items, or `checkout_cart` when the profile has no `checkout`;
  `read_order` after it (when present).

No locust import here: the pre-Locust probe (loadtests/session.py) buys through the same
code on golive's own HTTP client; under Locust the sessions' transport is
loadtests/transport.py, and each job's requests count under the name given here.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from golive.client.app import AppClient, Placed
from golive.client.runner import Extras, Prepared
from golive.client.session import UserSession
from golive.loadtests import metrics as m
from golive.profile.auth import Auth
from golive.profile.flows import Flow, Jobs
from golive.profile.users import User

QUOTA_WINDOW_S = 61.0  # the app's window is a minute; a second more for clocks that differ


class AppModel(BaseModel):
    """The part of the profile a Locust process needs to act as its users."""

    model_config = ConfigDict(extra="forbid")

    users: dict[str, User] = Field(default_factory=dict)  # members come with the plan
    auth: Auth | None = None
    flows: dict[str, Flow] = Field(default_factory=dict)
    jobs: Jobs | None = None


def app_plan(model: Any) -> dict[str, Any]:
    """The profile's auth, flows and jobs as JSON (golive.profile.ProfileModel)."""
    return AppModel(auth=model.auth, flows=model.flows, jobs=model.jobs).model_dump(
        mode="json", by_alias=True, exclude_none=True, exclude={"users"}
    )


def members_of(model: Any, names: list[str], base_dir: Path) -> list[dict[str, Any]]:
    """Every user `names` names, pools expanded: {name, vars, signup} each."""
    members: list[dict[str, Any]] = []
    for name in dict.fromkeys(names):
        user = model.users[name]
        if user.pool is None:
            members.append({"name": name, "vars": user.variables(), "signup": False})
            continue
        for n, variables in enumerate(user.pool.members(base_dir), 1):
            members.append(
                {"name": f"{name}[{n}]", "vars": dict(variables), "signup": user.pool.signup}
            )
    return members


@dataclass
class Member:
    """One customer: its variables, and its session once it has bought."""

    name: str
    variables: dict[str, Any]
    signup: bool = False
    session: UserSession | None = None
    signed_up: bool = False
    lock: Any = field(default_factory=threading.Lock)  # gevent's, under Locust


class Members:
    """Customers handed out so none goes over its rate-limit quota: the storm measures the
    app, not its limiter."""

    def __init__(
        self,
        members: list[dict[str, Any]],
        per_min: int,
        *,
        spent: dict[str, int] | None = None,
        signed_up: list[str] | None = None,
        window_s: float = QUOTA_WINDOW_S,
    ) -> None:
        """`spent`: checkouts a member already made in this window (the probe's);
        `signed_up`: members the probe already signed up."""
        done = set(signed_up or ())
        self.members = [
            Member(
                m["name"],
                {"name": m["name"], **m["vars"]},
                bool(m.get("signup")),
                signed_up=m["name"] in done,
            )
            for m in members
        ]
        self.per_window = max(1, per_min - 1)  # one short: clocks and windows differ
        self.window_s = window_s
        now = time.monotonic()
        self.used: dict[str, deque[float]] = {
            m.name: deque([now] * (spent or {}).get(m.name, 0)) for m in self.members
        }
        self._next: Iterator[Member] = itertools.cycle(self.members)

    def keep(self, share: list[Member]) -> None:
        """Only these members (a worker's share: two processes never spend one quota)."""
        self.members = list(share)
        self._next = itertools.cycle(self.members)

    def take(self, n: int = 1, *, deadline_s: float = 30.0) -> Member | None:
        """A member with `n` uses left in its window; None if none frees up in time."""
        if not self.members:
            return None
        give_up = time.monotonic() + deadline_s
        while time.monotonic() < give_up:
            now = time.monotonic()
            for _ in range(len(self.members)):
                member = next(self._next)
                stamps = self.used[member.name]
                while stamps and stamps[0] <= now - self.window_s:
                    stamps.popleft()
                if len(stamps) + n <= self.per_window:
                    stamps.extend([now] * n)
                    return member
            time.sleep(0.2)  # gevent's sleep under Locust
        return None


def counted(session: UserSession, name: str) -> AbstractContextManager[Any]:
    """The requests sent inside count as `name` in Locust's stats (no-op off Locust)."""
    job = getattr(session.transport, "job", None)
    return job(name) if job is not None else nullcontext()


def _no_excerpt(text: str, limit: int) -> str:
    return ""


class Shop:
    """The purchase the load scenarios make, as the profile's jobs do it."""

    def __init__(
        self,
        app: AppClient,
        transport: Callable[[], Any] | None = None,
        *,
        excerpts: bool = True,
    ) -> None:
        self.app = app
        self.transport = transport  # a new transport per member (None: golive's own)
        # Redacted excerpts of the answers, for a FlowError's evidence; Locust's process
        # shows none (its ledger keeps the error's message), so it spares the redaction.
        self.excerpts = excerpts
        self.fill = app.has("fill_cart")
        self.job = (
            "checkout"
            if app.has("checkout")
            else ("checkout_cart" if self.fill and app.has("checkout_cart") else None)
        )
        self.read = app.has("read_order")

    def missing(self) -> str | None:
        """Why no purchase can be made, or None."""
        if self.job is not None:
            return None
        return (
            "the target profile names no flow for the `checkout` job (nor `fill_cart` and "
            "`checkout_cart`): add flows.checkout (or jobs.checkout: <flow>)"
        )

    # -- members --------------------------------------------------------------------------------

    def session(self, member: Member) -> UserSession:
        """The member's session, signed up and logged in the first time (once per member)."""
        with member.lock:
            if member.session is None:
                transport = self.transport() if self.transport else None
                member.session = self.app.open_session(member.name, member.variables, transport)
                if not self.excerpts:
                    member.session.excerpt = _no_excerpt
            session = member.session
            if member.signup and not member.signed_up:
                with counted(session, m.SIGNUP):
                    self.app.run("signup", session, {})
                member.signed_up = True
            if self.app.model.auth is not None and self.app.model.auth.login is not None:
                with counted(session, m.LOGIN):
                    session.log_in()
        return session

    # -- jobs -------------------------------------------------------------------------------------

    def buy(self, member: Member, cart: list[dict[str, Any]], *, key: str, name: str) -> Placed:
        """Fill the cart (when the profile can) and check out; FlowError when a job stops."""
        session = self.session(member)
        items = [dict(line) for line in cart]
        if self.fill:
            self.fill_cart(session, items)
        return self.check_out(session, items, key=key, name=name)

    def fill_cart(self, session: UserSession, items: list[dict[str, Any]]) -> None:
        with counted(session, m.CART_ADD):
            self.app.run("fill_cart", session, {"items": items})

    def check_out(
        self, session: UserSession, items: list[dict[str, Any]], *, key: str, name: str
    ) -> Placed:
        """The checkout job: the steps that build the order (a basket made and filled) count
        as cart_add, the submitting step and after as `name`."""
        return self.submit(session, self.prepare(session, items), key=key, name=name)

    def prepare(self, session: UserSession, items: list[dict[str, Any]]) -> Prepared:
        """The checkout job's flow up to its submission (nothing for a one-request one)."""
        assert self.job is not None
        inputs = {"items": items} if self.job == "checkout" else {}
        with counted(session, m.CART_ADD):
            return self.app.prepare(self.job, session, inputs)[1]

    def submit(self, session: UserSession, prepared: Prepared, *, key: str, name: str) -> Placed:
        """Submit a prepared checkout (the race sends this many times with one key)."""
        assert self.job is not None
        extras = Extras(submit_headers={"Idempotency-Key": key})
        with counted(session, name):
            run = self.app.finish(self.job, session, prepared, extras=extras)
        return Placed(session.name, None, None, "", run.variables, run.steps)

    def read_order(self, session: UserSession, placed: Placed) -> None:
        """Read the order back (when the profile has `read_order`); FlowError if it fails."""
        if not self.read:
            return
        inputs = {
            key: value
            for key, value in (
                ("order_id", placed.order_id),
                ("payment_intent_id", placed.payment_intent_id),
            )
            if value is not None
        }
        with counted(session, m.ORDER_READ):
            self.app.run("read_order", session, inputs)

    def clear_cart(self, session: UserSession) -> None:
        """Empty the cart (when the profile has `clear_cart`): after the probe's purchase."""
        if self.app.has("clear_cart"):
            self.app.run("clear_cart", session, {})
