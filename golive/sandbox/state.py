"""Everything one sandbox holds: settings, objects, idempotency keys, the account, the dispatcher."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from golive.sandbox.clock import Clock
from golive.sandbox.defaults import (
    DEFAULT_API_VERSION,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_OBJECTS,
    DEFAULT_TTL_S,
)
from golive.sandbox.delivery import Dispatcher, WebhookFaults
from golive.sandbox.idempotency import IdempotencyCache
from golive.sandbox.resources import balance
from golive.sandbox.resources.account import default_account
from golive.sandbox.store import Store


@dataclass
class Settings:
    api_version: str = DEFAULT_API_VERSION
    idempotency_ttl_s: float = DEFAULT_TTL_S
    # Objects (and idempotency keys, and delivery records) kept; older ones are evicted.
    max_objects: int = DEFAULT_MAX_OBJECTS
    # A request body over this is a 413, refused before it is read whole (limits.py).
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    retry_schedule_s: list[float] | None = None  # None: the Dispatcher's default
    delivery_timeout_s: float = 5.0
    webhook_faults: WebhookFaults | None = None
    base_url: str = "http://127.0.0.1:12111"  # where next_action URLs point
    account: dict[str, Any] = field(default_factory=dict)  # initial account fields


class SandboxState:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        cap = self.settings.max_objects
        self.store = Store(cap)
        self.idempotency = IdempotencyCache(self.settings.idempotency_ttl_s, max_keys=cap)
        self.dispatcher = Dispatcher(
            retry_schedule_s=self.settings.retry_schedule_s,
            timeout_s=self.settings.delivery_timeout_s,
            faults=self.settings.webhook_faults,
            max_history=cap,
        )
        self.dispatcher.on_settled = self._delivery_settled
        self.account = default_account(self.settings.account)
        # Simulated time for `created` (clock.py); signatures keep real time.
        self.clock = Clock()
        # What evicted charges left in the balance, which must not shrink with the store.
        self.evicted_balance = balance.Totals()
        self.requests = 0
        # Events emitted while quiet are recorded but sent to no endpoint: golive pays a
        # Checkout Session for real and then sends the app its own signed copies.
        self.quiet = False

    def reset(self) -> None:
        """Forget every object, key and account change; the clock is real time again. Delivery history stays in the
        dispatcher but is shown only for events that still exist."""
        self.store.clear()
        self.idempotency.clear()
        self.account = default_account(self.settings.account)
        self.evicted_balance = balance.Totals()
        self.requests = 0
        self.clock.reset()

    def trim(self) -> None:
        """After each request: evict what is beyond the cap (see store.py)."""
        for obj, private in self.store.trim():
            if obj["object"] == "charge":
                # An evicted charge can no longer be refunded: its share is final.
                self.evicted_balance.add(obj, private)

    def _delivery_settled(self, event_id: str) -> None:
        event = self.store.get("event", event_id)
        if event is not None:
            event["pending_webhooks"] = self.dispatcher.undelivered(event_id)
