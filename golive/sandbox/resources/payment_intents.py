"""PaymentIntents and their state machine, as Stripe documents it.

    requires_payment_method --(payment_method)--> requires_confirmation --confirm-->
        [card needs 3-D Secure] requires_action --(customer authenticates)--> ...
        [declined]  requires_payment_method, last_payment_error, charge.failed + payment_intent.payment_failed (402)
        [capture_method=manual] requires_capture --capture--> succeeded
        [otherwise] succeeded
    any of requires_* --cancel--> canceled

Card payments settle synchronously, so like Stripe's cards they never show `processing`.
The customer's side of 3-D Secure is played by the admin calls `complete_action` /
`fail_action` (or by following `next_action`'s URL); confirming again with another card
works too. An operation the current status does not allow is Stripe's 400
`payment_intent_unexpected_state`, with the PaymentIntent in the error.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from golive.sandbox import currencies, pagination
from golive.sandbox import params as p
from golive.sandbox.endpoint import Call, Operation
from golive.sandbox.errors import (
    StripeError,
    invalid_request,
    parameter_missing,
    unexpected_state,
)
from golive.sandbox.events import emit
from golive.sandbox.expand import expand, expand_list_items
from golive.sandbox.ids import new_id, random_token
from golive.sandbox.resources import payment_attempts, payment_methods
from golive.sandbox.resources.payment_intent_params import (
    CANCEL,
    CANCELABLE,
    CANCELLATION_REASONS,
    CAPTURE,
    CAPTURE_METHODS,
    CONFIRM,
    CONFIRMABLE,
    CONFIRMATION_METHODS,
    CREATE,
    FUTURE_USAGE,
    LIST,
    MISSING_PAYMENT_METHOD,
    PAYMENT_FIELDS,
    PAYMENT_METHOD_TYPES,
    PUBLIC_FIELDS,
    RETURN_URL_REQUIRED,
    THREE_D_SECURE,
    UPDATE,
)

if TYPE_CHECKING:
    from golive.sandbox.state import SandboxState

# Nested values are never changed in place (store.py), so the values most PaymentIntents
# have are one object shared by all of them rather than a copy in each (0.6 KB apiece).
NO_TIP: dict[str, Any] = {"tip": {}}
CARD_ONLY = ["card"]
AUTOMATIC = {
    (redirects, enabled): {"allow_redirects": redirects, "enabled": enabled}
    for redirects in ("always", "never")
    for enabled in (True, False)
}
DEFAULT_CARD_OPTIONS: dict[str, Any] = {
    "card": {
        "installments": None,
        "mandate_options": None,
        "network": None,
        "request_three_d_secure": "automatic",
    }
}

# -- endpoints ------------------------------------------------------------------------------


def create(call: Call) -> dict[str, Any]:
    return _render(call, open_intent(call.state, call.params, call.request))


def open_intent(
    state: SandboxState, params: dict[str, Any], request: dict[str, Any] | None
) -> dict[str, Any]:
    """A new PaymentIntent from create's parameters, confirmed if they say so (a decline
    raises the card error after storing it). Checkout completes its sessions with this."""
    p.check_known(params, CREATE)
    p.require(params, "amount", "currency")
    currency = currency_of(params["currency"])
    amount = amount_of(params["amount"], currency)
    confirm = p.boolean(params["confirm"], "confirm") if "confirm" in params else False
    for only_when_confirming in ("return_url", "off_session", "error_on_requires_action"):
        if only_when_confirming in params and not confirm:
            raise invalid_request(
                f"You can only pass `{only_when_confirming}` when `confirm` is `true`.",
                param=only_when_confirming,
            )
    if "payment_method_types" in params and "automatic_payment_methods" in params:
        raise invalid_request(
            "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.",
            param="automatic_payment_methods",
        )
    if "payment_method_types" in params:
        types = _payment_method_types(params["payment_method_types"])
        automatic = None
    else:
        # Since API version 2023-08-16 automatic payment methods are on unless types are given.
        types = CARD_ONLY
        automatic = _automatic(params.get("automatic_payment_methods", {}))
        if not automatic["enabled"]:
            automatic = None
    capture = p.choice(
        params.get("capture_method", "automatic_async"), "capture_method", CAPTURE_METHODS
    )
    confirmation = p.choice(
        params.get("confirmation_method", "automatic"), "confirmation_method", CONFIRMATION_METHODS
    )
    if "payment_method" in params and "payment_method_data" in params:
        raise invalid_request(
            "You may only specify one of these parameters: payment_method, payment_method_data.",
            param="payment_method_data",
        )
    fields = _describing(params, {})
    fields.update(_common(params))
    pm = _payment_method(state, params)
    pi = blank(
        state.store.new_id("pi"),
        amount,
        currency,
        state.clock.seconds(),
        capture_method=capture,
        confirmation_method=confirmation,
        types=types,
        automatic=automatic,
        on_behalf_of=(
            p.string(params["on_behalf_of"], "on_behalf_of") if "on_behalf_of" in params else None
        ),
        payment_method=pm["id"] if pm else None,
        payment_method_options=_card_options({}, params),
    )
    pi.update(fields)
    if confirm:
        if pm is None:
            raise invalid_request(MISSING_PAYMENT_METHOD, param="payment_method")
        _check_card_allowed(pi, pm)
        _check_return_url(pi, params)
        flags = _confirmation_flags(params)
    state.store.add(pi)
    emit(state, "payment_intent.created", pi, request)
    if confirm:
        _remember_confirmation(state, pi, params, flags)
        payment_attempts.pay(state, pi, request)
    return pi


def blank(
    pi_id: str,
    amount: int,
    currency: str,
    created: int,
    *,
    capture_method: str = "automatic_async",
    confirmation_method: str = "automatic",
    types: list[str] = CARD_ONLY,
    automatic: dict[str, Any] | None = None,
    on_behalf_of: str | None = None,
    payment_method: str | None = None,
    payment_method_options: dict[str, Any] = DEFAULT_CARD_OPTIONS,
) -> dict[str, Any]:
    """A new PaymentIntent as create shows it, before describing fields and confirmation
    (open_intent; /_golive/history makes past ones with it)."""
    return {
        "id": pi_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": NO_TIP,
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": automatic,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": capture_method,
        "client_secret": f"{pi_id}_secret_{random_token(25)}",
        "confirmation_method": confirmation_method,
        "created": created,
        "currency": currency,
        "customer": None,
        "description": None,
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": {},
        "next_action": None,
        "on_behalf_of": on_behalf_of,
        "payment_method": payment_method,
        "payment_method_configuration_details": (
            {"id": "pmc_" + random_token(24), "parent": None} if automatic else None
        ),
        "payment_method_options": payment_method_options,
        "payment_method_types": types,
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_confirmation" if payment_method else "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }


def retrieve(call: Call) -> dict[str, Any]:
    params = call.params
    p.check_known(params, {"client_secret": None, "expand": None})
    pi = get(call.state, call.path["id"])
    if call.key.publishable or "client_secret" in params:
        _check_client_secret(pi, params)
    return _render(call, pi)


def update(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    p.check_known(params, UPDATE)
    pi = get(state, call.path["id"])
    changes_payment = any(field in params for field in PAYMENT_FIELDS)
    if changes_payment and pi["status"] not in CONFIRMABLE:
        raise unexpected_state(
            f"You cannot update this PaymentIntent because it has a status of {pi['status']}. Updates to amount, currency, payment method and capture method are only allowed when the PaymentIntent has a status of requires_payment_method, requires_confirmation, or requires_action.",
            dict(pi),
        )
    currency = currency_of(params["currency"]) if "currency" in params else pi["currency"]
    amount = amount_of(params["amount"], currency) if "amount" in params else pi["amount"]
    if "currency" in params and "amount" not in params:
        amount_of(amount, currency)  # the old amount must still be valid in the new currency
    fields = _describing(params, pi)
    fields.update(_common(params))
    if "payment_method_types" in params:
        fields["payment_method_types"] = _payment_method_types(params["payment_method_types"])
        fields["automatic_payment_methods"] = None
        fields["payment_method_configuration_details"] = None
    if "capture_method" in params:
        fields["capture_method"] = p.choice(
            params["capture_method"], "capture_method", CAPTURE_METHODS
        )
    if "payment_method" in params and params["payment_method"] == "":
        fields["payment_method"] = None
    else:
        pm = _payment_method(state, params)
        if pm is not None:
            fields["payment_method"] = pm["id"]
    fields["payment_method_options"] = _card_options(pi["payment_method_options"], params)
    pi.update(fields)
    pi["amount"], pi["currency"] = amount, currency
    pi["last_payment_error"] = None  # Stripe clears it on any update
    if changes_payment:
        pi["status"] = (
            "requires_confirmation" if pi["payment_method"] else "requires_payment_method"
        )
        pi["next_action"] = None
    return _render(call, pi)


def confirm(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    schema = {**CONFIRM, "client_secret": None} if call.key.publishable else CONFIRM
    p.check_known(params, schema)
    pi = get(state, call.path["id"])
    if call.key.publishable:
        _check_client_secret(pi, params)
    _check_confirmable(pi)
    if "payment_method" in params and "payment_method_data" in params:
        raise invalid_request(
            "You may only specify one of these parameters: payment_method, payment_method_data.",
            param="payment_method_data",
        )
    capture = (
        p.choice(params["capture_method"], "capture_method", CAPTURE_METHODS)
        if "capture_method" in params
        else pi["capture_method"]
    )
    _check_return_url(pi, params)
    fields = _common(params)
    pm = _payment_method(state, params)
    if pm is None:
        if pi["payment_method"] is None:
            raise _missing_payment_method(pi)
        pm = payment_methods.stored(state, pi["payment_method"], "payment_method", status=400)
    _check_card_allowed(pi, pm)
    flags = _confirmation_flags(params)
    options = _card_options(pi["payment_method_options"], params)
    pi.update(fields)
    pi["capture_method"] = capture
    pi["payment_method"] = pm["id"]
    pi["payment_method_options"] = options
    pi["last_payment_error"] = None
    _remember_confirmation(state, pi, params, flags)
    payment_attempts.pay(state, pi, call.request)
    return _render(call, pi)


def confirm_with(
    state: SandboxState,
    pi: dict[str, Any],
    pm: dict[str, Any],
    request: dict[str, Any] | None,
    *,
    on_a_page: bool = False,
) -> None:
    """Confirm `pi` with `pm` as `POST …/confirm` with only `payment_method` would (a decline
    raises the card error): a customer paying on Checkout's page. `on_a_page`: as the
    app's own payment page would, which gives Stripe.js a return_url."""
    _check_confirmable(pi)
    _check_return_url(pi, {"return_url": "https://golive.invalid/paid"} if on_a_page else {})
    _check_card_allowed(pi, pm)
    pi["payment_method"] = pm["id"]
    pi["last_payment_error"] = None
    _remember_confirmation(state, pi, {}, _confirmation_flags({}))
    payment_attempts.pay(state, pi, request)


def capture(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    p.check_known(params, CAPTURE)
    pi = get(state, call.path["id"])
    if pi["status"] == "succeeded":
        raise unexpected_state(
            "This PaymentIntent could not be captured because it has already been captured.",
            dict(pi),
        )
    if pi["status"] != "requires_capture":
        raise unexpected_state(
            f"This PaymentIntent could not be captured because it has a status of {pi['status']}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.",
            dict(pi),
        )
    capturable = pi["amount_capturable"]
    amount = capturable
    if "amount_to_capture" in params:
        amount = p.integer(params["amount_to_capture"], "amount_to_capture", minimum=1)
        if amount > capturable:
            raise invalid_request(
                f"The amount_to_capture ({amount}) must be less than or equal to the PaymentIntent's amount_capturable ({capturable}).",
                param="amount_to_capture",
                code="amount_too_large",
            )
    fields = {}
    if "metadata" in params:
        fields["metadata"] = p.metadata(params["metadata"], pi["metadata"])
    for field in ("statement_descriptor", "statement_descriptor_suffix"):
        if field in params:
            fields[field] = p.string(params[field], field, max_length=22)
    if "application_fee_amount" in params:
        fields["application_fee_amount"] = p.integer(
            params["application_fee_amount"], "application_fee_amount", minimum=0
        )
    charge = state.store.get("charge", pi["latest_charge"])
    charge["captured"] = True
    charge["amount_captured"] = amount
    # A partial capture releases the rest of the authorization: Stripe shows it refunded.
    charge["amount_refunded"] = charge["amount"] - amount
    charge["balance_transaction"] = new_id("txn")
    pi.update(fields)
    pi["amount_capturable"] = 0
    pi["amount_received"] = amount
    pi["status"] = "succeeded"
    emit(state, "charge.captured", charge, call.request)
    emit(state, "payment_intent.succeeded", pi, call.request)
    payment_attempts.after_capture(state, charge)
    return _render(call, pi)


def cancel(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    p.check_known(params, CANCEL)
    pi = get(state, call.path["id"])
    if pi["status"] not in CANCELABLE:
        raise unexpected_state(
            f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}. Only a PaymentIntent with one of the following statuses may be canceled: {', '.join(CANCELABLE)}.",
            dict(pi),
        )
    reason = None
    if "cancellation_reason" in params:
        reason = p.choice(
            params["cancellation_reason"], "cancellation_reason", CANCELLATION_REASONS
        )
    if pi["status"] == "requires_capture":
        # The uncaptured authorization is released: the charge shows fully refunded.
        charge = state.store.get("charge", pi["latest_charge"])
        charge["amount_refunded"] = charge["amount"]
        charge["refunded"] = True
        emit(state, "charge.refunded", charge, call.request)
    pi["status"] = "canceled"
    pi["canceled_at"] = state.clock.seconds()
    pi["cancellation_reason"] = reason
    pi["amount_capturable"] = 0
    pi["next_action"] = None
    emit(state, "payment_intent.canceled", pi, call.request)
    return _render(call, pi)


def list_(call: Call) -> dict[str, Any]:
    query = call.params
    p.check_known(query, LIST)
    checks = []
    if "customer" in query:
        customer = p.string(query["customer"], "customer")
        checks.append(lambda pi: pi["customer"] == customer)
    store = call.state.store
    items = expand_list_items(p.expand_paths(query))
    return pagination.page(
        store,
        "payment_intent",
        query,
        "/v1/payment_intents",
        "payment_intent",
        filters=checks,
        render=(lambda pi: expand(pi, items, store)) if items else None,
    )


# -- helpers --------------------------------------------------------------------------------


def get(state: SandboxState, pi_id: Any, *, param: str = "id", status: int = 404) -> dict[str, Any]:
    pi_id = p.string(pi_id, param)
    return state.store.require(
        "payment_intent", pi_id, "payment_intent", param=param, status=status
    )


def _render(call: Call, pi: dict[str, Any]) -> dict[str, Any]:
    if call.key.publishable:
        return {field: pi[field] for field in PUBLIC_FIELDS}
    return expand(pi, p.expand_paths(call.params), call.state.store)


def currency_of(value: Any) -> str:
    currency = p.string(value, "currency").lower()
    if currency not in currencies.SUPPORTED:
        p.not_empty(value, "currency")
        raise invalid_request(
            f"Invalid currency: {currency}. Stripe currently supports these currencies: {', '.join(sorted(currencies.SUPPORTED))}",
            param="currency",
        )
    return sys.intern(currency)  # one copy of "usd" for all objects


def amount_of(value: Any, currency: str) -> int:
    amount = p.integer(value, "amount", minimum=1)
    minimum = currencies.MINIMUMS.get(currency, (1, ""))[0]
    if amount < minimum:
        raise invalid_request(
            f"Amount must be at least {currencies.format_amount(minimum, currency)}",
            param="amount",
            code="amount_too_small",
        )
    if amount > currencies.MAXIMUM_AMOUNT:
        raise invalid_request(
            f"Amount must be no more than {currencies.format_amount(currencies.MAXIMUM_AMOUNT, currency)}",
            param="amount",
            code="amount_too_large",
        )
    return amount


def _payment_method_types(value: Any) -> list[str]:
    types = p.string_list(value, "payment_method_types")
    if not types:
        raise invalid_request("Invalid array", param="payment_method_types")
    for i, kind in enumerate(types):
        if kind not in PAYMENT_METHOD_TYPES:
            raise invalid_request(
                f"The payment method type provided: {kind} is invalid. Please ensure the provided type is activated in your dashboard (https://dashboard.stripe.com/account/payments/settings) and your account is enabled for any preview features that you are trying to use.",
                param=f"payment_method_types[{i}]",
            )
    return CARD_ONLY if types == CARD_ONLY else list(types)


def _automatic(value: Any) -> dict[str, Any]:
    value = p.hash_(value, "automatic_payment_methods")
    enabled = (
        p.boolean(value["enabled"], "automatic_payment_methods[enabled]")
        if "enabled" in value
        else True
    )
    redirects = p.choice(
        value.get("allow_redirects", "always"),
        "automatic_payment_methods[allow_redirects]",
        ("always", "never"),
    )
    return AUTOMATIC[redirects, enabled]


def _describing(params: dict[str, Any], pi: dict[str, Any]) -> dict[str, Any]:
    """Descriptive fields of create/update; on update "" unsets a field."""
    updating = bool(pi)
    out: dict[str, Any] = {}
    if "metadata" in params:
        out["metadata"] = p.metadata(params["metadata"], pi.get("metadata"))
    for field, limit in (
        ("description", 1000),
        ("customer", None),
        ("transfer_group", None),
        ("statement_descriptor", 22),
        ("statement_descriptor_suffix", 22),
    ):
        if field in params:
            if updating:
                out[field] = p.optional_string(params[field], field, max_length=limit)
            else:
                p.not_empty(params[field], field)
                out[field] = p.string(params[field], field, max_length=limit)
    if "application_fee_amount" in params:
        value = params["application_fee_amount"]
        out["application_fee_amount"] = (
            None
            if updating and value == ""
            else p.integer(value, "application_fee_amount", minimum=0)
        )
    if "transfer_data" in params:
        data = p.hash_(params["transfer_data"], "transfer_data")
        p.require(data, "destination", prefix="transfer_data")
        out["transfer_data"] = {
            "amount": p.integer(data["amount"], "transfer_data[amount]")
            if "amount" in data
            else None,
            "destination": p.string(data["destination"], "transfer_data[destination]"),
        }
    return out


def _common(params: dict[str, Any]) -> dict[str, Any]:
    """Fields create, update and confirm all accept."""
    out: dict[str, Any] = {}
    if "receipt_email" in params:
        out["receipt_email"] = p.optional_string(params["receipt_email"], "receipt_email")
    if "setup_future_usage" in params:
        value = params["setup_future_usage"]
        out["setup_future_usage"] = (
            None if value == "" else p.choice(value, "setup_future_usage", FUTURE_USAGE)
        )
    if "shipping" in params:
        value = params["shipping"]
        if value == "":
            out["shipping"] = None
        else:
            value = p.hash_(value, "shipping")
            p.require(value, "address", "name", prefix="shipping")
            address = p.hash_(value["address"], "shipping[address]")
            out["shipping"] = {
                "address": {k: address.get(k) for k in payment_methods.ADDRESS},
                "carrier": value.get("carrier"),
                "name": value["name"],
                "phone": value.get("phone"),
                "tracking_number": value.get("tracking_number"),
            }
    return out


def _card_options(current: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    card = {**DEFAULT_CARD_OPTIONS["card"], **current.get("card", {})}
    options = params.get("payment_method_options")
    if isinstance(options, dict) and isinstance(options.get("card"), dict):
        requested = options["card"].get("request_three_d_secure")
        if requested is not None:
            card["request_three_d_secure"] = p.choice(
                requested, "payment_method_options[card][request_three_d_secure]", THREE_D_SECURE
            )
    options = {**current, "card": card}
    return DEFAULT_CARD_OPTIONS if options == DEFAULT_CARD_OPTIONS else options


def _payment_method(state: SandboxState, params: dict[str, Any]) -> dict[str, Any] | None:
    if "payment_method_data" in params:
        return payment_methods.from_data(
            state, params["payment_method_data"], "payment_method_data"
        )
    if "payment_method" in params:
        return payment_methods.resolve(state, params["payment_method"], "payment_method")
    return None


def _check_client_secret(pi: dict[str, Any], params: dict[str, Any]) -> None:
    if "client_secret" not in params:
        raise parameter_missing("client_secret")
    if params["client_secret"] != pi["client_secret"]:
        raise invalid_request(
            "The client_secret provided does not match the client_secret associated with the PaymentIntent.",
            param="client_secret",
        )


def _check_confirmable(pi: dict[str, Any]) -> None:
    status = pi["status"]
    if status == "succeeded":
        raise unexpected_state(
            "You cannot confirm this PaymentIntent because it has already succeeded after being previously confirmed.",
            dict(pi),
        )
    if status not in CONFIRMABLE:
        raise unexpected_state(
            f"You cannot confirm this PaymentIntent because it has a status of {status}. Only a PaymentIntent with one of the following statuses may be confirmed: {', '.join(CONFIRMABLE)}.",
            dict(pi),
        )


def _check_return_url(pi: dict[str, Any], params: dict[str, Any]) -> None:
    # Stripe's rule since automatic payment methods became the default: a redirect-capable
    # PaymentIntent needs a return_url to be confirmed, even when paid by card.
    automatic = pi["automatic_payment_methods"]
    if "return_url" in params:
        p.not_empty(params["return_url"], "return_url")
        p.string(params["return_url"], "return_url")
        return
    if automatic and automatic["enabled"] and automatic["allow_redirects"] != "never":
        raise invalid_request(RETURN_URL_REQUIRED, param="return_url")


def _check_card_allowed(pi: dict[str, Any], pm: dict[str, Any] | None) -> None:
    if pm is not None and "card" not in pi["payment_method_types"]:
        types = ", ".join(pi["payment_method_types"])
        raise invalid_request(
            f'The PaymentMethod provided (card) is not allowed for this PaymentIntent. Please attach a PaymentMethod of one of the following types: {types}. Alternatively update the allowed payment_method_types for this PaymentIntent to include "card".',
            param="payment_method",
        )


def _missing_payment_method(pi: dict[str, Any]) -> StripeError:
    return unexpected_state(MISSING_PAYMENT_METHOD, dict(pi))


def _confirmation_flags(params: dict[str, Any]) -> dict[str, bool]:
    flags = {}
    for flag in ("off_session", "error_on_requires_action"):
        value = params.get(flag, "false")
        # off_session is a boolean or one_off / recurring
        flags[flag] = value in ("one_off", "recurring") or p.boolean(value, flag)
    return flags


def _remember_confirmation(
    state: SandboxState, pi: dict[str, Any], params: dict[str, Any], flags: dict[str, bool]
) -> None:
    extra = state.store.extra(pi["id"])
    if "return_url" in params:
        extra["return_url"] = params["return_url"]
    extra.update(flags)


OPERATIONS = [
    Operation("POST", "/v1/payment_intents", create),
    Operation("GET", "/v1/payment_intents", list_),
    Operation("GET", "/v1/payment_intents/{id}", retrieve, publishable=True),
    Operation("POST", "/v1/payment_intents/{id}", update),
    Operation("POST", "/v1/payment_intents/{id}/confirm", confirm, publishable=True),
    Operation("POST", "/v1/payment_intents/{id}/capture", capture),
    Operation("POST", "/v1/payment_intents/{id}/cancel", cancel),
]
