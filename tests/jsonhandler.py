"""A request handler for the small test apps on 127.0.0.1: JSON or HTML answers, cookies."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JsonHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def extra_headers(self) -> dict[str, str]:
        """Headers every answer carries (an app's security headers, or its flaws)."""
        return {}

    def _answer(
        self,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        html: str | None = None,
    ) -> None:
        data = html.encode() if html is not None else json.dumps(body or {}).encode()
        self.send_response(status)
        ctype = "text/html; charset=utf-8" if html is not None else "application/json"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for key, value in {**self.extra_headers(), **(headers or {})}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _cookies(self) -> dict[str, str]:
        jar = SimpleCookie(self.headers.get("Cookie", ""))
        return {k: v.value for k, v in jar.items()}


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threaded server for `handler` on a free 127.0.0.1 port; yields its base URL and
    stops it (its thread joined) on the way out."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
