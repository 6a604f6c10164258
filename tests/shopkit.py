"""Fixtures and helpers for the reference shop's tests.

The shop always runs as a real separate process (`python -m shop`) on a free 127.0.0.1
port with a fresh SQLite file and log file, talking to golive's sandbox, which runs in the
test process (one per xdist worker: `sandbox` is session-scoped and never reset, so tests
must not depend on an empty sandbox). Tests talk to the shop over HTTP only, read its
database read-only and its log file, and never call shop code.

Bind the fixtures in a test module (`sandbox = shopkit.sandbox`, …) so pytest finds them.

    shop = start_shop(sandbox, tmp_path, flaws=["no-auth"], env={"SHOP_RATE_LIMIT": "3/60"})
    shop.checkout("alice", items=[(1, 2)]).json()
    shop.stop()                       # SIGTERM; returns the exit status

Every wait is bounded (`WAIT_S`) and fails the test, never hangs it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from golive.db.naming import Naming
from golive.db.sql_schema import check_fields, check_indexes
from golive.sandbox import Sandbox
from golive.webhooks import forge
from golive.webhooks.sender import Delivery, send_forged
from golive.webhooks.signing import encode_event

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "sk_test_golive_reference_shop"
PUBLISHABLE_KEY = "pk_test_golive_reference_shop"
API_VERSION = "2024-11-20.acacia"
TOKENS = {"alice": "tok_alice_ca", "bob": "tok_bob_ny", "carol": "tok_carol_tx"}
HANDLED_EVENTS = [
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "charge.refunded",
]
START_TIMEOUT_S = 20.0
WAIT_S = 15.0  # upper bound for anything asynchronous; a bound, not a timing check
# The menu (shop/seed.py): id -> price in cents.
PRICES = {1: 1250, 2: 899, 3: 350, 4: 1399, 5: 1099, 6: 50, 7: 425, 8: 575, 9: 1200}


def wait_for(condition: Callable[[], Any], what: str, timeout_s: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def client_for(sandbox: Sandbox) -> stripe.StripeClient:
    return stripe.StripeClient(
        SECRET_KEY, base_addresses={"api": sandbox.url}, max_network_retries=0
    )


# --- the process ------------------------------------------------------------------------------


class ShopProcess:
    def __init__(
        self,
        sandbox: Sandbox,
        workdir: Path,
        *,
        flaws: list[str] | tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        database_url: str | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.flaws = list(flaws)
        self.db_path = workdir / "shop.db"
        self.database_url = database_url or f"sqlite:///{self.db_path}"
        self.log_path = workdir / "shop.log"
        self.webhook_secret = "whsec_" + secrets.token_hex(16)
        self.extra_env = dict(env or {})
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "SHOP_"))}
        env.update(
            {
                "HOST": "127.0.0.1",
                "PORT": str(self.port),
                "DATABASE_URL": self.database_url,
                "STRIPE_SECRET_KEY": SECRET_KEY,
                "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
                "STRIPE_WEBHOOK_SECRET": self.webhook_secret,
                "STRIPE_API_VERSION": API_VERSION,
                "STRIPE_API_BASE": self.sandbox.url,
                "SHOP_FLAWS": ",".join(self.flaws),
                "SHOP_LOG_FILE": str(self.log_path),
                "PYTHONPATH": str(ROOT),
            }
        )
        env.update(self.extra_env)
        return env

    def start(self) -> ShopProcess:
        for _ in range(3):  # a port picked free can be taken before the shop binds it
            self.port = free_port()
            stderr = (self.workdir / "stderr.txt").open("wb")
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "shop"],
                cwd=self.workdir,
                env=self.environment(),
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
            stderr.close()
            if self._wait_ready():
                return self
            if "address already in use" not in self.stderr().lower():
                break
        raise RuntimeError(f"the shop did not start (flaws {self.flaws}):\n{self.stderr()}")

    def _wait_ready(self) -> bool:
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        with httpx.Client(trust_env=False, timeout=2) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    return False
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return True
                time.sleep(0.02)
        self.stop()
        return False

    def stop(self, sig: int = signal.SIGTERM, *, wait: bool = True) -> int | None:
        """Signal the shop and wait for its exit status; `wait=False` lets it finish shutting
        down while the tests go on (a background thread reaps it, killing it if it hangs)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return self.returncode
        if proc.poll() is None:
            proc.send_signal(sig)
        if not wait:
            threading.Thread(target=_reap, args=(proc,), daemon=True).start()
            return None
        self.returncode = _reap(proc)
        return self.returncode

    def stderr(self) -> str:
        path = self.workdir / "stderr.txt"
        return path.read_text(errors="replace") if path.exists() else ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/api/v1/stripe/webhook"

    # -- HTTP ----------------------------------------------------------------------------------

    def request(
        self, method: str, path: str, user: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if user is not None:
            headers["Authorization"] = f"Bearer {TOKENS.get(user, user)}"
        with httpx.Client(base_url=self.url, trust_env=False, timeout=30) as client:
            return client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, user: str | None = None, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, user, **kwargs)

    def post(self, path: str, user: str | None = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, user, **kwargs)

    def checkout(
        self,
        user: str,
        items: list[tuple[int, int]] | None = None,
        *,
        key: str | None = "auto",
        **fields: Any,
    ) -> httpx.Response:
        """POST create-payment-intent; `key="auto"` sends a fresh Idempotency-Key, None none."""
        body: dict[str, Any] = dict(fields)
        if items is not None:
            body["items"] = [{"food_item_id": i, "quantity": q} for i, q in items]
        headers = {}
        if key == "auto":
            key = uuid.uuid4().hex
        if key is not None:
            headers["Idempotency-Key"] = key
        return self.post("/api/v1/stripe/create-payment-intent", user, json=body, headers=headers)

    def pending_order(
        self, user: str = "alice", items: list[tuple[int, int]] | None = None
    ) -> dict:
        response = self.checkout(user, items or [(1, 2), (2, 1)])
        assert response.status_code == 200, response.text
        return response.json()

    def order(self, order_id: int, user: str = "alice") -> dict:
        response = self.get(f"/api/v1/orders/{order_id}", user)
        assert response.status_code == 200, response.text
        return response.json()

    def status(self, order_id: int, user: str = "alice") -> str:
        return self.order(order_id, user)["payment_status"]

    def wait_status(self, order_id: int, status: str, user: str = "alice") -> dict:
        return wait_for(
            lambda: (o := self.order(order_id, user))["payment_status"] == status and o,
            f"order {order_id} to be {status}",
        )

    def notifications(self, user: str = "alice", order_id: int | None = None) -> list[dict]:
        response = self.get("/api/v1/notifications", user)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        return [n for n in data if order_id is None or n["order_id"] == order_id]

    def cart(self, user: str = "alice") -> dict:
        response = self.get("/api/v1/cart", user)
        assert response.status_code == 200, response.text
        return response.json()

    # -- webhooks --------------------------------------------------------------------------

    def send(
        self,
        variant: str,
        event: dict | bytes,
        copies: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> list[Delivery]:
        """A forge variant of `event`, signed (or not) as the variant says, sent to the shop
        (with `headers` added)."""
        payload = event if isinstance(event, bytes) else encode_event(event)
        forged = forge.build(variant, payload, self.webhook_secret, copies=copies)
        forged = forge.with_headers(forged, headers or {})
        return send_forged(self.webhook_url, forged, timeout=30)

    def send_signed(self, event: dict) -> Delivery:
        [delivery] = self.send("signed", event)
        return delivery

    def wait_processed(self, event_id: str, count: int = 1) -> list[dict]:
        """Log records of the event's processing (or of it being a duplicate)."""
        return wait_for(
            lambda: (
                len(
                    found := [
                        r
                        for r in self.log_records()
                        if r.get("event_id") == event_id
                        and r["event"] in ("webhook_processed", "webhook_duplicate")
                    ]
                )
                >= count
                and found
            ),
            f"event {event_id} processed {count}x",
        )

    # -- what the shop wrote -------------------------------------------------------------------

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8") if self.log_path.exists() else ""

    def log_records(self) -> list[dict]:
        return [json.loads(line) for line in self.log_text().splitlines() if line.strip()]

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read-only SQL on the shop's SQLite file."""
        uri = f"file:{self.db_path}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as conn:
            return conn.execute(sql, params).fetchall()

    def database_dump(self) -> str:
        """Every row of every table as text (what a card-number scan would look at)."""
        tables = [r[0] for r in self.query("SELECT name FROM sqlite_master WHERE type='table'")]
        return "\n".join(repr(row) for t in tables for row in self.query(f'SELECT * FROM "{t}"'))


def _reap(proc: subprocess.Popen[bytes]) -> int:
    try:
        return proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=5)


def start_shop(sandbox: Sandbox, workdir: Path, **kwargs: Any) -> ShopProcess:
    return ShopProcess(sandbox, workdir, **kwargs).start()


# --- Stripe-side helpers --------------------------------------------------------------------


def intent_json(sandbox: Sandbox, intent_id: str) -> dict:
    """The PaymentIntent exactly as the API returns it."""
    with httpx.Client(base_url=sandbox.url, trust_env=False, timeout=10) as client:
        response = client.get(
            f"/v1/payment_intents/{intent_id}", headers={"Authorization": f"Bearer {SECRET_KEY}"}
        )
    response.raise_for_status()
    return response.json()


def event_for(
    sandbox: Sandbox, intent_id: str, type_: str = "payment_intent.succeeded", **changes: Any
) -> dict:
    """An event about the real PaymentIntent, as Stripe would send it (paid unless told)."""
    intent = intent_json(sandbox, intent_id)
    if type_ == "payment_intent.succeeded":
        intent.update(
            status="succeeded",
            amount_received=intent["amount"],
            latest_charge=f"ch_shoptest{uuid.uuid4().hex[:16]}",
        )
    elif type_ == "payment_intent.payment_failed":
        intent.update(status="requires_payment_method")
    intent.update(changes)
    return make_event(type_, intent)


def refund_event(intent_id: str, amount: int) -> dict:
    charge = {
        "id": f"ch_shoptest{uuid.uuid4().hex[:16]}",
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": amount,
        "refunded": True,
        "currency": "usd",
        "payment_intent": intent_id,
        "status": "succeeded",
    }
    return make_event("charge.refunded", charge)


def make_event(type_: str, obj: dict) -> dict:
    return {
        "id": f"evt_shoptest{uuid.uuid4().hex[:20]}",
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }


def pay_with_signed_event(shop: ShopProcess, order: dict, user: str = "alice") -> dict:
    """Mark a pending order paid the way Stripe would: a signed payment_intent.succeeded."""
    event = event_for(shop.sandbox, order["payment_intent_id"])
    assert shop.send_signed(event).status == 200
    return shop.wait_status(order["order_id"], "paid", user)


@contextlib.contextmanager
def registered_webhook(
    sandbox: Sandbox, shop: ShopProcess, events: list[str] = HANDLED_EVENTS
) -> Iterator[Any]:
    """The shop's webhook URL registered with the sandbox, signing with the shop's secret."""
    client = client_for(sandbox)
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": shop.webhook_url, "enabled_events": events}
    )
    sandbox.set_endpoint_secret(endpoint.id, shop.webhook_secret)
    try:
        yield endpoint
    finally:
        client.v1.webhook_endpoints.delete(endpoint.id)


def judge_schema(url: str) -> dict[str, bool]:
    """golive's own db.fields / db.indexes verdicts on the shop's database, by subject."""
    from tests.dbservers import SEED_FIELDS, SEED_INDEXES

    fields = check_fields(url, Naming(), SEED_FIELDS)
    indexes = check_indexes(url, Naming(), SEED_INDEXES)
    return {f"field {f.subject}": f.ok for f in fields} | {
        f"index {i.subject}": i.ok for i in indexes
    }


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    # Short retries: a shop that was stopped with a delivery in flight is given up on fast.
    with Sandbox(retry_schedule_s=[0.2, 0.5]) as started:
        yield started


@pytest.fixture(scope="session")
def stripe_client(sandbox: Sandbox) -> stripe.StripeClient:
    return client_for(sandbox)


@pytest.fixture
def shop_factory(sandbox: Sandbox, tmp_path: Path) -> Iterator[Callable[..., ShopProcess]]:
    """Start shops for one test (each in its own folder); all are stopped afterwards."""
    started: list[ShopProcess] = []

    def start(**kwargs: Any) -> ShopProcess:
        shop = ShopProcess(sandbox, tmp_path / f"shop{len(started)}", **kwargs)
        started.append(shop)
        return shop.start()

    yield start
    for shop in started:
        shop.stop(wait=False)


def module_shop(
    request: pytest.FixtureRequest,
    sandbox: Sandbox,
    tmp_path_factory: pytest.TempPathFactory,
    **kwargs: Any,
) -> Iterator[ShopProcess]:
    """For module-scoped fixtures: one correct shop shared by a module's tests."""
    shop = start_shop(
        sandbox, tmp_path_factory.mktemp(request.module.__name__.split(".")[-1]), **kwargs
    )
    try:
        yield shop
    finally:
        shop.stop()
