"""The Stripe side of a flow: confirming as Stripe.js would, finding events and deliveries.

What can be seen depends on the backend:

| backend     | confirm                      | the webhook                                        |
| ----------- | ---------------------------- | -------------------------------------------------- |
| sandbox     | publishable key + secret     | the event, then its delivery attempts (/_golive/)  |
| stripe-test | publishable key + secret     | the event, until `pending_webhooks` is 0           |
| localstripe | secret key, card attached first | none sent: golive synthesizes and signs the event |
| stripe-mock | secret key (stateless)       | none sent: golive synthesizes and signs the event  |

What the flows need of the backend is its capabilities (golive/capabilities.py); only the
embedded sandbox (in-process or `golive sandbox` as a process) can fail deliveries on
purpose: `/_golive/faults`.

localstripe refuses `payment_method` on confirm and knows no `pm_card_*` test ids: golive
creates a PaymentMethod from the test card's number, sets it on the PaymentIntent, then
confirms with no parameters (what its own Stripe.js shim does).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from golive import httpclient

TIMEOUT_S = 10
# localstripe's test card numbers for Stripe's test PaymentMethod ids.
LOCALSTRIPE_CARDS = {
    "pm_card_visa": "4242424242424242",
    "pm_card_chargeDeclined": "4000000000000341",  # localstripe declines it when charged
}


@dataclass
class Answer:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def error(self) -> str:
        error = self.body.get("error") if isinstance(self.body, dict) else None
        if isinstance(error, dict):
            parts = [error.get("code"), error.get("decline_code"), error.get("message")]
            return f"HTTP {self.status} " + " / ".join(str(p) for p in parts if p)
        return f"HTTP {self.status}"


class StripeSide:
    def __init__(self, backend: Any, publishable_key: str | None) -> None:
        self.backend = backend
        self.kind: str = backend.kind
        self.stateful: bool = bool(backend.stateful)
        self.sends_webhooks: bool = bool(backend.sends_webhooks)
        self.lacking = backend.lacking  # why a flow cannot run here, or None
        self.publishable_key = publishable_key
        self._web = httpclient.client(base_url=backend.api_base, timeout=TIMEOUT_S)

    def close(self) -> None:
        self._web.close()

    @property
    def has_admin(self) -> bool:
        """The golive sandbox's /_golive/ admin API: delivery attempts and faults."""
        return self.kind == "sandbox"

    def _call(self, method: str, path: str, key: str, data: dict[str, Any] | None = None) -> Answer:
        headers = {"Authorization": f"Bearer {key}"}
        if method == "GET":
            answer = self._web.get(path, params=data, headers=headers)
        else:
            answer = self._web.post(path, data=data, headers=headers)
        try:
            body = answer.json()
        except ValueError:
            body = None
        return Answer(answer.status_code, body)

    # -- PaymentIntents --------------------------------------------------------------------

    def read_intent(self, intent_id: str) -> Answer:
        return self.read(f"payment_intents/{intent_id}")

    def read(self, path: str) -> Answer:
        """GET /v1/<path> with the secret key (a PaymentIntent, a Checkout Session)."""
        return self._call("GET", f"/v1/{path}", self.backend.secret_key)

    def confirm_mode(self, client_secret: str | None) -> str:
        if self.backend.can("publishable-confirm") and self.publishable_key and client_secret:
            return "publishable key + client_secret (as Stripe.js)"
        return "secret key"

    def confirm(self, intent_id: str, payment_method: str, client_secret: str | None) -> Answer:
        """POST /v1/payment_intents/{id}/confirm as a browser would when the backend models
        it (publishable key and client_secret), else with the secret key."""
        data: dict[str, Any] = {"payment_method": payment_method}
        key = self.backend.secret_key
        if self.kind == "localstripe":
            return self._confirm_localstripe(intent_id, payment_method)
        if self.confirm_mode(client_secret).startswith("publishable"):
            key = self.publishable_key
            data["client_secret"] = client_secret
        return self._call("POST", f"/v1/payment_intents/{intent_id}/confirm", key, data)

    def _confirm_localstripe(self, intent_id: str, payment_method: str) -> Answer:
        """localstripe answers 500 to `payment_method` on confirm and has no pm_card_* ids:
        a PaymentMethod made from the test card's number is set on the intent first."""
        number = LOCALSTRIPE_CARDS.get(payment_method)
        if number is None:
            return Answer(
                0,
                {"error": {"message": f"golive knows no localstripe card for {payment_method}"}},
            )
        key = self.backend.secret_key
        card = {"number": number, "exp_month": "12", "exp_year": "2040", "cvc": "123"}
        made = self._call(
            "POST",
            "/v1/payment_methods",
            key,
            {"type": "card", **{f"card[{k}]": v for k, v in card.items()}},
        )
        if not made.ok or not isinstance(made.body, dict):
            return made
        attached = self._call(
            "POST", f"/v1/payment_intents/{intent_id}", key, {"payment_method": made.body["id"]}
        )
        if not attached.ok:
            return attached
        return self._call("POST", f"/v1/payment_intents/{intent_id}/confirm", key)

    def refund(self, intent_id: str) -> Answer:
        return self._call(
            "POST", "/v1/refunds", self.backend.secret_key, {"payment_intent": intent_id}
        )

    # -- events and deliveries -------------------------------------------------------------

    def find_event(self, event_type: str, intent_id: str, since: int) -> dict[str, Any] | None:
        """The newest event of `event_type` about `intent_id` created at or after `since`."""
        answer = self._call(
            "GET",
            "/v1/events",
            self.backend.secret_key,
            {"type": event_type, "limit": 100, "created[gte]": since},
        )
        if not answer.ok or not isinstance(answer.body, dict):
            raise RuntimeError(f"listing events answered {answer.error()}")
        for event in answer.body.get("data") or []:
            obj = (event.get("data") or {}).get("object") or {}
            if intent_id in (obj.get("id"), obj.get("payment_intent")):
                return event
        return None

    def read_event(self, event_id: str) -> dict[str, Any] | None:
        answer = self._call("GET", f"/v1/events/{event_id}", self.backend.secret_key)
        return answer.body if answer.ok and isinstance(answer.body, dict) else None

    def deliveries(self, event_id: str) -> list[dict[str, Any]]:
        answer = self._web.get("/_golive/deliveries", params={"event": event_id})
        answer.raise_for_status()
        return list(answer.json().get("data") or [])

    # -- faults (sandbox only) -------------------------------------------------------------

    def faults(self) -> dict[str, Any]:
        answer = self._web.get("/_golive/faults")
        answer.raise_for_status()
        return answer.json()

    def set_faults(self, plan: dict[str, Any]) -> None:
        self._web.post("/_golive/faults", json=plan).raise_for_status()


def now_s() -> int:
    return int(time.time())
