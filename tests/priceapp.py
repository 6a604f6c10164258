"""A small shop on 127.0.0.1 that is not the demo, for the price and data checks: its own
field names (`sku`, `qty`, per-line `lineCostMinor` in its answers, a `gift_message`),
token auth, real PaymentIntents on a Stripe sandbox and its orders in a real SQLite file.

Flaws, each a promise broken: `line-cost` (a cart line's `lineCostMinor` replaces the
menu's price), `client-currency` (a `currency` in the body becomes the charge's),
`card-in-int` (the digits of a gift message are kept in an INTEGER column), `card-in-text`
(the gift message is stored as typed), `remark-as-typed` (a `porchRemark` the profile's
flow never sends, which every order answer shows, null or as stored, is stored as typed),
`nested-quote` (a `basket_snapshot: {"amount_minor": N}` in the body, which no answer
shows, replaces the total: only this source file names it, so the tests copy it into the
app's repository folder). `tight-quota` (not a flaw) answers a user's orders beyond
QUOTA a second with 429 and `Retry-After: 1`. The correct app refuses odd quantities (400), ignores money
fields it does not take, and stores the gift message and the remark with digits masked.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import stripe

from tests.jsonhandler import JsonHandler, serving

MENU = {"TEA": 450, "MUG": 1200}
TOKENS = {"tk-ada": "ada", "tk-bob": "bob"}
SECRET_KEY = "sk_test_golive_sandbox"
QUOTA = 2  # orders per user per second under `tight-quota`


@dataclass
class PriceApp:
    base_url: str
    db: Path


def _handler(db: Path, stripe_url: str, flaws: set[str]) -> type[JsonHandler]:
    client = stripe.StripeClient(
        SECRET_KEY, base_addresses={"api": stripe_url}, max_network_retries=0
    )
    lock = threading.Lock()
    recent: dict[str, list[float]] = {}

    class Handler(JsonHandler):
        def _auth(self) -> str | None:
            header = self.headers.get("Authorization", "")
            return TOKENS.get(header.removeprefix("Token "))

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/health":
                return self._answer(200, {"ok": True})
            if self._auth() is None:
                return self._answer(401, {"error": "who are you"})
            if self.path == "/menu":
                items = [{"sku": k, "name": k.title(), "unitCost": v} for k, v in MENU.items()]
                return self._answer(200, {"items": items})
            return self._answer(404, {"error": "no such page"})

        def do_POST(self) -> None:  # noqa: N802
            if self._auth() is None:
                return self._answer(401, {"error": "who are you"})
            if self.path != "/orders":
                return self._answer(404, {"error": "no such page"})
            if "tight-quota" in flaws:
                now = time.monotonic()
                with lock:
                    mine = [t for t in recent.get(self._auth() or "", []) if now - t < 1.0]
                    recent[self._auth() or ""] = [*mine, now]
                if len(mine) >= QUOTA:
                    return self._answer(429, {"error": "slow down"}, {"Retry-After": "1"})
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            lines, total = [], 0
            for line in body.get("lines") or []:
                qty = line.get("qty")
                if not isinstance(qty, int) or isinstance(qty, bool) or not 1 <= qty <= 99:
                    return self._answer(400, {"error": "qty must be 1-99"})
                if line.get("sku") not in MENU:
                    return self._answer(400, {"error": "unknown sku"})
                cost = MENU[line["sku"]] * qty
                if "line-cost" in flaws and isinstance(line.get("lineCostMinor"), int):
                    cost = line["lineCostMinor"]
                lines.append({"sku": line["sku"], "qty": qty, "lineCostMinor": cost})
                total += cost
            if not lines:
                return self._answer(400, {"error": "no lines"})
            snapshot = body.get("basket_snapshot") or {}  # read only here: no answer shows it
            minor = snapshot.get("amount_minor") if isinstance(snapshot, dict) else None
            if "nested-quote" in flaws and isinstance(minor, int):
                total = minor
            currency = "usd"
            if "client-currency" in flaws and isinstance(body.get("currency"), str):
                currency = body["currency"]
            intent = client.v1.payment_intents.create(
                params={"amount": total, "currency": currency, "payment_method_types": ["card"]}
            )
            message = str(body.get("gift_message") or "")
            digits = re.sub(r"\D", "", message)
            code = int(digits) if "card-in-int" in flaws and digits else None
            stored = message if "card-in-text" in flaws else re.sub(r"\d", "#", message)
            remark = body.get("porchRemark")
            if isinstance(remark, str) and "remark-as-typed" not in flaws:
                remark = re.sub(r"\d", "#", remark)
            with lock, sqlite3.connect(db) as conn:
                cursor = conn.execute(
                    "INSERT INTO orders (amount, gift_code, gift_message, remark) "
                    "VALUES (?, ?, ?, ?)",
                    (total, code, stored, remark if isinstance(remark, str) else None),
                )
            order = {
                "ref": f"o-{cursor.lastrowid}",
                "lines": lines,
                "totalMinor": total,
                "porchRemark": remark if isinstance(remark, str) else None,
            }
            return self._answer(201, {"order": order, "payment_intent": intent.id})

    return Handler


@contextmanager
def running(folder: Path, stripe_url: str, flaws: set[str] | None = None) -> Iterator[PriceApp]:
    db = folder / "app.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, amount INTEGER, "
            "gift_code INTEGER, gift_message TEXT, remark TEXT)"
        )
    with serving(_handler(db, stripe_url, set(flaws or ()))) as url:
        yield PriceApp(url, db)


def profile(folder: Path, app: PriceApp, stripe_url: str, **extra: Any) -> dict[str, Any]:
    """The app's profile: no pricing rules, so the price checks judge by difference."""
    return {
        "name": "price-app",
        "mode": "test",
        "database": {"url": f"sqlite:///{app.db}"},
        "stripe": {"backend": "sandbox", "api_base": stripe_url},
        "app": {"base_url": app.base_url, "health": "/health"},
        "users": {"ada": {"token": "tk-ada"}, "bob": {"token": "tk-bob"}},
        "auth": {"header": {"name": "Authorization", "scheme": "Token", "value": "{user.token}"}},
        "flows": {
            "checkout": {
                "item": {"sku": "{item.id}", "qty": "{item.quantity}"},
                "steps": [
                    {
                        "request": {
                            "method": "POST",
                            "path": "/orders",
                            "json": {"lines": "{lines}", "gift_message": "Happy birthday!"},
                        },
                        "expect": {"status": 201},
                        "capture": {"payment_intent_id": "payment_intent", "order_id": "order.ref"},
                    }
                ],
            }
        },
        "pricing": {
            "customers": {"in_state": "ada", "out_of_state": "bob"},
            "menu_path": "/menu",
            "carts": {
                "single": [{"id": "TEA", "quantity": 1}],
                "multi": [{"id": "TEA", "quantity": 2}, {"id": "MUG", "quantity": 1}],
            },
        },
        "data": {"probe": {"user": "ada", "items": [{"id": "MUG", "quantity": 1}]}},
        **extra,
    }


def repository(folder: Path) -> dict[str, Any]:
    """A repository folder holding the app's source (this file), for the profile's
    `repository:` block: what golive/fieldmine.py reads request fields from."""
    repo = folder / "repo"
    (repo / "app").mkdir(parents=True, exist_ok=True)
    (repo / "app" / "orders.py").write_text(Path(__file__).read_text(encoding="utf-8"))
    return {"repository": {"path": "repo"}}


def source_line(text: str) -> int:
    """The line of this file that holds `text` first (what the evidence must point at)."""
    lines = Path(__file__).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)
