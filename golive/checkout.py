"""Placing an order on the target the way its frontend does: one checkout request.

The profile's `pricing.checkout` block (golive/profile/pricing.py) says where the
checkout endpoint is, how a cart becomes its JSON body and where the PaymentIntent id is
in the answer. Price checks, side-effect checks, smoke flows and load scenarios all
place orders through here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from golive import httpclient
from golive.profile.pricing import CartLine, Checkout
from golive.redact import DEFAULT, Redactor, excerpt

TIMEOUT_S = 10


def fill(template: Any, values: dict[str, Any]) -> Any:
    """The template with every string value that is exactly a key of `values` replaced."""
    if isinstance(template, dict):
        return {k: fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values) for v in template]
    if isinstance(template, str) and template in values:
        return values[template]
    return template


def dotted(data: Any, path: str) -> Any:
    """`a.b.0.c` looked up in parsed JSON; None when any step is missing."""
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def body(
    spec: Checkout,
    cart: list[CartLine],
    *,
    per_item: dict[str, Any] | None = None,
    top: dict[str, Any] | None = None,
    quantity: int | None = None,
) -> dict[str, Any]:
    """The checkout's JSON body for `cart`, with extra fields per item or at the top."""
    items = []
    for line in cart:
        count = quantity if quantity is not None else line.quantity
        item = fill(spec.item, {"{id}": line.id, "{quantity}": count})
        items.append({**item, **(per_item or {})})
    return {**fill(spec.body, {"{items}": items}), **(top or {})}


@dataclass
class Placed:
    """What the checkout answered."""

    request: dict[str, Any]
    status: int
    answer: Any  # parsed JSON, or None
    body_excerpt: str
    payment_intent_id: str | None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300 and bool(self.payment_intent_id)


def place(
    base_url: str,
    spec: Checkout,
    token: str,
    request: dict[str, Any],
    *,
    idempotency_key: str | None = None,
    client: httpx.Client | None = None,
    redactor: Redactor = DEFAULT,
) -> Placed:
    """POST the checkout as `token`'s customer, with a fresh Idempotency-Key by default."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Idempotency-Key": idempotency_key or f"golive-{uuid.uuid4().hex}",
    }
    if client is None:
        with httpclient.client(base_url=base_url, timeout=TIMEOUT_S) as web:
            answer = web.post(spec.path, json=request, headers=headers)
    else:
        answer = client.post(spec.path, json=request, headers=headers)
    try:
        parsed = answer.json()
    except ValueError:
        parsed = None
    intent_id = dotted(parsed, spec.payment_intent_id)
    return Placed(
        request,
        answer.status_code,
        parsed,
        excerpt(redactor, answer.text, 300),  # give the run's redactor: it knows the env
        intent_id if isinstance(intent_id, str) and intent_id else None,
    )
