"""Stripe account checks: read-only calls against the profile's Stripe backend."""

from __future__ import annotations

from typing import Any

import stripe
from pydantic import BaseModel, ConfigDict, Field

from golive.client import stripe_api
from golive.context import CheckContext
from golive.registry import check


class AccountFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fields: list[str] = Field(
        min_length=1, description="Dotted paths in the Account object that must be set"
    )


def _client(ctx: CheckContext) -> stripe.StripeClient:
    return stripe_api.client(ctx.require_backend("account"))


def _lookup(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if obj is None:
            return None
        obj = obj.get(part) if isinstance(obj, dict) else getattr(obj, part, None)
    return obj


@check("stripe.account-settings", params=AccountFields, needs={"stripe"})
def test_account_settings(ctx: CheckContext) -> None:
    """The account's business settings are filled in (name, support email, descriptor, logo)."""
    account = _client(ctx).v1.accounts.retrieve_current().to_dict()
    missing = []
    for path in ctx.params.fields:
        value = _lookup(account, path)
        ctx.record(account=account.get("id"), field=path, value=value, set=bool(value))
        if not value:
            missing.append(path)
    if missing:
        ctx.fail(f"not set on the Stripe account {account.get('id')}: {', '.join(missing)}")
