"""A Checkout Session's line items: checked from `line_items[]`, priced, and shown as
Stripe's `item` objects, each with the one-time Price its `price_data` makes.

The sandbox has no Price, Product or TaxRate objects, so an id of one (`price`,
`price_data[product]`, `tax_rates[]`) is Stripe's `resource_missing`, as an id the account
does not have is on Stripe. All items must be in one currency, as one PaymentIntent pays
them all.
"""

from __future__ import annotations

import sys
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from golive.sandbox import currencies
from golive.sandbox import params as p
from golive.sandbox.errors import invalid_request, parameter_missing, resource_missing
from golive.sandbox.ids import new_id
from golive.sandbox.resources.checkout_session_params import (
    LINE_ITEM,
    MAX_LINE_ITEMS,
    PRICE_OR_PRICE_DATA,
    RECURRING_IN_PAYMENT_MODE,
)

MAX_DECIMALS = 12  # unit_amount_decimal's precision on Stripe


def build(value: Any, currency: str | None, now: int) -> tuple[list[dict[str, Any]], str]:
    """The line items of `line_items` and their currency, which must be `currency` if given
    (the session's `currency` parameter)."""
    if value == "" or value == []:
        raise invalid_request(
            "line_items is required in payment mode.",
            param="line_items",
            code="parameter_missing",
        )
    if not isinstance(value, list):
        raise invalid_request("Invalid array", param="line_items")
    if len(value) > MAX_LINE_ITEMS:
        raise invalid_request(
            f"You may only specify up to {MAX_LINE_ITEMS} line items in payment mode.",
            param="line_items",
        )
    items = []
    for index, raw in enumerate(value):
        prefix = f"line_items[{index}]"
        item = _line_item(p.hash_(raw, prefix), prefix, now)
        if currency is None:
            currency = item["currency"]
        elif item["currency"] != currency:
            first = "the session's currency" if index == 0 else "line_items[0]"
            raise invalid_request(
                f"All line items of a Checkout Session must be in one currency: {first} is "
                f"{currency}, {prefix} is {item['currency']}.",
                param=f"{prefix}[price_data][currency]",
            )
        items.append(item)
    assert currency is not None
    return items, currency


def _line_item(raw: dict[str, Any], prefix: str, now: int) -> dict[str, Any]:
    p.check_known(raw, LINE_ITEM, prefix)
    if "price" in raw and "price_data" in raw:
        raise invalid_request(
            "You may only specify one of these parameters: price, price_data.",
            param=f"{prefix}[price_data]",
        )
    if "price" in raw:
        name = f"{prefix}[price]"
        p.not_empty(raw["price"], name)
        raise resource_missing("price", p.string(raw["price"], name), param=name, status=400)
    if "price_data" not in raw:
        raise invalid_request(PRICE_OR_PRICE_DATA, param=f"{prefix}[price_data]")
    for field in ("tax_rates", "dynamic_tax_rates"):
        if field in raw and raw[field] != "":
            ids = p.string_list(raw[field], f"{prefix}[{field}]")
            if ids:
                name = f"{prefix}[{field}][0]"
                raise resource_missing("tax_rate", ids[0], param=name, status=400)
    p.require(raw, "quantity", prefix=prefix)
    quantity = p.integer(raw["quantity"], f"{prefix}[quantity]", minimum=1)
    price, description = _price(raw["price_data"], f"{prefix}[price_data]", now)
    unit = Decimal(price["unit_amount_decimal"])
    # A fractional unit amount is rounded once, on the line's total.
    amount = int((unit * quantity).to_integral_value(ROUND_HALF_UP))
    return {
        "id": new_id("li"),
        "object": "item",
        "adjustable_quantity": None,
        "amount_discount": 0,
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "currency": price["currency"],
        "description": description,
        "metadata": p.nested_metadata(raw["metadata"], prefix) if "metadata" in raw else {},
        "price": price,
        "quantity": quantity,
    }


def _price(value: Any, prefix: str, now: int) -> tuple[dict[str, Any], str]:
    """The inactive one-time Price Stripe makes from `price_data`, and its product's name
    (the line's description)."""
    data = p.hash_(value, prefix)
    p.require(data, "currency", prefix=prefix)
    currency = parse_currency(data["currency"], f"{prefix}[currency]")
    if "recurring" in data:
        raise invalid_request(RECURRING_IN_PAYMENT_MODE, param=f"{prefix}[recurring]")
    if "product" in data and "product_data" in data:
        raise invalid_request(
            "You may only specify one of these parameters: product, product_data.",
            param=f"{prefix}[product_data]",
        )
    if "product" in data:
        name = f"{prefix}[product]"
        p.not_empty(data["product"], name)
        raise resource_missing("product", p.string(data["product"], name), param=name, status=400)
    if "product_data" not in data:
        raise invalid_request(
            "You must specify either `product` or `product_data` when creating a price.",
            param=f"{prefix}[product_data]",
        )
    product_prefix = f"{prefix}[product_data]"
    product = p.hash_(data["product_data"], product_prefix)
    p.require(product, "name", prefix=product_prefix)
    p.not_empty(product["name"], f"{product_prefix}[name]")
    name = p.string(product["name"], f"{product_prefix}[name]", max_length=250)
    if "metadata" in product:
        p.nested_metadata(product["metadata"], product_prefix)
    unit_amount, unit_decimal = _unit_amount(data, prefix)
    price = {
        "id": new_id("price"),
        "object": "price",
        "active": False,  # a price_data Price serves its session only, as on Stripe
        "billing_scheme": "per_unit",
        "created": now,
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "product": new_id("prod", 14),
        "recurring": None,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": unit_decimal,
    }
    return price, name


def _unit_amount(data: dict[str, Any], prefix: str) -> tuple[int | None, str]:
    if "unit_amount" in data and "unit_amount_decimal" in data:
        raise invalid_request(
            "You may only specify one of these parameters: unit_amount, unit_amount_decimal.",
            param=f"{prefix}[unit_amount_decimal]",
        )
    if "unit_amount" in data:
        amount = p.integer(data["unit_amount"], f"{prefix}[unit_amount]", minimum=0)
        return amount, str(amount)
    if "unit_amount_decimal" not in data:
        raise parameter_missing(f"{prefix}[unit_amount]")
    name = f"{prefix}[unit_amount_decimal]"
    raw = data["unit_amount_decimal"]
    p.not_empty(raw, name)
    try:
        unit = Decimal(p.string(raw, name))
    except InvalidOperation:
        unit = Decimal("NaN")
    exponent = unit.as_tuple().exponent
    if (
        not unit.is_finite()
        or unit < 0
        or not isinstance(exponent, int)
        or -exponent > MAX_DECIMALS
    ):
        raise invalid_request(
            f"Invalid decimal: {raw}; must be at least 0 with at most {MAX_DECIMALS} decimal places.",
            param=name,
        )
    whole = unit == unit.to_integral_value()
    return (int(unit) if whole else None), raw


def parse_currency(value: Any, param: str) -> str:
    currency = p.string(value, param).lower()
    if currency not in currencies.SUPPORTED:
        p.not_empty(value, param)
        raise invalid_request(
            f"Invalid currency: {currency}. Stripe currently supports these currencies: {', '.join(sorted(currencies.SUPPORTED))}",
            param=param,
        )
    return sys.intern(currency)
