"""The Stripe side of the traffic: paying as a customer would, refunds through the API,
disputes, and one payment whose webhook deliveries the sandbox fails every time.

Payments are confirmed as Stripe.js would (publishable key and client_secret, where the
backend models it; golive.smoke.stripe_side), a Checkout Session is paid as its hosted page
would be (the sandbox's admin route). Disputes are read from `GET /v1/disputes`; a backend
that answers anything but 200 there has none, and the mix's disputes are skipped. The
dropped delivery uses the sandbox's webhook faults (`/_golive/faults`, fail_first): set
just for the one payment, then put back as they were (faults are decided per delivery when
the event is dispatched, so later events are not touched).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from golive.smoke.stripe_side import Answer, StripeSide

# More attempts than any retry schedule: every attempt of the delivery fails.
FAIL_EVERY_TIME = 1000


class TrafficBackend(StripeSide):
    """StripeSide plus what the traffic needs beyond the smoke flows."""

    def __init__(self, backend: Any, publishable_key: str | None) -> None:
        super().__init__(backend, publishable_key)
        self._disputes: str | None | bool = False  # not probed yet

    # -- payments ------------------------------------------------------------------------

    def pay(
        self, placed: Any, payment_method: str
    ) -> tuple[str | None, dict[str, Any], str | None]:
        """Pay what a checkout started: (PaymentIntent id, the intent as read afterwards,
        the decline or error said). A decline is a normal outcome, not an error."""
        if placed.payment_intent_id:
            intent_id = placed.payment_intent_id
            answer = self.confirm(intent_id, payment_method, placed.variables.get("client_secret"))
            said = None if answer.ok else answer.error()
        elif placed.checkout_session_id and self.backend.can("admin-payments"):
            intent_id, said = self._complete_session(placed.checkout_session_id, payment_method)
            if intent_id is None:
                return None, {}, said
        else:
            return None, {}, "the checkout started no PaymentIntent golive can pay"
        read = self.read_intent(intent_id)
        return intent_id, read.body if read.ok and isinstance(read.body, dict) else {}, said

    def _complete_session(
        self, session_id: str, payment_method: str
    ) -> tuple[str | None, str | None]:
        from golive.backends import CheckoutCompletionError, complete_checkout_session

        try:
            session = complete_checkout_session(self.backend, session_id, payment_method)
        except CheckoutCompletionError as exc:
            intent = exc.error.get("payment_intent") if isinstance(exc.error, dict) else None
            intent_id = intent.get("id") if isinstance(intent, dict) else intent
            return (str(intent_id) if intent_id else None), str(exc)
        intent = session.get("payment_intent")
        intent_id = intent.get("id") if isinstance(intent, dict) else intent
        return (str(intent_id) if intent_id else None), None

    def refund_via_api(self, intent_id: str) -> Answer:
        return self.refund(intent_id)

    # -- disputes ------------------------------------------------------------------------

    def disputes_missing(self) -> str | None:
        """None when the backend keeps disputes (GET /v1/disputes answers 200), else why not."""
        if self._disputes is False:
            answer = self._call("GET", "/v1/disputes", self.backend.secret_key, {"limit": 1})
            self._disputes = (
                None
                if answer.ok
                else f"backend {self.kind} has no disputes (GET /v1/disputes answered "
                f"HTTP {answer.status})"
            )
        return self._disputes if isinstance(self._disputes, str) else None

    def dispute_of(self, intent_id: str) -> str | None:
        answer = self._call(
            "GET",
            "/v1/disputes",
            self.backend.secret_key,
            {"payment_intent": intent_id, "limit": 10},
        )
        if not answer.ok or not isinstance(answer.body, dict):
            return None
        for dispute in answer.body.get("data") or []:
            if dispute.get("payment_intent") == intent_id:
                return str(dispute.get("id"))
        return None

    # -- the clock -----------------------------------------------------------------------

    def dated_before(self, as_of: datetime | None, lead_s: float) -> _DatedBefore:
        return _DatedBefore(self, as_of, lead_s)

    # -- the dropped delivery ------------------------------------------------------------

    def failing_deliveries(self) -> _FailingDeliveries:
        return _FailingDeliveries(self)

    def events_about(self, intent_id: str) -> list[dict[str, Any]]:
        """The newest 100 events whose object is the intent or one of its charges (by the
        object's id, not the time: the backend's clock may not be golive's)."""
        answer = self._call("GET", "/v1/events", self.backend.secret_key, {"limit": 100})
        if not answer.ok or not isinstance(answer.body, dict):
            return []
        found = []
        for event in answer.body.get("data") or []:
            obj = (event.get("data") or {}).get("object") or {}
            if intent_id in (obj.get("id"), obj.get("payment_intent")):
                found.append(event)
        return found


class _DatedBefore:
    """`with backend.dated_before(as_of, lead_s):` what the sandbox makes inside is dated
    from `lead_s` seconds before `as_of` on (its clock, /_golive/clock), so a run's traffic
    lies inside the windows that end at the run's time; the clock is put back on the way
    out. Elsewhere (or a sandbox without a clock) objects keep the backend's time, and
    `note` says so."""

    def __init__(self, side: TrafficBackend, as_of: datetime | None, lead_s: float) -> None:
        self.side = side
        self.start = as_of.timestamp() - lead_s if as_of is not None else None
        self.before: dict[str, Any] | None = None
        self.note = "objects dated by the backend's own clock"
        self.dated_from: float | None = None  # the simulated time it started at, when moved

    def __enter__(self) -> _DatedBefore:
        if self.start is None or not self.side.backend.can("history"):
            return self
        web = self.side._web
        answer = web.get("/_golive/clock")
        if answer.status_code != 200:
            return self
        before = answer.json()
        moved = web.post("/_golive/clock", json={"now": self.start})
        if moved.status_code != 200:
            self.note += f" (the sandbox refused to date them earlier: HTTP {moved.status_code})"
            return self
        self.before = before
        self.dated_from = self.start
        when = datetime.fromtimestamp(self.start, UTC).isoformat(timespec="seconds")
        self.note = f"objects dated from {when.replace('+00:00', 'Z')} on (the sandbox's clock)"
        return self

    def __exit__(self, *exc: object) -> None:
        if self.before is None:
            return
        back = (
            {"offset_s": self.before.get("offset_s", 0)}
            if self.before.get("simulated")
            else {"reset": True}
        )
        self.side._web.post("/_golive/clock", json=back)


class _FailingDeliveries:
    """`with backend.failing_deliveries():` every delivery of the events made inside fails
    every attempt; the faults in force before are put back on the way out."""

    def __init__(self, side: TrafficBackend) -> None:
        self.side = side
        self.before: dict[str, Any] = {}

    def __enter__(self) -> _FailingDeliveries:
        self.before = self.side.faults()
        webhooks = dict(self.before.get("webhooks") or {})
        webhooks["fail_first"] = FAIL_EVERY_TIME
        plan = {k: v for k, v in self.before.items() if k in ("routes", "seed")}
        self.side.set_faults({**plan, "webhooks": webhooks})
        return self

    def __exit__(self, *exc: object) -> None:
        plan = {k: v for k, v in self.before.items() if k in ("routes", "webhooks", "seed")}
        self.side.set_faults(plan)
