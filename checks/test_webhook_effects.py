"""Webhook side effects: what a delivery changes in the target, seen through its observer.

Each check buys a real order awaiting payment (the profile's `observer.order` user and
cart, through the profile's `checkout` flow), reads its PaymentIntent back from the Stripe
backend, and sends the app `payment_intent.succeeded` events for it — the event fixture
with the PaymentIntent's id, amount, currency and metadata, as Stripe would send it once
paid. The profile's `observer` (golive/observer.py) counts orders, paid orders, payments
and notifications for that PaymentIntent.

A checkout that answers a Checkout Session is paid for real in the sandbox first, quietly
(the sandbox records the events and sends none), so an app that re-fetches the session
from Stripe finds it complete; golive then sends `checkout.session.completed` with the
session as the backend has it. The amount-mismatch check then pays a second, real session
for another amount, naming the same order, instead of editing the event's amount.

Every check has a positive control: a correct delivery must mark the order paid within
the observer's deadline. The order may exist from checkout on (unpaid) or be created by
the webhook; either works. A target where that never shows is an error (the check saw
nothing), not a pass — the observer's queries or the order fixture are wrong. Effects that
must NOT happen are watched for the observer's `settle_s`. A profile that declares
`observer: {none: reason}` makes these checks not-applicable with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import stripe
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from golive import outcomes
from golive.backends import (
    CheckoutCompletionError,
    complete_checkout_session,
    pay_payment_intent,
)
from golive.client import stripe_api
from golive.client.errors import FlowError
from golive.context import CheckContext
from golive.observer import (
    PROFILE_KEY,
    Observation,
    Observer,
    ObserverError,
    ObserverModel,
    open_observer,
)
from golive.registry import check
from golive.webhooks import adaptive, forge, sender
from golive.webhooks.fixtures import render_event
from golive.webhooks.sender import Delivery
from golive.webhooks.signing import encode_event

NEEDS = {"app", "stripe"}
EVENT = "payment_intent.succeeded"
SESSION_EVENT = "checkout.session.completed"
MISMATCH_CENTS = 100  # far beyond any rounding difference


class DuplicateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    concurrent_deliveries: int = Field(
        forge.DEFAULT_CONCURRENT_DUPLICATES,
        ge=2,
        le=forge.MAX_COPIES,
        description="How many copies of one event arrive at the same instant",
    )


# --- the target, its observer and a pending order ---------------------------------------


@dataclass
class Order:
    """An order awaiting payment, and its PaymentIntent as the Stripe backend has it."""

    payment_intent: str
    amount: int
    currency: str
    metadata: dict[str, Any]
    checkout_status: int
    session: dict[str, Any] | None = None  # the Checkout Session, paid in the backend
    intent: dict[str, Any] | None = None  # the PaymentIntent, paid in the backend (sandbox)

    def event(self, *, amount: int | None = None, event_id: str | None = None) -> dict:
        """`payment_intent.succeeded` for this PaymentIntent, or `checkout.session.completed`
        for its session (fresh event id by default)."""
        if self.session is not None:
            return self.session_event(self.session, event_id=event_id)
        if self.intent is not None:  # the payment really happened: the event carries it
            event = render_event(EVENT, {"payment_intent_id": self.payment_intent})
            if event_id:
                event["id"] = event_id
            event["data"]["object"] = dict(self.intent)
            return event
        charged = self.amount if amount is None else amount
        values: dict[str, Any] = {
            "payment_intent_id": self.payment_intent,
            "amount": charged,
            "currency": self.currency,
        }
        if event_id:
            values["event_id"] = event_id
        event = render_event(EVENT, values)
        event["data"]["object"]["metadata"] = dict(self.metadata)
        return event

    @staticmethod
    def session_event(session: dict[str, Any], *, event_id: str | None = None) -> dict:
        """`checkout.session.completed` carrying `session` as the backend has it."""
        values: dict[str, Any] = {
            "checkout_session_id": session["id"],
            "amount": session.get("amount_total") or 0,
        }
        if event_id:
            values["event_id"] = event_id
        event = render_event(SESSION_EVENT, values)
        event["data"]["object"] = dict(session)
        return event


class Effects:
    """What the side-effect checks share: where to send, how to sign, how to observe."""

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        ctx.needs_observer()  # `observer: {none: …}`: no side effect to judge
        app = ctx.target.app
        if app is None:
            ctx.not_run("the target profile has no `app`: there is no webhook URL to send to")
        raw = ctx.profile.model.observer
        if raw is None:
            ctx.not_run(
                f"the target profile has no `{PROFILE_KEY}` block: golive cannot see orders "
                "and payments (give sql, mongo or http counts, see golive/observer.py)"
            )
        try:
            self.model = ObserverModel.model_validate(raw)
        except ValidationError as exc:
            ctx.error(f"the profile's `{PROFILE_KEY}` block is invalid: {exc}")
        if self.model.order is None:
            ctx.not_run(f"`{PROFILE_KEY}.order` names no user and cart to buy with")
        ctx.require_job("checkout")
        secret_var = ctx.profile.var("webhook_secret")
        secret = ctx.profile.env.get(secret_var)
        if not secret:
            ctx.not_run(f"{secret_var} is not set in the target's env: cannot sign deliveries")
        # The order's PaymentIntent is read back to build a real payment event.
        backend = ctx.require_backend("stateful")
        self.app, self.backend, self.secret = app, backend, secret
        host = urlsplit(app.base_url).hostname
        self.allow_hosts: tuple[str, ...] = (host,) if host else ()
        try:
            self.observer: Observer = open_observer(
                self.model,
                database_url=ctx.profile.database_url(),
                app_base_url=app.base_url,
                app_client=ctx.app_client(),
            )
        except ObserverError as exc:
            ctx.fail(f"the observer cannot be opened: {exc}")

    # -- orders ------------------------------------------------------------------------

    def pending_order(self, purpose: str, *, mismatch: bool = False) -> Order:
        """A fresh order awaiting payment, whose payment golive then makes for real in the
        sandbox without telling the app (so an app that re-fetches the PaymentIntent or
        Session finds it paid); with `mismatch`, a PaymentIntent's amount is first changed
        by MISMATCH_CENTS. An error when the observer cannot see the order."""
        spec = self.model.order
        assert spec is not None
        items = [{"id": line.id, "quantity": line.quantity} for line in spec.cart]
        try:
            placed = self.ctx.app_client().checkout(spec.user, items)
        except FlowError as exc:
            self.ctx.flow_error(exc)
        if not placed.ok:
            self.ctx.record(purpose=purpose, **placed.evidence())
            # The order is this check's control: whatever stopped it is golive's error.
            step = placed.steps[-1] if placed.steps else None
            self.ctx.error(
                outcomes.control_failed(
                    f"place the {purpose} order",
                    spec.user,
                    f"{step.method} {step.path}" if step else "the checkout job",
                    placed.status,
                    placed.body_excerpt,
                )
            )
        session = self._paid_session(placed.checkout_session_id, purpose)
        intent_id = placed.payment_intent_id or (session or {}).get("payment_intent")
        client = stripe_api.client(self.backend)
        try:
            intent = client.v1.payment_intents.retrieve(str(intent_id)).to_dict()
        except stripe.StripeError as exc:
            self.ctx.fail(
                f"PaymentIntent {intent_id} of the {purpose} order cannot be "
                f"read back from the Stripe backend: {exc.user_message or exc}"
            )
        order = Order(
            str(intent_id),
            int(intent["amount"]),
            str(intent.get("currency") or "usd"),
            dict(intent.get("metadata") or {}),
            placed.status or 0,
            session,
        )
        if session is None and self.backend.can("admin-payments"):
            order.intent = self._paid_intent(client, order, purpose, mismatch=mismatch)
        counts = self.counts(order)
        self.ctx.record(
            purpose=purpose, payment_intent=order.payment_intent, amount=order.amount, before=counts
        )
        # Apps that create the order at checkout show one unpaid order; apps that create it
        # from the webhook show none yet. Anything paid before a payment is sent means the
        # queries count something else.
        if counts["orders"] > 1 or counts["paid_orders"] or counts["payments"]:
            self.ctx.nothing_examined(
                f"the observer sees {counts['orders']} order(s), {counts['paid_orders']} paid, "
                f"{counts['payments']} payment(s) for PaymentIntent {order.payment_intent} "
                "right after checkout, before any payment (expected at most one unpaid order): "
                "its queries do not count this PaymentIntent's orders"
            )
        return order

    def _paid_session(self, session_id: str | None, purpose: str) -> dict[str, Any] | None:
        """The order's Checkout Session, paid quietly in the sandbox (no webhook sent)."""
        if session_id is None:
            return None
        # Paying the app's Checkout Session takes a browser, or golive's admin route.
        self.ctx.require_backend("admin-payments")
        try:
            return complete_checkout_session(self.backend, session_id, deliver=False)
        except CheckoutCompletionError as exc:
            self.ctx.error(f"the sandbox would not pay the {purpose} order's session: {exc}")

    def _paid_intent(
        self, client: stripe.StripeClient, order: Order, purpose: str, *, mismatch: bool
    ) -> dict[str, Any]:
        """The order's PaymentIntent paid quietly with a test card (its events sent to no
        endpoint): with `mismatch`, for another amount than the order's."""
        try:
            if mismatch:
                client.v1.payment_intents.update(
                    order.payment_intent, params={"amount": wrong_amount(order.amount)}
                )
            return pay_payment_intent(self.backend, order.payment_intent, deliver=False)
        except (stripe.StripeError, CheckoutCompletionError) as exc:
            self.ctx.error(f"the sandbox would not pay the {purpose} order's intent: {exc}")

    def sibling_events(self, order: Order) -> list[dict[str, Any]]:
        """The payment's other events, as Stripe sends them too (fresh ids): for a paid
        Checkout Session its PaymentIntent succeeding, and the charge succeeding — those
        the app's endpoint subscribes to, when the backend knows the endpoint. An app that
        books a payment on each of them books it twice."""
        client = stripe_api.client(self.backend)
        try:
            intent = client.v1.payment_intents.retrieve(order.payment_intent).to_dict()
            charge_id = intent.get("latest_charge")
            charge = client.v1.charges.retrieve(str(charge_id)).to_dict() if charge_id else None
        except stripe.StripeError as exc:
            self.ctx.error(
                f"the backend {self.backend.name} would not read back PaymentIntent "
                f"{order.payment_intent} or its charge: {exc.user_message or exc}"
            )
        objects: list[tuple[str, dict[str, Any]]] = []
        if order.session is not None:
            objects.append((EVENT, intent))
        if charge is not None:
            objects.append(("charge.succeeded", charge))
        subscribed = self._subscribed_events()
        events = []
        for event_type, obj in objects:
            if subscribed is not None and event_type not in subscribed:
                continue
            event = render_event(event_type)
            event["data"]["object"] = obj
            events.append(event)
        return events

    def _subscribed_events(self) -> set[str] | None:
        """The events the backend's endpoint for the app's webhook URL is enabled for; None
        when the backend keeps no endpoints, none matches, or it takes every event."""
        if not self.backend.can("webhook-endpoints"):
            return None
        client = stripe_api.client(self.backend)
        wanted = self.app.webhook_url.rstrip("/")
        try:
            endpoints = client.v1.webhook_endpoints.list(params={"limit": 100})
            for found in endpoints.auto_paging_iter():
                endpoint = found.to_dict()
                if str(endpoint.get("url") or "").rstrip("/") == wanted:
                    enabled = set(endpoint.get("enabled_events") or [])
                    return None if "*" in enabled else enabled
        except stripe.StripeError:
            return None  # golive then sends every sibling: Stripe may, too
        return None

    def mismatched_session(self, order: Order, amount: int) -> dict[str, Any]:
        """A second real session naming the same order (its metadata and reference) for
        another amount, paid quietly: what a re-fetching app must refuse."""
        assert order.session is not None
        original = order.session
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": order.currency,
                        "unit_amount": amount,
                        "product_data": {"name": "golive: a payment of another amount"},
                    },
                }
            ],
            "success_url": original.get("success_url") or "https://example.invalid/ok",
            "metadata": dict(original.get("metadata") or {}),
        }
        if original.get("client_reference_id"):
            params["client_reference_id"] = original["client_reference_id"]
        created = stripe_api.client(self.backend).v1.checkout.sessions.create(params=params)
        return complete_checkout_session(self.backend, created.id, deliver=False)

    # -- sending -----------------------------------------------------------------------

    def signed(self, event: dict) -> forge.Forged:
        return forge.build("signed", encode_event(event), self.secret)

    def send(self, forged: forge.Forged) -> Delivery:
        [delivery] = sender.send_forged(
            self.app.webhook_url,
            forged,
            allow_hosts=self.allow_hosts,
            redactor=self.ctx.target.redactor,
        )
        return delivery

    def bypass_battery(self, order: Order, answers: list[Delivery]) -> adaptive.Report:
        """golive.webhooks.adaptive's battery and mined hints, each request a forged delivery
        of this order's payment (a fresh event id each time)."""

        def send(payload: bytes, headers: Any, query: str) -> Delivery:
            return sender.deliver(
                adaptive.with_query(self.app.webhook_url, query),
                payload,
                headers,
                allow_hosts=self.allow_hosts,
                redactor=self.ctx.target.redactor,
            )

        probe = adaptive.Probe(send, lambda: encode_event(order.event()), self.secret)
        return probe.run(answers)

    def send_together(self, event: dict, copies: int) -> list[Delivery]:
        forged = self.signed(event)
        return sender.deliver_together(
            self.app.webhook_url,
            forged.payload,
            forged.headers,
            copies,
            allow_hosts=self.allow_hosts,
            redactor=self.ctx.target.redactor,
        )

    # -- observing ---------------------------------------------------------------------

    def counts(self, order: Order) -> dict[str, int]:
        try:
            return self.observer.counts(order.payment_intent)
        except ObserverError as exc:
            self.ctx.fail(f"the observer could not be asked: {exc}")

    def wait_paid(self, order: Order, after: str) -> Observation:
        """The positive control: the order shows paid, with its payment, by the deadline."""
        try:
            reached, seen = self.observer.wait_until(order.payment_intent, _paid)
        except ObserverError as exc:
            self.ctx.fail(f"the observer could not be asked: {exc}")
        self.ctx.record(step=f"after {after}", **seen.evidence())
        if not reached:
            self.ctx.nothing_examined(
                f"after {after}, PaymentIntent {order.payment_intent} shows no paid order and "
                f"payment within {self.model.deadline_s} s (counts {seen.counts}): the app did "
                "not take the event as a payment, so nothing about its side effects was seen"
            )
        return seen

    def watch(
        self, order: Order, bad: Callable[[dict[str, int]], bool], during: str
    ) -> Observation:
        """Watch `settle_s` for a forbidden side effect; returns the last observation."""
        try:
            _, seen = self.observer.watch(order.payment_intent, bad)
        except ObserverError as exc:
            self.ctx.fail(f"the observer could not be asked: {exc}")
        self.ctx.record(step=f"during {during}", **seen.evidence())
        return seen

    def close(self) -> None:
        self.observer.close()


def _paid(counts: dict[str, int]) -> bool:
    return counts["paid_orders"] >= 1 and counts["payments"] >= 1


def _any_paid(counts: dict[str, int]) -> bool:
    return counts["paid_orders"] > 0 or counts["payments"] > 0


def _more_than_one(counts: dict[str, int]) -> bool:
    return any(value > 1 for value in counts.values())


def _doubled(counts: dict[str, int]) -> list[str]:
    return [f"{value} {name}" for name, value in counts.items() if value > 1]


def _delivery(delivery: Delivery) -> dict[str, Any]:
    return {"status": delivery.status, **({"error": delivery.error} if delivery.error else {})}


# --- the checks -------------------------------------------------------------------------


@check("webhook.forged-no-side-effect", needs=NEEDS)
def test_forged_no_side_effect(ctx: CheckContext) -> None:
    """Forged deliveries of a real payment (bad, missing or wrong signatures, the debug
    bypass battery and what the app's rejections hint at) leave the order unpaid; the same
    event correctly signed then pays it."""
    effects = Effects(ctx)
    try:
        order = effects.pending_order("forged-deliveries")
        answers, sent = {}, []
        for variant in forge.FORGERIES:  # webhook.forged-rejected's, each paying for real
            delivery = effects.send(
                forge.build(variant, encode_event(order.event()), effects.secret)
            )
            sent.append(delivery)
            answers[variant] = delivery.status if delivery.status is not None else delivery.error
        accepted: list[str] = []
        if not any(d.ok for d in sent):  # else every bypass would be accepted, naming nothing
            report = effects.bypass_battery(order, sent)
            accepted = [finding.describe() for finding in report.findings]
            answers["bypass-battery"] = f"{len(report.attempts)} requests, {len(accepted)} accepted"
        ctx.record(forged_answers=answers, **({"accepted": accepted} if accepted else {}))
        seen = effects.watch(order, _any_paid, "the forged deliveries")
        forged_paid = _any_paid(seen.counts)
        control = effects.send(effects.signed(order.event()))
        ctx.record(control="signed delivery", **_delivery(control))
        effects.wait_paid(order, "the correctly signed delivery")
    finally:
        effects.close()
    if forged_paid:
        named = f"; accepted: {', '.join(accepted)}" if accepted else ""
        ctx.fail(
            f"forged deliveries paid order of PaymentIntent {order.payment_intent}: the observer "
            f"saw {seen.counts} before any correctly signed event was sent (answers: {answers})"
            + named
        )


@check("webhook.duplicate-one-order", params=DuplicateParams, needs=NEEDS)
def test_duplicate_one_order(ctx: CheckContext) -> None:
    """One event delivered N times at once, the same event again later, and a new event id
    for the paid PaymentIntent: one order, one paid order, one payment, one notification."""
    copies: int = ctx.params.concurrent_deliveries  # type: ignore[attr-defined]
    effects = Effects(ctx)
    problems: list[str] = []
    try:
        # A first sight of the event N times at once: check-then-insert races show here.
        raced = effects.pending_order("concurrent-duplicates")
        event = raced.event()
        deliveries = effects.send_together(event, copies)
        ctx.record(
            deliveries=f"{copies} copies of {event['id']} at once",
            answers=sorted({str(d.status or d.error) for d in deliveries}),
        )
        effects.wait_paid(raced, f"{copies} concurrent copies")
        seen = effects.watch(raced, _more_than_one, "the concurrent copies settling")
        if _more_than_one(seen.counts):
            problems.append(
                f"{copies} concurrent copies of event {event['id']} left "
                f"{', '.join(_doubled(seen.counts))} for PaymentIntent {raced.payment_intent}"
            )
        # The same event twice in sequence, then a new event id for the paid PaymentIntent.
        again = effects.pending_order("sequential-duplicates")
        event = again.event()
        first = effects.send(effects.signed(event))
        effects.wait_paid(again, "the first delivery")
        second = effects.send(effects.signed(event))
        renewed = again.event()  # same PaymentIntent, fresh event id
        third = effects.send(effects.signed(renewed))
        # Stripe also sends the payment's other events (a session's PaymentIntent, the
        # charge): each must find the payment already booked.
        siblings = effects.sibling_events(again)
        answers = [effects.send(effects.signed(sibling)).status for sibling in siblings]
        ctx.record(
            deliveries=f"{event['id']} twice, then {renewed['id']} for the same PaymentIntent",
            answers=[first.status, second.status, third.status],
            sibling_events=[
                f"{e['type']} {e['id']}: {a}" for e, a in zip(siblings, answers, strict=True)
            ],
        )
        seen = effects.watch(again, _more_than_one, "the redeliveries settling")
        if _more_than_one(seen.counts):
            others = ", ".join(e["type"] for e in siblings)
            problems.append(
                f"event {event['id']} delivered twice, a new event id for the paid "
                f"PaymentIntent {again.payment_intent}"
                + (f" and the payment's other events ({others})" if others else "")
                + f" left {', '.join(_doubled(seen.counts))}"
            )
    finally:
        effects.close()
    if problems:
        ctx.fail("; ".join(problems) + " — expected exactly one of each")


def wrong_amount(amount: int) -> int:
    return amount - MISMATCH_CENTS if amount > MISMATCH_CENTS else amount + MISMATCH_CENTS


@check("webhook.amount-mismatch", needs=NEEDS)
def test_amount_mismatch(ctx: CheckContext) -> None:
    """A correctly signed payment whose amount differs from the order's total marks
    nothing paid; the right amount then does. In the sandbox the wrong payment is real (a
    PaymentIntent updated before it is paid, or a second session naming the order), so an
    app that re-fetches the payment from Stripe sees the same wrong amount."""
    effects = Effects(ctx)
    try:
        order = effects.pending_order("amount-mismatch", mismatch=True)
        wrong = wrong_amount(order.amount)
        if order.session is not None:
            other = effects.mismatched_session(order, wrong)
            mismatched = effects.send(effects.signed(Order.session_event(other)))
        elif order.intent is not None:
            mismatched = effects.send(effects.signed(order.event()))
        else:
            mismatched = effects.send(effects.signed(order.event(amount=wrong)))
        ctx.record(
            delivery=f"signed payment of {wrong} for an order of {order.amount}",
            **_delivery(mismatched),
        )
        seen = effects.watch(order, _any_paid, "the mismatched payment")
        mismatch_paid = _any_paid(seen.counts)
        # A PaymentIntent paid for the wrong amount stays so: the control is a new order.
        right = effects.pending_order("amount-control") if order.intent is not None else order
        control = effects.send(effects.signed(right.event()))
        ctx.record(control=f"signed payment of {right.amount}", **_delivery(control))
        if not mismatch_paid:
            effects.wait_paid(right, "the payment of the right amount")
    finally:
        effects.close()
    if mismatch_paid:
        ctx.fail(
            f"a signed payment of {wrong} marked the order of PaymentIntent "
            f"{order.payment_intent} paid although its total is {order.amount} (observer saw "
            f"{seen.counts}): the webhook does not compare the amount with the order"
        )
