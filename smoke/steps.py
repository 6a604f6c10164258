"""The steps flows are made of: check out, confirm, the webhook, and the side effects.

Each step function does one thing against the target or the Stripe backend and returns
what it saw, or raises StepFailed with what it saw instead. Times for the latency figures
are wall-clock (`time.time()`), the clock the sandbox stamps its delivery attempts with.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from golive.backends import CheckoutCompletionError, complete_checkout_session
from golive.client.app import Placed
from golive.observer import ObserverError
from golive.profile.pricing import CartLine
from golive.smoke.flows import BackendAnswered, Flow, Skipped, StepFailed, poll
from golive.smoke.harness import Buyer, Harness
from golive.smoke.stripe_side import Answer
from golive.webhooks.fixtures import render_event

SUCCEEDED = "payment_intent.succeeded"
SESSION_COMPLETED = "checkout.session.completed"
FAILED = "payment_intent.payment_failed"
REFUNDED = "charge.refunded"
ORDER_MS = "order_creation_ms"
WEBHOOK_MS = "webhook_processing_ms"


@dataclass
class Payment:
    """One order a flow pays, and what the steps learned about it."""

    customer: Buyer
    placed: Placed | None = None
    intent: str | None = None
    session: str | None = None  # the Checkout Session, when the checkout answers one
    order_id: Any = None
    amount: int | None = None
    currency: str = "usd"
    client_secret: str | None = None
    confirmed_at: float | None = None  # wall clock, after the confirmation answered
    delivered_at: dict[str, float | None] = field(default_factory=dict)  # per event type
    events: dict[str, str] = field(default_factory=dict)


# --- the target's checkout ------------------------------------------------------------------


def paid_event(pay: Payment) -> str:
    """The event that tells the app a payment succeeded."""
    return SESSION_COMPLETED if pay.session else SUCCEEDED


def items(lines: list[CartLine]) -> list[dict[str, Any]]:
    return [{"id": line.id, "quantity": line.quantity} for line in lines]


def uses_cart(h: Harness) -> bool:
    """The profile fills a server-side cart and checks it out (fill_cart, checkout_cart)."""
    return h.target.has("fill_cart") and h.target.has("checkout_cart")


def fill_cart(h: Harness, pay: Payment, lines: list[CartLine]) -> str:
    user = pay.customer.user
    if h.target.has("clear_cart"):
        h.target.run("clear_cart", user)
    h.target.run("fill_cart", user, {"items": items(lines)})
    if not h.target.has("read_cart"):
        return f"{len(lines)} line(s) put in the cart (no read_cart flow to count them)"
    found = h.target.run("read_cart", user).variables.get("lines")
    if not isinstance(found, list) or len(found) != len(lines):
        shown = "no list" if not isinstance(found, list) else f"{len(found)} line(s)"
        raise StepFailed(f"the read_cart flow found {shown}, {len(lines)} added")
    return f"the cart holds {len(found)} line(s)"


def create_intent(h: Harness, flow: Flow, pay: Payment, lines: list[CartLine] | None) -> str:
    """Check out (`lines`, or the cart's content when None)."""
    started = time.monotonic()
    placed = h.target.checkout(pay.customer.user, items(lines) if lines else None, flow.name)
    took = time.monotonic() - started
    pay.placed = placed
    if placed.refused is not None:
        raise StepFailed(f"the checkout was refused: {placed.refused.reason}")
    if took > h.spec.deadlines.create_intent_s:
        raise StepFailed(
            f"the checkout took {took:.1f} s (deadline {h.spec.deadlines.create_intent_s:g} s)"
        )
    pay.intent, pay.session = placed.payment_intent_id, placed.checkout_session_id
    pay.order_id = placed.order_id
    secret = placed.variables.get("client_secret")
    pay.client_secret = secret if isinstance(secret, str) else None
    answered = placed.answer_amount
    pay.amount = answered if isinstance(answered, int) else None
    source, what = "the checkout's answer", f"PaymentIntent {pay.intent}"
    if pay.session:
        what = f"Checkout Session {pay.session}"
    if h.stripe.stateful:
        path = (
            f"checkout/sessions/{pay.session}" if pay.session else f"payment_intents/{pay.intent}"
        )
        read = h.stripe.read(path)
        if not read.ok or not isinstance(read.body, dict):
            raise StepFailed(f"{what} cannot be read back: {read.error()}")
        amount = read.body.get("amount_total" if pay.session else "amount")
        pay.amount, source = amount, f"the {h.stripe.kind} backend"
        pay.currency = str(read.body.get("currency") or pay.currency)
    if not isinstance(pay.amount, int):
        raise StepFailed(f"{what}: no amount in {source}")
    return (
        f"{what} for {pay.amount} {pay.currency} (from {source}), order "
        f"{pay.order_id}; checkout answered {placed.status} in {took * 1000:.0f} ms"
    )


# --- the Stripe backend ---------------------------------------------------------------------


def confirm(h: Harness, pay: Payment, card: str, *, declined: bool = False) -> str:
    if pay.session:
        return _complete_session(h, pay, card, declined=declined)
    assert pay.intent
    mode = h.stripe.confirm_mode(pay.client_secret)
    started = time.monotonic()
    answer = h.stripe.confirm(pay.intent, card, pay.client_secret)
    pay.confirmed_at = time.time()
    took, limit = time.monotonic() - started, h.spec.deadlines.confirm_s
    if took > limit:
        raise StepFailed(f"confirming took {took:.1f} s (deadline {limit:g} s)")
    body = answer.body if isinstance(answer.body, dict) else {}
    _backend_failed(h, answer, f"POST /v1/payment_intents/{pay.intent}/confirm ({mode})")
    if not h.stripe.stateful:
        if not answer.ok:
            raise StepFailed(f"confirming with {card} ({mode}) answered {answer.error()}")
        return (
            f"confirmed with {card} ({mode}); the {h.stripe.kind} backend keeps no payment, "
            "so golive sends the payment's event itself"
        )
    status = body.get("status")
    if declined:
        if answer.ok:
            raise StepFailed(f"{card} was not declined: the PaymentIntent is {status}")
        if answer.status != 402:
            raise StepFailed(f"confirming with {card} answered {answer.error()}, not a decline")
        return f"{card} declined as expected ({mode}): {answer.error()}"
    if not answer.ok:
        raise StepFailed(f"confirming with {card} ({mode}) answered {answer.error()}")
    if status not in ("succeeded", "processing"):
        raise StepFailed(f"confirmed with {card} ({mode}) but the PaymentIntent is {status}")
    return f"confirmed with {card} ({mode}): PaymentIntent {status}"


def _backend_failed(h: Harness, answer: Answer, request: str) -> None:
    """A 5xx, a 404 or no answer to golive's own call is the backend's failure, never the
    app's: the step errs (a refused card or a wrong state is a 4xx the step judges)."""
    if answer.status == 0 or answer.status == 404 or answer.status >= 500:
        raise BackendAnswered(
            f"backend {h.stripe.kind} answered {answer.error()} to golive's {request}: "
            "the backend's error, not the app's"
        )


def _complete_session(h: Harness, pay: Payment, card: str, *, declined: bool) -> str:
    """Pay the Checkout Session as its hosted page would (the sandbox only)."""
    assert pay.session
    cannot = h.stripe.lacking("admin-payments")
    if cannot:
        # Paying the app's Checkout Session takes a browser on Stripe's page, or golive's route.
        raise Skipped(f"the checkout answers a Checkout Session: {cannot}", "not-run")
    started = time.monotonic()
    try:
        session = complete_checkout_session(h.stripe.backend, pay.session, card)
    except CheckoutCompletionError as exc:
        pay.intent = str((exc.error.get("payment_intent") or {}).get("id") or "") or None
        if declined and exc.status == 402:
            return f"{card} declined on Checkout Session {pay.session} as expected: {exc}"
        raise StepFailed(f"paying Checkout Session {pay.session} with {card}: {exc}") from None
    pay.confirmed_at = time.time()
    took, limit = time.monotonic() - started, h.spec.deadlines.confirm_s
    if took > limit:
        raise StepFailed(f"completing the session took {took:.1f} s (deadline {limit:g} s)")
    if declined:
        raise StepFailed(f"{card} was not declined: Checkout Session {pay.session} completed")
    pay.intent = str(session.get("payment_intent") or "") or None
    return (
        f"Checkout Session {pay.session} paid with {card} as its hosted page would: "
        f"{session.get('status')}, {session.get('payment_status')}, PaymentIntent {pay.intent}"
    )


def webhook(h: Harness, flow: Flow, pay: Payment, event_type: str, since: int) -> str:
    """The backend's event for the payment reached the target's webhook (or, when the
    backend sends none, golive's own signed copy did). A paid Checkout Session's event is
    checkout.session.completed."""
    if pay.session and event_type == SUCCEEDED:
        event_type = SESSION_COMPLETED
    assert pay.intent
    deadline = h.spec.deadlines.webhook_s
    if not h.stripe.sends_webhooks:
        return _synthesize(h, pay, event_type)
    found: dict[str, Any] = {}

    def event_seen() -> tuple[bool, str]:
        event = h.stripe.find_event(event_type, pay.intent or "", since)
        if event is not None:
            found["event"] = event
        return event is not None, f"no {event_type} event for {pay.intent}"

    started = time.monotonic()
    done, seen, _ = poll(event_seen, deadline, h.spec.deadlines.poll_s)
    if not done:
        raise StepFailed(f"{seen} within {deadline:g} s")
    event_id = found["event"]["id"]
    pay.events[event_type] = event_id
    left = max(0.1, deadline - (time.monotonic() - started))
    if h.stripe.has_admin:
        return _sandbox_delivery(h, pay, event_type, event_id, left)
    return _pending_webhooks(h, pay, event_type, event_id, left)


def _sandbox_delivery(
    h: Harness, pay: Payment, event_type: str, event_id: str, deadline: float
) -> str:
    url = h.target.app.webhook_url
    seen_attempts: list[dict[str, Any]] = []

    def delivered() -> tuple[bool, str]:
        attempts = [a for a in h.stripe.deliveries(event_id) if a.get("url") == url]
        seen_attempts[:] = attempts
        return any(a.get("outcome") == "succeeded" for a in attempts), ""

    done, _, _ = poll(delivered, deadline, h.spec.deadlines.poll_s)
    path = h.target.app.webhook_url.removeprefix(h.target.app.base_url)
    if not done:
        if not seen_attempts:
            raise StepFailed(
                f"{event_id} ({event_type}) was never sent to {path}: is the endpoint "
                f"registered for {event_type}?"
            )
        last = seen_attempts[-1]
        raise StepFailed(
            f"{event_id} ({event_type}): {len(seen_attempts)} attempt(s) to {path}, none "
            f"answered 2xx; last: {last.get('error') or last.get('status')}"
        )
    ok = next(a for a in seen_attempts if a.get("outcome") == "succeeded")
    # Processing time counts from the first request that reached the app: an app too slow
    # to answer the first one in time (a timeout, then a retry) is slow, not fast.
    reached = [a for a in seen_attempts if a.get("status") is not None or a.get("latency_ms")]
    pay.delivered_at[event_type] = min(_sent_at(a) for a in reached or [ok])
    failed = [a for a in seen_attempts if a.get("outcome") == "failed"]
    pay.events[event_type + ":attempts"] = str(len(seen_attempts))
    before = f" after {len(failed)} failed attempt(s)" if failed else ""
    return (
        f"{event_id} ({event_type}) delivered to {path}{before}: attempt {ok['attempt']} "
        f"answered {ok['status']} in {float(ok['latency_ms']):.0f} ms"
    )


def _sent_at(attempt: dict[str, Any]) -> float:
    """When a delivery attempt was sent: it is recorded when it ended."""
    return float(attempt["at"]) - float(attempt.get("latency_ms") or 0) / 1000


def _pending_webhooks(
    h: Harness, pay: Payment, event_type: str, event_id: str, deadline: float
) -> str:
    # Stripe's test mode: a delivery is done when the event has no pending webhooks left.
    def settled() -> tuple[bool, str]:
        event = h.stripe.read_event(event_id) or {}
        pending = event.get("pending_webhooks")
        return pending == 0, f"pending_webhooks is {pending}"

    done, seen, waited = poll(settled, deadline, max(0.5, h.spec.deadlines.poll_s))
    if not done:
        raise StepFailed(f"{event_id} ({event_type}): {seen} after {waited:.1f} s")
    pay.delivered_at[event_type] = None  # unknown: latency is counted from the confirmation
    return f"{event_id} ({event_type}) delivered: no webhook pending after {waited:.1f} s"


def _synthesize(h: Harness, pay: Payment, event_type: str) -> str:
    values = {"payment_intent_id": pay.intent, "amount": pay.amount, "currency": pay.currency}
    event = render_event(event_type, values)
    sent_at = time.time()
    delivery = h.target.deliver(event)
    pay.events[event_type] = event["id"]
    if not delivery.ok:
        raise StepFailed(
            f"golive's signed {event_type} ({event['id']}) was answered "
            f"{delivery.status or delivery.error}: {delivery.body_excerpt[:120]}"
        )
    pay.delivered_at[event_type] = sent_at
    return (
        f"the {h.stripe.kind} backend sends no webhooks: golive signed {event_type} "
        f"({event['id']}) and the target answered {delivery.status} in "
        f"{delivery.latency_ms:.0f} ms"
    )


def refund(h: Harness, pay: Payment) -> str:
    started = time.monotonic()
    seen = _refund(h, pay)
    took, limit = time.monotonic() - started, h.spec.deadlines.refund_s
    if took > limit:
        raise StepFailed(f"the refund took {took:.1f} s (deadline {limit:g} s): {seen}")
    return seen


def _refund(h: Harness, pay: Payment) -> str:
    if h.spec.refund.via == "stripe":
        answer = h.stripe.refund(pay.intent or "")
        _backend_failed(h, answer, "POST /v1/refunds")
        if not answer.ok:
            raise StepFailed(f"POST /v1/refunds answered {answer.error()}")
        return f"refunded through Stripe's API: {(answer.body or {}).get('id')}"
    if not h.target.has("refund"):
        raise Skipped("the profile has no `refund` flow (or set smoke.refund.via: stripe)")
    run = h.target.run("refund", pay.customer.user, _order_inputs(pay))
    last = run.steps[-1]
    return f"the refund flow: {last.method} {last.path} answered {last.status}"


def _order_inputs(pay: Payment) -> dict[str, Any]:
    """What the order's flows get: everything the checkout captured, and the payment."""
    values = dict(pay.placed.variables) if pay.placed else {}
    values.setdefault("order_id", pay.order_id)
    values["payment_intent_id"] = pay.intent
    values.setdefault("amount", pay.amount)
    return values


# --- side effects -----------------------------------------------------------------------------


def observe(
    h: Harness,
    pay: Payment,
    want: Callable[[dict[str, int]], bool],
    deadline: float,
    what: str,
) -> tuple[dict[str, int], float]:
    """Poll the observer until `want(counts)`; (counts, wall time seen). StepFailed after
    the deadline, quoting the last counts."""
    last: dict[str, int] = {}

    def probe() -> tuple[bool, str]:
        try:
            last.update(h.observer.counts(pay.intent or ""))
        except ObserverError as exc:
            raise StepFailed(str(exc)) from None
        return want(last), ""

    done, _, waited = poll(probe, deadline, h.spec.deadlines.poll_s)
    if not done:
        raise StepFailed(f"{what} not seen within {deadline:g} s; the observer saw {_counts(last)}")
    return dict(last), time.time()


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "nothing"


def order_paid(h: Harness, flow: Flow, pay: Payment, *, measure: bool = True) -> str:
    counts, seen_at = observe(
        h,
        pay,
        lambda c: c["orders"] == 1 and c["paid_orders"] == 1,
        h.spec.deadlines.order_s,
        f"one paid order for {pay.intent}",
    )
    latency = ""
    if measure and pay.confirmed_at is not None:
        flow.sample(ORDER_MS, (seen_at - pay.confirmed_at) * 1000)
        latency = f", {(seen_at - pay.confirmed_at) * 1000:.0f} ms after the confirmation"
        delivered = pay.delivered_at.get(paid_event(pay))
        flow.sample(WEBHOOK_MS, (seen_at - (delivered or pay.confirmed_at)) * 1000)
    return f"1 order for {pay.intent}, paid ({_counts(counts)}){latency}"


def payment_recorded(h: Harness, pay: Payment, *, exactly: bool = True) -> str:
    counts, _ = observe(
        h,
        pay,
        lambda c: c["payments"] == 1 if exactly else c["payments"] >= 1,
        h.spec.deadlines.payment_s,
        f"one payment record for {pay.intent}",
    )
    return f"payment recorded ({_counts(counts)})"


def notification_written(h: Harness, pay: Payment) -> str:
    first = h.observer.counts(pay.intent or "")
    if "notifications" not in first:
        raise Skipped("the profile's observer counts no notifications (observer.*.counts)")
    counts, _ = observe(
        h,
        pay,
        lambda c: c.get("notifications", 0) >= 1,
        h.spec.deadlines.notification_s,
        f"a notification for {pay.intent}",
    )
    return f"notification written ({_counts(counts)})"


def cart_cleared(h: Harness, pay: Payment) -> str:
    if not h.target.has("read_cart"):
        raise Skipped("the profile has no `read_cart` flow: the cart cannot be read")
    last: dict[str, Any] = {}

    def empty() -> tuple[bool, str]:
        lines = h.target.run("read_cart", pay.customer.user, _order_inputs(pay)).variables.get(
            "lines"
        )
        last.update(lines=lines)
        return lines == [], ""

    done, _, waited = poll(empty, h.spec.deadlines.cart_s, h.spec.deadlines.poll_s)
    if not done:
        lines = last.get("lines")
        shown = f"{len(lines)} line(s)" if isinstance(lines, list) else "no list"
        raise StepFailed(
            f"the read_cart flow still finds {shown} {h.spec.deadlines.cart_s:g} s after the "
            "payment"
        )
    return f"the cart is empty (read_cart) {waited:.1f} s after the order was paid"


def read_order(h: Harness, pay: Payment) -> dict[str, Any]:
    """The order's captures (status, lines, subtotal) from the `read_order` flow."""
    if not h.target.has("read_order"):
        raise Skipped("the profile has no `read_order` flow: the order cannot be read back")
    return h.target.run("read_order", pay.customer.user, _order_inputs(pay)).variables


def order_status(
    h: Harness, flow: Flow, pay: Payment, wanted: list[str], event_type: str | None
) -> str:
    """The order, read back from the target, reaches one of `wanted` statuses."""
    if not h.target.has("read_order"):
        raise Skipped("the profile has no `read_order` flow: the order cannot be read back")
    last: dict[str, Any] = {}

    def reached() -> tuple[bool, str]:
        value = read_order(h, pay).get("status")
        last.update(value=value)
        return value in wanted, ""

    done, _, waited = poll(reached, h.spec.deadlines.order_s, h.spec.deadlines.poll_s)
    if not done:
        raise StepFailed(
            f"order {pay.order_id} is {last.get('value')!r} (read_order), not "
            f"{' or '.join(wanted)}, {h.spec.deadlines.order_s:g} s on"
        )
    if event_type and event_type in pay.delivered_at:
        delivered = pay.delivered_at[event_type] or pay.confirmed_at
        if delivered is not None:
            flow.sample(WEBHOOK_MS, (time.time() - delivered) * 1000)
    return f"order {pay.order_id} is {last['value']} after {waited:.1f} s"
