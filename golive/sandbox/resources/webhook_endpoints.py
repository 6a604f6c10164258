"""WebhookEndpoints: create (the only answer that shows the `whsec_` signing secret),
retrieve, update (`disabled` flips `status`), delete, list.

`enabled_events` must name real Stripe event types (or "*"), so a typo fails here as it
fails on Stripe. Deliveries go to enabled endpoints only (see events.py).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from golive.sandbox import pagination
from golive.sandbox import params as p
from golive.sandbox.endpoint import Call, Operation
from golive.sandbox.errors import invalid_request
from golive.sandbox.event_types import EVENT_TYPES
from golive.sandbox.ids import random_token

CREATE: p.Schema = {
    "api_version": None,
    "connect": None,
    "description": None,
    "enabled_events": None,
    "expand": None,
    "metadata": None,
    "url": None,
}
UPDATE: p.Schema = {
    "description": None,
    "disabled": None,
    "enabled_events": None,
    "expand": None,
    "metadata": None,
    "url": None,
}
MAX_ENDPOINTS = 16  # Stripe's limit per account and mode


def create(call: Call) -> dict[str, Any]:
    state, params = call.state, call.params
    p.check_known(params, CREATE)
    p.require(params, "enabled_events", "url")
    if len(state.store.tables["webhook_endpoint"]) >= MAX_ENDPOINTS:
        raise invalid_request(
            f"You have reached the maximum of {MAX_ENDPOINTS} test webhook endpoints."
        )
    endpoint = {
        "id": state.store.new_id("we"),
        "object": "webhook_endpoint",
        "api_version": _api_version(params["api_version"]) if "api_version" in params else None,
        "application": None,
        "created": state.clock.seconds(),
        "description": (
            p.string(params["description"], "description", max_length=5000)
            if "description" in params
            else None
        ),
        "enabled_events": _enabled_events(params["enabled_events"]),
        "livemode": False,
        "metadata": p.metadata(params["metadata"]) if "metadata" in params else {},
        "status": "enabled",
        "url": _url(params["url"]),
    }
    secret = "whsec_" + random_token(32)
    state.store.add(endpoint, secret=secret)
    return {**endpoint, "secret": secret}


def retrieve(call: Call) -> dict[str, Any]:
    p.check_known(call.params, {"expand": None})
    return _get(call)


def update(call: Call) -> dict[str, Any]:
    params = call.params
    p.check_known(params, UPDATE)
    endpoint = _get(call)
    changes: dict[str, Any] = {}
    if "url" in params:
        changes["url"] = _url(params["url"])
    if "enabled_events" in params:
        changes["enabled_events"] = _enabled_events(params["enabled_events"])
    if "description" in params:
        changes["description"] = p.optional_string(params["description"], "description")
    if "metadata" in params:
        changes["metadata"] = p.metadata(params["metadata"], endpoint["metadata"])
    if "disabled" in params:
        changes["status"] = "disabled" if p.boolean(params["disabled"], "disabled") else "enabled"
    endpoint.update(changes)
    return endpoint


def delete(call: Call) -> dict[str, Any]:
    endpoint = _get(call)
    call.state.store.remove("webhook_endpoint", endpoint["id"])
    return {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}


def list_(call: Call) -> dict[str, Any]:
    p.check_known(call.params, pagination.PAGING)
    return pagination.page(
        call.state.store,
        "webhook_endpoint",
        call.params,
        "/v1/webhook_endpoints",
        "webhook endpoint",
    )


def _get(call: Call) -> dict[str, Any]:
    return call.state.store.require("webhook_endpoint", call.path["id"], "webhook endpoint")


def _url(value: Any) -> str:
    url = p.string(value, "url", max_length=5000)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid_request(f"Invalid URL: {url}", param="url", code="url_invalid")
    return url


def _enabled_events(value: Any) -> list[str]:
    events = p.string_list(value, "enabled_events")
    if not events:
        raise invalid_request("Invalid array", param="enabled_events")
    for i, name in enumerate(events):
        if name != "*" and name not in EVENT_TYPES:
            raise invalid_request(
                f"Invalid enabled_events[{i}]: must be one of the event types Stripe sends, or '*' (got '{name}').",
                param=f"enabled_events[{i}]",
            )
    return list(events)


def _api_version(value: Any) -> str:
    version = p.string(value, "api_version")
    if len(version) < 10 or not version[:4].isdigit():
        raise invalid_request(f"Invalid api_version: {version}", param="api_version")
    return version


OPERATIONS = [
    Operation("POST", "/v1/webhook_endpoints", create),
    Operation("GET", "/v1/webhook_endpoints", list_),
    Operation("GET", "/v1/webhook_endpoints/{id}", retrieve),
    Operation("POST", "/v1/webhook_endpoints/{id}", update),
    Operation("DELETE", "/v1/webhook_endpoints/{id}", delete),
]
