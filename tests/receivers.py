"""A real webhook receiver for tests: a threaded HTTP server on 127.0.0.1 with a free port.

It records every request (method, path, headers, raw body, arrival time) and answers from a
script: each request takes the next `Reply` (status, delay before answering, body); once the
script runs out every request gets `default`. Use it as a context manager:

    with Receiver([500, Reply(200, delay_s=0.1)]) as rx:
        ... point a webhook endpoint at rx.url ...
        requests = rx.wait_for(2, timeout_s=5)

`script` may be replaced at any time (`rx.set_script([...])`). Delays are interruptible, so
closing a receiver that is holding a slow request never hangs the test.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    status: int = 200
    delay_s: float = 0.0
    body: bytes = b'{"received": true}'


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # keys lower-cased
    body: bytes
    at: float  # time.time() on arrival
    index: int  # 0-based arrival order

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class _State:
    script: deque[Reply] = field(default_factory=deque)
    default: Reply = field(default_factory=Reply)
    requests: list[Received] = field(default_factory=list)
    lock: threading.Condition = field(default_factory=threading.Condition)
    closing: threading.Event = field(default_factory=threading.Event)


def _as_reply(item: Reply | int | tuple[int, float]) -> Reply:
    if isinstance(item, Reply):
        return item
    if isinstance(item, tuple):
        return Reply(status=item[0], delay_s=item[1])
    return Reply(status=item)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass

    def _handle(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with state.lock:
            received = Received(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                at=time.time(),
                index=len(state.requests),
            )
            state.requests.append(received)
            reply = state.script.popleft() if state.script else state.default
            state.lock.notify_all()
        if reply.delay_s and state.closing.wait(reply.delay_s):
            return  # closing: drop the connection unanswered
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); it is recorded all the same

    do_POST = do_GET = do_PUT = do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: _State) -> None:
        self.state = state
        super().__init__(("127.0.0.1", 0), _Handler)


class Receiver:
    """A recording HTTP receiver on 127.0.0.1:<free port>."""

    def __init__(
        self,
        script: list[Reply | int | tuple[int, float]] | None = None,
        *,
        default: Reply | int = 200,
        path: str = "/webhooks",
    ) -> None:
        self._state = _State(default=_as_reply(default))
        self.set_script(script or [])
        self._server = _Server(self._state)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.port: int = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}{path}"
        self._thread.start()

    def set_script(self, script: list[Reply | int | tuple[int, float]]) -> None:
        with self._state.lock:
            self._state.script = deque(_as_reply(item) for item in script)

    @property
    def requests(self) -> list[Received]:
        with self._state.lock:
            return list(self._state.requests)

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[Received]:
        """Block until `count` requests have arrived; raise TimeoutError after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        with self._state.lock:
            while len(self._state.requests) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"receiver got {len(self._state.requests)} of {count} requests in {timeout_s}s"
                    )
                self._state.lock.wait(remaining)
            return list(self._state.requests)

    def close(self) -> None:
        self._state.closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
