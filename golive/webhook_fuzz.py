"""Correctly signed webhook events whose object is malformed: fields missing, of the
wrong type, ids nobody knows.

Stripe's events always have the shape golive's fixtures have, but a handler meets the
unexpected anyway (an API version change, an event of another integration on the same
endpoint, a test event from the Dashboard). Each variant is one change to a freshly
rendered built-in event (new ids every time, so no order of the app's is touched); the
signature is right, so the app's handler — not its signature check — answers.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from golive import fuzz
from golive.webhooks.fixtures import event_types, render_event

# Event types tried first when the app handles them (app.register_webhook).
PREFERRED = (
    "checkout.session.completed",
    "payment_intent.succeeded",
    "charge.refunded",
    "payment_intent.payment_failed",
)
MAX_TYPES = 3
MAX_FIELDS = 4  # fields of data.object given a wrong type, per event type


def types(registered: Iterable[str]) -> list[str]:
    """The event types to send: those the app handles that golive has a fixture for,
    preferred ones first; payment_intent.succeeded when none is known."""
    known = set(event_types())
    handled = [t for t in registered if t in known]
    ordered = [t for t in PREFERRED if t in handled] + [t for t in handled if t not in PREFERRED]
    return ordered[:MAX_TYPES] or ["payment_intent.succeeded"]


def _fields(obj: dict[str, Any]) -> list[str]:
    """The object's fields a handler is likely to read: its id, metadata and amounts,
    then the other non-empty ones; at most MAX_FIELDS."""

    def rank(key: str) -> int:
        return 0 if key == "id" else 1 if key == "metadata" else 2 if "amount" in key else 3

    present = [k for k, v in obj.items() if v not in (None, [], {}, "") and k != "object"]
    return sorted(present, key=rank)[:MAX_FIELDS]


def variants(event_type: str) -> list[tuple[str, dict[str, Any]]]:
    """(variant name, event) for one event type."""
    base = render_event(event_type)
    obj = base["data"]["object"]
    out: list[tuple[str, dict[str, Any]]] = [("unknown-ids", base)]

    def changed(edit: Any) -> dict[str, Any]:
        event = render_event(event_type)  # fresh ids for every delivery
        edit(event)
        return event

    out.append(("object-empty", changed(lambda e: e["data"].update(object={}))))
    out.append(("object-without-id", changed(lambda e: e["data"]["object"].pop("id", None))))
    out.append(("object-not-an-object", changed(lambda e: e["data"].update(object="x"))))
    out.append(("data-missing", changed(lambda e: e.pop("data"))))
    for key in _fields(obj):
        wrong = fuzz.wrong_type(obj[key])
        out.append(
            (
                f"wrong-type:data.object.{key}",
                changed(lambda e, k=key, w=wrong: e["data"]["object"].update({k: copy.copy(w)})),
            )
        )
    if isinstance(obj.get("metadata"), dict):
        out.append(
            (
                "metadata-null",
                changed(lambda e: e["data"]["object"].update(metadata=None)),
            )
        )
    return [(f"{event_type}:{name}", event) for name, event in out]
