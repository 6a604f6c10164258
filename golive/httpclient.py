"""golive's HTTP client: httpx, configured in one place.

Every request golive makes (to the target, to a Stripe backend, the sandbox's webhook
deliveries) goes through a client made here: no proxy from the environment (traffic stays
on the addresses golive chose), a timeout, and one TLS context per process. httpx builds
a new TLS context for every client, even one that only speaks plain http, and loading the
CA bundle costs about 50 ms of CPU each time; a gate makes dozens of clients.
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import certifi
import httpx

DEFAULT_TIMEOUT_S = 10.0


@functools.cache
def tls() -> ssl.SSLContext:
    """The process's TLS context: certifi's CA bundle, as httpx would load it."""
    return ssl.create_default_context(cafile=certifi.where())


def client(**options: Any) -> httpx.Client:
    """An httpx.Client with golive's defaults; any option may be given as for httpx."""
    return httpx.Client(**_defaults(options))


def async_client(**options: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(**_defaults(options))


def _defaults(options: dict[str, Any]) -> dict[str, Any]:
    options.setdefault("trust_env", False)
    options.setdefault("timeout", DEFAULT_TIMEOUT_S)
    options.setdefault("verify", tls())
    return options
