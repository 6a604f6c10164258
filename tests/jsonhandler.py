"""A request handler for the small test apps on 127.0.0.1: JSON or HTML answers, cookies."""

from __future__ import annotations

import json
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler
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
