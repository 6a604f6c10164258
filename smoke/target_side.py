"""The target's side of a flow: its checkout, cart, order and refund endpoints, and its
webhook URL for the events golive synthesizes when the backend sends none."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx

from golive import httpclient
from golive.checkout import Placed, body, dotted, fill, place
from golive.profile.pricing import CartLine, Checkout
from golive.profile.smoke import Call, Smoke
from golive.redact import Redactor, excerpt
from golive.webhooks.sender import Delivery, send_event

TIMEOUT_S = 15


class TargetSide:
    def __init__(
        self,
        app: Any,
        spec: Smoke,
        checkout: Checkout,
        webhook_secret: str | None,
        redactor: Redactor,
    ):
        self.app = app
        self.redactor = redactor  # the run's: masks the answers' excerpts
        self.spec = spec
        self.checkout_spec = checkout
        self.webhook_secret = webhook_secret
        self._web = httpclient.client(base_url=app.base_url, timeout=TIMEOUT_S)

    def close(self) -> None:
        self._web.close()

    @property
    def host(self) -> str:
        return urlsplit(self.app.base_url).hostname or ""

    def excerpt(self, text: str, limit: int) -> str:
        """The start of an answer, with the whole answer redacted first."""
        return excerpt(self.redactor, text, limit)

    def _auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def call(self, call: Call, token: str, values: dict[str, Any]) -> httpx.Response:
        path = call.path
        for name, value in values.items():
            path = path.replace(name, str(value))
        body = fill(call.json_body, values) if call.json_body is not None else None
        return self._web.request(call.method, path, json=body, headers=self._auth(token))

    # -- checkout ----------------------------------------------------------------------------

    def checkout_items(self, token: str, cart: list[CartLine], flow: str) -> Placed:
        return self.checkout_body(token, body(self.checkout_spec, cart), flow)

    def checkout_body(self, token: str, request: dict[str, Any], flow: str) -> Placed:
        key = f"golive-smoke-{flow}-{uuid.uuid4().hex[:12]}"
        return place(
            self.app.base_url,
            self.checkout_spec,
            token,
            request,
            idempotency_key=key,
            client=self._web,
            redactor=self.redactor,
        )

    def get_json(self, path: str, token: str) -> tuple[int, Any]:
        answer = self._web.get(path, headers=self._auth(token))
        try:
            return answer.status_code, answer.json()
        except ValueError:
            return answer.status_code, None

    # -- cart ----------------------------------------------------------------------------------

    def cart_lines(self, token: str) -> tuple[int, list[Any] | None]:
        cart = self.spec.cart
        assert cart is not None
        answer = self._web.get(cart.read, headers=self._auth(token))
        try:
            lines = dotted(answer.json(), cart.lines)
        except ValueError:
            lines = None
        return answer.status_code, lines if isinstance(lines, list) else None

    # -- orders and refunds --------------------------------------------------------------------

    def order(self, token: str, order_id: Any) -> tuple[int, Any]:
        spec = self.spec.order
        assert spec is not None
        return self.get_json(spec.path.replace("{order_id}", str(order_id)), token)

    def refund(self, token: str, order_id: Any) -> httpx.Response:
        spec = self.spec.refund
        return self.call(Call(method=spec.method, path=spec.path), token, {"{order_id}": order_id})

    # -- synthesized events ------------------------------------------------------------------

    def deliver(self, event: dict[str, Any]) -> Delivery:
        """Sign `event` with the target's webhook secret and POST it to its webhook URL."""
        assert self.webhook_secret
        return send_event(
            self.app.webhook_url,
            self.webhook_secret,
            event,
            timeout=TIMEOUT_S,
            allow_hosts=(self.host,),
            redactor=self.redactor,
        )
