"""golive's HTTP client: httpx, configured in one place.

Every request golive makes (to the target, to a Stripe backend, the sandbox's webhook
deliveries) goes through a client made here: no proxy from the environment (traffic stays
on the addresses golive chose), a timeout, and one TLS context per process. httpx builds
a new TLS context for every client, even one that only speaks plain http, and loading the
CA bundle costs about 50 ms of CPU each time; a gate makes dozens of clients.

Sync clients send through a transport that keeps to the running check's time budget
(golive/budget.py): no request waits longer than the check and the run have left, and a
host that stops answering stops the check instead of costing every timeout in series.
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import certifi
import httpx

from golive import budget

DEFAULT_TIMEOUT_S = 10.0


@functools.cache
def tls() -> ssl.SSLContext:
    """The process's TLS context: certifi's CA bundle, as httpx would load it."""
    return ssl.create_default_context(cafile=certifi.where())


def client(**options: Any) -> httpx.Client:
    """An httpx.Client with golive's defaults; any option may be given as for httpx."""
    options = _defaults(options)
    transport = {k: options.pop(k) for k in _TRANSPORT_OPTIONS if k in options}
    inner = options.pop("transport", None) or httpx.HTTPTransport(
        trust_env=options["trust_env"], **transport
    )
    return httpx.Client(transport=BudgetedTransport(inner), **options)


def async_client(**options: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(**_defaults(options))


def _defaults(options: dict[str, Any]) -> dict[str, Any]:
    options.setdefault("trust_env", False)
    options.setdefault("timeout", DEFAULT_TIMEOUT_S)
    options.setdefault("verify", tls())
    return options


# Client options that configure the transport (httpx ignores them when given a transport).
_TRANSPORT_OPTIONS = ("verify", "cert", "http1", "http2", "limits")


class BudgetedTransport(httpx.BaseTransport):
    """Caps each request's timeouts to what the running check has left, and tells the
    budget whether the host answered; BudgetExceeded (not an httpx error, so a check's
    `except httpx.HTTPError` does not swallow it) when the check must stop."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if budget.active() is None:
            return self.inner.handle_request(request)
        host = f"{request.url.host}:{request.url.port or _DEFAULT_PORTS.get(request.url.scheme)}"
        timeouts = dict(request.extensions.get("timeout") or {})
        wanted = max((t for t in timeouts.values() if t is not None), default=DEFAULT_TIMEOUT_S)
        allowed = budget.request_timeout(host, wanted)
        request.extensions["timeout"] = {
            phase: allowed if t is None else min(t, allowed) for phase, t in timeouts.items()
        } or {phase: allowed for phase in ("connect", "read", "write", "pool")}
        try:
            response = self.inner.handle_request(request)
        except httpx.TimeoutException:
            budget.timed_out(host, allowed)
            raise
        budget.answered(host)
        return response

    def close(self) -> None:
        self.inner.close()


_DEFAULT_PORTS = {"http": 80, "https": 443}
