"""The sandbox's objects, in memory, by type and id, in creation order.

Objects are the JSON dicts the API returns. Their nested values are never mutated in place:
an update assigns a new dict or list. So `dict(obj)` is a cheap, faithful snapshot of an
object at one moment (what an Event's `data.object` holds), with no deep copy on the
request path. Facts the API does not show (a webhook endpoint's secret, the test card behind
a PaymentMethod, a PaymentIntent's return_url) live beside the object in `private`.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

KINDS = (
    "payment_intent",
    "payment_method",
    "charge",
    "refund",
    "event",
    "webhook_endpoint",
)
PREFIXES = {
    "pi": "payment_intent",
    "pm": "payment_method",
    "ch": "charge",
    "re": "refund",
    "evt": "event",
    "we": "webhook_endpoint",
}
# Stored objects live long and hold no reference cycles, yet the cyclic GC would walk them
# all on every full collection: pauses growing with the store (a load run's p99). Past this
# many objects, each batch is moved out of the collector's sight with gc.freeze().
FREEZE_EVERY = 20_000


class Store:
    def __init__(self) -> None:
        self.tables: dict[str, dict[str, dict[str, Any]]] = {}
        self.private: dict[str, dict[str, Any]] = {}
        self._added = 0
        self.clear()

    def clear(self) -> None:
        self.tables = {kind: {} for kind in KINDS}
        self.private = {}

    def add(self, obj: dict[str, Any], **private: Any) -> dict[str, Any]:
        self.tables[obj["object"]][obj["id"]] = obj
        if private:
            self.private[obj["id"]] = private
        self._added += 1
        if self._added % FREEZE_EVERY == 0:
            gc.freeze()
        return obj

    def get(self, kind: str, object_id: str) -> dict[str, Any] | None:
        return self.tables[kind].get(object_id)

    def resolve(self, object_id: str) -> dict[str, Any] | None:
        """Any object by id, its type read from the prefix."""
        kind = PREFIXES.get(object_id.partition("_")[0])
        return self.tables[kind].get(object_id) if kind else None

    def extra(self, object_id: str) -> dict[str, Any]:
        return self.private.setdefault(object_id, {})

    def remove(self, kind: str, object_id: str) -> None:
        self.tables[kind].pop(object_id, None)
        self.private.pop(object_id, None)

    def newest_first(self, kind: str) -> Iterator[dict[str, Any]]:
        # Stripe lists newest first; insertion order breaks ties within one second.
        return reversed(self.tables[kind].values())

    def counts(self) -> dict[str, int]:
        return {kind: len(table) for kind, table in self.tables.items()}
