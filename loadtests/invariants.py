"""What must still hold after the storm, judged per PaymentIntent the run touched.

- no PaymentIntent has more than one order, nor more than one payment;
- every PaymentIntent the Stripe backend calls succeeded has exactly one paid order (no
  stuck payments), and none that did not succeed has a paid order;
- the backend's count of succeeded intents equals the target's count of paid orders;
- the webhook endpoint never answered a 5xx (to the scenarios, or to the backend's own
  deliveries when the backend is golive's sandbox).

Counts come from the profile's observer (golive/observer.py); notifications are not
judged here (a duplicate notification is the event-deduplication items' business).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import stripe

from golive import httpclient
from golive.client import stripe_api
from golive.observer import Observer

MAX_IDS = 20  # offending ids listed per violation in the evidence


@dataclass
class Findings:
    intents: int
    succeeded: int
    paid_orders: int
    settled_s: float
    violations: dict[str, list[str]] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)

    def evidence(self) -> dict[str, Any]:
        return {
            "payment_intents": self.intents,
            "stripe_succeeded": self.succeeded,
            "target_paid_orders": self.paid_orders,
            "stripe_statuses": self.statuses,
            "waited_for_webhooks_s": round(self.settled_s, 2),
            "violations": {k: v[:MAX_IDS] for k, v in self.violations.items()},
        }


def intents_of(ledger: Iterable[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for entry in ledger:
        intent = entry.get("payment_intent")
        if entry.get("kind") == "intent" and isinstance(intent, str) and intent:
            seen.setdefault(intent, None)
    return list(seen)


class StripeReader:
    """The Stripe backend's view of each PaymentIntent (status only), through golive's own
    Stripe client (golive/client/stripe_api.py)."""

    def __init__(self, backend: Any) -> None:
        self._stripe = stripe_api.client(backend)
        # The sandbox's delivery log is no Stripe API: read it with the key as Basic auth.
        self._web = httpclient.client(
            base_url=backend.api_base, auth=(backend.secret_key, ""), timeout=10
        )

    def status(self, intent_id: str) -> str:
        try:
            return str(self._stripe.v1.payment_intents.retrieve(intent_id).status)
        except stripe.StripeError as exc:
            return f"unreadable ({exc.http_status})"

    def webhook_5xx(self, webhook_url: str, since: float) -> list[str]:
        """The sandbox's own deliveries to the app that got a 5xx (golive sandbox only)."""
        answer = self._web.get("/_golive/deliveries")
        if answer.status_code != 200:
            return []
        return [
            f"{a['event']} ({a['status']}, sandbox delivery)"
            for a in answer.json().get("data", [])
            if a.get("url") == webhook_url
            and (a.get("at") or 0) >= since
            and isinstance(a.get("status"), int)
            and a["status"] >= 500
        ]

    def close(self) -> None:
        self._web.close()


def judge(
    intents: list[str],
    statuses: Callable[[str], str],
    observer: Observer,
    *,
    settle_s: float,
    webhook_5xx: list[str],
    poll_s: float = 0.25,
) -> Findings:
    """Wait (up to settle_s) for every succeeded intent's order to be paid, then judge."""
    status = {pi: statuses(pi) for pi in intents}
    started = time.monotonic()
    counts: dict[str, dict[str, int]] = {}
    pending = list(intents)
    while True:
        for pi in pending:
            counts[pi] = observer.counts(pi)
        pending = [
            pi
            for pi in intents
            if status[pi] == "succeeded" and counts[pi].get("paid_orders", 0) < 1
        ]
        if not pending or time.monotonic() - started >= settle_s:
            break
        time.sleep(poll_s)
        # A webhook may land late for an intent the backend had not finished either.
        for pi in pending:
            if status[pi] != "succeeded":
                status[pi] = statuses(pi)
    # Late duplicates (a racy receiver still inserting) show up on a last look.
    time.sleep(poll_s)
    counts = {pi: observer.counts(pi) for pi in intents}
    waited = time.monotonic() - started
    succeeded = [pi for pi in intents if status[pi] == "succeeded"]
    paid_total = sum(c.get("paid_orders", 0) for c in counts.values())
    v: dict[str, list[str]] = {}

    def add(kind: str, ids: list[str]) -> None:
        if ids:
            v[kind] = ids

    add(
        "more_than_one_order",
        [f"{pi} ({c['orders']} orders)" for pi, c in counts.items() if c["orders"] > 1],
    )
    add(
        "more_than_one_payment",
        [f"{pi} ({c['payments']} payments)" for pi, c in counts.items() if c["payments"] > 1],
    )
    add(
        "stuck_payment",
        [
            f"{pi} (succeeded, {counts[pi]['paid_orders']} paid orders)"
            for pi in succeeded
            if counts[pi]["paid_orders"] != 1
        ],
    )
    add(
        "paid_without_success",
        [
            f"{pi} ({status[pi]}, {c['paid_orders']} paid orders)"
            for pi, c in counts.items()
            if status[pi] != "succeeded" and c["paid_orders"] > 0
        ],
    )
    if len(succeeded) != paid_total:
        v["count_mismatch"] = [
            f"Stripe succeeded {len(succeeded)} intents, the target has {paid_total} paid orders"
        ]
    add("webhook_5xx", list(webhook_5xx))
    tally: dict[str, int] = {}
    for s in status.values():
        tally[s] = tally.get(s, 0) + 1
    return Findings(len(intents), len(succeeded), paid_total, waited, v, tally)
