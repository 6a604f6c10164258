"""The request-body limit: a body over `max_bytes` is a 413 before any route sees it.

An ASGI middleware, outermost, so it runs before authentication, fault injection and the
admin routes:

- a `Content-Length` over the limit is answered at once, before a byte of the body is read
  (and before uvicorn sends `100 Continue` to a client that waits for it);
- a body without one (chunked) is read here, counting, up to the limit: past it the
  request is answered the same way and the rest is not kept. What was read within the
  limit is handed to the app as it arrived.

The answer is Stripe's error shape (`invalid_request_error`) with `Connection: close`.
Before closing, up to LINGER_BYTES more of the body are read and dropped (for at most
LINGER_S), so a client that writes its whole request before reading, as the Stripe
libraries do, gets the 413 rather than a connection reset when its body is not far over.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING

from golive.sandbox.endpoint import dumps
from golive.sandbox.errors import invalid_request
from golive.sandbox.ids import request_id

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

LINGER_BYTES = 4 * 1024 * 1024
LINGER_S = 2.0


class BodyLimit:
    def __init__(
        self, app: ASGIApp, max_bytes: int, overrides: dict[str, int] | None = None
    ) -> None:
        """`overrides`: another limit for an exact path (/_golive/history takes batches)."""
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = overrides or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.overrides.get(scope["path"], self.max_bytes)
        declared = _content_length(scope)
        if declared is not None:
            if declared > limit:
                # The client may be waiting for "100 Continue": then it sends nothing.
                linger = 0 if _expects_continue(scope) else LINGER_BYTES
                await self._refuse(receive, send, linger, limit)
            else:
                await self.app(scope, receive, send)  # the server reads no more than declared
            return
        received = await self._read_within_limit(receive, limit)
        if received is None:
            await self._refuse(receive, send, LINGER_BYTES, limit)
            return
        await self.app(scope, _replay(received, receive), send)

    async def _read_within_limit(self, receive: Receive, limit: int) -> deque[Message] | None:
        """The body's messages, or None once it passes the limit (the rest stays unread)."""
        messages: deque[Message] = deque()
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages  # the client went away: the app sees that too
            size += len(message.get("body", b""))
            if size > limit:
                return None
            if not message.get("more_body", False):
                return messages

    async def _refuse(self, receive: Receive, send: Send, linger: int, limit: int) -> None:
        error = invalid_request(
            f"Request body too large: the golive sandbox accepts at most {limit:,} "
            "bytes per request (Stripe's own requests are a few KB; raise the limit with "
            "`golive sandbox --max-body-bytes N` or the profile's `stripe.max_body_bytes`).",
            status=413,
        )
        payload = dumps(error.body())
        headers = [
            (b"content-type", b"application/json"),
            (b"request-id", request_id().encode()),
            (b"content-length", str(len(payload)).encode()),
            (b"connection", b"close"),  # what is left of the body is never read
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        # The whole answer now; the response ends (and the connection closes) after the linger.
        await send({"type": "http.response.body", "body": payload, "more_body": True})
        await _discard(receive, linger)
        await send({"type": "http.response.body", "body": b""})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.strip().isdigit() else None
    return None


def _expects_continue(scope: Scope) -> bool:
    return any(
        name == b"expect" and value.strip().lower() == b"100-continue"
        for name, value in scope["headers"]
    )


def _replay(messages: deque[Message], receive: Receive) -> Receive:
    async def replayed() -> Message:
        return messages.popleft() if messages else await receive()

    return replayed


async def _discard(receive: Receive, limit: int) -> None:
    """Read and drop up to `limit` bytes of the body, for at most LINGER_S."""
    dropped = 0
    try:
        async with asyncio.timeout(LINGER_S):
            while dropped < limit:
                message = await receive()
                if message["type"] != "http.request":
                    return
                dropped += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return
    except TimeoutError:
        pass
