"""A small shop on 127.0.0.1 whose checkout goes through a resource of its own: a
*wishlist* is made, filled item by item, then checked out into an order. The profile's
`api.owned` names only the order, so the wishlist is found by golive only through the
flows (golive/api_probes.py). Users send `Authorization: Token tk-<name>`. Its webhook
endpoint verifies Stripe's signature with the secret it is given.

Flaws, each one promise broken: `wishlist-idor` (any user reads and fills any wishlist),
`nul-trace` (a NUL character in a wishlist item's string field crashes the handler, and
the answer shows the Python traceback), `webhook-trace` (a signed event whose object is not
what the handler expects is answered 500 with a Node-style stack trace and the database
URL).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tests.jsonhandler import JsonHandler, serving

TOKENS = {"tk-ada": "ada", "tk-bob": "bob"}
MENU = {"TEA": 450, "MUG": 1200}
WEBHOOK_PATH = "/hooks/stripe"
TRACE = (
    "Traceback (most recent call last):\n"
    '  File "/srv/shop/views.py", line 88, in add_item\n'
    "    row = db.execute(sql, (sku,))\n"
    "ValueError: embedded null character"
)
NODE_TRACE = (
    "TypeError: Cannot read properties of undefined (reading 'id')\n"
    "    at handleEvent (/srv/shop/hooks.js:31:18)\n"
    "    at Layer.handle (/srv/shop/node_modules/express/lib/router/layer.js:95:5)"
)


@dataclass
class State:
    flaws: set[str]
    secret: str
    lists: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    hits: list[tuple[str, str, str | None, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class FlowApp:
    base_url: str
    state: State


def _verified(header: str, payload: bytes, secret: str) -> bool:
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    if "t" not in parts or abs(time.time() - int(parts["t"])) > 300:
        return False
    signed = parts["t"].encode() + b"." + payload
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    v1 = [p.split("=", 1)[1] for p in header.split(",") if p.startswith("v1=")]
    return any(hmac.compare_digest(expected, sig) for sig in v1)


def _handler(state: State) -> type[JsonHandler]:
    class Handler(JsonHandler):
        def do_GET(self) -> None:
            self._route("GET", b"")

        def do_POST(self) -> None:
            self._route("POST", self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        def _answer(self, status: int, body: Any = None, headers: Any = None, html: Any = None):  # type: ignore[override]
            with state.lock:
                state.hits.append((self.command, self.path, self._who(), status))
            super()._answer(status, body, headers, html)

        def _who(self) -> str | None:
            auth = self.headers.get("Authorization", "")
            return TOKENS.get(auth[6:]) if auth.startswith("Token ") else None

        def _route(self, method: str, raw: bytes) -> None:
            path = urlsplit(self.path).path
            if path == "/health":
                return self._answer(200, {"ok": True})
            if path == WEBHOOK_PATH and method == "POST":
                return self._webhook(raw)
            user = self._who()
            if user is None:
                return self._answer(401, {"error": "invalid token"})
            if path == "/api/wishlists" and method == "POST":
                ref = f"w-{len(state.lists) + 1}"
                with state.lock:
                    state.lists[ref] = {"owner": user, "items": [], "open": True}
                return self._answer(201, {"wishlist": {"ref": ref}})
            found = re.fullmatch(r"/api/wishlists/(w-\d+)(/items|/checkout)?", path)
            if found:
                return self._wishlist(user, method, found.group(1), found.group(2), raw)
            found = re.fullmatch(r"/api/orders/(o-\d+)(/refund)?", path)
            if found:
                order = state.orders.get(found.group(1))
                if order is None or order["owner"] != user:
                    return self._answer(404, {"error": "no such order"})
                if found.group(2) and method == "POST":
                    return self._answer(409, {"error": "the order is not paid"})
                if method == "GET":
                    return self._answer(200, {"order": {**order, "ref": found.group(1)}})
            return self._answer(404, {"error": "no route"})

        def _wishlist(
            self, user: str, method: str, ref: str, action: str | None, raw: bytes
        ) -> None:
            wishlist = state.lists.get(ref)
            if wishlist is None or (
                wishlist["owner"] != user and "wishlist-idor" not in state.flaws
            ):
                return self._answer(404, {"error": "no such wishlist"})
            if method == "GET" and action is None:
                return self._answer(200, {"wishlist": {"ref": ref, **wishlist}})
            if method != "POST" or action is None:
                return self._answer(405, {"error": "method"})
            if not wishlist["open"]:
                return self._answer(409, {"error": "the wishlist is checked out"})
            if action == "/checkout":
                if not wishlist["items"]:
                    return self._answer(400, {"error": "empty"})
                order_ref = f"o-{len(state.orders) + 1}"
                total = sum(MENU[i["sku"]] * i["qty"] for i in wishlist["items"])
                with state.lock:
                    wishlist["open"] = False
                    state.orders[order_ref] = {"owner": user, "total": total, "state": "open"}
                number = order_ref[2:]
                return self._answer(
                    201,
                    {
                        "order": {"ref": order_ref, "total": total},
                        "payment": {"client_secret": f"pi_fa{number}_secret_x"},
                    },
                )
            try:
                item = json.loads(raw or b"null")
            except ValueError:
                return self._answer(400, {"error": "malformed JSON"})
            if not isinstance(item, dict):
                return self._answer(400, {"error": "an item is an object"})
            strings = [v for v in item.values() if isinstance(v, str)]
            if "nul-trace" in state.flaws and any("\x00" in v for v in strings):
                return self._answer(500, {"error": TRACE})
            if any("\x00" in v or len(v) > 200 for v in strings):
                return self._answer(400, {"error": "bad string"})
            sku, qty = item.get("sku"), item.get("qty")
            if (
                not isinstance(sku, str)
                or sku not in MENU
                or not isinstance(qty, int)
                or isinstance(qty, bool)
                or qty < 1
            ):
                return self._answer(400, {"error": "bad item"})
            with state.lock:
                wishlist["items"].append({"sku": sku, "qty": qty})
            return self._answer(201, {"items": len(wishlist["items"])})

        def _webhook(self, raw: bytes) -> None:
            if not _verified(self.headers.get("Stripe-Signature", ""), raw, state.secret):
                return self._answer(400, {"error": "bad signature"})
            try:
                event = json.loads(raw)
                obj = event["data"]["object"]
                assert isinstance(obj, dict) and isinstance(obj["id"], str)
                assert isinstance(obj.get("metadata", {}), dict)
            except (ValueError, KeyError, TypeError, AssertionError):
                if "webhook-trace" in state.flaws:
                    detail = f"{NODE_TRACE}\nDATABASE_URL=postgres://shop:hunter22@db:5432/shop"
                    return self._answer(500, html=f"<pre>{detail}</pre>")
                return self._answer(400, {"error": "unexpected event"})
            return self._answer(200, {"received": True})

    return Handler


@contextmanager
def running(flaws: set[str] | frozenset[str], secret: str) -> Iterator[FlowApp]:
    state = State(set(flaws), secret)
    with serving(_handler(state)) as url:
        yield FlowApp(url, state)
