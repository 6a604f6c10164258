"""The target's side of a flow: the profile's jobs (checkout, cart, order, refund) run as
its users, and its webhook URL for the events golive synthesizes when the backend sends
none."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from golive.client.app import AppClient, Placed
from golive.client.errors import FlowRun
from golive.redact import Redactor, excerpt
from golive.webhooks.sender import Delivery, send_event

TIMEOUT_S = 15


class TargetSide:
    def __init__(
        self, app: Any, client: AppClient, webhook_secret: str | None, redactor: Redactor
    ) -> None:
        self.app = app
        self.client = client
        self.redactor = redactor  # the run's: masks the answers' excerpts
        self.webhook_secret = webhook_secret

    @property
    def host(self) -> str:
        return urlsplit(self.app.base_url).hostname or ""

    def excerpt(self, text: str, limit: int) -> str:
        """The start of an answer, with the whole answer redacted first."""
        return excerpt(self.redactor, text, limit)

    def has(self, job: str) -> bool:
        return self.client.has(job)

    def run(self, job: str, user: str, inputs: dict[str, Any] | None = None) -> FlowRun:
        """The job's flow as `user`; FlowError when it cannot go on."""
        return self.client.run(job, user, inputs)

    def checkout(self, user: str, items: list[dict[str, Any]] | None, flow: str) -> Placed:
        """Place an order for `items`, or (None) check out what the cart holds."""
        key = f"golive-smoke-{flow}-{uuid.uuid4().hex[:12]}"
        job = "checkout" if items is not None else "checkout_cart"
        return self.client.checkout(user, items, idempotency_key=key, job=job)

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
