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

from golive.checkout import Placed, dotted
from golive.observer import ObserverError
from golive.profile.pricing import CartLine
from golive.profile.smoke import Customer
from golive.smoke.flows import Flow, Skipped, StepFailed, poll
from golive.smoke.harness import Harness
from golive.webhooks.fixtures import render_event

SUCCEEDED = "payment_intent.succeeded"
FAILED = "payment_intent.payment_failed"
REFUNDED = "charge.refunded"
ORDER_MS = "order_creation_ms"
WEBHOOK_MS = "webhook_processing_ms"


@dataclass
class Payment:
    """One order a flow pays, and what the steps learned about it."""

    customer: Customer
    placed: Placed | None = None
    intent: str | None = None
    order_id: Any = None
    amount: int | None = None
    currency: str = "usd"
    client_secret: str | None = None
    confirmed_at: float | None = None  # wall clock, after the confirmation answered
    delivered_at: dict[str, float | None] = field(default_factory=dict)  # per event type
    events: dict[str, str] = field(default_factory=dict)


# --- the target's checkout ------------------------------------------------------------------


def fill_cart(h: Harness, pay: Payment, lines: list[CartLine]) -> str:
    cart = h.spec.cart
    if cart is None:
        raise Skipped("the profile's smoke block has no `cart`: the cart cannot be filled")
    token = pay.customer.token
    if cart.clear is not None:
        answer = h.target.call(cart.clear, token, {})
        if not answer.is_success:
            raise StepFailed(f"{cart.clear.method} {cart.clear.path} answered {answer.status_code}")
    for line in lines:
        answer = h.target.call(cart.add, token, {"{id}": line.id, "{quantity}": line.quantity})
        if not answer.is_success:
            raise StepFailed(
                f"{cart.add.method} {cart.add.path} answered {answer.status_code}: "
                f"{h.target.excerpt(answer.text, 120)}"
            )
    status, found = h.target.cart_lines(token)
    if found is None or len(found) != len(lines):
        shown = "no list" if found is None else f"{len(found)} line(s)"
        raise StepFailed(f"GET {cart.read} answered {status} with {shown}, {len(lines)} added")
    return f"the cart holds {len(found)} line(s) (GET {cart.read} answered {status})"


def create_intent(h: Harness, flow: Flow, pay: Payment, lines: list[CartLine] | None) -> str:
    """Check out (`lines` in the body, or the cart's content when None)."""
    token = pay.customer.token
    started = time.monotonic()
    if lines is None:
        assert h.spec.cart is not None
        placed = h.target.checkout_body(token, dict(h.spec.cart.checkout_body), flow.name)
    else:
        placed = h.target.checkout_items(token, lines, flow.name)
    took = time.monotonic() - started
    pay.placed = placed
    if not placed.ok:
        raise StepFailed(
            f"the checkout answered {placed.status} without a PaymentIntent id: "
            f"{placed.body_excerpt[:160]}"
        )
    if took > h.spec.deadlines.create_intent_s:
        raise StepFailed(
            f"the checkout took {took:.1f} s (deadline {h.spec.deadlines.create_intent_s:g} s)"
        )
    pay.intent = placed.payment_intent_id
    pay.order_id = dotted(placed.answer, h.spec.order_id)
    secret = dotted(placed.answer, h.spec.client_secret)
    pay.client_secret = secret if isinstance(secret, str) else None
    answered = dotted(placed.answer, h.spec.amount)
    pay.amount = answered if isinstance(answered, int) else None
    source = "the checkout's answer"
    if h.stripe.stateful:
        read = h.stripe.read_intent(pay.intent or "")
        if not read.ok or not isinstance(read.body, dict):
            raise StepFailed(f"PaymentIntent {pay.intent} cannot be read back: {read.error()}")
        pay.amount, source = read.body.get("amount"), f"the {h.stripe.kind} backend"
        pay.currency = str(read.body.get("currency") or pay.currency)
    if not isinstance(pay.amount, int):
        raise StepFailed(f"PaymentIntent {pay.intent}: no amount in {source}")
    return (
        f"PaymentIntent {pay.intent} for {pay.amount} {pay.currency} (from {source}), order "
        f"{pay.order_id}; checkout answered {placed.status} in {took * 1000:.0f} ms"
    )


# --- the Stripe backend ---------------------------------------------------------------------


def confirm(h: Harness, pay: Payment, card: str, *, declined: bool = False) -> str:
    assert pay.intent
    mode = h.stripe.confirm_mode(pay.client_secret)
    started = time.monotonic()
    answer = h.stripe.confirm(pay.intent, card, pay.client_secret)
    pay.confirmed_at = time.time()
    took, limit = time.monotonic() - started, h.spec.deadlines.confirm_s
    if took > limit:
        raise StepFailed(f"confirming took {took:.1f} s (deadline {limit:g} s)")
    body = answer.body if isinstance(answer.body, dict) else {}
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


def webhook(h: Harness, flow: Flow, pay: Payment, event_type: str, since: int) -> str:
    """The backend's event for the payment reached the target's webhook (or, when the
    backend sends none, golive's own signed copy did)."""
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
    pay.delivered_at[event_type] = float(ok["at"]) - float(ok.get("latency_ms") or 0) / 1000
    failed = [a for a in seen_attempts if a.get("outcome") == "failed"]
    pay.events[event_type + ":attempts"] = str(len(seen_attempts))
    before = f" after {len(failed)} failed attempt(s)" if failed else ""
    return (
        f"{event_id} ({event_type}) delivered to {path}{before}: attempt {ok['attempt']} "
        f"answered {ok['status']} in {float(ok['latency_ms']):.0f} ms"
    )


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
    spec = h.spec.refund
    if spec.via == "stripe":
        answer = h.stripe.refund(pay.intent or "")
        if not answer.ok:
            raise StepFailed(f"POST /v1/refunds answered {answer.error()}")
        return f"refunded through Stripe's API: {(answer.body or {}).get('id')}"
    if pay.order_id is None:
        raise StepFailed(f"the checkout's answer has no order id at `{h.spec.order_id}`")
    response = h.target.refund(pay.customer.token, pay.order_id)
    if not response.is_success:
        raise StepFailed(
            f"{spec.method} {spec.path.replace('{order_id}', str(pay.order_id))} answered "
            f"{response.status_code}: {h.target.excerpt(response.text, 120)}"
        )
    path = spec.path.replace("{order_id}", str(pay.order_id))
    return f"{spec.method} {path} answered {response.status_code}"


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
        delivered = pay.delivered_at.get(SUCCEEDED)
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
    cart = h.spec.cart
    if cart is None:
        raise Skipped("the profile's smoke block has no `cart`: the cart cannot be read")
    last: dict[str, Any] = {}

    def empty() -> tuple[bool, str]:
        status, lines = h.target.cart_lines(pay.customer.token)
        last.update(status=status, lines=lines)
        return status == 200 and lines == [], ""

    done, _, waited = poll(empty, h.spec.deadlines.cart_s, h.spec.deadlines.poll_s)
    if not done:
        lines = last.get("lines")
        shown = f"{len(lines)} line(s)" if isinstance(lines, list) else "no list"
        raise StepFailed(
            f"GET {cart.read} still answers {last.get('status')} with {shown} "
            f"{h.spec.deadlines.cart_s:g} s after the payment"
        )
    return f"the cart is empty (GET {cart.read}) {waited:.1f} s after the order was paid"


def order_status(
    h: Harness, flow: Flow, pay: Payment, wanted: list[str], event_type: str | None
) -> str:
    """The order, read back from the target, reaches one of `wanted` statuses."""
    spec = h.spec.order
    if spec is None:
        raise Skipped("the profile's smoke block has no `order`: the order cannot be read back")
    last: dict[str, Any] = {}

    def reached() -> tuple[bool, str]:
        status, body = h.target.order(pay.customer.token, pay.order_id)
        value = dotted(body, spec.status)
        last.update(status=status, value=value)
        return status == 200 and value in wanted, ""

    done, _, waited = poll(reached, h.spec.deadlines.order_s, h.spec.deadlines.poll_s)
    path = spec.path.replace("{order_id}", str(pay.order_id))
    if not done:
        raise StepFailed(
            f"order {pay.order_id} is {last.get('value')!r} (GET {path} answered "
            f"{last.get('status')}), not {' or '.join(wanted)}, {h.spec.deadlines.order_s:g} s on"
        )
    if event_type and event_type in pay.delivered_at:
        delivered = pay.delivered_at[event_type] or pay.confirmed_at
        if delivered is not None:
            flow.sample(WEBHOOK_MS, (time.time() - delivered) * 1000)
    return f"order {pay.order_id} is {last['value']} after {waited:.1f} s"
