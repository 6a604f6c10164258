"""Stripe's list envelope and cursor pagination.

    {"object": "list", "url": "/v1/…", "has_more": bool, "data": [newest first]}

`starting_after=<id>` pages towards older objects, `ending_before=<id>` towards newer ones;
`limit` is 1–100, default 10. The cursor's position is taken among all objects of the type,
as Stripe does, so a filter never hides the cursor itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from golive.sandbox import params as p
from golive.sandbox.errors import StripeError, invalid_request

if TYPE_CHECKING:
    from golive.sandbox.store import Store

PAGING = {"limit": None, "starting_after": None, "ending_before": None, "expand": None}


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
    """One page of the stored objects of `kind` (newest first) that pass every filter, each
    shown by `render`."""

    def missing(cursor: str, param: str) -> StripeError:
        return store.missing(kind, cursor, noun, param=param, status=400)

    return page_of(store.newest_first(kind), query, url, missing, filters=filters, render=render)


def page_of(
    objects: Iterable[dict[str, Any]],
    query: dict[str, Any],
    url: str,
    missing: Callable[[str, str], StripeError],
    *,
    filters: Sequence[Callable[[dict[str, Any]], bool]] = (),
    render: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One page of `objects` (in the order the list shows them); `missing(cursor, param)` is
    the error for a cursor that is not among them."""
    limit = p.integer(query["limit"], "limit", minimum=1, maximum=100) if "limit" in query else 10
    after, before = query.get("starting_after"), query.get("ending_before")
    if after is not None and before is not None:
        raise invalid_request(
            "You may only specify one of these parameters: ending_before, starting_after.",
            param="ending_before",
        )
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
    if filters:
        candidates = (obj for obj in candidates if all(keep(obj) for keep in filters))
    chosen = list(islice(candidates, limit + 1))
    has_more = len(chosen) > limit
    chosen = chosen[:limit]
    if before is not None and after is None:
        chosen.reverse()
    data = [render(obj) for obj in chosen] if render is not None else chosen
    return {"object": "list", "data": data, "has_more": has_more, "url": url}
