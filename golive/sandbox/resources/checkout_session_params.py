"""What the sandbox accepts on the Checkout Session endpoints: parameter schemas, limits
and the messages of Stripe's refusals.

Names come from stripe-python 16.1.0's `SessionCreateParams`. Parameters the sandbox reads
have a schema (or None when read by hand); the rest of Stripe's are accepted and ignored,
as they shape only the hosted page (`_ACCEPTED`), or refused where ignoring them would
change what is paid (`UNSUPPORTED`).
"""

from __future__ import annotations

from golive.sandbox import pagination
from golive.sandbox import params as p

_ACCEPTED = None
MODES = ("payment", "setup", "subscription")
STATUSES = ("open", "complete", "expired")
UI_MODES = ("hosted", "embedded", "custom")
CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
MAX_LINE_ITEMS = 100  # Stripe's limit in payment mode
EXPIRES_MIN_S = 30 * 60
EXPIRES_MAX_S = 24 * 3600
DEFAULT_EXPIRES_S = 24 * 3600

PRODUCT_DATA: p.Schema = {
    "description": None,
    "images": None,
    "metadata": None,
    "name": None,
    "tax_code": _ACCEPTED,
    "tax_details": _ACCEPTED,
    "unit_label": _ACCEPTED,
}
PRICE_DATA: p.Schema = {
    "currency": None,
    "product": None,
    "product_data": PRODUCT_DATA,
    "recurring": _ACCEPTED,
    "tax_behavior": _ACCEPTED,
    "unit_amount": None,
    "unit_amount_decimal": None,
}
LINE_ITEM: p.Schema = {
    "adjustable_quantity": _ACCEPTED,
    "dynamic_tax_rates": None,
    "metadata": None,
    "price": None,
    "price_data": PRICE_DATA,
    "quantity": None,
    "tax_rates": None,
}
PAYMENT_INTENT_DATA: p.Schema = {
    "application_fee_amount": _ACCEPTED,
    "capture_method": None,
    "description": None,
    "metadata": None,
    "on_behalf_of": _ACCEPTED,
    "receipt_email": None,
    "setup_future_usage": _ACCEPTED,
    "shipping": _ACCEPTED,
    "statement_descriptor": None,
    "statement_descriptor_suffix": None,
    "transfer_data": _ACCEPTED,
    "transfer_group": _ACCEPTED,
}
CREATE: p.Schema = {
    # read by the sandbox
    "cancel_url": None,
    "client_reference_id": None,
    "currency": None,
    "customer": None,
    "customer_email": None,
    "expand": None,
    "expires_at": None,
    "line_items": None,  # a list: each item is checked against LINE_ITEM
    "locale": None,
    "metadata": None,
    "mode": None,
    "payment_intent_data": PAYMENT_INTENT_DATA,
    "payment_method_types": None,
    "submit_type": None,
    "success_url": None,
    "ui_mode": None,
    # how the hosted page looks and what it collects: no effect on the payment here
    "adaptive_pricing": _ACCEPTED,
    "after_expiration": _ACCEPTED,
    "allow_promotion_codes": _ACCEPTED,
    "allowed_payment_method_types": _ACCEPTED,
    "billing_address_collection": _ACCEPTED,
    "branding_settings": _ACCEPTED,
    "consent_collection": _ACCEPTED,
    "custom_fields": _ACCEPTED,
    "custom_text": _ACCEPTED,
    "customer_creation": _ACCEPTED,
    "customer_update": _ACCEPTED,
    "excluded_payment_method_types": _ACCEPTED,
    "integration_identifier": _ACCEPTED,
    "invoice_creation": _ACCEPTED,
    "name_collection": _ACCEPTED,
    "origin_context": _ACCEPTED,
    "payment_method_collection": _ACCEPTED,
    "payment_method_configuration": _ACCEPTED,
    "payment_method_data": _ACCEPTED,
    "payment_method_options": _ACCEPTED,
    "permissions": _ACCEPTED,
    "phone_number_collection": _ACCEPTED,
    "redirect_on_completion": _ACCEPTED,
    "return_url": _ACCEPTED,
    "saved_payment_method_options": _ACCEPTED,
    "shipping_address_collection": _ACCEPTED,
    "tax_id_collection": _ACCEPTED,
    "wallet_options": _ACCEPTED,
    # they would change the amount due, which the sandbox does not model
    "automatic_tax": None,
    "discounts": None,
    "optional_items": None,
    "shipping_options": None,
    # other modes only
    "setup_intent_data": None,
    "subscription_data": None,
    "customer_account": _ACCEPTED,
    "managed_payments": _ACCEPTED,
}
# Refused when they would apply (automatic_tax[enabled]=true, a non-empty list).
UNSUPPORTED = ("automatic_tax", "discounts", "optional_items", "shipping_options")
OTHER_MODES_ONLY = {"setup_intent_data": "setup", "subscription_data": "subscription"}
LIST: p.Schema = {
    **pagination.PAGING,
    "created": None,
    "customer": None,
    "customer_account": None,
    "customer_details": {"email": None},
    "payment_intent": None,
    "payment_link": None,
    "status": None,
    "subscription": None,
}
LINE_ITEMS_LIST: p.Schema = dict(pagination.PAGING)

EXPIRE_NOT_OPEN = 'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of `{status}`.'
EXPIRES_TOO_SOON = (
    "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation."
)
EXPIRES_TOO_LATE = (
    "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation."
)
PRICE_OR_PRICE_DATA = (
    "You must provide either price or price_data for each line item when using prices."
)
RECURRING_IN_PAYMENT_MODE = "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices."
