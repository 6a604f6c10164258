"""The production smoke: read-only requests always; one real small payment and its refund
only when the run is in test mode, or the profile opts in for live keys.

```yaml
smoke:
  production:
    pages: [/api/v1/menu]                                    # GETs that must load
    real_payment: {host: shop.example.com, amount_max: 100}  # live keys: the opt-in
```

Read-only part (every run, live or not): the app's health URL answers 2xx; the Stripe
account answers GET /v1/account; GET /v1/webhook_endpoints lists an enabled endpoint at
the app's webhook URL; each of `pages` answers 2xx to smoke.customer. Nothing is written
anywhere.

Payment part: with live keys (the profile's `mode: live`, or an sk_live_/rk_live_/pk_live_
key) and no `real_payment` naming the app's host, none: the evidence says so and no
PaymentIntent is created. Otherwise: check out the smoke cart, refuse to confirm above
`amount_max`, confirm with a test card, the webhook, the paid order, then refund it (the
profile's `smoke.refund`), charge.refunded, the refunded order. A confirmed payment is
always refunded, whatever failed between (the order not seen paid, say).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from golive import httpclient
from golive.context import CheckContext
from golive.profile.smoke import Production, Smoke
from golive.smoke import steps
from golive.smoke.flows import Flow, StepFailed
from golive.smoke.harness import Harness, LiveOptIn, harness, live_reasons
from golive.smoke.steps import REFUNDED, SUCCEEDED, Payment
from golive.smoke.stripe_side import StripeSide

OPT_IN = "smoke.production.real_payment"
TIMEOUT_S = 10


@dataclass
class ReadOnly:
    """The read-only requests and what each answered."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # the app's: the item fails
    errors: list[str] = field(default_factory=list)  # golive's own call failed: error

    def add(self, request: str, status: int, ok: bool, seen: str = "") -> None:
        self.requests.append({"request": request, "status": status, "ok": ok, "seen": seen})


def production_spec(ctx: CheckContext) -> tuple[Smoke, Production]:
    raw = ctx.profile.model.smoke
    if raw is None:
        ctx.not_run("the target profile has no `smoke` block (see golive/profile/smoke.py)")
    spec = Smoke.model_validate(raw)  # validated when the profile loaded
    return spec, spec.production


def read_only(ctx: CheckContext, spec: Smoke, production: Production) -> ReadOnly:
    app, backend = ctx.target.app, ctx.target.stripe
    seen = ReadOnly()
    health = ctx.profile.model.app.health if ctx.profile.model.app else "/"
    with httpclient.client(base_url=app.base_url, timeout=TIMEOUT_S) as web:
        try:
            answer = web.get(health)
            ok = 200 <= answer.status_code < 300
            seen.add(f"GET {health}", answer.status_code, ok)
            if not ok:
                seen.failures.append(f"the health URL {health} answered {answer.status_code}")
        except httpx.HTTPError as exc:
            seen.add(f"GET {health}", 0, False, type(exc).__name__)
            seen.failures.append(f"the health URL {health} did not answer ({type(exc).__name__})")
    stripe = StripeSide(backend, None)
    try:
        _stripe_reads(stripe, app.webhook_url, seen)
    finally:
        stripe.close()
    client = ctx.target.client()
    for path in production.pages:
        request = f"GET {path} as {spec.customer}"
        try:
            answer = client.session(spec.customer).request("GET", path)
        except httpx.HTTPError as exc:
            seen.add(request, 0, False, type(exc).__name__)
            seen.failures.append(f"{request} did not answer ({type(exc).__name__})")
            continue
        ok = 200 <= answer.status_code < 300
        seen.add(request, answer.status_code, ok)
        if not ok:
            seen.failures.append(f"{request} answered {answer.status_code}")
    return seen


def _stripe_reads(stripe: StripeSide, webhook_url: str, seen: ReadOnly) -> None:
    answers = {}
    # A stand-in that keeps no account or endpoints (stripe-mock, localstripe) is not read.
    for capability, path in (("account", "account"), ("webhook-endpoints", "webhook_endpoints")):
        request = f"GET /v1/{path}"
        cannot = stripe.lacking(capability)
        if cannot:
            seen.add(request, 0, True, f"not sent: {cannot}")
            continue
        try:
            answer = stripe.read(path)
        except httpx.HTTPError as exc:
            seen.errors.append(f"the Stripe backend did not answer golive's {request} ({exc})")
            return
        seen.add(request, answer.status, answer.ok, "" if answer.ok else answer.error())
        if not answer.ok:
            seen.errors.append(f"{request} answered {answer.error()} to golive's key")
        answers[path] = answer
    endpoints = answers.get("webhook_endpoints")
    if endpoints is None or not endpoints.ok:
        return
    listed = (endpoints.body or {}).get("data") or []
    enabled = [e for e in listed if e.get("url") == webhook_url and e.get("status") == "enabled"]
    seen.requests[-1]["seen"] = (
        f"{len(listed)} endpoint(s), {len(enabled)} enabled at {webhook_url}"
    )
    if not enabled:
        seen.failures.append(
            f"no enabled webhook endpoint at {webhook_url} among the account's {len(listed)}: "
            "production payments would never reach the app"
        )


def payment_opt_in(ctx: CheckContext, production: Production) -> tuple[list[str], LiveOptIn]:
    """Why the run is live (empty: test mode) and the production smoke's opt-in."""
    real = production.real_payment
    return live_reasons(ctx, ctx.target.stripe), LiveOptIn(OPT_IN, real.host if real else None)


def payment_flow(h: Harness, production: Production, card: str) -> Flow:
    """Pay the smoke cart (no more than amount_max) and refund it."""
    flow, pay = Flow("production"), Payment(h.customer)
    limit = production.real_payment.amount_max if production.real_payment else None
    lines = None
    if steps.uses_cart(h):
        flow.run("fill-cart", lambda: steps.fill_cart(h, pay, h.spec.items))
    else:
        lines = h.spec.items
    since = int(time.time()) - 2  # event `created` is in whole seconds
    flow.run("create-intent", lambda: steps.create_intent(h, flow, pay, lines))
    flow.run("amount-limit", lambda: _within(pay, limit))
    if not flow.run("confirm", lambda: steps.confirm(h, pay, card)):
        return flow
    flow.values["payment_intent"] = pay.intent
    flow.values["amount"] = pay.amount
    flow.run("webhook", lambda: steps.webhook(h, flow, pay, SUCCEEDED, since), blocking=False)
    flow.run("order", lambda: steps.order_paid(h, flow, pay, measure=False), blocking=False)
    # The payment is real money on live keys: it is refunded whatever happened since.
    since = int(time.time()) - 2
    if flow.run("refund", lambda: steps.refund(h, pay)):
        flow.run("refund-webhook", lambda: steps.webhook(h, flow, pay, REFUNDED, since))
        flow.run(
            "order-refunded",
            lambda: steps.order_status(h, flow, pay, h.spec.order.refunded, REFUNDED),
        )
    return flow


def _within(pay: Payment, limit: int | None) -> str:
    if limit is None:
        return f"{pay.amount} {pay.currency}: no amount_max (test mode)"
    if not isinstance(pay.amount, int) or pay.amount > limit:
        raise StepFailed(
            f"refusing to confirm: the payment is {pay.amount} {pay.currency}, above "
            f"{OPT_IN}.amount_max {limit} (set smoke.items to a cheaper cart)"
        )
    return f"{pay.amount} {pay.currency} is within amount_max {limit}"


def run_payment(ctx: CheckContext, production: Production, opt_in: LiveOptIn, card: str) -> Flow:
    h = harness(ctx, opt_in)
    return ctx.target.cached("smoke.flow:production", lambda: payment_flow(h, production, card))
