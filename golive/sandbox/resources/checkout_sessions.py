"""Checkout Sessions in `payment` mode: created, retrieved, listed, expired; their line items.

    open --(customer pays: POST /_golive/checkout/sessions/{id}/complete)--> complete
    open --(POST /v1/checkout/sessions/{id}/expire)--> expired

No browser pays here: the admin call `complete` plays the customer on Stripe's hosted page.
It creates the session's PaymentIntent (as Stripe does since API version 2022-08-01, only
when the customer pays: `payment_intent` is null until then) and confirms it through the
PaymentIntent state machine, so the usual PaymentIntent and charge events fire, then
`checkout.session.completed`. A declined card leaves the session open; paying again reuses
its PaymentIntent, as the hosted page does. The sandbox runs no clock: a session expires
only through the expire call, not at `expires_at`.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from golive.sandbox import currencies, pagination
from golive.sandbox import params as p
from golive.sandbox.endpoint import Call, Operation
from golive.sandbox.errors import StripeError, invalid_request, resource_missing
from golive.sandbox.events import emit
from golive.sandbox.expand import expand, expand_list_items
from golive.sandbox.resources import checkout_line_items, payment_attempts, payment_methods
from golive.sandbox.resources import payment_intents as intents
from golive.sandbox.resources.checkout_session_params import (
    CAPTURE_METHODS,
    CREATE,
    DEFAULT_EXPIRES_S,
    EXPIRE_NOT_OPEN,
    EXPIRES_MAX_S,
    EXPIRES_MIN_S,
    EXPIRES_TOO_LATE,
    EXPIRES_TOO_SOON,
    LINE_ITEMS_LIST,
    LIST,
    MODES,
    OTHER_MODES_ONLY,
    STATUSES,
    UI_MODES,
    UNSUPPORTED,
)
from golive.sandbox.resources.payment_intent_params import PAYMENT_METHOD_TYPES

if TYPE_CHECKING:
    from golive.sandbox.state import SandboxState

NOUN = "checkout.session"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Who pays when neither the session nor the caller names an email: Stripe's page always
# collects one, so a completed session always has customer_details.email.
DEFAULT_EMAIL = "jenny.rosen@example.com"
CLOCK_GRACE_S = 5  # the caller's clock computed expires_at a moment before we read ours
SUBMIT_TYPES = ("auto", "book", "donate", "pay", "subscribe")

# -- endpoints ------------------------------------------------------------------------------


def create(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    p.check_known(params, CREATE)
    _check_supported(params)
    now = state.clock.seconds()
    wanted = (
        checkout_line_items.parse_currency(params["currency"], "currency")
        if "currency" in params
        else None
    )
    if "line_items" not in params:
        raise invalid_request(
            "line_items is required in payment mode.",
            param="line_items",
            code="parameter_missing",
        )
    items, currency = checkout_line_items.build(params["line_items"], wanted, now)
    subtotal = sum(item["amount_subtotal"] for item in items)
    _check_total(subtotal, currency)
    types = _payment_method_types(params.get("payment_method_types"))
    session_id = state.store.new_id("cs_test")
    session = {
        "id": session_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": subtotal,
        "amount_total": subtotal,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": _url(params, "cancel_url"),
        "client_reference_id": _optional(params, "client_reference_id", 200),
        "client_secret": None,
        "collected_information": None,
        "consent": None,
        "consent_collection": None,
        "created": now,
        "currency": currency,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": None,
        "customer_creation": "if_required",
        "customer_details": None,
        "customer_email": _email(params),
        "discounts": [],
        # A deadline for a customer: real time, whatever the clock says (clock.py).
        "expires_at": _expires_at(params, int(time.time())),
        "invoice": None,
        "invoice_creation": {"enabled": False, "invoice_data": _NO_INVOICE_DATA},
        "livemode": False,
        "locale": _optional(params, "locale", 20),
        "metadata": p.metadata(params["metadata"]) if "metadata" in params else {},
        "mode": "payment",
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "if_required",
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": types,
        "payment_status": "unpaid",
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": (
            p.choice(params["submit_type"], "submit_type", SUBMIT_TYPES)
            if "submit_type" in params
            else None
        ),
        "subscription": None,
        "success_url": _url(params, "success_url"),
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "url": f"{state.settings.base_url}/_golive/checkout/{session_id}",
        "wallet_options": None,
    }
    intent_params = _intent_params(params, subtotal, currency)
    state.store.add(session, line_items=items, intent_params=intent_params)
    return expand(session, p.expand_paths(params), state.store)


def retrieve(call: Call) -> dict[str, Any]:
    p.check_known(call.params, {"expand": None})
    session = get(call.state, call.path["id"])
    return expand(session, p.expand_paths(call.params), call.state.store)


def list_(call: Call) -> dict[str, Any]:
    query = call.params
    p.check_known(query, LIST)
    checks = []
    for field in ("payment_intent", "customer", "customer_account", "payment_link", "subscription"):
        if field in query:
            wanted = p.string(query[field], field)
            checks.append(lambda s, f=field, w=wanted: s.get(f) == w)
    if "status" in query:
        status = p.choice(query["status"], "status", STATUSES)
        checks.append(lambda s: s["status"] == status)
    if "customer_details" in query:
        details = p.hash_(query["customer_details"], "customer_details")
        p.require(details, "email", prefix="customer_details")
        email = p.string(details["email"], "customer_details[email]")
        checks.append(lambda s: (s["customer_details"] or {}).get("email") == email)
    store = call.state.store
    items = expand_list_items(p.expand_paths(query))
    return pagination.page(
        store,
        "checkout.session",
        query,
        "/v1/checkout/sessions",
        NOUN,
        filters=checks,
        render=(lambda s: expand(s, items, store)) if items else None,
    )


def line_items(call: Call) -> dict[str, Any]:
    query = call.params
    p.check_known(query, LINE_ITEMS_LIST)
    state = call.state
    session = get(state, call.path["id"])
    stored = state.store.private[session["id"]]["line_items"]
    paths = expand_list_items(p.expand_paths(query))

    def missing(cursor: str, param: str) -> StripeError:
        return resource_missing("line item", cursor, param=param, status=400)

    return pagination.page_of(
        stored,  # in the order they were given, as Stripe lists them
        query,
        f"/v1/checkout/sessions/{session['id']}/line_items",
        missing,
        render=(lambda item: expand(item, paths, state.store)) if paths else None,
    )


def expire(call: Call) -> dict[str, Any]:
    p.check_known(call.params, {"expand": None})
    state = call.state
    session = get(state, call.path["id"])
    if session["status"] != "open":
        # Raised while executing (not validating): saved for an idempotent replay.
        raise invalid_request(EXPIRE_NOT_OPEN.format(status=session["status"]), saved=True)
    session["status"] = "expired"
    session["url"] = None  # Stripe's page no longer opens
    emit(state, "checkout.session.expired", session, call.request)
    return expand(session, p.expand_paths(call.params), state.store)


# -- the customer on the hosted page -------------------------------------------------------


def complete(
    state: SandboxState,
    session_id: str,
    payment_method: str = "pm_card_visa",
    *,
    email: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """The customer pays `session_id` with `payment_method` (a test token or a `pm_` id).

    A card asking for 3-D Secure passes it, as on the hosted page. A decline raises the
    card error (402) with the PaymentIntent and the session's id in it; the session stays
    open and a later attempt confirms the same PaymentIntent again.
    """
    session = get(state, session_id)
    if session["status"] != "open":
        raise invalid_request(
            f"This Checkout Session is {session['status']}: only an open session can be "
            "completed (a customer can no longer pay on its page).",
            param="id",
        )
    if "card" not in session["payment_method_types"]:
        raise invalid_request(
            "This Checkout Session does not accept cards, and the golive sandbox can only "
            f"pay by card (payment_method_types: {', '.join(session['payment_method_types'])}).",
            param="payment_method",
        )
    pm = payment_methods.resolve(state, payment_method, "payment_method")
    private = state.store.extra(session["id"])
    pi = state.store.get("payment_intent", private.get("payment_intent") or "")
    if pi is None:
        pi = intents.open_intent(state, private["intent_params"], None)
        private["payment_intent"] = pi["id"]
    try:
        intents.confirm_with(state, pi, pm, None)
        if pi["status"] == "requires_action":
            payment_attempts.complete_action(state, pi)
    except StripeError as exc:
        exc.extra["checkout_session"] = session["id"]
        raise
    billing = pm["billing_details"]
    session["status"] = "complete"
    # Manual capture: the money is only authorized, and Stripe shows the session unpaid.
    session["payment_status"] = "paid" if pi["status"] == "succeeded" else "unpaid"
    session["payment_intent"] = pi["id"]
    session["customer_details"] = {
        "address": billing["address"],
        "business_name": None,
        "email": session["customer_email"] or email or billing["email"] or DEFAULT_EMAIL,
        "individual_name": None,
        "name": name or billing["name"],
        "phone": billing["phone"],
        "tax_exempt": "none",
        "tax_ids": [],
    }
    session["url"] = None
    emit(state, "checkout.session.completed", session)
    return session


# -- helpers --------------------------------------------------------------------------------

_NO_INVOICE_DATA: dict[str, Any] = {
    "account_tax_ids": None,
    "custom_fields": None,
    "description": None,
    "footer": None,
    "issuer": None,
    "metadata": {},
    "rendering_options": None,
}


def get(state: SandboxState, session_id: Any) -> dict[str, Any]:
    session_id = p.string(session_id, "id")
    return state.store.require("checkout.session", session_id, NOUN)


def _check_supported(params: dict[str, Any]) -> None:
    p.require(params, "mode")
    mode = p.choice(params["mode"], "mode", MODES)
    if mode != "payment":
        raise invalid_request(
            f"The golive sandbox supports only mode=payment Checkout Sessions (got mode={mode}).",
            param="mode",
        )
    for field, its_mode in OTHER_MODES_ONLY.items():
        if field in params:
            raise invalid_request(f"You can only pass `{field}` in `{its_mode}` mode.", param=field)
    ui_mode = p.choice(params.get("ui_mode", "hosted"), "ui_mode", UI_MODES)
    if ui_mode != "hosted":
        raise invalid_request(
            f"The golive sandbox supports only ui_mode=hosted Checkout Sessions (got ui_mode={ui_mode}).",
            param="ui_mode",
        )
    for field in UNSUPPORTED:
        value = params.get(field)
        applies = isinstance(value, list) and bool(value)
        if field == "automatic_tax" and isinstance(value, dict):
            applies = p.boolean(value.get("enabled", "false"), "automatic_tax[enabled]")
        if applies:
            raise invalid_request(
                f"The golive sandbox does not model {field} (taxes, discounts and shipping "
                "are not computed): leave it out to test the payment.",
                param=field,
            )
    if "customer" in params:
        p.not_empty(params["customer"], "customer")
        # The sandbox has no Customers: every id is one the account does not have.
        raise resource_missing(
            "customer", p.string(params["customer"], "customer"), param="customer", status=400
        )


def _check_total(amount: int, currency: str) -> None:
    minimum = currencies.MINIMUMS.get(currency, (1, ""))[0]
    if amount < minimum:
        raise invalid_request(
            f"The Checkout Session's total amount due must add up to at least {currencies.format_amount(minimum, currency)}",
            param="line_items",
            code="amount_too_small",
        )
    if amount > currencies.MAXIMUM_AMOUNT:
        raise invalid_request(
            f"The Checkout Session's total amount due must be no more than {currencies.format_amount(currencies.MAXIMUM_AMOUNT, currency)}",
            param="line_items",
            code="amount_too_large",
        )


def _payment_method_types(value: Any) -> list[str]:
    if value is None:
        return ["card"]
    types = p.string_list(value, "payment_method_types")
    if not types:
        raise invalid_request("Invalid array", param="payment_method_types")
    for i, kind in enumerate(types):
        if kind not in PAYMENT_METHOD_TYPES:
            raise invalid_request(
                f"The payment method type provided: {kind} is invalid.",
                param=f"payment_method_types[{i}]",
            )
    return list(types)


def _url(params: dict[str, Any], field: str) -> str | None:
    if field not in params:
        return None
    p.not_empty(params[field], field)
    url = p.string(params[field], field, max_length=5000)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid_request("Not a valid URL", param=field, code="url_invalid")
    return url


def _optional(params: dict[str, Any], field: str, max_length: int) -> str | None:
    if field not in params:
        return None
    p.not_empty(params[field], field)
    return p.string(params[field], field, max_length=max_length)


def _email(params: dict[str, Any]) -> str | None:
    email = _optional(params, "customer_email", 800)
    if email is not None and not _EMAIL.fullmatch(email):
        raise invalid_request(
            f"Invalid email address: {email}", param="customer_email", code="email_invalid"
        )
    return email


def _expires_at(params: dict[str, Any], now: int) -> int:
    if "expires_at" not in params:
        return now + DEFAULT_EXPIRES_S
    expires_at = p.integer(params["expires_at"], "expires_at")
    if expires_at < now + EXPIRES_MIN_S - CLOCK_GRACE_S:
        raise invalid_request(EXPIRES_TOO_SOON, param="expires_at")
    if expires_at > now + EXPIRES_MAX_S + CLOCK_GRACE_S:
        raise invalid_request(EXPIRES_TOO_LATE, param="expires_at")
    return expires_at


def _intent_params(params: dict[str, Any], amount: int, currency: str) -> dict[str, Any]:
    """What the PaymentIntent will be created with once the customer pays: the total and
    `payment_intent_data`, checked now as Stripe checks them at creation."""
    out: dict[str, Any] = {"amount": amount, "currency": currency, "payment_method_types": ["card"]}
    if "payment_intent_data" not in params:
        return out
    data = p.hash_(params["payment_intent_data"], "payment_intent_data")
    prefix = "payment_intent_data"
    if "metadata" in data:
        out["metadata"] = p.nested_metadata(data["metadata"], prefix)
    if "capture_method" in data:
        out["capture_method"] = p.choice(
            data["capture_method"], f"{prefix}[capture_method]", CAPTURE_METHODS
        )
    for field, limit in (
        ("description", 1000),
        ("receipt_email", 800),
        ("statement_descriptor", 22),
        ("statement_descriptor_suffix", 22),
    ):
        if field in data:
            name = f"{prefix}[{field}]"
            p.not_empty(data[field], name)
            out[field] = p.string(data[field], name, max_length=limit)
    return out


OPERATIONS = [
    Operation("POST", "/v1/checkout/sessions", create),
    Operation("GET", "/v1/checkout/sessions", list_),
    Operation("GET", "/v1/checkout/sessions/{id}", retrieve),
    Operation("GET", "/v1/checkout/sessions/{id}/line_items", line_items),
    Operation("POST", "/v1/checkout/sessions/{id}/expire", expire),
]
