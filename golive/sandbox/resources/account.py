"""The account (`GET /v1/account`) and its admin setter.

The default is a plain US test account that can take card payments but has no business
name, support details, statement descriptor or branding: a readiness check can be shown
failing on it, then passing once the admin call (`POST /_golive/account`) fills the fields.
"""

from __future__ import annotations

import time
from typing import Any

from golive.sandbox import params as p
from golive.sandbox.endpoint import Call, Operation
from golive.sandbox.errors import invalid_request
from golive.sandbox.ids import random_token

# Fields the admin call may not change: they identify the object.
FIXED = frozenset({"id", "object", "created"})


def default_account(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    account = {
        "id": "acct_" + random_token(16),
        "object": "account",
        "business_profile": {
            "annual_revenue": None,
            "estimated_worker_count": None,
            "mcc": None,
            "name": None,
            "product_description": None,
            "support_address": None,
            "support_email": None,
            "support_phone": None,
            "support_url": None,
            "url": None,
        },
        "business_type": None,
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "charges_enabled": True,
        "controller": {"type": "account"},
        "country": "US",
        "created": int(time.time()),
        "default_currency": "usd",
        "details_submitted": True,
        "email": None,
        "future_requirements": _requirements(),
        "metadata": {},
        "payouts_enabled": True,
        "requirements": _requirements(),
        "settings": {
            "branding": {
                "icon": None,
                "logo": None,
                "primary_color": None,
                "secondary_color": None,
            },
            "card_payments": {
                "decline_on": {"avs_failure": False, "cvc_failure": False},
                "statement_descriptor_prefix": None,
                "statement_descriptor_prefix_kana": None,
                "statement_descriptor_prefix_kanji": None,
            },
            "dashboard": {"display_name": None, "timezone": "Etc/UTC"},
            "payments": {
                "statement_descriptor": None,
                "statement_descriptor_kana": None,
                "statement_descriptor_kanji": None,
            },
            "payouts": {
                "debit_negative_balances": True,
                "schedule": {"delay_days": 2, "interval": "daily"},
                "statement_descriptor": None,
            },
        },
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "type": "standard",
    }
    if overrides:
        account = merge(account, overrides)
    return account


def _requirements() -> dict[str, Any]:
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": [],
        "disabled_reason": None,
        "errors": [],
        "eventually_due": [],
        "past_due": [],
        "pending_verification": [],
    }


def merge(account: dict[str, Any], changes: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A new account with `changes` deep-merged; unknown or fixed fields are refused.

    Form values are strings: "true"/"false" become booleans where the field is one, ""
    becomes null.
    """
    merged = dict(account)
    for key, value in changes.items():
        name = p.name(prefix, key)
        if key not in account or (not prefix and key in FIXED):
            known = ", ".join(sorted(k for k in account if prefix or k not in FIXED))
            raise invalid_request(
                f"Unknown account field: {name} (known here: {known})", param=name
            )
        current = account[key]
        if isinstance(value, dict) and isinstance(current, dict) and key != "metadata":
            merged[key] = merge(current, value, name)
        elif value == "":
            merged[key] = None
        elif isinstance(current, bool) and isinstance(value, str):
            merged[key] = p.boolean(value, name)
        else:
            merged[key] = value
    return merged


def retrieve(call: Call) -> dict[str, Any]:
    p.check_known(call.params, {"expand": None})
    return call.state.account


OPERATIONS = [Operation("GET", "/v1/account", retrieve)]
