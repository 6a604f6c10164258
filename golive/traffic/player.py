"""Playing the traffic: N checkouts through the profile's own flows and users, paid with
test cards as customers would, some refunded, disputed or with a webhook dropped.

    ledger = play(app, backend, model, publishable_key=…, target="demo")

1. Checkouts (every kind but drop-webhook), started spread over `spread_s` seconds,
   `concurrency` at a time, each by the next member of `users` whose rate-limit quota
   has room: the `checkout` job (after `fill_cart` when the profile has it, as the load
   scenarios buy; golive/loadtests/shoppers.py), then paid with the kind's test card.
2. Refunds of the `refund` kind's paid orders, once the app shows them paid (`read_order`
   when the profile has it, else once the payment's events are delivered): the profile's
   `refund` job as the buyer, or Stripe's Refunds API when the profile has none (the
   ledger says which).
3. Disputes: the dispute test card's payments, looked up in `GET /v1/disputes`.
4. drop-webhook: one payment at a time, with the sandbox failing every delivery of the
   events its payment makes; the ledger names those events.

Nothing here knows the app: the profile's jobs, users and carts say everything. Every wait
is bounded by `timeout_s` (the whole play) and `settle_s` (one wait).
"""

from __future__ import annotations

import concurrent.futures
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from golive.client.app import AppClient, Placed
from golive.client.errors import FlowError
from golive.loadtests.shoppers import Member, Shop, members_of
from golive.redact import Redactor
from golive.traffic import mix
from golive.traffic.backend import TrafficBackend
from golive.traffic.ledger import Ledger, Played
from golive.traffic.profile import TrafficModel
from golive.traffic.quota import Quota

CARDS = {
    "success": ("pm_card_visa",),
    "refund": ("pm_card_visa",),
    "drop-webhook": ("pm_card_visa",),
    "decline": ("pm_card_chargeDeclined", "pm_card_chargeDeclinedInsufficientFunds"),
    # A dispute that is not fraud: the fraud rate is the history's to set, not the mix's.
    "dispute": ("pm_card_createDisputeProductNotReceived",),
}
# What each kind needs of the backend (golive/capabilities.py).
NEEDS = {
    "decline": ("declines",),
    "refund": ("refunds",),
    "drop-webhook": ("webhook-delivery", "delivery-failures"),
}
POLL_S = 0.2
REFUND_TRIES = 3
# What a request of golive's may raise: the app's flow stopping, the network.
FAILURES = (FlowError, OSError, httpx.HTTPError)
LEAD_S = 60  # the play is dated to end at least this long before the run's time


class TrafficError(Exception):
    """The traffic cannot be played at all (no checkout job, a stateless backend)."""


@dataclass
class _Buy:
    played: Played
    member: Member
    placed: Placed | None = None


class Player:
    def __init__(
        self,
        app: AppClient,
        backend: Any,
        model: TrafficModel,
        *,
        publishable_key: str | None,
        target: str,
        redactor: Redactor | None = None,
        as_of: datetime | None = None,
    ) -> None:
        self.app = app
        self.as_of = as_of
        self.model = model
        self.side = TrafficBackend(backend, publishable_key)
        self.redactor = redactor or app.redactor
        self.shop = Shop(app)
        self.quota = Quota(model.quota_per_min)
        self.target = target
        self.deadline = 0.0
        self.members: list[Member] = []

    def close(self) -> None:
        self.side.close()
        for member in self.members:
            if member.session is not None:
                member.session.close()

    # -- the plan ------------------------------------------------------------------------

    def _check(self) -> list[Member]:
        missing = self.shop.missing()
        if missing:
            raise TrafficError(missing)
        lacking = self.side.lacking("stateful")
        if lacking:
            raise TrafficError(f"no traffic can be played: {lacking}")
        members = members_of(self.app.model, self.model.users, self.app.base_dir)
        self.members = [
            Member(m["name"], {"name": m["name"], **m["vars"]}, bool(m["signup"])) for m in members
        ]
        return self.members

    def _why_not(self, kind: str) -> str | None:
        """Why the backend cannot play `kind`, or None."""
        if kind == "dispute":
            return self.side.disputes_missing()
        needs = NEEDS.get(kind)
        return self.side.lacking(*needs) if needs else None

    def _plan(self, ledger: Ledger) -> list[str]:
        shares = mix.apportion(self.model.payments, self.model.mix)
        ledger.planned = dict(shares)
        for kind, weight in self.model.mix.items():
            if weight > 0 and shares.get(kind, 0) == 0:
                ledger.skipped.append(
                    {"kind": kind, "count": 0, "reason": "too few payments for its weight"}
                )
        for kind, count in list(shares.items()):
            why = self._why_not(kind) if count else None
            if why:
                ledger.skipped.append({"kind": kind, "count": count, "reason": why})
                shares[kind] = 0
        return mix.sequence(shares, self.model.seed)

    # -- playing -------------------------------------------------------------------------

    def play(self) -> Ledger:
        members = self._check()
        ledger = Ledger(
            target=self.target,
            backend=self.side.kind,
            app=self.app.base_url,
            requested={"payments": self.model.payments, "mix": dict(self.model.mix)},
            planned={},
        )
        kinds = self._plan(ledger)
        self.deadline = time.monotonic() + self.model.timeout_s
        buys = [
            _Buy(
                Played(
                    n=n,
                    kind=kind,
                    user=members[(n - 1) % len(members)].name,
                    payment_method=_card(kind, n),
                ),
                members[(n - 1) % len(members)],
            )
            for n, kind in enumerate(kinds, 1)
        ]
        # Dated before the run's time, so the windows that end there hold all of it.
        dated = self.side.dated_before(self.as_of, self.model.timeout_s + LEAD_S)
        try:
            with dated:
                self._checkouts([b for b in buys if b.played.kind != "drop-webhook"])
                self._refunds(ledger, [b for b in buys if b.played.kind == "refund"])
                self._disputes(ledger, [b for b in buys if b.played.kind == "dispute"])
                for buy in (b for b in buys if b.played.kind == "drop-webhook"):
                    self._dropped(ledger, buy)
        finally:
            ledger.clock = dated.note
            if dated.dated_from is not None:
                started = datetime.fromisoformat(ledger.started_at.replace("Z", "+00:00"))
                ledger.clock_behind_s = round(started.timestamp() - dated.dated_from, 3)
            for buy in buys:
                ledger.add(buy.played)
            ledger.finish()
        return ledger

    def _checkouts(self, buys: list[_Buy]) -> None:
        started = time.monotonic()
        step = self.model.spread_s / max(1, len(buys))
        pool = concurrent.futures.ThreadPoolExecutor(self.model.concurrency)
        try:
            futures = [
                pool.submit(self._checkout, buy, started + i * step) for i, buy in enumerate(buys)
            ]
            for future in futures:
                future.result()
        except BaseException:
            # Ctrl-C or a bug: what has not started never will; the run stops the app.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()

    def _checkout(self, buy: _Buy, start_at: float) -> None:
        time.sleep(max(0.0, min(start_at, self.deadline) - time.monotonic()))
        self._buy_and_pay(buy)

    def _place(self, buy: _Buy) -> bool:
        """The buy's checkout, within its user's quota; False (the error noted) if it failed."""
        played = buy.played
        if not self.quota.take(buy.member.name, self.deadline):
            played.error = "not played: timeout_s ran out waiting for the user's quota"
            return False
        cart = [
            line.model_dump() for line in self.model.carts[(played.n - 1) % len(self.model.carts)]
        ]
        try:
            buy.placed = self.shop.buy(
                buy.member, cart, key=f"golive-traffic-{uuid.uuid4().hex[:16]}", name="traffic"
            )
        except FAILURES as exc:
            played.error = self._said(f"the checkout failed: {exc}")
            return False
        played.order_id = buy.placed.order_id
        return True

    def _buy_and_pay(self, buy: _Buy) -> None:
        played = buy.played
        if not self._place(buy):
            return
        try:
            intent, read, said = self.side.pay(buy.placed, played.payment_method)
        except FAILURES as exc:
            played.payment_intent = buy.placed.payment_intent_id
            played.error = self._said(f"paying failed: {exc}")
            return
        played.payment_intent = intent
        played.status = read.get("status")
        if played.kind == "decline":
            if said and played.status != "succeeded":
                played.declined = self._said(said)
            else:
                played.error = f"{played.payment_method} was not declined: {played.status}"
        elif said or played.status != "succeeded":
            played.error = self._said(
                f"{played.payment_method} left the PaymentIntent {played.status}: {said or ''}"
            )

    # -- refunds -------------------------------------------------------------------------

    def _refunds(self, ledger: Ledger, buys: list[_Buy]) -> None:
        via_target = self.app.has("refund")
        for buy in buys:
            played = buy.played
            if played.error or played.status != "succeeded" or not played.payment_intent:
                continue
            if via_target:
                entry = self._refund_by_target(buy)
            else:
                entry = self._refund_by_api(played.payment_intent)
            if entry.get("error"):
                played.error = entry.pop("error")
                continue
            ledger.refunds.append(
                {"payment_intent": played.payment_intent, "order_id": played.order_id, **entry}
            )

    def _refund_by_target(self, buy: _Buy) -> dict[str, Any]:
        played = buy.played
        waited = self._wait_paid(buy)
        inputs = {
            **(buy.placed.variables if buy.placed else {}),
            "payment_intent_id": played.payment_intent,
        }
        if played.order_id is not None:
            inputs["order_id"] = played.order_id
        last = ""
        for attempt in range(REFUND_TRIES):
            if not self.quota.take(buy.member.name, self.deadline):
                return {"error": "not refunded: timeout_s ran out waiting for the user's quota"}
            try:
                self.app.run("refund", self.shop.session(buy.member), inputs)
            except FAILURES as exc:
                last = self._said(str(exc))
                time.sleep(min(1.0 + attempt, max(0.0, self.deadline - time.monotonic())))
                continue
            return {
                "via": "target",
                "refund": self._refund_id(played.payment_intent or ""),
                **({"waited": waited} if waited else {}),
            }
        return {"error": f"the refund job failed {REFUND_TRIES} times: {last}"}

    def _refund_by_api(self, intent_id: str) -> dict[str, Any]:
        answer = self.side.refund_via_api(intent_id)
        if not answer.ok:
            return {"error": f"POST /v1/refunds answered {answer.error()}"}
        return {
            "via": "stripe",
            "why": "the profile has no `refund` job: refunded through Stripe's Refunds API",
            "refund": (answer.body or {}).get("id"),
        }

    def _refund_id(self, intent_id: str) -> str | None:
        """The refund Stripe made for the intent (the app's answer need not name it)."""
        give_up = min(self.deadline, time.monotonic() + self.model.settle_s)
        while True:
            answer = self.side.read(f"refunds?payment_intent={intent_id}&limit=10")
            data = answer.body.get("data") if answer.ok and isinstance(answer.body, dict) else None
            if data:
                return str(data[0].get("id"))
            if time.monotonic() > give_up:
                return None
            time.sleep(POLL_S)

    def _wait_paid(self, buy: _Buy) -> str | None:
        """Wait, bounded by settle_s, until the app shows the order paid (its `read_order`
        job's `status` capture), or without that job until the payment's events are
        delivered. Returns what was waited for but never seen, or None."""
        give_up = min(self.deadline, time.monotonic() + self.model.settle_s)
        paid = _paid_statuses(self.app.model)
        intent = buy.played.payment_intent or ""
        while time.monotonic() < give_up:
            if self.app.has("read_order") and buy.placed is not None:
                inputs = {**buy.placed.variables, "payment_intent_id": intent}
                try:
                    run = self.app.run("read_order", self.shop.session(buy.member), inputs)
                    if str(run.variables.get("status")) in paid:
                        return None
                except FAILURES:
                    pass
            elif self._delivered(intent):
                return None
            time.sleep(POLL_S)
        return "the order did not show paid within settle_s; refunded anyway"

    def _delivered(self, intent_id: str) -> bool:
        events = self.side.events_about(intent_id)
        return bool(events) and all(e.get("pending_webhooks") == 0 for e in events)

    # -- disputes ------------------------------------------------------------------------

    def _disputes(self, ledger: Ledger, buys: list[_Buy]) -> None:
        for buy in buys:
            played = buy.played
            if played.error or not played.payment_intent:
                continue
            give_up = min(self.deadline, time.monotonic() + self.model.settle_s)
            dispute = self.side.dispute_of(played.payment_intent)
            while dispute is None and time.monotonic() < give_up:
                time.sleep(POLL_S)
                dispute = self.side.dispute_of(played.payment_intent)
            if dispute is None:
                played.error = "paid with the dispute test card, but no dispute was opened"
                continue
            ledger.disputes.append({"payment_intent": played.payment_intent, "dispute": dispute})

    # -- the dropped webhook -------------------------------------------------------------

    def _dropped(self, ledger: Ledger, buy: _Buy) -> None:
        played = buy.played
        if not self._place(buy):
            return
        # Only the events of this payment are dispatched while the fault is on: the
        # checkouts before have been paid, and nothing else is played meanwhile.
        try:
            with self.side.failing_deliveries():
                intent, read, said = self.side.pay(buy.placed, played.payment_method)
        except FAILURES as exc:
            played.error = self._said(f"paying with the deliveries failing failed: {exc}")
            return
        played.payment_intent, played.status = intent, read.get("status")
        if said or played.status != "succeeded" or not intent:
            played.error = self._said(f"paying failed: {said or played.status}")
            return
        events = self._failed_events(intent)
        if not events:
            played.error = (
                "no delivery of the payment's events was attempted (is the app's webhook "
                "endpoint registered with the backend?)"
            )
            return
        ledger.dropped_webhooks.append({"payment_intent": intent, "events": events})

    def _failed_events(self, intent_id: str) -> list[dict[str, Any]]:
        """The payment's events whose delivery was attempted (and failed), once at least
        one attempt shows, bounded by settle_s."""
        give_up = min(self.deadline, time.monotonic() + self.model.settle_s)
        while True:
            found = []
            for event in self.side.events_about(intent_id):
                attempts = self.side.deliveries(str(event["id"]))
                if attempts:
                    found.append(
                        {
                            "id": event["id"],
                            "type": event.get("type"),
                            "failed_attempts": sum(
                                a.get("outcome") != "succeeded" for a in attempts
                            ),
                            "delivered": any(a.get("outcome") == "succeeded" for a in attempts),
                        }
                    )
            if found or time.monotonic() > give_up:
                return found
            time.sleep(POLL_S)

    def _said(self, text: str) -> str:
        return self.redactor.text(" ".join(text.split()))[:500]


def play(
    app: AppClient,
    backend: Any,
    model: TrafficModel,
    *,
    publishable_key: str | None,
    target: str,
    redactor: Redactor | None = None,
    as_of: datetime | None = None,
) -> Ledger:
    """Play the traffic once; TrafficError when none can be played. `as_of`: the run's
    time; on the sandbox, what is played is dated to end before it."""
    player = Player(
        app,
        backend,
        model,
        publishable_key=publishable_key,
        target=target,
        redactor=redactor,
        as_of=as_of,
    )
    try:
        return player.play()
    finally:
        player.close()


def _card(kind: str, n: int) -> str:
    cards = CARDS[kind]
    return cards[n % len(cards)]


def _paid_statuses(model: Any) -> set[str]:
    """The `read_order` status values of a paid order: the smoke block's, else `paid`."""
    smoke = getattr(model, "smoke", None) or {}
    order = smoke.get("order") if isinstance(smoke, dict) else None
    paid = order.get("paid") if isinstance(order, dict) else None
    return {str(v) for v in paid} if paid else {"paid"}
