"""A small app on 127.0.0.1 that authenticates every way golive's `auth:` must handle:
`Authorization: Token …`, HTTP Basic, a JWT from a login request, and a Django-style
session cookie with a CSRF token (HTML login form, X-CSRFToken on unsafe requests). Its
cart is created, then filled, then checked out; the checkout answers only a
client_secret. Sessions can be expired to prove golive logs in again."""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from tests.jsonhandler import JsonHandler, serving

PASSWORDS = {"ada": "pw-ada", "bob": "pw-bob"}
TOKENS = {"t-ada": "ada", "t-bob": "bob"}
SESSION_IDS = {"s-ada": "ada"}  # a session cookie the user already has (`auth.cookie`)


@dataclass
class State:
    sessions: dict[str, str] = field(default_factory=dict)  # sessionid -> user
    jwts: dict[str, str] = field(default_factory=dict)
    carts: dict[str, dict[str, Any]] = field(default_factory=dict)
    logins: int = 0
    issued: set[str] = field(default_factory=set)  # CSRF tokens handed out by /field/token
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class AuthApp:
    base_url: str
    state: State


def _handler(state: State) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def _body(self) -> tuple[Any, dict[str, str]]:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if "json" in (self.headers.get("Content-Type") or ""):
                return json.loads(raw or "null"), {}
            return None, {k: v[0] for k, v in parse_qs(raw).items()}

        def _user(self, scheme: str) -> str | None:
            auth = self.headers.get("Authorization", "")
            if scheme in ("token", "field") and auth.startswith("Token "):
                return TOKENS.get(auth[6:])
            if scheme == "basic" and auth.startswith("Basic "):
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                return user if PASSWORDS.get(user) == password else None
            if scheme == "jwt" and auth.startswith("Bearer "):
                return state.jwts.get(auth[7:])
            if scheme == "session":
                return state.sessions.get(self._cookies().get("sessionid", ""))
            if scheme == "cookie":
                return SESSION_IDS.get(self._cookies().get("sid", ""))
            return None

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def _route(self, method: str) -> None:
            with state.lock:
                state.requests.append((method, self.path, dict(self.headers)))
            json_body, form = self._body() if method == "POST" else (None, {})
            if self.path == "/login/" and method == "GET":
                token = secrets.token_hex(8)
                page = (
                    f'<html><form method="post"><input type="hidden" '
                    f'name="csrfmiddlewaretoken" value="{token}"></form></html>'
                )
                return self._answer(
                    200, html=page, headers={"Set-Cookie": f"csrftoken={token}; Path=/"}
                )
            if self.path == "/login/":
                csrf = self._cookies().get("csrftoken")
                if not csrf or form.get("csrfmiddlewaretoken") != csrf:
                    return self._answer(403, {"error": "csrf"})
                if PASSWORDS.get(form.get("username", "")) != form.get("password"):
                    return self._answer(200, html="<p>bad login</p>")
                sid = secrets.token_hex(8)
                state.sessions[sid] = form["username"]
                state.logins += 1
                return self._answer(
                    302, headers={"Location": "/", "Set-Cookie": f"sessionid={sid}; Path=/"}
                )
            if self.path == "/auth/token" and method == "POST":
                body = json_body or {}
                if PASSWORDS.get(body.get("email", "").split("@")[0]) != body.get("password"):
                    return self._answer(400, {"error": "bad credentials"})
                access = secrets.token_hex(8)
                state.jwts[access] = body["email"].split("@")[0]
                state.logins += 1
                return self._answer(200, {"data": {"access": access}})
            match = re.fullmatch(r"/(token|basic|jwt|session|cookie|field)(/.*)", self.path)
            if not match:
                return self._answer(404, {"error": "no route"})
            scheme, rest = match.groups()
            user = self._user(scheme)
            if user is None:
                return self._answer(401, {"error": "unauthenticated"})
            csrf_ok = self.headers.get("X-CSRFToken") == self._cookies().get("csrftoken")
            if scheme == "session" and method == "POST" and not csrf_ok:
                return self._answer(403, {"error": "csrf"})
            if scheme == "field" and rest == "/token":  # a CSRF token in a header and a page
                token = secrets.token_hex(6)
                state.issued.add(token)
                page = f'<form><input name="csrf_token" value="{token}"></form>'
                return self._answer(200, html=page, headers={"X-CSRF-Token": token})
            if scheme == "field" and method == "POST":  # the token must come back as a field
                sent = json_body.get("csrf_token") if isinstance(json_body, dict) else None
                if (sent or form.get("csrf_token")) not in state.issued:
                    return self._answer(403, {"error": "csrf"})
            if rest == "/me":
                return self._answer(200, {"user": user})
            if rest == "/carts" and method == "POST":
                cart = secrets.token_hex(4)
                state.carts[cart] = {"owner": user, "lines": []}
                return self._answer(201, {"cart": {"id": cart}})
            lines = re.fullmatch(r"/carts/(\w+)/lines", rest)
            if lines and method == "POST":
                cart = state.carts.get(lines.group(1))
                if cart is None or cart["owner"] != user:
                    return self._answer(404, {"error": "no cart"})
                cart["lines"].append(json_body)
                return self._answer(201, {"lines": len(cart["lines"])})
            checkout = re.fullmatch(r"/carts/(\w+)/checkout", rest)
            if checkout and method == "POST":
                cart = state.carts.get(checkout.group(1))
                if cart is None or cart["owner"] != user or not cart["lines"]:
                    return self._answer(400, {"error": "empty cart"})
                if any("unit_price" in line for line in cart["lines"]):
                    return self._answer(422, {"error": "client prices refused"})
                return self._answer(
                    200,
                    {"secret": "pi_3abc_secret_xyz", "order": {"ref": f"o-{checkout.group(1)}"}},
                    headers={"X-Order-Ref": f"o-{checkout.group(1)}"},
                )
            return self._answer(404, {"error": "no route"})

    return Handler


@contextmanager
def running() -> Iterator[AuthApp]:
    state = State()
    with serving(_handler(state)) as url:
        yield AuthApp(url, state)
