"""What every flow of one run shares: the `smoke:` block, the target, the Stripe backend,
the observer and the price rules — or the reason the flows cannot run at all.

Built once per run (`ctx.target.cached`). A refusal is kept like a result, so every item
of the flows says the same why: no `smoke` block, no app, no backend, no observer, or
live keys without the profile's opt-in naming the app's host.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, NoReturn
from urllib.parse import urlsplit

import httpx
from pydantic import ValidationError

from golive import outcomes, redact
from golive.client.app import MissingJob
from golive.client.errors import FlowError
from golive.context import CheckContext
from golive.observer import PROFILE_KEY as OBSERVER_KEY
from golive.observer import Observer, ObserverError, ObserverModel, open_observer
from golive.profile.pricing import Pricing
from golive.profile.smoke import PROFILE_KEY, Smoke
from golive.redact import redact_key
from golive.smoke.stripe_side import StripeSide
from golive.smoke.target_side import TargetSide

LIVE_PREFIXES = ("sk_live_", "rk_live_", "pk_live_")


@dataclass
class Refusal:
    outcome: str  # not-run | not-applicable | error
    reason: str

    def raise_in(self, ctx: CheckContext) -> NoReturn:
        if self.outcome == "not-applicable":
            ctx.not_applicable(self.reason)
        if self.outcome == "error":
            ctx.error(self.reason)
        ctx.not_run(self.reason)


@dataclass
class Buyer:
    """A user who buys in the flows, and the state the tax rules name for them."""

    user: str
    state: str | None


@dataclass
class Harness:
    spec: Smoke
    stripe: StripeSide
    target: TargetSide
    observer: Observer
    pricing: Pricing | None
    customer: Buyer
    other_customer: Buyer | None
    _prices: dict[str, int] | None = field(default=None, repr=False)

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.stripe.kind,
            "stateful": self.stripe.stateful,
            "webhooks": "sent by the backend"
            if self.stripe.sends_webhooks
            else "synthesized and signed by golive",
        }

    def prices(self) -> dict[str, int]:
        """Unit prices: the pricing block's static `prices`, else the target's menu."""
        if self._prices is None:
            self._prices = _menu_prices(self)
        return self._prices


def harness(ctx: CheckContext, live_opt_in: LiveOptIn | None = None) -> Harness:
    """The run's shared harness; raises the run's refusal through `ctx` when there is one.
    `live_opt_in` replaces smoke.allow_live as the opt-in to live keys (the production
    smoke's own, smoke.production.real_payment)."""
    key = "smoke.harness" if live_opt_in is None else f"smoke.harness:{live_opt_in.key}"
    built = ctx.target.cached(key, lambda: _build(ctx, live_opt_in))
    if isinstance(built, Refusal):
        built.raise_in(ctx)
    return built


@dataclass(frozen=True)
class LiveOptIn:
    key: str  # where the profile says it, e.g. smoke.production.real_payment
    host: str | None  # the host it names; None: not given


def live_reasons(ctx: CheckContext, backend: Any) -> list[str]:
    """Why this run is on live keys (the profile's mode, a key's prefix); empty: it is not."""
    env = ctx.profile.env
    secret_var = ctx.profile.var("secret_key")
    publishable_var = ctx.profile.var("publishable_key")
    found = [
        f"{name} is a live key ({redact_key(value)})"
        for name, value in (
            (secret_var, env.get(secret_var, "")),
            (publishable_var, env.get(publishable_var, "")),
            ("the backend's key", (backend.secret_key if backend is not None else "") or ""),
        )
        if value.startswith(LIVE_PREFIXES)
    ]
    if ctx.profile.model.mode == "live":
        found.insert(0, "the profile's mode is live")
    return found


def _build(ctx: CheckContext, live_opt_in: LiveOptIn | None = None) -> Harness | Refusal:
    profile = ctx.profile
    raw = profile.model.smoke
    if raw is None:
        return Refusal(
            "not-run",
            f"the target profile has no `{PROFILE_KEY}` block: golive does not know who buys "
            "in the flows (see golive/profile/smoke.py)",
        )
    try:
        spec = Smoke.model_validate(raw)
    except ValidationError as exc:
        return Refusal("error", f"the profile's `{PROFILE_KEY}` block is invalid: {exc}")
    app, backend = ctx.target.app, ctx.target.stripe
    if app is None:
        return Refusal("not-run", "the target profile names no running app (set app)")
    if backend is None:
        return Refusal("not-run", "the target profile names no Stripe backend (set stripe)")
    if live_opt_in is None:
        live_opt_in = LiveOptIn(
            "smoke.allow_live", spec.allow_live.host if spec.allow_live else None
        )
    refusal = _live_refusal(ctx, live_opt_in, backend, app)
    if refusal is not None:
        return refusal
    if getattr(backend, "read_only", False):
        return Refusal(
            "not-run",
            f"the {backend.kind} backend is read-only: the flows confirm payments (a write); "
            "set stripe.allow_writes: true to run them in test mode",
        )
    if profile.model.observer is None:
        return Refusal(
            "not-run",
            f"the target profile has no `{OBSERVER_KEY}` block: golive cannot see the orders, "
            "payments and notifications the flows must produce",
        )
    try:
        observer_model = ObserverModel.model_validate(profile.model.observer)
        pricing = Pricing.model_validate(profile.model.pricing) if profile.model.pricing else None
    except ValidationError as exc:
        return Refusal("error", f"the profile's `observer` or `pricing` block is invalid: {exc}")
    client = ctx.target.client()
    if not client.has("checkout"):
        return Refusal("not-run", str(MissingJob("checkout")))
    try:
        observer = open_observer(
            observer_model,
            database_url=profile.database_url(),
            app_base_url=app.base_url,
            app_client=client,
        )
    except ObserverError as exc:
        return Refusal("error", f"the observer cannot be opened: {exc}")

    def buyer(name: str) -> Buyer:
        state = client.user_vars(name).get(spec.state_var)
        return Buyer(name, str(state) if state not in (None, "") else None)

    secret_var = profile.var("webhook_secret")
    secret = profile.env.get(secret_var)
    if not backend.sends_webhooks and not secret:
        return Refusal(
            "not-run",
            f"the {backend.kind} backend sends no webhooks and {secret_var} is not "
            "in the target's env: golive cannot sign the events it would send instead",
        )
    publishable = profile.env.get(profile.var("publishable_key")) or None
    return Harness(
        spec=spec,
        stripe=StripeSide(backend, publishable),
        target=TargetSide(app, client, secret, ctx.target.redactor),
        observer=observer,
        pricing=pricing,
        customer=buyer(spec.customer),
        other_customer=buyer(spec.other_customer) if spec.other_customer else None,
    )


def _live_refusal(ctx: CheckContext, opt_in: LiveOptIn, backend: Any, app: Any) -> Refusal | None:
    """Flows pay with cards: with live keys they would charge real money. They run only
    when the profile opts in and names the app's host."""
    found = live_reasons(ctx, backend)
    if not found:
        return None
    host = urlsplit(app.base_url).hostname or app.base_url
    if opt_in.host is None:
        return Refusal(
            "not-run",
            "refusing to run payment flows with live keys: "
            + "; ".join(found)
            + f". Opt in with {opt_in.key}: {{host: {host}}} (real charges)",
        )
    if opt_in.host.lower() != host.lower():
        return Refusal(
            "not-run",
            f"{opt_in.key} names host {opt_in.host}, but the app is at {host}: "
            "refusing to run payment flows with live keys elsewhere",
        )
    return None


def _menu_prices(h: Harness) -> dict[str, int]:
    pricing = h.pricing
    if pricing is None:
        return {}
    if pricing.prices is not None:
        return {str(k): v for k, v in pricing.prices.items()}
    found: dict[str, int] = {}
    user, path = h.customer.user, pricing.menu_path or ""
    step = f"GET {path}"
    try:  # a failed login propagates: the step that needs prices errs, naming the user
        answer = h.target.client.session(user).request("GET", path)
    except httpx.HTTPError as exc:
        raise FlowError("menu", step, f"no answer ({exc})", kind="transport", user=user) from None
    problem = outcomes.control_problem(answer.status_code)
    if problem:
        # Reading the menu is golive's control for the prices: its failure is an error in
        # the steps that need them, never a verdict on the app's totals.
        excerpt = redact.excerpt(h.target.client.redactor, answer.text, outcomes.EXCERPT)
        raise FlowError(
            "menu",
            step,
            f"{problem}; body: {excerpt!r}",
            status=answer.status_code,
            kind="control",
            user=user,
        )
    with contextlib.suppress(ValueError):
        _walk(answer.json(), pricing.menu_id_field, pricing.menu_price_field, found)
    return found


def _walk(node: Any, id_field: str, price_field: str, out: dict[str, int]) -> None:
    if isinstance(node, dict):
        if id_field in node and isinstance(node.get(price_field), int):
            out[str(node[id_field])] = node[price_field]
        for value in node.values():
            _walk(value, id_field, price_field, out)
    elif isinstance(node, list):
        for value in node:
            _walk(value, id_field, price_field, out)
