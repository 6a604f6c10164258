"""The flows of the checklist's "Testing in Production" section, one function each.

Every flow runs at most once per run (`ctx.target.cached`), however many items judge it,
and never raises: what went wrong is a failed step in its timeline. The flows buy as the
profile's `smoke.customer` (and `other_customer` for the tax comparison), well under a
per-customer rate limit: eight checkouts and one refund per run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable

from golive.context import CheckContext
from golive.profile.pricing import CartLine, quote
from golive.smoke import steps
from golive.smoke.flows import Flow, Skipped, StepFailed
from golive.smoke.harness import Harness, harness
from golive.smoke.steps import FAILED, REFUNDED, SUCCEEDED, Payment

SUCCESS_CARD = "pm_card_visa"
DECLINE_CARD = "pm_card_chargeDeclined"
# The flows whose payments the latency figures are measured on (no injected faults).
MEASURED = ("smoke", "full-checkout", "state-tax", "multi-item", "refund")


def run_flow(ctx: CheckContext, name: str, card: str | None = None) -> Flow:
    """The named flow, run once per run (per card) and shared by the items judging it."""
    h = harness(ctx)

    def run() -> Flow:
        flow = FLOWS[name](h, card)
        flow.values["backend"] = h.describe()
        return flow

    return ctx.target.cached(f"smoke.flow:{name}:{card or ''}", run)


def _since() -> int:
    return int(time.time()) - 2  # event `created` is in whole seconds


def _pay(
    h: Harness, flow: Flow, pay: Payment, card: str, lines: list[CartLine] | None, tag: str = ""
) -> bool:
    """create-intent → confirm → webhook: True when the target was told of the payment."""
    since = _since()
    return (
        flow.run(f"create-intent{tag}", lambda: steps.create_intent(h, flow, pay, lines))
        and flow.run(f"confirm{tag}", lambda: steps.confirm(h, pay, card))
        and flow.run(f"webhook{tag}", lambda: steps.webhook(h, flow, pay, SUCCEEDED, since))
    )


def smoke_flow(h: Harness, card: str | None) -> Flow:
    """Fill the cart, check it out for a small amount, pay with a test card, then the
    webhook, the order, the payment record, the notification and the empty cart."""
    flow = Flow("smoke")
    pay = Payment(h.customer)
    lines = None
    if steps.uses_cart(h):
        flow.run("fill-cart", lambda: steps.fill_cart(h, pay, h.spec.items))
    else:
        lines = h.spec.items  # no server-side cart: the items go in the checkout body
    _pay(h, flow, pay, card or SUCCESS_CARD, lines)
    flow.values["amount"] = pay.amount
    flow.run("order", lambda: steps.order_paid(h, flow, pay), blocking=False)
    flow.run("payment", lambda: steps.payment_recorded(h, pay), blocking=False)
    flow.run("notification", lambda: steps.notification_written(h, pay), blocking=False)
    flow.run("cart-cleared", lambda: steps.cart_cleared(h, pay), blocking=False)
    return flow


def full_checkout(h: Harness, card: str | None) -> Flow:
    flow = Flow("full-checkout")
    pay = Payment(h.customer)
    _pay(h, flow, pay, card or SUCCESS_CARD, h.spec.full_items)
    flow.run("order", lambda: steps.order_paid(h, flow, pay), blocking=False)
    flow.run("payment", lambda: steps.payment_recorded(h, pay), blocking=False)
    return flow


def state_tax(h: Harness, card: str | None) -> Flow:
    """The same cart bought in the customer's state and in another: each amount is golive's
    total from the rules, and they differ by exactly the rules' tax difference."""
    flow = Flow("state-tax")
    other = h.other_customer
    inside, outside = Payment(h.customer), Payment(other) if other else None

    def configured() -> str:
        if other is None or h.pricing is None or h.pricing.rules is None:
            missing = (
                "smoke.other_customer"
                if other is None
                else "`pricing.rules`"
                if h.pricing is not None
                else "a `pricing` block"
            )
            raise Skipped(f"the profile has no {missing}: golive cannot compare two states")
        for buyer in (h.customer, other):
            if buyer.state is None:
                raise Skipped(
                    f"user {buyer.user!r} has no `{h.spec.state_var}` variable: golive "
                    "cannot price its tax"
                )
        if buyer.state == h.customer.state and buyer is other:
            raise Skipped("smoke.customer and smoke.other_customer are in the same state")
        if not h.prices():
            raise StepFailed("no unit prices: the menu (pricing.menu_path) gave none")
        return f"smoke.customer in {h.customer.state}, other_customer in {other.state}"

    if not flow.run("customers", configured):
        return flow
    assert outside is not None and other is not None
    for tag, pay in ((f"-{inside.customer.state}", inside), (f"-{other.state}", outside)):
        if _pay(h, flow, pay, card or SUCCESS_CARD, h.spec.multi_items, tag):
            flow.run(f"order{tag}", lambda p=pay: steps.order_paid(h, flow, p), blocking=False)
    flow.run("tax-difference", lambda: _tax_difference(h, inside, outside))
    return flow


def _tax_difference(h: Harness, inside: Payment, outside: Payment) -> str:
    assert h.pricing is not None
    prices, cart = h.prices(), h.spec.multi_items
    missing = [str(line.id) for line in cart if str(line.id) not in prices]
    if missing:
        raise StepFailed(f"item(s) {', '.join(missing)} have no unit price in the menu")
    rules = h.pricing.rules
    assert rules is not None  # configured() skipped the flow without rules
    quotes = {
        pay.customer.state: quote(rules, prices, cart, pay.customer.state or "")
        for pay in (inside, outside)
    }
    problems = []
    for pay in (inside, outside):
        expected = quotes[pay.customer.state]
        if pay.amount != expected.total:
            problems.append(
                f"{pay.customer.state}: charged {pay.amount}, the rules say {expected.total} "
                f"(tax {expected.tax} at {expected.tax_rate_bps} bp)"
            )
    a, b = inside.amount or 0, outside.amount or 0
    want = quotes[inside.customer.state].tax - quotes[outside.customer.state].tax
    if a - b != want:
        problems.insert(
            0, f"{inside.customer.state} - {outside.customer.state} = {a - b}, not {want}"
        )
    if problems:
        raise StepFailed("; ".join(problems))
    return (
        f"{inside.customer.state} {a} vs {outside.customer.state} {b}: the difference {a - b} "
        "is the rules' tax difference"
    )


def multi_item(h: Harness, card: str | None) -> Flow:
    """Several items in one order: paid, and its lines and subtotal are the cart's."""
    flow = Flow("multi-item")
    pay = Payment(h.customer)
    if _pay(h, flow, pay, card or SUCCESS_CARD, h.spec.multi_items):
        flow.run("order", lambda: steps.order_paid(h, flow, pay), blocking=False)
        flow.run("order-lines", lambda: _order_lines(h, pay), blocking=False)
    return flow


def _order_lines(h: Harness, pay: Payment) -> str:
    spec = h.spec.order
    order = steps.read_order(h, pay)
    lines = order.get("lines")
    if not isinstance(lines, list):
        raise StepFailed(f"the read_order flow captured no list of `lines` for {pay.order_id}")
    got: dict[str, int] = {}
    for line in lines:
        line = line if isinstance(line, dict) else {}
        key, quantity = str(line.get(spec.line_id)), line.get(spec.line_quantity)
        got[key] = got.get(key, 0) + (quantity if isinstance(quantity, int) else 0)
    want: dict[str, int] = {}
    for item in h.spec.multi_items:  # one item twice in the cart is one line of both
        want[str(item.id)] = want.get(str(item.id), 0) + item.quantity
    if got != want:
        raise StepFailed(f"order {pay.order_id} has lines {got}, the cart was {want}")
    prices = h.prices()
    subtotal = order.get("subtotal")
    if not prices or "subtotal" not in order:
        return f"order {pay.order_id}: {len(lines)} lines as in the cart (no subtotal to sum)"
    expected = sum(prices[k] * q for k, q in want.items() if k in prices)
    if subtotal != expected:
        raise StepFailed(
            f"order {pay.order_id}'s subtotal is {subtotal}, the menu prices give {expected}"
        )
    return f"order {pay.order_id}: {len(lines)} lines as in the cart, subtotal {subtotal}"


def payment_failure(h: Harness, card: str | None) -> Flow:
    """A declined card: the order is not paid but failed, then the customer pays it with
    another card on the same PaymentIntent (Stripe.js's retry)."""
    flow = Flow("payment-failure")
    pay = Payment(h.customer)
    if h.stripe.lacking("stateful", "declines"):
        flow.run("decline", lambda: _cannot(h, "stateful", "declines"))
        return flow
    since = _since()
    ok = (
        flow.run("create-intent", lambda: steps.create_intent(h, flow, pay, h.spec.full_items))
        and flow.run(
            "confirm-declined",
            lambda: steps.confirm(h, pay, card or DECLINE_CARD, declined=True),
        )
        and flow.run("webhook", lambda: steps.webhook(h, flow, pay, FAILED, since))
    )
    if not ok:
        return flow
    failed = h.spec.order.failed
    flow.run("order-failed", lambda: steps.order_status(h, flow, pay, failed, None))
    flow.run("not-paid", lambda: _not_paid(h, pay))
    retry = dataclasses.replace(pay, delivered_at={}, events={})  # same PaymentIntent
    since = _since()
    if flow.run("retry-confirm", lambda: steps.confirm(h, retry, SUCCESS_CARD)) and flow.run(
        "retry-webhook", lambda: steps.webhook(h, flow, retry, SUCCEEDED, since)
    ):
        flow.run("retry-paid", lambda: steps.order_paid(h, flow, retry, measure=False))
    return flow


def _not_paid(h: Harness, pay: Payment) -> str:
    counts = h.observer.counts(pay.intent or "")
    if counts["paid_orders"] or counts["payments"]:
        raise StepFailed(f"after the decline the observer sees {counts}")
    return f"no paid order and no payment after the decline ({counts})"


def _cannot(h: Harness, *capabilities: str) -> str:
    """The flow is untestable on this backend: not-run (it blocks GO), saying what would run it."""
    raise Skipped(h.stripe.lacking(*capabilities) or "", "not-run")


def refund_flow(h: Harness, card: str | None) -> Flow:
    """Pay, refund (the target's endpoint or Stripe's API), charge.refunded reaches the
    target, and the order is refunded."""
    flow = Flow("refund")
    pay = Payment(h.customer)
    # Whoever asks for it (the target or golive), the refund must happen at the backend.
    if h.stripe.lacking("stateful", "refunds"):
        flow.run("refund", lambda: _cannot(h, "stateful", "refunds"))
        return flow
    if not _pay(h, flow, pay, card or SUCCESS_CARD, h.spec.full_items):
        return flow
    if not flow.run("order", lambda: steps.order_paid(h, flow, pay)):
        return flow
    since = _since()
    refunded = h.spec.order.refunded
    if flow.run("refund", lambda: steps.refund(h, pay)) and flow.run(
        "refund-webhook", lambda: steps.webhook(h, flow, pay, REFUNDED, since)
    ):
        flow.run("order-refunded", lambda: steps.order_status(h, flow, pay, refunded, REFUNDED))
    return flow


def webhook_retry(h: Harness, card: str | None) -> Flow:
    """The sandbox fails the first deliveries of each event; the retried event still makes
    exactly one paid order and one payment."""
    flow = Flow("webhook-retry")
    pay = Payment(h.customer)
    if h.stripe.lacking("delivery-failures"):
        flow.run("inject-failures", lambda: _cannot(h, "delivery-failures"))
        return flow
    failures = h.spec.retry_failures
    saved = {}

    def inject() -> str:
        saved.update(h.stripe.faults())
        h.stripe.set_faults(
            {
                "routes": saved.get("routes") or [],
                "seed": saved.get("seed"),
                "webhooks": {**(saved.get("webhooks") or {}), "fail_first": failures},
            }
        )
        return f"the sandbox fails the first {failures} delivery attempt(s) of each event"

    try:
        if flow.run("inject-failures", inject):
            _pay(h, flow, pay, card or SUCCESS_CARD, h.spec.full_items)
    finally:
        if saved:
            with contextlib.suppress(Exception):
                h.stripe.set_faults(
                    {k: saved.get(k) for k in ("routes", "webhooks", "seed") if k in saved}
                )
    flow.run("retried", lambda: _retried(pay, failures))
    flow.run("one-order", lambda: steps.order_paid(h, flow, pay, measure=False), blocking=False)
    flow.run("one-payment", lambda: steps.payment_recorded(h, pay), blocking=False)
    flow.run("settled", lambda: _settled(h, pay), blocking=False)
    return flow


def _retried(pay: Payment, failures: int) -> str:
    attempts = int(pay.events.get(steps.paid_event(pay) + ":attempts", "0"))
    if attempts < failures + 1:
        raise StepFailed(f"{attempts} delivery attempt(s); {failures} were meant to fail first")
    return f"delivered on attempt {attempts}, after {failures} injected failure(s)"


def _settled(h: Harness, pay: Payment) -> str:
    stayed, seen = h.observer.watch(
        pay.intent or "",
        lambda c: c["orders"] > 1 or c["paid_orders"] > 1 or c["payments"] > 1,
    )
    if not stayed:
        raise StepFailed(f"a second order or payment appeared: {seen.counts}")
    return f"still one order and one payment {h.observer.model.settle_s:g} s later"


FLOWS: dict[str, Callable[[Harness, str | None], Flow]] = {
    "smoke": smoke_flow,
    "full-checkout": full_checkout,
    "state-tax": state_tax,
    "multi-item": multi_item,
    "payment-failure": payment_failure,
    "refund": refund_flow,
    "webhook-retry": webhook_retry,
}
