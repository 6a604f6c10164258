"""HTTP-level protections, as plain ASGI middleware, outermost first:

- `RequestLog`: one structured log line per request (method, path without the query,
  status, duration, user id); never headers or bodies.
- `HttpsOnly`: behind a TLS-terminating proxy (`X-Forwarded-Proto`), plain HTTP is
  redirected (308) to https and HTTPS answers carry
  `Strict-Transport-Security: max-age=31536000; includeSubDomains`. Direct connections
  (no proxy header: the health checker, local tests) are served as they come.
- `Cors`: an allowlist (SHOP_CORS_ORIGINS). An allowed origin gets itself back in
  Access-Control-Allow-Origin with credentials; any other origin gets no CORS headers, and
  its preflight a 403. Never `*`.
- `BodyLimit`: request bodies over 64 KiB (512 KiB for the webhook) are 413.

`RateLimiter` is per user, on the payment endpoints only (sliding window).
"""

from __future__ import annotations

import collections
import json
import re
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from shop import logs

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HSTS = "max-age=31536000; includeSubDomains"
ALLOWED_METHODS = "GET, POST, DELETE, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key"
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


async def send_json(send: Send, status: int, body: dict, headers: list | None = None) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            logs.get().info(
                "http_request",
                method=scope["method"],
                path=scope["path"],
                status=status["code"],
                duration_ms=logs.elapsed_ms(started),
                user_id=scope.get("state", {}).get("user_id"),
            )


class HttpsOnly:
    def __init__(self, app: ASGIApp, *, hsts: bool = True) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        proto = (header(scope, b"x-forwarded-proto") or "").split(",")[0].strip().lower()
        if proto == "http":
            host = (header(scope, b"x-forwarded-host") or header(scope, b"host") or "").strip()
            if not _HOST.match(host):
                await send_json(send, 400, {"error": "bad_host", "message": "invalid Host"})
                return
            query = scope.get("query_string", b"").decode("latin-1")
            location = (
                f"https://{host}{scope.get('raw_path', scope['path'].encode()).decode('latin-1')}"
            )
            location += f"?{query}" if query else ""
            await send_json(
                send,
                308,
                {"error": "https_required", "message": "use HTTPS", "location": location},
                [(b"location", location.encode("latin-1"))],
            )
            return
        if proto != "https" or not self.hsts:
            await self.app(scope, receive, send)
            return

        async def with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (b"strict-transport-security", HSTS.encode()),
                ]
            await send(message)

        await self.app(scope, receive, with_hsts)


class Cors:
    def __init__(self, app: ASGIApp, origins: tuple[str, ...], *, wildcard: bool = False) -> None:
        self.app = app
        self.origins = {o.lower() for o in origins}
        self.wildcard = wildcard  # the `cors-wildcard` flaw

    def _allow(self, origin: str) -> list[tuple[bytes, bytes]] | None:
        if self.wildcard:
            return [
                (b"access-control-allow-origin", b"*"),
                (b"access-control-allow-credentials", b"true"),
            ]
        if origin.lower().rstrip("/") in self.origins:
            return [
                (b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-credentials", b"true"),
                (b"vary", b"Origin"),
            ]
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = header(scope, b"origin") if scope["type"] == "http" else None
        if origin is None:
            await self.app(scope, receive, send)
            return
        allowed = self._allow(origin)
        preflight = scope["method"] == "OPTIONS" and header(scope, b"access-control-request-method")
        if preflight:
            if allowed is None:
                await send_json(
                    send,
                    403,
                    {"error": "cors_origin_not_allowed", "message": "origin not allowed"},
                    [(b"vary", b"Origin")],
                )
                return
            requested = header(scope, b"access-control-request-headers")
            headers = [
                *allowed,
                (b"access-control-allow-methods", ALLOWED_METHODS.encode()),
                (
                    b"access-control-allow-headers",
                    (requested if self.wildcard and requested else ALLOWED_HEADERS).encode(
                        "latin-1"
                    ),
                ),
                (b"access-control-max-age", b"600"),
                (b"content-length", b"0"),
            ]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = allowed if allowed is not None else [(b"vary", b"Origin")]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_cors)


class BodyLimit:
    def __init__(self, app: ASGIApp, *, limit: int, limits: dict[str, int]) -> None:
        self.app = app
        self.limit = limit
        self.limits = limits  # per path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limits.get(scope["path"], self.limit)
        too_large = {"error": "payload_too_large", "message": f"the body is over {limit} bytes"}
        declared = (header(scope, b"content-length") or "").strip()
        if declared and not re.fullmatch(r"[0-9]{1,18}", declared):
            await send_json(send, 400, {"error": "bad_request", "message": "bad Content-Length"})
            return
        if declared and int(declared) > limit:
            await send_json(send, 413, too_large)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await send_json(send, 413, too_large, [(b"connection", b"close")])
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class RateLimiter:
    """At most `limit` requests per `window_s` seconds per key (a sliding window)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._hits: dict[Any, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()

    def hit(self, key: Any) -> float | None:
        """Count one request; None if allowed, else the seconds until one is."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and now - hits[0] >= self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(0.0, self.window_s - (now - hits[0]))
            hits.append(now)
            return None
