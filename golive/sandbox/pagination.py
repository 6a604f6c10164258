"""Stripe's list envelope and cursor pagination.

    {"object": "list", "url": "/v1/…", "has_more": bool, "data": [newest first]}

`starting_after=<id>` pages towards older objects, `ending_before=<id>` towards newer ones;
`limit` is 1–100, default 10. `created=T` or `created[gt|gte|lt|lte]=T` (unix seconds)
keeps a window. The cursor's position is taken among all objects of the type, as Stripe
does, so a filter never hides the cursor itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from golive.sandbox import params as p
from golive.sandbox.errors import StripeError, invalid_request
from golive.sandbox.expand import expand, expand_list_items
from golive.sandbox.ids import NUMBERS
from golive.sandbox.store import INDEXED

if TYPE_CHECKING:
    from golive.sandbox.store import Store

PAGING = {"limit": None, "starting_after": None, "ending_before": None, "expand": None}
# The lists of a payment's children (refunds, disputes, early fraud warnings): a window, a
# parent filter and paging.
BY_PAYMENT = ("charge", "payment_intent")
PAYMENT_CHILDREN: p.Schema = {**PAGING, **dict.fromkeys(BY_PAYMENT), "created": None}


def page_by_payment(
    store: Store, kind: str, query: dict[str, Any], url: str, noun: str
) -> dict[str, Any]:
    """`GET /v1/<children>`: one page of a payment's children, filtered by `charge` and
    `payment_intent` when given, each expanded as the query's `expand[]` asks."""
    p.check_known(query, PAYMENT_CHILDREN)
    checks = []
    for field in BY_PAYMENT:
        if field in query:
            wanted = p.string(query[field], field)
            checks.append(lambda obj, f=field, w=wanted: obj[f] == w)
    items = expand_list_items(p.expand_paths(query))
    return page(
        store,
        kind,
        query,
        url,
        noun,
        filters=checks,
        render=(lambda obj: expand(obj, items, store)) if items else None,
    )


def page(
    store: Store,
    kind: str,
    query: dict[str, Any],
    url: str,
    noun: str,
    *,
    filters: Sequence[Callable[[dict[str, Any]], bool]] = (),
    render: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One page of the stored objects of `kind` (newest first) within the query's `created`
    window (if it has one) that pass every filter, each shown by `render`.

    A walk over the store's list order (store.py) from the cursor or the window's edge: a
    page costs O(log n + what it reads), so walking 100,000 objects page by page is linear.
    """
    limit, after, before = _paging(query)
    low, high = created_ranks(query["created"]) if "created" in query else (None, None)
    low_in = high_in = True
    cursor = after if after is not None else before
    if cursor is not None:
        cursor_param = "starting_after" if after is not None else "ending_before"
        p.string(cursor, cursor_param)
        anchor = store.tables[kind].get(cursor)
        if anchor is None:
            raise store.missing(kind, cursor, noun, param=cursor_param, status=400)
        rank = store.rank(anchor)
        if after is not None:  # older than the cursor
            if high is None or rank <= high:
                high, high_in = rank, False
        elif low is None or rank >= low:  # newer than the cursor
            low, low_in = rank, False
    indexed = next((f for f in INDEXED.get(kind, ()) if isinstance(query.get(f), str)), None)
    if indexed is not None:
        # The few objects with that parent, not a walk over all of them (store.INDEXED);
        # the resource's own filter on the field still applies.

        def within(obj: dict[str, Any]) -> bool:
            rank = store.rank(obj)
            above = low is None or rank > low or (low_in and rank == low)
            return above and (high is None or rank < high or (high_in and rank == high))

        found = [obj for obj in store.children(kind, indexed, query[indexed]) if within(obj)]
        if before is not None:
            found.reverse()  # walked towards newer objects, as store.walk would
        candidates: Iterable[dict[str, Any]] = found
    else:
        candidates = store.walk(
            kind, low, high, inclusive=(low_in, high_in), newest_first=before is None
        )
    return _envelope(candidates, limit, before is not None, url, filters, render)


def created_ranks(value: Any, param: str = "created") -> tuple[int | None, int | None]:
    """`created=T` or `created[gt|gte|lt|lte]=T` as the inclusive bounds of store ranks
    (store.rank: created * NUMBERS + creation number)."""
    low, high = p.created_bounds(value, param)
    return (
        None if low is None else low * NUMBERS,
        None if high is None else (high + 1) * NUMBERS - 1,
    )


def _paging(query: dict[str, Any]) -> tuple[int, Any, Any]:
    limit = p.integer(query["limit"], "limit", minimum=1, maximum=100) if "limit" in query else 10
    after, before = query.get("starting_after"), query.get("ending_before")
    if after is not None and before is not None:
        raise invalid_request(
            "You may only specify one of these parameters: ending_before, starting_after.",
            param="ending_before",
        )
    return limit, after, before


def _envelope(
    candidates: Iterable[dict[str, Any]],
    limit: int,
    backwards: bool,
    url: str,
    filters: Sequence[Callable[[dict[str, Any]], bool]],
    render: Callable[[dict[str, Any]], dict[str, Any]] | None,
) -> dict[str, Any]:
    """The list envelope of the first `limit` candidates that pass the filters; `backwards`:
    they were walked towards newer objects (ending_before), so the page is turned round."""
    if filters:
        candidates = (obj for obj in candidates if all(keep(obj) for keep in filters))
    chosen = list(islice(candidates, limit + 1))
    has_more = len(chosen) > limit
    chosen = chosen[:limit]
    if backwards:
        chosen.reverse()
    data = [render(obj) for obj in chosen] if render is not None else chosen
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def page_of(
    objects: Iterable[dict[str, Any]],
    query: dict[str, Any],
    url: str,
    missing: Callable[[str, str], StripeError],
    *,
    filters: Sequence[Callable[[dict[str, Any]], bool]] = (),
    render: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One page of a short sequence of `objects` (in the order the list shows them), found by
    scanning: a Checkout Session's line items. `missing(cursor, param)` is the error for a
    cursor that is not among them."""
    limit, after, before = _paging(query)
    cursor = after if after is not None else before
    if cursor is not None:
        cursor_param = "starting_after" if after is not None else "ending_before"
        p.string(cursor, cursor_param)
        ordered = list(objects)
        index = next((i for i, obj in enumerate(ordered) if obj["id"] == cursor), None)
        if index is None:
            raise missing(cursor, cursor_param)
        # ending_before: walk from the cursor towards the list's start, then restore its order
        candidates = ordered[index + 1 :] if after is not None else reversed(ordered[:index])
    else:
        candidates = objects
    return _envelope(candidates, limit, before is not None, url, filters, render)
