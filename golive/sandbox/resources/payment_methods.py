"""PaymentMethods (cards only): created from test tokens (`pm_card_visa`), raw test card
numbers, or `POST /v1/payment_methods`; retrieved by id.

Like Stripe, using a `pm_card_*` token makes a new `pm_…` PaymentMethod each time; the test
card behind it (and so whether it succeeds, declines or needs 3-D Secure) is kept privately.
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any

from golive.sandbox import params as p
from golive.sandbox.endpoint import Call, Operation
from golive.sandbox.errors import card_error, invalid_request
from golive.sandbox.expand import expand
from golive.sandbox.testcards import TOKENS, TestCard, card_for_number, luhn_valid

if TYPE_CHECKING:
    from golive.sandbox.state import SandboxState

ADDRESS: p.Schema = {k: None for k in ("city", "country", "line1", "line2", "postal_code", "state")}
BILLING_DETAILS: p.Schema = {
    "address": ADDRESS,
    "email": None,
    "name": None,
    "phone": None,
    "tax_id": None,
}
CARD: p.Schema = {
    "number": None,
    "exp_month": None,
    "exp_year": None,
    "cvc": None,
    "networks": None,
}
# payment_method_data on a PaymentIntent; other types are accepted by name but refused below.
DATA: p.Schema = {
    "type": None,
    "card": CARD,
    "billing_details": BILLING_DETAILS,
    "metadata": None,
    "allow_redisplay": None,
    "radar_options": None,
}
CREATE: p.Schema = {**DATA, "expand": None, "customer": None, "payment_method": None}


def create(call: Call) -> dict[str, Any]:
    params = call.params
    p.check_known(params, CREATE)
    p.require(params, "type")
    return expand(from_data(call.state, params, ""), p.expand_paths(params), call.state.store)


def retrieve(call: Call) -> dict[str, Any]:
    p.check_known(call.params, {"expand": None})
    pm = stored(call.state, call.path["id"], "id")
    return expand(pm, p.expand_paths(call.params), call.state.store)


def resolve(state: SandboxState, value: Any, param: str) -> dict[str, Any]:
    """The PaymentMethod a `payment_method` parameter names; a test token makes a new one."""
    value = p.string(value, param)
    number = TOKENS.get(value)
    if number is not None:
        return _store(state, card_for_number(number), {}, None, {})
    return stored(state, value, param, status=400)


def stored(state: SandboxState, pm_id: str, param: str, *, status: int = 404) -> dict[str, Any]:
    return state.store.require("payment_method", pm_id, "PaymentMethod", param=param, status=status)


def card_of(state: SandboxState, pm: dict[str, Any]) -> TestCard:
    return state.store.private[pm["id"]]["card"]


def from_data(state: SandboxState, data: Any, prefix: str) -> dict[str, Any]:
    """A PaymentMethod from `payment_method_data`-shaped parameters (prefix names them)."""
    data = p.hash_(data, prefix or "payment_method_data")
    p.require(data, "type", prefix=prefix)
    kind = data["type"]
    if kind != "card":
        raise invalid_request(
            f"The golive sandbox supports card PaymentMethods only (got type '{kind}').",
            param=p.name(prefix, "type"),
        )
    p.require(data, "card", prefix=prefix)
    card_prefix = p.name(prefix, "card")
    raw = p.hash_(data["card"], card_prefix)
    p.require(raw, "number", "exp_month", "exp_year", prefix=card_prefix)
    number = p.string(raw["number"], p.name(card_prefix, "number")).replace(" ", "")
    if not luhn_valid(number):
        raise card_error(
            "Your card number is incorrect.",
            code="incorrect_number",
            param=p.name(card_prefix, "number"),
        )
    exp_month = p.integer(raw["exp_month"], p.name(card_prefix, "exp_month"))
    exp_year = p.integer(raw["exp_year"], p.name(card_prefix, "exp_year"))
    if exp_year < 100:
        exp_year += 2000
    if not 1 <= exp_month <= 12:
        raise card_error(
            "Your card's expiration month is invalid.",
            code="invalid_expiry_month",
            param=p.name(card_prefix, "exp_month"),
        )
    today = time.gmtime()
    if (exp_year, exp_month) < (today.tm_year, today.tm_mon):
        raise card_error(
            "Your card's expiration year is invalid.",
            code="invalid_expiry_year",
            param=p.name(card_prefix, "exp_year"),
        )
    billing = p.hash_(data.get("billing_details", {}), p.name(prefix, "billing_details"))
    meta = p.metadata(data["metadata"]) if "metadata" in data else {}
    expiry = {"exp_month": exp_month, "exp_year": exp_year}
    return _store(state, card_for_number(number), billing, raw.get("cvc"), expiry, meta)


def _store(
    state: SandboxState,
    card: TestCard,
    billing: dict[str, Any],
    cvc: Any,
    expiry: dict[str, int],
    meta: dict[str, str] | None = None,
) -> dict[str, Any]:
    today = time.gmtime()
    address = billing.get("address") if isinstance(billing.get("address"), dict) else {}
    pm = {
        "id": state.store.new_id("pm"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": {k: address.get(k) for k in ADDRESS},
            "email": billing.get("email"),
            "name": billing.get("name"),
            "phone": billing.get("phone"),
            "tax_id": billing.get("tax_id"),
        },
        "card": {
            "brand": card.brand,
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": "unchecked" if cvc else None,
            },
            "country": card.country,
            "display_brand": card.brand,
            "exp_month": expiry.get("exp_month", today.tm_mon),
            "exp_year": expiry.get("exp_year", today.tm_year + 1),
            "fingerprint": hashlib.sha256(card.number.encode()).hexdigest()[:16],
            "funding": card.funding,
            "generated_from": None,
            "last4": card.last4,
            "networks": {"available": [card.brand], "preferred": None},
            "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": state.clock.seconds(),
        "customer": None,
        "livemode": False,
        "metadata": meta or {},
        "type": "card",
    }
    return state.store.add(pm, card=card)


OPERATIONS = [
    Operation("POST", "/v1/payment_methods", create, publishable=True),
    Operation("GET", "/v1/payment_methods/{id}", retrieve),
]
