"""A small paying app on 127.0.0.1 whose webhook can be broken in ways golive was never
told about: its checkout creates a real PaymentIntent in a sandbox and keeps the order in
SQLite; its webhook verifies with Stripe's own library and marks the order paid.

Flaws (each a way a real app skips verification, or refuses everything):
- `advertised-header`: a header with a made-up name skips verification, and the 400 body
  says so ("… send X-Parrot-Wave: 1 for local testing").
- `advertised-magic`: a magic `Stripe-Signature` value is let through, and every 400
  carries a response header saying which.
- `pattern-header`: `X-Qa-Bypass-Sig: yes` skips verification, advertised nowhere.
- `rejects-all`: every delivery is answered 400, signed or not.
- `slow-real`: a real order's payment takes 2.5 s before the answer; unknown
  PaymentIntents are answered at once.
- `reverify-reencoded`: when the raw body does not verify, the body re-encoded by
  json.dumps is verified instead ("proxies reformat JSON").
- `query-cap` (not a flaw): a request with more than QUERY_CAP query parameters crashes
  with a 500, as Django's ASGI handler does past DATA_UPLOAD_MAX_NUMBER_FIELDS.
- `books-every-event`: a payment row per event type (payment_intent.succeeded and
  charge.succeeded each book one), deduplicated within a type only.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import stripe
import yaml

from tests.jsonhandler import JsonHandler, serving

WEBHOOK_SECRET = "whsec_goliveWebhookAppSecret000000000001"
SECRET_KEY = "sk_test_golive_webhookapp"
TOKENS = {"tk-ada": "ada"}
MENU = {"TEA": 450, "MUG": 1200}
SLOW_S = 2.5
QUERY_CAP = 20
# Made-up bypasses: no list in golive has them; only the app's own answers tell.
ADVERTISED_HEADER = ("X-Parrot-Wave", "1")
ADVERTISED_MAGIC = "kumquat-7"
PATTERN_HEADER = ("X-Qa-Bypass-Sig", "yes")


@dataclass
class WebhookApp:
    base_url: str
    db: Path


def _schema(db: Path, flaws: set[str]) -> None:
    unique = "UNIQUE (pi, source)" if "books-every-event" in flaws else "UNIQUE (pi)"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, pi TEXT, status TEXT)")
        conn.execute(
            f"CREATE TABLE payments (id INTEGER PRIMARY KEY, pi TEXT, source TEXT, {unique})"
        )


def _handler(db: Path, api_base: str, flaws: set[str]) -> type[JsonHandler]:
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": api_base})
    lock = threading.Lock()

    class Handler(JsonHandler):
        def do_GET(self) -> None:
            self._answer(200 if self.path == "/health" else 404, {"ok": True})

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = self.path.split("?")[0]
            if path == "/checkout":
                return self._checkout(raw)
            if path == "/webhook":
                return self._webhook(raw)
            return self._answer(404, {"error": "no route"})

        def _checkout(self, raw: bytes) -> None:
            auth = self.headers.get("Authorization", "")
            if TOKENS.get(auth.removeprefix("Token ")) is None:
                return self._answer(401, {"error": "unauthenticated"})
            lines = json.loads(raw or b"{}").get("lines") or []
            amount = sum(MENU[line["sku"]] * int(line["qty"]) for line in lines)
            intent = client.v1.payment_intents.create(
                params={"amount": amount, "currency": "usd", "payment_method_types": ["card"]}
            )
            with lock, sqlite3.connect(db) as conn:
                cur = conn.execute(
                    "INSERT INTO orders (pi, status) VALUES (?, 'pending')", (intent.id,)
                )
            self._answer(
                201, {"order": {"ref": cur.lastrowid}, "client_secret": intent.client_secret}
            )

        def _reject(self, why: str) -> None:
            body: dict[str, Any] = {"error": why}
            headers = {}
            if "advertised-header" in flaws:
                name, value = ADVERTISED_HEADER
                body["error"] += f" (for local testing send {name}: {value} instead)"
            if "advertised-magic" in flaws:
                headers["X-Dev-Note"] = f'signature "{ADVERTISED_MAGIC}" is accepted in dev'
            self._answer(400, body, headers=headers)

        def _bypassed(self) -> bool:
            sent = {k.lower(): v for k, v in self.headers.items()}
            for flaw, (name, value) in (
                ("advertised-header", ADVERTISED_HEADER),
                ("pattern-header", PATTERN_HEADER),
            ):
                if flaw in flaws and sent.get(name.lower()) == value:
                    return True
            signature = sent.get("stripe-signature")
            return "advertised-magic" in flaws and signature == ADVERTISED_MAGIC

        def _webhook(self, raw: bytes) -> None:
            if "query-cap" in flaws and self.path.count("&") + 1 > QUERY_CAP:
                return self._answer(500, {"error": "Internal Server Error"})
            if "rejects-all" in flaws:
                return self._answer(400, {"error": "webhooks are switched off"})
            if self._bypassed():
                event = json.loads(raw)
            else:
                signature = self.headers.get("Stripe-Signature")
                if not signature:
                    return self._reject("missing Stripe-Signature")
                try:
                    event = stripe.Webhook.construct_event(
                        raw, signature, WEBHOOK_SECRET, tolerance=300
                    )
                except (stripe.SignatureVerificationError, ValueError):
                    if "reverify-reencoded" not in flaws:
                        return self._reject("invalid signature")
                    try:
                        reencoded = json.dumps(json.loads(raw)).encode()
                        event = stripe.Webhook.construct_event(
                            reencoded, signature, WEBHOOK_SECRET, tolerance=300
                        )
                    except (stripe.SignatureVerificationError, ValueError):
                        return self._reject("invalid signature")
            obj = event["data"]["object"]
            if event["type"] == "payment_intent.succeeded":
                self._paid(obj["id"], "intent")
            elif event["type"] == "charge.succeeded" and "books-every-event" in flaws:
                self._paid(obj["payment_intent"], "charge")
            self._answer(200, {"received": True})

        def _paid(self, intent: str, source: str) -> None:
            with lock, sqlite3.connect(db) as conn:
                known = conn.execute("SELECT count(*) FROM orders WHERE pi = ?", (intent,))
                if not known.fetchone()[0]:
                    return
                if "slow-real" in flaws:
                    time.sleep(SLOW_S)
                conn.execute("UPDATE orders SET status = 'paid' WHERE pi = ?", (intent,))
                conn.execute(
                    "INSERT OR IGNORE INTO payments (pi, source) VALUES (?, ?)", (intent, source)
                )

    return Handler


@contextmanager
def running(folder: Path, api_base: str, flaws: set[str] = frozenset()) -> Iterator[WebhookApp]:
    db = folder / "app.db"
    _schema(db, set(flaws))
    with serving(_handler(db, api_base, set(flaws))) as url:
        yield WebhookApp(url, db)


def write_profile(folder: Path, app: WebhookApp, api_base: str, **extra: Any) -> Path:
    """The profile golive needs for the webhook checks: the app, its secret, the sandbox it
    pays through, a checkout flow and an observer on its SQLite database."""
    (folder / "app.env").write_text(
        f"STRIPE_WEBHOOK_SECRET={WEBHOOK_SECRET}\nSTRIPE_SECRET_KEY={SECRET_KEY}\n"
    )
    count = "SELECT count(*) FROM {table} WHERE pi = :payment_intent"
    data: dict[str, Any] = {
        "name": "webhook-app",
        "mode": "test",
        "env": {"file": "app.env"},
        "database": {"url": f"sqlite:///{app.db}"},
        "stripe": {"backend": "sandbox", "api_base": api_base},
        "app": {"base_url": app.base_url, "health": "/health", "webhook_path": "/webhook"},
        "users": {"ada": {"token": "tk-ada"}},
        "auth": {"header": {"name": "Authorization", "scheme": "Token", "value": "{user.token}"}},
        "flows": {
            "checkout": {
                "item": {"sku": "{item.id}", "qty": "{item.quantity}"},
                "steps": [
                    {
                        "request": {
                            "method": "POST",
                            "path": "/checkout",
                            "json": {"lines": "{lines}"},
                        },
                        "expect": {"status": 201},
                        "capture": {"client_secret": "client_secret"},
                    }
                ],
            }
        },
        "observer": {
            "sql": {
                "counts": {
                    "orders": count.format(table="orders"),
                    "paid_orders": count.format(table="orders") + " AND status = 'paid'",
                    "payments": count.format(table="payments"),
                }
            },
            "order": {"user": "ada", "cart": [{"id": "MUG", "quantity": 1}]},
            "deadline_s": 5,
            "settle_s": 0.5,
        },
        **extra,
    }
    profile = folder / "target.yaml"
    profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return profile
