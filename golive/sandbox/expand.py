"""`expand[]`: replacing an id with the object it names, as Stripe does, on a copy.

Only the properties Stripe documents as expandable are; anything else is Stripe's 400
"This property cannot be expanded". Ids the sandbox cannot resolve (a customer or a balance
transaction, which it does not model) stay ids.
"""

from __future__ import annotations

from typing import Any

from golive.sandbox.errors import invalid_request
from golive.sandbox.store import Store

EXPANDABLE: dict[str, frozenset[str]] = {
    "payment_intent": frozenset(
        {"latest_charge", "payment_method", "customer", "review", "on_behalf_of", "application"}
    ),
    "charge": frozenset(
        {
            "payment_intent",
            "refunds",
            "balance_transaction",
            "customer",
            "review",
            "application",
            "application_fee",
            "on_behalf_of",
            "failure_balance_transaction",
            "source_transfer",
            "transfer",
        }
    ),
    "refund": frozenset(
        {"charge", "payment_intent", "balance_transaction", "failure_balance_transaction"}
    ),
    "payment_method": frozenset({"customer"}),
    "checkout.session": frozenset(
        {
            "payment_intent",
            "line_items",
            "customer",
            "invoice",
            "payment_link",
            "setup_intent",
            "subscription",
        }
    ),
    "item": frozenset({"price"}),  # a Checkout Session's line item
    "price": frozenset({"product"}),
    "dispute": frozenset({"charge", "payment_intent"}),
    "radar.early_fraud_warning": frozenset({"charge", "payment_intent"}),
    "event": frozenset(),
    "webhook_endpoint": frozenset(),
}


def expand(obj: dict[str, Any], paths: list[str], store: Store) -> dict[str, Any]:
    if not paths:
        return obj
    out = dict(obj)
    for path in paths:
        _expand_path(out, path, path, store)
    return out


def expand_list_items(paths: list[str]) -> list[str]:
    """On a list endpoint `expand[]=data.latest_charge` applies to each item."""
    items = []
    for path in paths:
        head, _, rest = path.partition(".")
        if head != "data" or not rest:
            raise invalid_request(f"This property cannot be expanded ({path}).", param="expand")
        items.append(rest)
    return items


def _expand_path(out: dict[str, Any], path: str, full: str, store: Store) -> None:
    head, _, rest = path.partition(".")
    if head not in EXPANDABLE.get(out.get("object", ""), frozenset()):
        raise invalid_request(f"This property cannot be expanded ({full}).", param="expand")
    value = out.get(head)
    if head == "refunds" and out["object"] == "charge":
        refunds = store.children("refund", "charge", out["id"])
        value = {
            "object": "list",
            "data": refunds,
            "has_more": False,
            "url": f"/v1/charges/{out['id']}/refunds",
        }
    elif head == "line_items" and out["object"] == "checkout.session":
        # Not a field of the stored session: its line items live beside it (not by default).
        value = {
            "object": "list",
            "data": store.private.get(out["id"], {}).get("line_items", []),
            "has_more": False,
            "url": f"/v1/checkout/sessions/{out['id']}/line_items",
        }
    elif isinstance(value, str):
        target = store.resolve(value)
        value = dict(target) if target is not None else value
    if rest and isinstance(value, dict):
        value = dict(value)
        if value.get("object") == "list":
            # Inside a list Stripe's path names its items: refunds.data.charge
            first, _, inner = rest.partition(".")
            if first != "data" or not inner:
                raise invalid_request(f"This property cannot be expanded ({full}).", param="expand")
            value["data"] = [_expanded(item, inner, full, store) for item in value["data"]]
        else:
            _expand_path(value, rest, full, store)
    out[head] = value


def _expanded(item: dict[str, Any], path: str, full: str, store: Store) -> dict[str, Any]:
    copy = dict(item)
    _expand_path(copy, path, full, store)
    return copy
