"""Making Events: every state change is recorded and handed to the webhook dispatcher.

`data.object` is a snapshot of the object at that moment (see store.py on why a shallow copy
is one). Events made by the sandbox itself (a customer finishing 3-D Secure) carry
`request: {id: null, idempotency_key: null}`, as Stripe's automatic events do. The
`request` dict is shared by every event of one request (nothing changes it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from golive.sandbox.state import SandboxState

NO_REQUEST: dict[str, Any] = {"id": None, "idempotency_key": None}


def emit(
    state: SandboxState,
    type_: str,
    obj: dict[str, Any],
    request: dict[str, Any] | None = None,
    *,
    created: int | None = None,
) -> dict[str, Any]:
    """Record an event (at `created`, default the clock's now) and send it to the endpoints
    subscribed to it, unless the sandbox is quiet."""
    event = {
        "id": state.store.new_id("evt"),
        "object": "event",
        "api_version": state.settings.api_version,
        "created": state.clock.seconds() if created is None else created,
        "data": {"object": state.store.snapshot(obj)},
        "livemode": False,
        "pending_webhooks": 0,
        "request": request or NO_REQUEST,
        "type": type_,
    }
    state.store.add(event)
    endpoints = [] if state.quiet else subscribed_endpoints(state, type_)
    if endpoints:
        # Set before dispatch: the delivered payload carries the count, as Stripe's does.
        event["pending_webhooks"] = len(endpoints)
        # The object itself, not the Snapshot: dispatch serialises the event right away.
        state.dispatcher.dispatch({**event, "data": {"object": obj}}, endpoints)
        event["pending_webhooks"] = state.dispatcher.undelivered(event["id"])
    return event


def subscribed_endpoints(state: SandboxState, type_: str) -> list[dict[str, Any]]:
    """Enabled endpoints listening to `type_` (or "*"), with their signing secret."""
    store = state.store
    return [
        {**endpoint, "secret": store.private[endpoint["id"]]["secret"]}
        for endpoint in store.tables["webhook_endpoint"].values()
        if endpoint["status"] == "enabled"
        and ("*" in endpoint["enabled_events"] or type_ in endpoint["enabled_events"])
    ]
