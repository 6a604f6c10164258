"""One reconciliation from a loaded profile and a running Stripe backend: what the
command and the checks share (the block's model, the orders' source, the pricing rules).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from golive.client import stripe_api
from golive.reconcile.engine import Result, Sink, reconcile
from golive.reconcile.orders_side import Orders
from golive.reconcile.profile import PROFILE_KEY, ReconcileModel


class NoBlock(Exception):
    """The profile has no `reconcile` block."""


def model_of(profile: Any) -> ReconcileModel:
    """The profile's block (validated when the profile loaded); NoBlock without one."""
    raw = profile.model.reconcile
    if raw is None:
        raise NoBlock(
            f"the target profile has no `{PROFILE_KEY}` block: golive is not told how to "
            "read the app's orders (see docs/reconcile.md)"
        )
    try:
        return ReconcileModel.model_validate(raw)
    except ValidationError as exc:  # profile.load validates it; this is for a raw dict
        raise ValueError(f"the profile's `{PROFILE_KEY}` block is invalid: {exc}") from None


def fee_bps(profile: Any) -> int | None:
    """The platform fee rate of the profile's `pricing.rules`, when it has them."""
    pricing = profile.model.pricing
    rules = pricing.get("rules") if isinstance(pricing, dict) else None
    if not isinstance(rules, dict) or "platform_fee_bps" not in rules:
        return None
    return int(rules["platform_fee_bps"])


def app_base_url(profile: Any, app: Any) -> str | None:
    """Where the app answers: the running app's URL, or the profile's `app.base_url` for an
    app golive does not start (a deployed one)."""
    if app is not None:
        return app.base_url
    spec = profile.model.app
    if spec is not None and spec.start is None and "{" not in spec.base_url:
        return spec.base_url
    return None


def run(
    profile: Any,
    backend: Any,
    since: datetime,
    until: datetime,
    sink: Sink,
    *,
    app: Any = None,
    app_client: Any = None,
    redactor: Any = None,
    earliest: int = 10,
    app_clock_s: float = 0.0,
) -> Result:
    """Reconcile [since, until) for the profile against the backend
    (golive.backends.Backend). StripeSideError / SourceError when a side cannot be read."""
    model = model_of(profile)
    base_url = app_base_url(profile, app)
    own_client = None
    if model.http is not None and model.http.user is not None and app_client is None and base_url:
        from golive.client.app import AppClient

        app_client = own_client = AppClient(
            profile.model, base_url, base_dir=profile.base_dir, redactor=redactor
        )
    orders = Orders(
        model,
        database_url=profile.database_url(),
        app_base_url=base_url,
        app_client=app_client,
    )
    try:
        return reconcile(
            model,
            stripe_api.client(backend),
            orders,
            since,
            until,
            sink,
            fee_bps=fee_bps(profile),
            earliest=earliest,
            app_clock_s=app_clock_s,
        )
    finally:
        orders.close()
        if own_client is not None:
            own_client.close()
