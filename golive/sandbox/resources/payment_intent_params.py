"""What the sandbox accepts on the PaymentIntent endpoints: parameter schemas, enum values
and Stripe's messages for the state machine's refusals."""

from __future__ import annotations

from golive.sandbox import pagination
from golive.sandbox import params as p
from golive.sandbox.resources import payment_methods

CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
CONFIRMATION_METHODS = ("automatic", "manual")
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
FUTURE_USAGE = ("off_session", "on_session")
THREE_D_SECURE = ("any", "automatic", "challenge")
CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
# Types Stripe knows; the sandbox can only pay with cards, and says so at confirmation.
PAYMENT_METHOD_TYPES = frozenset(
    [
        "acss_debit",
        "affirm",
        "afterpay_clearpay",
        "alipay",
        "alma",
        "amazon_pay",
        "au_becs_debit",
        "bacs_debit",
        "bancontact",
        "billie",
        "blik",
        "boleto",
        "card",
        "card_present",
        "cashapp",
        "crypto",
        "customer_balance",
        "eps",
        "fpx",
        "giropay",
        "grabpay",
        "ideal",
        "interac_present",
        "kakao_pay",
        "klarna",
        "konbini",
        "kr_card",
        "link",
        "mb_way",
        "mobilepay",
        "multibanco",
        "naver_pay",
        "nz_bank_account",
        "oxxo",
        "p24",
        "pay_by_bank",
        "payco",
        "paynow",
        "paypal",
        "payto",
        "pix",
        "promptpay",
        "revolut_pay",
        "samsung_pay",
        "satispay",
        "sepa_debit",
        "sofort",
        "swish",
        "twint",
        "upi",
        "us_bank_account",
        "wechat_pay",
        "zip",
    ]
)
# What a publishable key sees of a PaymentIntent (retrieved or confirmed with its client_secret).
PUBLIC_FIELDS = (
    "id",
    "object",
    "amount",
    "amount_details",
    "automatic_payment_methods",
    "canceled_at",
    "cancellation_reason",
    "capture_method",
    "client_secret",
    "confirmation_method",
    "created",
    "currency",
    "description",
    "excluded_payment_method_types",
    "last_payment_error",
    "livemode",
    "next_action",
    "payment_method",
    "payment_method_configuration_details",
    "payment_method_types",
    "processing",
    "receipt_email",
    "setup_future_usage",
    "shipping",
    "status",
)

_ACCEPTED = None  # accepted and ignored (or stored verbatim) by the sandbox
SHIPPING: p.Schema = {
    "address": payment_methods.ADDRESS,
    "carrier": None,
    "name": None,
    "phone": None,
    "tracking_number": None,
}
CARD_OPTIONS: p.Schema = {
    "request_three_d_secure": None,
    "capture_method": None,
    "setup_future_usage": None,
    "installments": None,
    "mandate_options": None,
    "network": None,
    "moto": None,
    "cvc_token": None,
    "request_extended_authorization": None,
    "request_incremental_authorization": None,
    "request_multicapture": None,
    "request_overcapture": None,
    "require_cvc_recollection": None,
    "statement_descriptor_suffix_kana": None,
    "statement_descriptor_suffix_kanji": None,
    "three_d_secure": None,
}
_COMMON: p.Schema = {
    "amount_details": _ACCEPTED,
    "allowed_payment_method_types": _ACCEPTED,
    "excluded_payment_method_types": _ACCEPTED,
    "expand": None,
    "hooks": _ACCEPTED,
    "payment_details": _ACCEPTED,
    "payment_method": None,
    "payment_method_data": payment_methods.DATA,
    "payment_method_options": {
        "card": CARD_OPTIONS,
        **{t: _ACCEPTED for t in PAYMENT_METHOD_TYPES if t != "card"},
    },
    "receipt_email": None,
    "setup_future_usage": None,
    "shipping": SHIPPING,
}
_CONFIRMING: p.Schema = {
    "confirmation_token": _ACCEPTED,
    "error_on_requires_action": None,
    "mandate": _ACCEPTED,
    "mandate_data": _ACCEPTED,
    "off_session": None,
    "radar_options": _ACCEPTED,
    "return_url": None,
    "use_stripe_sdk": _ACCEPTED,
    "capture_method": None,
}
_DESCRIBING: p.Schema = {
    "amount": None,
    "application_fee_amount": None,
    "capture_method": None,
    "currency": None,
    "customer": None,
    "customer_account": _ACCEPTED,
    "description": None,
    "metadata": None,
    "payment_method_configuration": _ACCEPTED,
    "payment_method_types": None,
    "statement_descriptor": None,
    "statement_descriptor_suffix": None,
    "transfer_data": {"amount": None, "destination": None},
    "transfer_group": None,
}
CREATE: p.Schema = {
    **_COMMON,
    **_CONFIRMING,
    **_DESCRIBING,
    "automatic_payment_methods": {"enabled": None, "allow_redirects": None},
    "confirm": None,
    "confirmation_method": None,
    "on_behalf_of": None,
}
UPDATE: p.Schema = {**_COMMON, **_DESCRIBING}
CONFIRM: p.Schema = {**_COMMON, **_CONFIRMING, "amount_to_confirm": _ACCEPTED}
CAPTURE: p.Schema = {
    "amount_details": _ACCEPTED,
    "amount_to_capture": None,
    "application_fee_amount": None,
    "expand": None,
    "final_capture": _ACCEPTED,
    "hooks": _ACCEPTED,
    "metadata": None,
    "payment_details": _ACCEPTED,
    "statement_descriptor": None,
    "statement_descriptor_suffix": None,
    "transfer_data": _ACCEPTED,
}
CANCEL: p.Schema = {"cancellation_reason": None, "expand": None}
LIST: p.Schema = {**pagination.PAGING, "created": None, "customer": None, "customer_account": None}
# Fields that change what will be paid: only before the payment happens.
PAYMENT_FIELDS = (
    "amount",
    "currency",
    "payment_method",
    "payment_method_data",
    "payment_method_types",
    "capture_method",
)
RETURN_URL_REQUIRED = "A `return_url` must be specified because this Payment Intent is configured to automatically accept the payment methods enabled in the Dashboard, some of which may require a full page redirect to succeed. If you do not want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents."
MISSING_PAYMENT_METHOD = "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method."
AUTHENTICATION_FAILED = "The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again."
