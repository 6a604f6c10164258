"""The Stripe client golive itself uses against the run's backend (one factory)."""

from __future__ import annotations

from typing import Any

import stripe


def client(backend: Any) -> stripe.StripeClient:
    """A StripeClient for the backend (golive.backends.Backend), without retries: a check
    must see the backend's first answer."""
    return stripe.StripeClient(
        backend.secret_key, base_addresses={"api": backend.api_base}, max_network_retries=0
    )
