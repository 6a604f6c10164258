"""The request path of every /v1 call: auth, parameters, idempotency, handler, Stripe's headers.

Each operation is served by a raw ASGI `ApiEndpoint` (no Request object, no middleware):
after the body is read everything runs synchronously, so idempotency check, execution and
save are one uninterrupted step on the event loop. Responses carry `Request-Id`,
`Stripe-Version` and, for idempotent POSTs, `Idempotency-Key` (+ `Idempotent-Replayed: true`
and `Original-Request` on a replay).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from golive.sandbox import forms
from golive.sandbox.auth import ApiKey, authenticate, secret_required
from golive.sandbox.errors import StripeError, api_error, invalid_request
from golive.sandbox.ids import request_id
from golive.sandbox.store import Snapshot

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from golive.sandbox.state import SandboxState

log = logging.getLogger(__name__)

_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(\.[a-z_]+)?")


def _snapshot_as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, Snapshot):  # an event's data.object, a saved idempotent response
        return value.as_dict()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_JSON = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, default=_snapshot_as_dict
).encode


@dataclass(slots=True)
class Call:
    """What a handler gets: the sandbox, the decoded parameters, the caller."""

    state: SandboxState
    params: dict[str, Any]
    path: dict[str, str]
    key: ApiKey
    request_id: str
    idempotency_key: str | None
    # The `request` of the events this call makes: one dict, shared by all of them.
    request: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.request = {"id": self.request_id, "idempotency_key": self.idempotency_key}


Handler = Callable[[Call], dict[str, Any]]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # Starlette path, e.g. /v1/payment_intents/{id}/confirm
    handler: Handler
    publishable: bool = False  # a pk_ key may call it (the handler checks what it may see)


def dumps(obj: Any) -> bytes:
    return _JSON(obj).encode()


class ApiEndpoint:
    def __init__(self, state: SandboxState, operation: Operation) -> None:
        self.state = state
        self.operation = operation

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        if scope["method"] == "POST":
            chunks = []
            more = True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            body = b"".join(chunks)
        status, headers, payload = respond(self.state, self.operation, scope, body)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def respond(
    state: SandboxState, operation: Operation, scope: Scope, body: bytes
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """One API call, synchronously: no await may sit between idempotency check and save."""
    state.requests += 1
    rid = request_id()
    method = operation.method
    authorization = idempotency_key = version = None
    for header, value in scope["headers"]:
        if header == b"authorization":
            authorization = value.decode("latin-1")
        elif header == b"idempotency-key":
            idempotency_key = value.decode("latin-1").strip() or None
        elif header == b"stripe-version":
            version = value.decode("latin-1").strip()
    if method != "POST":
        idempotency_key = None  # Stripe ignores keys on GET and DELETE
    headers = [(b"content-type", b"application/json"), (b"request-id", rid.encode())]
    key: ApiKey | None = None
    params: dict[str, Any] = {}
    result: Any = None
    path = scope["path"]
    try:
        key = authenticate(authorization)
        if key.publishable and not operation.publishable:
            raise secret_required()
        if version and not _VERSION.fullmatch(version):
            raise invalid_request(f"Invalid Stripe API version: {version}", param="Stripe-Version")
        headers.append((b"stripe-version", (version or state.settings.api_version).encode()))
        params = forms.decode(body if method == "POST" else scope.get("query_string", b""))
        if idempotency_key is not None:
            headers.append((b"idempotency-key", idempotency_key.encode()))
            saved = state.idempotency.lookup(key.value, idempotency_key, method, path, params)
            if saved is not None:
                headers.append((b"idempotent-replayed", b"true"))
                headers.append((b"original-request", saved.request_id.encode()))
                replayed = saved.body if isinstance(saved.body, bytes) else dumps(saved.body)
                return _finish(saved.status, headers, replayed)
        call = Call(state, params, scope.get("path_params", {}), key, rid, idempotency_key)
        result = operation.handler(call)
        status, payload, saved_ok = 200, dumps(result), True
    except StripeError as exc:
        status, payload, saved_ok = exc.status, dumps(exc.body()), exc.saved
    except Exception:
        log.exception("sandbox handler failed: %s %s", method, path)
        exc = api_error()
        status, payload, saved_ok = exc.status, dumps(exc.body()), True
    if idempotency_key is not None and key is not None and saved_ok:
        # A success is saved as a snapshot of the object shown, shared with the request's
        # last event when that shows the same state (idempotency.py); errors as bytes.
        saved_body = state.store.snapshot(result) if status == 200 else payload
        state.idempotency.save(
            key.value, idempotency_key, method, path, params, status, saved_body, rid
        )
    state.trim()  # between requests, never during one (store.py)
    return _finish(status, headers, payload)


def _finish(
    status: int, headers: list[tuple[bytes, bytes]], payload: bytes
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    headers.append((b"content-length", str(len(payload)).encode()))
    return status, headers, payload
