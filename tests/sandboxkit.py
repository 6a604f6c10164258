"""Fixtures for the sandbox tests: a started in-process Sandbox and the official stripe
client pointed at it (the oracle for Stripe compatibility).

Bind them in a test module (`sandbox = sandboxkit.sandbox`, and `_module_sandbox` with it)
so pytest finds them. Each test module has its own sandbox on a free 127.0.0.1 port, reset
(`POST /_golive/reset`) before every test, so tests neither see each other's objects nor
collide when run in parallel.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from golive.sandbox import Sandbox

SECRET_KEY = "sk_test_golive_sandbox"
PUBLISHABLE_KEY = "pk_test_golive_sandbox"
WAIT_S = 15.0  # upper bound for something asynchronous (a webhook) to happen; not a timing check


@pytest.fixture(scope="module")
def _module_sandbox() -> Iterator[Sandbox]:
    # One server per test module (per xdist worker), wiped before each test: starting and
    # stopping uvicorn costs a few hundred milliseconds a time.
    with Sandbox(retry_schedule_s=[0.05, 0.1]) as started:
        yield started


@pytest.fixture
def sandbox(_module_sandbox: Sandbox) -> Sandbox:
    _module_sandbox.reset()
    return _module_sandbox


@pytest.fixture
def stripe_client(sandbox: Sandbox) -> stripe.StripeClient:
    return client_for(sandbox)


def client_for(sandbox: Sandbox, api_key: str = SECRET_KEY) -> stripe.StripeClient:
    return stripe.StripeClient(api_key, base_addresses={"api": sandbox.url}, max_network_retries=0)


def paid_intent(
    client: stripe.StripeClient, amount: int = 2000, **params: Any
) -> stripe.PaymentIntent:
    """A card PaymentIntent confirmed with pm_card_visa (succeeded unless told otherwise)."""
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "payment_method_types": ["card"],
            "payment_method": "pm_card_visa",
            "confirm": True,
            **params,
        }
    )


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    """Poll until `condition()` is truthy; fail (not time) if it never becomes so."""
    deadline = time.monotonic() + WAIT_S
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


@dataclass
class Receiver:
    """A real webhook receiver on 127.0.0.1: records each POST, answers `status`."""

    status: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(item["body"]) for item in list(self.received)]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.received.append({"headers": dict(self.headers), "body": body})
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    state.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=state.server.serve_forever, daemon=True)
    thread.start()
    yield state
    state.server.shutdown()
    state.server.server_close()
