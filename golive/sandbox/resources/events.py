"""Events: listed newest first (filter by `type` — with `*` wildcards —, `types[]`,
`created`, `delivery_success`) and retrieved by id. `pending_webhooks` is live: it falls as
deliveries succeed, and, as on Stripe, a delivery that failed for good still counts."""

from __future__ import annotations

import fnmatch
from typing import Any

from golive.sandbox import pagination
from golive.sandbox import params as p
from golive.sandbox.endpoint import Call, Operation
from golive.sandbox.errors import invalid_request

LIST: p.Schema = {
    **pagination.PAGING,
    "created": None,
    "delivery_success": None,
    "type": None,
    "types": None,
}
MAX_TYPES = 20


def retrieve(call: Call) -> dict[str, Any]:
    p.check_known(call.params, {"expand": None})
    return call.state.store.require("event", call.path["id"], "event")


def list_(call: Call) -> dict[str, Any]:
    query = call.params
    p.check_known(query, LIST)
    if "type" in query and "types" in query:
        raise invalid_request(
            "You may only specify one of these parameters: type, types.", param="types"
        )
    checks = []
    if "type" in query:
        pattern = p.string(query["type"], "type")
        if "*" in pattern:
            checks.append(lambda e: fnmatch.fnmatchcase(e["type"], pattern))
        else:
            checks.append(lambda e: e["type"] == pattern)
    if "types" in query:
        types = set(p.string_list(query["types"], "types"))
        if len(types) > MAX_TYPES:
            raise invalid_request(
                f"You may pass at most {MAX_TYPES} event types in `types`.", param="types"
            )
        checks.append(lambda e: e["type"] in types)
    if "delivery_success" in query:
        wanted = p.boolean(query["delivery_success"], "delivery_success")
        success = call.state.dispatcher.delivery_success
        # false: "events which are still pending or did not succeed" (Stripe's wording)
        checks.append(lambda e: (success(e["id"]) is True) == wanted)
    if p.expand_paths(query):
        raise invalid_request(
            f"This property cannot be expanded ({p.expand_paths(query)[0]}).", param="expand"
        )
    return pagination.page(
        call.state.store,
        "event",
        query,
        "/v1/events",
        "event",
        filters=checks,
    )


OPERATIONS = [
    Operation("GET", "/v1/events", list_),
    Operation("GET", "/v1/events/{id}", retrieve),
]
