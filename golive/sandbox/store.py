"""The sandbox's objects, in memory, by type and id, in creation order, at most `max_objects`.

Objects are the JSON dicts the API returns. Their nested values are never mutated in place:
an update assigns a new dict or list. So a copy of an object's top level is a faithful
snapshot of it at one moment (`Snapshot`: what an Event's `data.object` holds), with no
deep copy on the request path, and nested values that never change may be shared between
objects. Facts the API does not show (a webhook endpoint's secret, the test card behind a
PaymentMethod, a PaymentIntent's return_url) live beside the object in `private`.

Each type's objects are also kept in list order (`order`): newest `created` first, ties
broken by creation number, in a sorted map from that rank to the id. A list page is then a
range walk from its cursor (or from the edge of its `created` window) in O(log n + page),
whatever the number of objects and in whatever order they were added (past objects added by
/_golive/history land among the others by their `created`).

Memory is bounded: beyond `max_objects` PaymentIntents, PaymentMethods, Charges, Refunds,
Checkout Sessions, Disputes, Early Fraud Warnings and Events (one count for all of them), the oldest are evicted, with their private facts.
Webhook endpoints are configuration, not traffic: never counted, never evicted. Eviction
runs between requests (`trim`), so a request sees every object it touches. Because objects
leave in creation order, everything newer than an object still stored is stored too: a
stored Charge's PaymentIntent may be gone, never the other way round. An id of an evicted
object is recognised by its creation number (ids.py), so its 404 can say so.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Iterator
from typing import Any

from sortedcontainers import SortedDict

from golive.sandbox.defaults import DEFAULT_MAX_OBJECTS
from golive.sandbox.errors import StripeError, resource_missing
from golive.sandbox.ids import NUMBERS, Numbering

KINDS = (
    "payment_intent",
    "payment_method",
    "charge",
    "refund",
    "checkout.session",
    "event",
    "webhook_endpoint",
    "dispute",
    "radar.early_fraud_warning",
)
PREFIXES = {
    "pi": "payment_intent",
    "pm": "payment_method",
    "ch": "charge",
    "re": "refund",
    "cs": "checkout.session",  # cs_test_…: the kind is read from the part before the first "_"
    "evt": "event",
    "we": "webhook_endpoint",
    "du": "dispute",
    "issfr": "radar.early_fraud_warning",
}
NEVER_EVICTED = frozenset({"webhook_endpoint"})
# Fields that never change once an object is made and that lists filter by: each kind's
# objects are indexed by them (`children`), so "the charges of pi_…" is not a walk over
# every charge (reconciliation asks it of each of 100,000 payments).
INDEXED: dict[str, tuple[str, ...]] = {
    "charge": ("payment_intent",),
    "refund": ("charge", "payment_intent"),
    "dispute": ("charge", "payment_intent"),
    "radar.early_fraud_warning": ("charge", "payment_intent"),
}
# Stored objects live long and hold no reference cycles, yet the cyclic GC would walk them
# all on every full collection: pauses growing with the store (a load run's p99). Past this
# many objects, each batch is moved out of the collector's sight with gc.freeze().
FREEZE_EVERY = 20_000


class Snapshot:
    """An object's top level at one moment, frozen: its values in a tuple, its field names
    in a tuple shared by every snapshot of the same shape. A PaymentIntent's takes 0.4 KB
    where a dict copy takes 0.8. Serialised as the dict it stands for (endpoint.dumps)."""

    __slots__ = ("fields", "values")
    _shapes: dict[tuple[str, ...], tuple[str, ...]] = {}  # a handful: one per object layout

    def __init__(self, obj: dict[str, Any]) -> None:
        fields = tuple(obj)
        self.fields = self._shapes.setdefault(fields, fields)
        self.values = tuple(obj.values())

    def as_dict(self) -> dict[str, Any]:
        return dict(zip(self.fields, self.values, strict=True))

    def shows(self, obj: dict[str, Any]) -> bool:
        """True if `obj` is still as snapshotted (field by field, in the same order)."""
        return tuple(obj.values()) == self.values and tuple(obj) == self.fields


class Store:
    def __init__(self, max_objects: int = DEFAULT_MAX_OBJECTS) -> None:
        if max_objects < 1:
            raise ValueError("max_objects must be at least 1")
        self.max_objects = max_objects
        self.ids = Numbering()
        self.tables: dict[str, dict[str, dict[str, Any]]] = {}
        # per type: rank (created, then creation number) -> id, for lists (see above)
        self.order: dict[str, SortedDict] = {}
        # (kind, field) -> field's value -> ids of that kind with it, oldest first (INDEXED)
        self._children: dict[tuple[str, str], dict[str, list[str]]] = {}
        self.private: dict[str, dict[str, Any]] = {}
        self._oldest_first: deque[str] = deque()  # ids of evictable objects, by creation
        self._forgotten_through = 0  # creation numbers up to here were wiped by clear()
        self._last_evicted: str | None = None  # ids up to its number were evicted
        self.evicted = 0  # objects evicted since the last clear()
        self._snapshots: dict[str, Snapshot] = {}  # this request's, by object id
        self._added = 0
        self.clear()

    def clear(self) -> None:
        self.tables = {kind: {} for kind in KINDS}
        self.order = {kind: SortedDict() for kind in KINDS}
        self._children = {(kind, f): {} for kind, fields in INDEXED.items() for f in fields}
        self.private = {}
        self._oldest_first.clear()
        self._snapshots.clear()
        self._forgotten_through = self.ids.last
        self._last_evicted = None
        self.evicted = 0

    def new_id(self, prefix: str) -> str:
        """The id of an object about to be added (numbered: see ids.py)."""
        return self.ids.new_id(prefix)

    def add(self, obj: dict[str, Any], **private: Any) -> dict[str, Any]:
        kind = obj["object"]
        self.tables[kind][obj["id"]] = obj
        self.order[kind][self.rank(obj)] = obj["id"]
        for name in INDEXED.get(kind, ()):
            if obj.get(name):
                self._children[kind, name].setdefault(obj[name], []).append(obj["id"])
        if private:
            self.private[obj["id"]] = private
        if kind not in NEVER_EVICTED:
            self._oldest_first.append(obj["id"])
        self._added += 1
        if self._added % FREEZE_EVERY == 0:
            gc.freeze()
        return obj

    def snapshot(self, obj: dict[str, Any]) -> Snapshot:
        """`obj` as it is now, never to change (see above).

        Within one request, snapshots of an object that has not changed since its last one
        are that same Snapshot: a create's `payment_intent.created` event and its saved
        idempotent response hold one copy, not two.
        """
        object_id = obj.get("id")
        last = self._snapshots.get(object_id) if object_id else None
        if last is not None and last.shows(obj):
            return last
        snapshot = Snapshot(obj)
        if object_id:
            self._snapshots[object_id] = snapshot
        return snapshot

    def trim(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """End of a request: evict the oldest objects beyond max_objects; returns them,
        each with its private facts."""
        self._snapshots.clear()
        if len(self._oldest_first) <= self.max_objects:
            return []
        evicted = []
        while len(self._oldest_first) > self.max_objects:
            object_id = self._oldest_first.popleft()
            kind = PREFIXES[object_id.partition("_")[0]]
            obj = self.tables[kind].pop(object_id)
            del self.order[kind][self.rank(obj)]
            self._unindex(kind, obj)
            evicted.append((obj, self.private.pop(object_id, {})))
            self._last_evicted = object_id  # ids leave in creation order
        self.evicted += len(evicted)
        return evicted

    def get(self, kind: str, object_id: str) -> dict[str, Any] | None:
        return self.tables[kind].get(object_id)

    def require(
        self, kind: str, object_id: str, noun: str, *, param: str = "id", status: int = 404
    ) -> dict[str, Any]:
        """The stored object, or Stripe's resource_missing (saying so if it was evicted)."""
        obj = self.tables[kind].get(object_id)
        if obj is None:
            raise self.missing(kind, object_id, noun, param=param, status=status)
        return obj

    def missing(
        self, kind: str, object_id: str, noun: str, *, param: str = "id", status: int = 404
    ) -> StripeError:
        evicted = self.was_evicted(kind, object_id)
        return resource_missing(
            noun,
            object_id,
            param=param,
            status=status,
            evicted_by_cap=self.max_objects if evicted else None,
        )

    def was_evicted(self, kind: str, object_id: str) -> bool:
        """True for an id this store issued and evicted (not one wiped by clear())."""
        if kind in NEVER_EVICTED or object_id in self.tables[kind]:
            return False
        if PREFIXES.get(object_id.partition("_")[0]) != kind:
            return False
        if self._last_evicted is None:
            return False
        number = self.ids.number(object_id)
        evicted_through = self.ids.number(self._last_evicted) or 0
        return number is not None and self._forgotten_through < number <= evicted_through

    def resolve(self, object_id: str) -> dict[str, Any] | None:
        """Any object by id, its type read from the prefix."""
        kind = PREFIXES.get(object_id.partition("_")[0])
        return self.tables[kind].get(object_id) if kind else None

    def extra(self, object_id: str) -> dict[str, Any]:
        return self.private.setdefault(object_id, {})

    def remove(self, kind: str, object_id: str) -> None:
        """Delete a never-evicted object (a webhook endpoint)."""
        if kind not in NEVER_EVICTED:
            raise ValueError(f"{kind} objects leave the store by eviction only")
        obj = self.tables[kind].pop(object_id, None)
        if obj is not None:
            del self.order[kind][self.rank(obj)]
        self.private.pop(object_id, None)

    def _unindex(self, kind: str, obj: dict[str, Any]) -> None:
        for name in INDEXED.get(kind, ()):
            index = self._children[kind, name]
            ids = index.get(obj.get(name) or "")
            if ids is not None:
                ids.remove(obj["id"])
                if not ids:
                    del index[obj[name]]

    def children(self, kind: str, name: str, value: str) -> list[dict[str, Any]]:
        """The objects of `kind` whose `name` (an INDEXED field) is `value`, newest first."""
        table = self.tables[kind]
        found = [table[i] for i in self._children[kind, name].get(value, ())]
        found.sort(key=self.rank, reverse=True)
        return found

    def rank(self, obj: dict[str, Any]) -> int:
        """Where `obj` stands in its list: by `created`, then by creation number (Stripe
        lists newest first; the order of creation breaks ties within one second)."""
        return obj["created"] * NUMBERS + (self.ids.number(obj["id"]) or 0)

    def walk(
        self,
        kind: str,
        low: int | None = None,
        high: int | None = None,
        *,
        inclusive: tuple[bool, bool] = (True, True),
        newest_first: bool = True,
    ) -> Iterator[dict[str, Any]]:
        """The objects of `kind` whose rank is within [low, high] (None: unbounded), newest
        first or oldest first; lazily, so a page reads only what it shows."""
        order, table = self.order[kind], self.tables[kind]
        for rank in order.irange(low, high, inclusive, reverse=newest_first):
            yield table[order[rank]]

    def newest_first(self, kind: str) -> Iterator[dict[str, Any]]:
        return self.walk(kind)

    def held(self) -> int:
        """How many objects count against max_objects now."""
        return len(self._oldest_first)

    def counts(self) -> dict[str, int]:
        return {kind: len(table) for kind, table in self.tables.items()}
