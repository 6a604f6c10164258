"""The one way the shop talks to Stripe: the official `stripe` library, pointed at
STRIPE_API_BASE, sending STRIPE_API_VERSION as Stripe-Version, retrying network errors
(every POST carries an idempotency key, so a retry never charges twice).

`stripe` takes a while to import; `warm()` imports it on a background thread once the
server is up, so /healthz answers without waiting for it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import stripe

    from shop.config import Config

TIMEOUT_S = 20
NETWORK_RETRIES = 2


class StripeGateway:
    def __init__(self, config: Config) -> None:
        self.config = config
        self._client: stripe.StripeClient | None = None
        self._lock = threading.Lock()

    def warm(self) -> None:
        threading.Thread(target=self.client, name="stripe-import", daemon=True).start()

    def client(self) -> stripe.StripeClient:
        with self._lock:
            if self._client is None:
                import stripe

                self._client = stripe.StripeClient(
                    self.config.stripe_secret_key,
                    base_addresses={"api": self.config.stripe_api_base},
                    stripe_version=self.config.stripe_api_version,
                    max_network_retries=NETWORK_RETRIES,
                    http_client=stripe.RequestsClient(timeout=TIMEOUT_S),
                )
            return self._client

    def create_payment_intent(self, params: dict[str, Any], idempotency_key: str) -> Any:
        return self.client().v1.payment_intents.create(
            params=params, options={"idempotency_key": idempotency_key}
        )

    def retrieve_payment_intent(self, intent_id: str) -> Any:
        return self.client().v1.payment_intents.retrieve(intent_id)

    def refund(self, intent_id: str, idempotency_key: str, metadata: dict[str, str]) -> Any:
        return self.client().v1.refunds.create(
            params={
                "payment_intent": intent_id,
                "reason": "requested_by_customer",
                "metadata": metadata,
            },
            options={"idempotency_key": idempotency_key},
        )


def error_summary(exc: Exception) -> dict[str, Any]:
    """What may be logged about a Stripe error: type, code, status, request id; no key."""
    return {
        "error_type": type(exc).__name__,
        "code": getattr(exc, "code", None),
        "http_status": getattr(exc, "http_status", None),
        "request_id": getattr(exc, "request_id", None),
        "message": str(getattr(exc, "user_message", None) or "")[:200],
    }
