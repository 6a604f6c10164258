"""Judging one PaymentIntent against the orders that name it: the findings.

| kind                  | Stripe says                             | the order says                    |
| --------------------- | --------------------------------------- | --------------------------------- |
| stuck-order           | succeeded                               | nothing, or not paid              |
| paid-without-payment  | not succeeded, or no such PaymentIntent | paid                              |
| amount-mismatch       | amount received                         | another amount                    |
| currency-mismatch     | currency                                | another currency                  |
| duplicate-orders      | one PaymentIntent                       | several orders                    |
| refund-not-reflected  | refunded (amount)                       | not refunded, or another amount   |
| refund-not-in-stripe  | nothing refunded                        | refunded                          |
| dispute-not-reflected | disputed                                | not disputed                      |
| dispute-not-in-stripe | not disputed                            | disputed                          |
| fee-mismatch          | application_fee_amount                  | another platform fee              |
| fee-rule-mismatch     | (the profile's pricing.rules)           | a fee the rules do not give       |
| pending-too-long      | —                                       | pending longer than pending_max   |
| status-unmapped       | —                                       | a status reconcile.status lacks   |

Each finding names both records (PaymentIntent and order) and the values compared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from golive.reconcile.orders_side import Order
from golive.reconcile.stripe_side import Payment

KINDS = (
    "stuck-order",
    "paid-without-payment",
    "amount-mismatch",
    "currency-mismatch",
    "duplicate-orders",
    "refund-not-reflected",
    "refund-not-in-stripe",
    "dispute-not-reflected",
    "dispute-not-in-stripe",
    "fee-mismatch",
    "fee-rule-mismatch",
    "pending-too-long",
    "status-unmapped",
)
# The order has been paid (it may have been refunded or disputed since).
SETTLED = ("paid", "refunded", "disputed")


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    payment_intent: str
    order_id: str
    stripe: str  # what Stripe has, in a few words
    order: str  # what the app has
    detail: str

    def row(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class Rules:
    """What the judging needs beyond the two records."""

    until: float  # the window's end (Unix seconds)
    grace_s: float
    pending_max_s: float
    fee_bps: int | None = None  # the profile's pricing.rules.platform_fee_bps
    disputes_listed: bool = True


Emit = Callable[[Finding], None]


def _fee_for(subtotal: int, bps: int) -> int:
    from golive.profile.pricing import round_half_up

    return round_half_up(subtotal, bps)


def judge_order_alone(order: Order, rules: Rules, emit: Emit) -> None:
    """What an order shows on its own: an unmapped status, pending too long."""
    pi = order.payment_intent or "-"
    if order.category is None:
        emit(
            Finding(
                "status-unmapped",
                pi,
                order.order_id,
                "-",
                order.summary(),
                f"status {order.status!r} is under none of reconcile.status's categories",
            )
        )
    elif order.category == "pending" and order.created < rules.until - rules.pending_max_s:
        age_s = rules.until - order.created
        emit(
            Finding(
                "pending-too-long",
                pi,
                order.order_id,
                "-",
                order.summary(),
                f"pending for {age_s / 3600:.1f} h (pending_max {rules.pending_max_s / 3600:.1f} h)",
            )
        )


def judge(
    payment: Payment | None,
    payment_intent: str,
    orders: list[Order],
    rules: Rules,
    emit: Emit,
    *,
    refunded: int = 0,
    dispute: str | None = None,
) -> list[float]:
    """Emit the findings of one PaymentIntent (None: Stripe has no such PaymentIntent) and
    its orders; the order-creation latencies (ms) of its paid orders."""
    latencies: list[float] = []
    if len(orders) > 1:
        emit(
            Finding(
                "duplicate-orders",
                payment_intent,
                ",".join(o.order_id for o in orders),
                payment.summary() if payment else "no such PaymentIntent",
                "; ".join(o.summary() for o in orders),
                f"{len(orders)} orders name one PaymentIntent",
            )
        )
    settled = [o for o in orders if o.category in SETTLED]
    succeeded = payment is not None and payment.status == "succeeded"
    for order in orders:
        if order.category is None or (order.category == "pending" and not succeeded):
            judge_order_alone(order, rules, emit)
    if not succeeded:
        for order in settled:
            emit(
                Finding(
                    "paid-without-payment",
                    payment_intent,
                    order.order_id,
                    payment.summary() if payment else "no such PaymentIntent",
                    order.summary(),
                    "the order is marked paid but its PaymentIntent has not succeeded",
                )
            )
        return latencies
    assert payment is not None
    if not settled:
        if any(o.category is None for o in orders):
            return latencies  # its status says nothing golive can read: status-unmapped
        paid_at = payment.charge_created or payment.created
        if paid_at > rules.until - rules.grace_s:
            return latencies  # still on its way: the webhook may not have arrived yet
        emit(
            Finding(
                "stuck-order",
                payment_intent,
                ",".join(o.order_id for o in orders) or "-",
                payment.summary(),
                "; ".join(o.summary() for o in orders) or "no order",
                "the payment succeeded but no order is marked paid"
                + (f" (orders: {', '.join(o.status for o in orders)})" if orders else ""),
            )
        )
        return latencies
    refunded = max(refunded, payment.amount_refunded)
    disputed = payment.disputed or dispute is not None
    for order in settled:
        _judge_paid(payment, order, rules, emit, refunded, disputed, dispute)
        latency = _latency_ms(payment, order)
        if latency is not None:
            latencies.append(latency)
    return latencies


def _judge_paid(
    payment: Payment,
    order: Order,
    rules: Rules,
    emit: Emit,
    refunded: int,
    disputed: bool,
    dispute: str | None,
) -> None:
    def finding(kind: str, stripe: str, detail: str) -> None:
        emit(Finding(kind, payment.id, order.order_id, stripe, order.summary(), detail))

    received = payment.amount_received or payment.amount
    if order.amount != received:
        finding(
            "amount-mismatch",
            payment.summary(),
            f"Stripe received {received}, the order says {order.amount}",
        )
    if order.currency != payment.currency:
        finding(
            "currency-mismatch",
            payment.summary(),
            f"Stripe charged {payment.currency}, the order says {order.currency}",
        )
    _judge_refund(payment, order, refunded, disputed, finding)
    _judge_dispute(order, disputed, dispute, rules, finding)
    _judge_fee(payment, order, rules, finding)


def _judge_refund(
    payment: Payment,
    order: Order,
    refunded: int,
    disputed: bool,
    finding: Callable[[str, str, str], None],
) -> None:
    stripe = f"{payment.id} refunded {refunded} {payment.currency}"
    if refunded > 0:
        shown = order.category == "refunded" or (disputed and order.category == "disputed")
        amount_ok = order.refunded_amount is None or order.refunded_amount == refunded
        if not shown or not amount_ok:
            said = (
                f"status {order.status!r}"
                if not shown
                else f"refunded_amount {order.refunded_amount}"
            )
            finding(
                "refund-not-reflected",
                stripe,
                f"Stripe refunded {refunded}; the order has {said}",
            )
    elif order.category == "refunded" or (order.refunded_amount or 0) > 0:
        finding(
            "refund-not-in-stripe",
            stripe,
            f"Stripe refunded nothing; the order has status {order.status!r}"
            + (
                f", refunded_amount {order.refunded_amount}"
                if order.refunded_amount is not None
                else ""
            ),
        )


def _judge_dispute(
    order: Order,
    disputed: bool,
    dispute: str | None,
    rules: Rules,
    finding: Callable[[str, str, str], None],
) -> None:
    marked = order.category == "disputed" or order.disputed is True
    if disputed and not marked:
        finding(
            "dispute-not-reflected",
            f"dispute {dispute or '(charge disputed)'}",
            f"Stripe has a dispute; the order has status {order.status!r}"
            + (f", disputed {order.disputed}" if order.disputed is not None else ""),
        )
    elif marked and not disputed and rules.disputes_listed:
        finding(
            "dispute-not-in-stripe",
            "no dispute",
            f"the order is marked disputed (status {order.status!r}) but Stripe has no dispute",
        )


def _judge_fee(
    payment: Payment, order: Order, rules: Rules, finding: Callable[[str, str, str], None]
) -> None:
    if order.platform_fee is None:
        return
    if (
        payment.application_fee_amount is not None
        and payment.application_fee_amount != order.platform_fee
    ):
        finding(
            "fee-mismatch",
            f"{payment.id} application_fee_amount {payment.application_fee_amount}",
            f"Stripe's application fee is {payment.application_fee_amount}, the order's "
            f"platform fee {order.platform_fee}",
        )
    if rules.fee_bps is not None and order.subtotal is not None:
        expected = _fee_for(order.subtotal, rules.fee_bps)
        if expected != order.platform_fee:
            finding(
                "fee-rule-mismatch",
                f"{payment.id} {payment.amount} {payment.currency}",
                f"pricing.rules give {expected} ({rules.fee_bps} bp of subtotal "
                f"{order.subtotal}), the order's platform fee is {order.platform_fee}",
            )


def _latency_ms(payment: Payment, order: Order) -> float | None:
    """From the payment (its charge's creation) to the order being paid (paid_at, or the
    order's creation when the app creates orders on payment)."""
    paid = payment.charge_created or payment.created
    if order.paid is not None:
        return max(0.0, (order.paid - paid) * 1000)
    if order.created >= paid:
        return (order.created - paid) * 1000
    return None  # created before the payment, and no paid_at: nothing to measure
