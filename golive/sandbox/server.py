"""Running the sandbox: embedded in a background thread (`Sandbox`) or in the foreground
(`serve`, behind `golive sandbox`). Both are uvicorn with uvloop and httptools, bound to
127.0.0.1 unless told otherwise, with access logs off."""

from __future__ import annotations

import signal
import socket
import threading
import time
from typing import Any

import uvicorn

from golive import httpclient
from golive.sandbox.app import build_app
from golive.sandbox.defaults import (
    DEFAULT_API_VERSION,
    DEFAULT_HOST,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_OBJECTS,
    DEFAULT_PORT,
    DEFAULT_TTL_S,
)
from golive.sandbox.delivery import WebhookFaults
from golive.sandbox.state import SandboxState, Settings

START_TIMEOUT_S = 15.0


def _config(app: Any, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=2,
    )


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class Sandbox:
    """A Stripe-compatible API in this process, on its own thread and event loop.

    with Sandbox() as sandbox:          # 127.0.0.1, a free port
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": sandbox.url})
    """

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = 0,
        *,
        api_version: str = DEFAULT_API_VERSION,
        idempotency_ttl_s: float = DEFAULT_TTL_S,
        max_objects: int = DEFAULT_MAX_OBJECTS,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        retry_schedule_s: list[float] | None = None,
        delivery_timeout_s: float = 5.0,
        webhook_faults: WebhookFaults | None = None,
        account: dict[str, Any] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.settings = Settings(
            api_version=api_version,
            idempotency_ttl_s=idempotency_ttl_s,
            max_objects=max_objects,
            max_body_bytes=max_body_bytes,
            retry_schedule_s=retry_schedule_s,
            delivery_timeout_s=delivery_timeout_s,
            webhook_faults=webhook_faults,
            account=account or {},
        )
        self.state: SandboxState | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return _url(self.host, self.port)

    def start(self) -> Sandbox:
        if self._thread is not None:
            raise RuntimeError("this Sandbox is already running")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        # Binding here (port 0: the kernel picks) makes the port known before serving.
        self.port = sock.getsockname()[1]
        self.settings.base_url = self.url
        self.state = SandboxState(self.settings)
        self._server = uvicorn.Server(_config(build_app(self.state), self.host, self.port))
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=f"golive-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the sandbox did not start on {self.url}")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- admin calls over HTTP, for tests -------------------------------------------------

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call /_golive/<path>; returns the decoded JSON, raises on an HTTP error."""
        with httpclient.client(base_url=self.url) as client:
            response = client.request(method, f"/_golive/{path.lstrip('/')}", **kwargs)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self.admin("POST", "reset")

    def set_account(self, fields: dict[str, Any]) -> dict[str, Any]:
        return self.admin("POST", "account", json=fields)

    def set_endpoint_secret(self, endpoint_id: str, secret: str) -> dict[str, Any]:
        """Make a webhook endpoint sign with `secret` (the one the target was given)."""
        return self.admin(
            "POST", f"webhook_endpoints/{endpoint_id}/secret", json={"secret": secret}
        )

    def complete_action(self, payment_intent_id: str) -> dict[str, Any]:
        return self.admin("POST", f"payment_intents/{payment_intent_id}/complete_action")

    def fail_action(self, payment_intent_id: str) -> dict[str, Any]:
        return self.admin("POST", f"payment_intents/{payment_intent_id}/fail_action")

    def complete_checkout_session(
        self, session_id: str, payment_method: str = "pm_card_visa"
    ) -> dict[str, Any]:
        """The customer pays the session on Checkout's page (a decline raises: 402)."""
        return self.admin(
            "POST",
            f"checkout/sessions/{session_id}/complete",
            json={"payment_method": payment_method},
        )

    def add_history(self, payments: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Past payments made at once (history.py); the ids made, payment by payment."""
        return self.admin("POST", "history", json={"payments": payments}, timeout=600)["data"]

    def clock(self) -> dict[str, Any]:
        return self.admin("GET", "clock")

    def set_clock(
        self, *, now: float | None = None, offset_s: float | None = None
    ) -> dict[str, Any]:
        """Simulated time from now on (`created` of new objects); real time with neither."""
        if now is not None:
            body: dict[str, Any] = {"now": now}
        elif offset_s is not None:
            body = {"offset_s": offset_s}
        else:
            body = {"reset": True}
        return self.admin("POST", "clock", json=body)

    def deliveries(self, event_id: str | None = None) -> list[dict[str, Any]]:
        params = {"event": event_id} if event_id else None
        return self.admin("GET", "deliveries", params=params)["data"]

    def stats(self) -> dict[str, Any]:
        return self.admin("GET", "stats")


def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    api_version: str = DEFAULT_API_VERSION,
    idempotency_ttl_s: float = DEFAULT_TTL_S,
    max_objects: int = DEFAULT_MAX_OBJECTS,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> None:
    """Run the sandbox in the foreground until SIGINT/SIGTERM."""
    settings = Settings(
        api_version=api_version,
        idempotency_ttl_s=idempotency_ttl_s,
        max_objects=max_objects,
        max_body_bytes=max_body_bytes,
        base_url=_url(host, port),
    )
    server = uvicorn.Server(_config(build_app(SandboxState(settings)), host, port))
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal with the
    # handlers it found; these make that re-raise a clean return (exit status 0).
    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run()
    except _Stopped:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _Stopped(Exception):
    pass


def _stop(signum: int, frame: object) -> None:
    raise _Stopped
