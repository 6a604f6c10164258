"""Stripe's side of a reconciliation: PaymentIntents (each with its latest charge), Refunds
and Disputes, listed page by page with `created` filters, and kept only as compact records.

The pages come through stripe-python (`StripeClient.raw_request`: its keys, transport and
errors) as plain JSON, and are followed by `starting_after` as `auto_paging_iter` does:
turning every PaymentIntent into a StripeObject cost about 5 ms each (measured on 2,000
with their charges expanded: 20 times the HTTP), minutes over 100,000.

PaymentIntents are streamed: the caller matches each one as it arrives and keeps none.
Refunds and disputes are few; they are indexed by PaymentIntent id before the stream.
A backend that keeps no disputes (answers 404 to /v1/disputes) is noted, and the charges'
own `disputed` flag is what is judged then.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import stripe

PAGE = 100  # Stripe's largest page


class StripeSideError(Exception):
    """golive's own request to the Stripe backend failed (named in the message)."""


@dataclass(slots=True)
class Payment:
    """One PaymentIntent, as much of it as the matching needs."""

    id: str
    amount: int
    amount_received: int
    currency: str
    status: str
    created: int
    application_fee_amount: int | None
    charge_id: str | None
    charge_created: int | None  # the latest charge's creation: when the payment happened
    amount_refunded: int
    disputed: bool

    def summary(self) -> str:
        return f"{self.id} {self.status} {self.amount} {self.currency}"


@dataclass
class Adjustments:
    """Refunded amounts and disputes per PaymentIntent id, from the Refunds and Disputes
    lists (created since the window's start)."""

    refunded: dict[str, int] = field(default_factory=dict)
    disputed: dict[str, str] = field(default_factory=dict)  # PaymentIntent -> dispute id
    refunds_listed: int = 0
    disputes_listed: int = 0
    disputes_unavailable: str | None = None  # why the backend listed no disputes


def _get(obj: Any, key: str, default: Any = None) -> Any:
    try:
        value = obj[key]
    except (KeyError, TypeError):
        return default
    return default if value is None else value


def _id_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    return _get(value, "id")


def compact(pi: Any) -> Payment:
    """A PaymentIntent (with `latest_charge` expanded, or not) as a Payment."""
    charge = _get(pi, "latest_charge")
    expanded = charge is not None and not isinstance(charge, str)
    fee = _get(pi, "application_fee_amount")
    return Payment(
        id=pi["id"],
        amount=int(_get(pi, "amount", 0)),
        amount_received=int(_get(pi, "amount_received", 0)),
        currency=str(_get(pi, "currency", "")).lower(),
        status=str(_get(pi, "status", "")),
        created=int(_get(pi, "created", 0)),
        application_fee_amount=None if fee is None else int(fee),
        charge_id=_id_of(charge),
        charge_created=int(charge["created"]) if expanded and _get(charge, "created") else None,
        amount_refunded=int(_get(charge, "amount_refunded", 0)) if expanded else 0,
        disputed=bool(_get(charge, "disputed", False)) if expanded else False,
    )


def _created(gte: int, lt: int | None = None) -> dict[str, int]:
    created = {"gte": gte}
    if lt is not None:
        created["lt"] = lt
    return created


def _failed(what: str, exc: Exception) -> StripeSideError:
    status = getattr(exc, "http_status", None)
    said = getattr(exc, "user_message", None) or str(exc) or type(exc).__name__
    return StripeSideError(
        f"listing {what} from the Stripe backend failed"
        + (f" (HTTP {status})" if status else "")
        + f": {said}"
    )


def pages(client: stripe.StripeClient, path: str, params: dict[str, Any]) -> Iterator[dict]:
    """Every object of a Stripe list, page after page (`starting_after`), as plain dicts."""
    params = dict(params)
    while True:
        page = client.raw_request("get", path, **params).data
        items = page.get("data") or []
        yield from items
        if not page.get("has_more") or not items:
            return
        params["starting_after"] = items[-1]["id"]


def payments(client: stripe.StripeClient, gte: int, lt: int) -> Iterator[Payment]:
    """PaymentIntents created in [gte, lt) (Unix seconds), newest first, one at a time."""
    params = {"created": _created(gte, lt), "limit": PAGE, "expand": ["data.latest_charge"]}
    try:
        for pi in pages(client, "/v1/payment_intents", params):
            yield compact(pi)
    except stripe.StripeError as exc:
        raise _failed("PaymentIntents", exc) from None


def retrieve(client: stripe.StripeClient, payment_intent: str) -> Payment | None:
    """One PaymentIntent by id; None when the backend has no such PaymentIntent."""
    try:
        pi = client.v1.payment_intents.retrieve(
            payment_intent, params={"expand": ["latest_charge"]}
        )
    except stripe.InvalidRequestError as exc:
        if getattr(exc, "http_status", None) == 404:
            return None
        raise _failed(f"PaymentIntent {payment_intent}", exc) from None
    except stripe.StripeError as exc:
        raise _failed(f"PaymentIntent {payment_intent}", exc) from None
    return compact(pi)


def adjustments(client: stripe.StripeClient, gte: int) -> Adjustments:
    """Refunds and disputes created since `gte`, indexed by PaymentIntent id."""
    found = Adjustments()
    try:
        for refund in pages(client, "/v1/refunds", {"created": _created(gte), "limit": PAGE}):
            found.refunds_listed += 1
            pi = _id_of(_get(refund, "payment_intent"))
            if pi and _get(refund, "status") in ("succeeded", "pending"):
                found.refunded[pi] = found.refunded.get(pi, 0) + int(_get(refund, "amount", 0))
    except stripe.StripeError as exc:
        raise _failed("Refunds", exc) from None
    try:
        for dispute in pages(client, "/v1/disputes", {"created": _created(gte), "limit": PAGE}):
            found.disputes_listed += 1
            pi = _id_of(_get(dispute, "payment_intent"))
            if pi:
                found.disputed[pi] = dispute["id"]
    except stripe.InvalidRequestError as exc:
        if getattr(exc, "http_status", None) != 404:
            raise _failed("Disputes", exc) from None
        found.disputes_unavailable = (
            "the Stripe backend keeps no disputes (404 on /v1/disputes): the charges' "
            "`disputed` flags are judged instead"
        )
    except stripe.StripeError as exc:
        raise _failed("Disputes", exc) from None
    return found
