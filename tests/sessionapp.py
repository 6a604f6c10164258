"""A small shop on 127.0.0.1 that is not the demo. In `session` mode users log in through
an HTML form and then carry a session cookie and a CSRF token (as a Django app does); an
anonymous request is redirected to the login form (unsafe ones are refused by the CSRF
check first). In `token` mode they send `Authorization: Token …` and an anonymous request
is answered 401. Its
orders live in a SQLite file and it writes a JSON log, so golive's API and data security
checks can run against it end to end (tests/test_checks_other_auth.py).

Flaws, each one promise broken: `no-auth` (GET /api/me answers anyone), `idor` (any user
reads and cancels any order), `stores-card` (the order's note is stored as sent),
`logs-card` (the request body is logged), `cors-wildcard`, `no-rate-limit`, `no-hsts`,
`verbose-errors` (a stack trace on malformed JSON).
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.jsonhandler import JsonHandler, serving

PASSWORDS = {"ada": "pw-ada", "bob": "pw-bob", "carl": "pw-carl"}
TOKENS = {"tk-ada": "ada", "tk-bob": "bob", "tk-carl": "carl"}
MENU = {"TEA": 450, "MUG": 1200}
ORDER_FIELDS = {"lines", "note", "card_number"}
LIMIT_BYTES = 64 * 1024


@dataclass
class State:
    db: Path
    log: Path
    flaws: set[str]
    rate_limit: int
    mode: str  # session | token
    sessions: dict[str, str] = field(default_factory=dict)  # sessionid -> user
    orders_by_user: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def write_log(self, record: dict[str, Any]) -> None:
        with self.lock, self.log.open("a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")


@dataclass
class SessionApp:
    base_url: str
    state: State


def _handler(state: State) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def extra_headers(self) -> dict[str, str]:
            headers = {}
            if "no-hsts" not in state.flaws:
                headers["Strict-Transport-Security"] = "max-age=31536000"
            if "cors-wildcard" in state.flaws and self.headers.get("Origin"):
                headers["Access-Control-Allow-Origin"] = "*"
                headers["Access-Control-Allow-Credentials"] = "true"
            return headers

        def _raw(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _user(self) -> tuple[str | None, bool]:
            """The caller, and whether it came by cookie (then CSRF applies)."""
            if state.mode == "token":
                auth = self.headers.get("Authorization", "")
                return (TOKENS.get(auth[6:]) if auth.startswith("Token ") else None), False
            return state.sessions.get(self._cookies().get("sessionid", "")), True

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_OPTIONS(self) -> None:
            self._answer(200, {})

        def _route(self, method: str) -> None:
            with state.lock:
                state.requests.append((method, self.path, dict(self.headers)))
            path = urlsplit(self.path).path
            raw = self._raw() if method == "POST" else b""
            if self.headers.get("X-Forwarded-Proto") == "http" and "no-hsts" not in state.flaws:
                host = self.headers.get("Host", "localhost")
                return self._answer(308, headers={"Location": f"https://{host}{self.path}"})
            if path == "/health":
                return self._answer(200, {"ok": True})
            if path == "/login/":
                return self._login(method, raw)
            if not path.startswith("/api/"):
                return self._answer(404, {"error": "no route"})
            user, by_cookie = self._user()
            if method == "POST" and by_cookie:
                csrf = self._cookies().get("csrftoken")
                if not csrf or self.headers.get("X-CSRFToken") != csrf:
                    return self._answer(403, {"error": "CSRF verification failed"})
            if path == "/api/me" and method == "GET" and "no-auth" in state.flaws:
                return self._answer(200, {"user": user or "anonymous"})
            if user is None:
                if by_cookie:
                    return self._answer(302, headers={"Location": f"/login/?next={path}"})
                return self._answer(401, {"error": "invalid token"})
            if path == "/api/me" and method == "GET":
                return self._answer(200, {"user": user})
            if path == "/api/orders" and method == "POST":
                return self._order(user, raw)
            found = re.fullmatch(r"/api/orders/(o-\d+)(/cancel)?", path)
            if found:
                return self._existing(user, method, found.group(1), bool(found.group(2)))
            return self._answer(404, {"error": "no route"})

        def _login(self, method: str, raw: bytes) -> None:
            if method == "GET":
                token = secrets.token_hex(8)
                page = (
                    '<html><form method="post"><input type="hidden" '
                    f'name="csrfmiddlewaretoken" value="{token}"></form></html>'
                )
                return self._answer(
                    200, html=page, headers={"Set-Cookie": f"csrftoken={token}; Path=/"}
                )
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            csrf = self._cookies().get("csrftoken")
            if not csrf or form.get("csrfmiddlewaretoken") != csrf:
                return self._answer(403, {"error": "CSRF verification failed"})
            if PASSWORDS.get(form.get("username", "")) != form.get("password"):
                return self._answer(200, html="<p>Please enter a correct username.</p>")
            sid = secrets.token_hex(8)
            with state.lock:
                state.sessions[sid] = form["username"]
            return self._answer(
                302, headers={"Location": "/", "Set-Cookie": f"sessionid={sid}; Path=/"}
            )

        def _order(self, user: str, raw: bytes) -> None:
            if len(raw) > LIMIT_BYTES:
                return self._answer(413, {"error": "too large"})
            if "logs-card" in state.flaws:
                state.write_log({"event": "order_request", "user": user, "body": raw.decode()})
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                if "verbose-errors" in state.flaws:
                    trace = 'Traceback (most recent call last):\n  File "shop.py", line 9'
                    return self._answer(500, html=f"<pre>{trace}</pre>")
                return self._answer(400, {"error": "malformed JSON"})
            if not isinstance(body, dict) or set(body) - ORDER_FIELDS:
                return self._answer(400, {"error": "unexpected body"})
            lines = body.get("lines")
            if not isinstance(lines, list) or not lines:
                return self._answer(400, {"error": "lines must be a list"})
            for line in lines:
                if not (
                    isinstance(line, dict)
                    and line.get("sku") in MENU
                    and isinstance(line.get("qty"), int)
                    and line["qty"] >= 1
                ):
                    return self._answer(400, {"error": "bad line"})
            with state.lock:
                used = state.orders_by_user.get(user, 0)
                if used >= state.rate_limit and "no-rate-limit" not in state.flaws:
                    return self._answer(429, {"error": "slow down"})
                state.orders_by_user[user] = used + 1
            total = sum(MENU[line["sku"]] * line["qty"] for line in lines)
            note = body.get("note") if "stores-card" in state.flaws else None
            with sqlite3.connect(state.db) as db:
                cursor = db.execute(
                    "INSERT INTO orders (owner, total, note, state) VALUES (?, ?, ?, 'open')",
                    (user, total, note),
                )
                ref = f"o-{cursor.lastrowid}"
            state.write_log({"event": "order_created", "user": user, "ref": ref})
            return self._answer(
                201,
                {
                    "order": {"ref": ref, "total": total},
                    "payment": {"client_secret": f"pi_sa{cursor.lastrowid}_secret_x"},
                },
            )

        def _existing(self, user: str, method: str, ref: str, cancel: bool) -> None:
            with sqlite3.connect(state.db) as db:
                row = db.execute(
                    "SELECT owner, total, state FROM orders WHERE id = ?", (int(ref[2:]),)
                ).fetchone()
            if row is None or (row[0] != user and "idor" not in state.flaws):
                return self._answer(404, {"error": "no such order"})
            if cancel and method == "POST":
                with sqlite3.connect(state.db) as db:
                    db.execute(
                        "UPDATE orders SET state = 'cancelled' WHERE id = ?", (int(ref[2:]),)
                    )
                return self._answer(200, {"order": {"ref": ref, "state": "cancelled"}})
            if method != "GET":
                return self._answer(405, {"error": "method"})
            return self._answer(200, {"order": {"ref": ref, "total": row[1], "state": row[2]}})

    return Handler


@contextmanager
def running(
    folder: Path,
    mode: str = "session",
    flaws: set[str] | frozenset[str] = frozenset(),
    rate_limit: int = 5,
) -> Iterator[SessionApp]:
    """The app, its database at folder/app.db and its log at folder/app.log."""
    db, log = folder / "app.db", folder / "app.log"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, owner TEXT, "
            "total INTEGER, note TEXT, state TEXT)"
        )
        conn.execute(
            "INSERT INTO orders (owner, total, note, state) VALUES ('bob', 450, 'x', 'open')"
        )
    log.write_text(json.dumps({"event": "boot"}) + "\n", encoding="utf-8")
    state = State(db, log, set(flaws), rate_limit, mode)
    with serving(_handler(state)) as url:
        yield SessionApp(url, state)
