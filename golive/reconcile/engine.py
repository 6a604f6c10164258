"""One reconciliation over a window [since, until): the app's orders against Stripe.

1. Refunds and disputes created since the window's start (less the margin), indexed by
   PaymentIntent id (few).
2. The orders of the window (plus the margin on both sides) streamed from the profile's
   source into a compact index keyed by PaymentIntent id; an order without one is judged
   at once.
3. The window's PaymentIntents streamed from Stripe, newest first: each takes its orders
   out of the index and is judged (golive/reconcile/match.py).
4. What is left in the index: orders whose PaymentIntent was not listed; a paid one's
   PaymentIntent is looked up by id (at most `lookups` of them).

Findings go to the sink as they are found; only counts and the order-creation latencies
stay in memory.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from golive.reconcile import stripe_side
from golive.reconcile.match import SETTLED, Finding, Rules, judge, judge_order_alone
from golive.reconcile.orders_side import Order, Orders
from golive.reconcile.profile import ReconcileModel

LOOKUPS = 1000  # PaymentIntents looked up one by one for orders the listing missed


class Sink(Protocol):
    def add(self, finding: Finding) -> None: ...


class ListSink:
    """The checks' sink: keeps the first and the last `limit` findings (the earliest
    payments are listed last); counts the rest it drops."""

    def __init__(self, limit: int = 10000) -> None:
        self.limit = limit
        self._first: list[Finding] = []
        self._last: deque[Finding] = deque(maxlen=limit)
        self.dropped = 0

    def add(self, finding: Finding) -> None:
        if len(self._first) < self.limit:
            self._first.append(finding)
            return
        if len(self._last) == self.limit:
            self.dropped += 1
        self._last.append(finding)

    @property
    def findings(self) -> list[Finding]:
        return [*self._first, *self._last]


@dataclass
class Result:
    since: datetime
    until: datetime
    source: str
    payments: int = 0  # PaymentIntents created in the window
    succeeded: int = 0
    orders: int = 0  # orders created in the window
    matched: int = 0  # succeeded PaymentIntents with an order marked paid
    findings: Counter[str] = field(default_factory=Counter)
    latencies_ms: array = field(default_factory=lambda: array("d"))
    fee_orders: int = 0  # paid orders with a platform fee
    fee_collected: int = 0  # their platform fees, summed
    fee_expected: int | None = None  # the pricing rules' fees for them, summed
    refunds_listed: int = 0
    disputes_listed: int = 0
    lookups: int = 0
    notes: list[str] = field(default_factory=list)
    earliest: list[tuple[int, str]] = field(default_factory=list)  # (created, PaymentIntent)

    @property
    def total_findings(self) -> int:
        return sum(self.findings.values())

    @property
    def examined(self) -> int:
        return self.payments + self.orders

    def summary(self) -> dict[str, Any]:
        latencies = list(self.latencies_ms)
        return {
            "window": {"from": self.since.isoformat(), "to": self.until.isoformat()},
            "orders_source": self.source,
            "payments": self.payments,
            "succeeded": self.succeeded,
            "orders": self.orders,
            "matched": self.matched,
            "findings": self.total_findings,
            "by_kind": dict(sorted(self.findings.items())),
            "refunds_listed": self.refunds_listed,
            "disputes_listed": self.disputes_listed,
            "platform_fee": {
                "orders": self.fee_orders,
                "collected": self.fee_collected,
                "expected": self.fee_expected,
            },
            "order_creation_ms": {
                "samples": len(latencies),
                "avg": round(sum(latencies) / len(latencies), 1) if latencies else None,
                "max": round(max(latencies), 1) if latencies else None,
            },
            "lookups": self.lookups,
            "notes": list(self.notes),
        }


def _in(moment: float, since: float, until: float) -> bool:
    return since <= moment < until


def reconcile(
    model: ReconcileModel,
    client: Any,
    orders: Orders,
    since: datetime,
    until: datetime,
    sink: Sink,
    *,
    fee_bps: int | None = None,
    earliest: int = 10,
    lookups: int = LOOKUPS,
    app_clock_s: float = 0.0,
) -> Result:
    """Reconcile the window; StripeSideError / SourceError when a side cannot be read.

    `app_clock_s`: how far the app's clock is ahead of Stripe's (golive's own traffic may
    date Stripe's objects on a moved sandbox clock): the orders are read over the window
    on the app's clock and compared on Stripe's."""
    margin = model.duration("margin").total_seconds()
    lo, hi = since.timestamp(), until.timestamp()
    result = Result(since, until, orders.describe())

    def emit(finding: Finding) -> None:
        result.findings[finding.kind] += 1
        sink.add(finding)

    adjust = stripe_side.adjustments(client, math.floor(lo - margin))
    result.refunds_listed, result.disputes_listed = adjust.refunds_listed, adjust.disputes_listed
    if adjust.disputes_unavailable:
        result.notes.append(adjust.disputes_unavailable)
    rules = Rules(
        until=hi,
        grace_s=model.duration("grace").total_seconds(),
        pending_max_s=model.duration("pending_max").total_seconds(),
        fee_bps=fee_bps,
        disputes_listed=adjust.disputes_unavailable is None,
    )
    if fee_bps is not None:
        result.fee_expected = 0

    # 2. the orders, indexed by PaymentIntent (a list only when one is named twice)
    index: dict[str, Order | list[Order]] = {}
    reach, ahead = timedelta(seconds=margin), timedelta(seconds=app_clock_s)
    for order in orders.read(since - reach + ahead, until + reach + ahead):
        if app_clock_s:
            order.created -= app_clock_s
            order.paid = None if order.paid is None else order.paid - app_clock_s
        if _in(order.created, lo, hi):
            result.orders += 1
        if order.payment_intent is None:
            if _in(order.created, lo, hi):
                judge(None, "-", [order], rules, emit)
            continue
        known = index.get(order.payment_intent)
        if known is None:
            index[order.payment_intent] = order
        elif isinstance(known, list):
            known.append(order)
        else:
            index[order.payment_intent] = [known, order]

    def group(pi: str) -> list[Order]:
        found = index.pop(pi, None)
        return [] if found is None else found if isinstance(found, list) else [found]

    def judged(payment: stripe_side.Payment | None, pi: str, mine: list[Order]) -> None:
        latencies = judge(
            payment,
            pi,
            mine,
            rules,
            emit,
            refunded=adjust.refunded.get(pi, 0),
            dispute=adjust.disputed.get(pi),
        )
        result.latencies_ms.extend(latencies)
        settled = [o for o in mine if o.category in SETTLED]
        if payment is not None and payment.status == "succeeded" and settled:
            result.matched += 1
            _count_fees(result, settled, fee_bps)

    # 3. the window's PaymentIntents, streamed (newest first: within one second, a later
    # place in the listing is an earlier payment)
    heap: list[tuple[int, int, str]] = []
    seen = 0
    for payment in stripe_side.payments(client, math.floor(lo - margin), math.ceil(hi)):
        mine = group(payment.id)
        in_window = _in(payment.created, lo, hi)
        if in_window:
            result.payments += 1
            if payment.status == "succeeded":
                result.succeeded += 1
                seen += 1
                _keep_earliest(heap, (-payment.created, seen, payment.id), earliest)
        elif not any(_in(o.created, lo, hi) for o in mine):
            continue  # both in the margin: another window's business
        judged(payment, payment.id, mine)

    # 4. orders whose PaymentIntent was not listed
    for pi in list(index):
        mine = [o for o in group(pi) if _in(o.created, lo, hi)]
        if not mine:
            continue
        if not any(o.category in SETTLED for o in mine):
            for order in mine:
                judge_order_alone(order, rules, emit)
            if len(mine) > 1:
                judge(None, pi, mine, rules, _only("duplicate-orders", emit))
            continue
        if result.lookups >= lookups:
            result.notes.append(
                f"more than {lookups} paid orders name PaymentIntents outside the listing; "
                "the rest were not looked up"
            )
            break
        result.lookups += 1
        judged(stripe_side.retrieve(client, pi), pi, mine)
    result.earliest = [(-c, pi) for c, _, pi in sorted(heap, key=lambda e: (-e[0], -e[1]))]
    return result


def _only(kind: str, emit: Callable[[Finding], None]) -> Callable[[Finding], None]:
    def filtered(finding: Finding) -> None:
        if finding.kind == kind:
            emit(finding)

    return filtered


def _keep_earliest(
    heap: list[tuple[int, int, str]], entry: tuple[int, int, str], size: int
) -> None:
    # `entry` is (-created, place in the listing, id): the heap's smallest is the latest
    # payment kept, replaced by any earlier one once `size` are kept.
    if size <= 0:
        return
    if len(heap) < size:
        heapq.heappush(heap, entry)
    elif entry > heap[0]:
        heapq.heapreplace(heap, entry)


def _count_fees(result: Result, settled: list[Order], fee_bps: int | None) -> None:
    from golive.profile.pricing import round_half_up

    for order in settled:
        if order.platform_fee is None:
            continue
        result.fee_orders += 1
        result.fee_collected += order.platform_fee
        if fee_bps is not None and result.fee_expected is not None and order.subtotal is not None:
            result.fee_expected += round_half_up(order.subtotal, fee_bps)
