"""Deliver webhook events to a receiver the way Stripe does: one POST of exact bytes.

Uses `http.client` rather than a higher-level client so the bytes and headers recorded
are exactly those sent (nothing re-encoded, no redirect followed: Stripe treats a 3xx as
a failed delivery). Traffic goes only to loopback addresses unless the caller names the
host in `allow_hosts` (the staging hosts of a target profile). Inside a gate check the
timeouts keep to the check's time budget (golive/budget.py).
"""

from __future__ import annotations

import contextlib
import http.client
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit

from golive import budget
from golive.errors import InputError
from golive.loopback import is_loopback_host
from golive.redact import DEFAULT as REDACT
from golive.redact import Redactor
from golive.webhooks.forge import SIGNATURE_HEADER, Forged
from golive.webhooks.signing import encode_event, redact_header, sign_header

DEFAULT_TIMEOUT_S = 10.0  # Stripe itself gives up on an endpoint after about 10 s
EXCERPT_CHARS = 200
BODY_CHARS = 8192
_MAX_READ = 64 * 1024  # a webhook answer is tiny; never buffer an unbounded body
MAX_CONCURRENCY = 50

# What Stripe's webhook deliveries carry besides the signature.
STRIPE_HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    "Accept": "*/*; q=0.5, application/xml",
    "Cache-Control": "no-cache",
}
_HIDDEN_HEADERS = {"authorization", "proxy-authorization", "cookie"}


class HostNotAllowed(InputError):
    """The URL points outside loopback and its host is not in the allow list."""


@dataclass(frozen=True)
class Delivery:
    """The outcome of one POST. `status` is None when no HTTP answer came (see `error`)."""

    status: int | None
    latency_ms: float
    body_excerpt: str
    request_headers: dict[str, str] = field(repr=False)
    payload: bytes = field(repr=False)
    error: str | None = None
    timed_out: bool = False  # no answer within the timeout (as opposed to a refused connection)
    # The answer in full (redacted, up to BODY_CHARS) and its headers: where an app's
    # rejection may advertise a bypass (golive/webhooks/hints.py reads them).
    body_text: str = field(default="", repr=False)
    response_headers: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def redacted_headers(self) -> dict[str, str]:
        return {name: _redact_header(name, value) for name, value in self.request_headers.items()}

    def __repr__(self) -> str:
        return (
            f"Delivery(status={self.status}, latency_ms={self.latency_ms:.1f}, "
            f"body_excerpt={self.body_excerpt!r}, request_headers={self.redacted_headers()!r}, "
            f"payload=<{len(self.payload)} bytes>, error={self.error!r})"
        )


def _redact_header(name: str, value: str) -> str:
    if name.lower() == SIGNATURE_HEADER.lower():
        return redact_header(value)
    if name.lower() in _HIDDEN_HEADERS:
        return "…"
    return REDACT.text(value)


# --- where traffic may go -------------------------------------------------------------------


def check_url(url: str, allow_hosts: Iterable[str] = ()) -> SplitResult:
    """The parsed URL if golive may send to it; HostNotAllowed or InputError otherwise."""
    parts = urlsplit(url)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise InputError(
            f"not an http(s) URL with a host and valid port: {REDACT.text(url)}",
            hint="e.g. http://127.0.0.1:8000/webhooks/stripe",
        )
    host = parts.hostname.lower()
    allowed = {h.strip().lower().strip("[]") for h in allow_hosts if h.strip()}
    if host not in allowed and not is_loopback_host(host):
        raise HostNotAllowed(
            f"refusing to send to {host}: not a loopback address",
            hint="golive only sends to 127.0.0.0/8 unless the host is allowed explicitly "
            "(--allow-host, or the staging hosts of the target profile)",
        )
    return parts


# --- sending --------------------------------------------------------------------------------


def send_event(
    url: str,
    secret: str,
    event: dict[str, Any] | bytes,
    *,
    timestamp: int | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    allow_hosts: Iterable[str] = (),
    redactor: Redactor = REDACT,
) -> Delivery:
    """Sign `event` (a dict is encoded as Stripe does; bytes are sent as they are) and POST it.
    `redactor` masks the answer's excerpt (give the run's: it knows the target's secrets)."""
    payload = event if isinstance(event, bytes) else encode_event(event)
    signed = {SIGNATURE_HEADER: sign_header(payload, secret, timestamp), **(headers or {})}
    return deliver(
        url, payload, signed, timeout=timeout, allow_hosts=allow_hosts, redactor=redactor
    )


def deliver(
    url: str,
    payload: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    allow_hosts: Iterable[str] = (),
    redactor: Redactor = REDACT,
) -> Delivery:
    """POST `payload` with Stripe's usual headers plus `headers`, signing nothing."""
    parts = check_url(url, allow_hosts)
    timeout = budget.request_timeout(_host(parts), timeout)
    request = _Request(parts, payload, headers, timeout, redactor)
    request.connect()
    return _counted(parts, request.send(), timeout)


def deliver_many(
    url: str,
    requests: Sequence[tuple[bytes, Mapping[str, str]]],
    *,
    concurrency: int = 1,
    timeout: float = DEFAULT_TIMEOUT_S,
    allow_hosts: Iterable[str] = (),
    redactor: Redactor = REDACT,
) -> list[Delivery]:
    """Each (payload, headers) once, at most `concurrency` in flight; results in order."""
    parts = check_url(url, allow_hosts)
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InputError(f"concurrency must be between 1 and {MAX_CONCURRENCY}")

    def one(item: tuple[bytes, Mapping[str, str]], wait_s: float) -> Delivery:
        request = _Request(parts, item[0], item[1], wait_s, redactor)
        request.connect()
        return request.send()

    if concurrency == 1:
        results = []
        for item in requests:
            wait_s = budget.request_timeout(_host(parts), timeout)
            results.append(_counted(parts, one(item, wait_s), wait_s))
        return results
    wait_s = budget.request_timeout(_host(parts), timeout)
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(lambda item: one(item, wait_s), requests))
    return [_counted(parts, delivery, wait_s) for delivery in results]


def deliver_together(
    url: str,
    payload: bytes,
    headers: Mapping[str, str],
    copies: int,
    *,
    timeout: float = DEFAULT_TIMEOUT_S,
    allow_hosts: Iterable[str] = (),
    redactor: Redactor = REDACT,
) -> list[Delivery]:
    """`copies` identical POSTs released at one instant.

    Every connection is opened first; a barrier then lets all threads write their request
    together, so the receiver really sees them in flight at once.
    """
    parts = check_url(url, allow_hosts)
    if not 1 <= copies <= MAX_CONCURRENCY:
        raise InputError(f"concurrent copies must be between 1 and {MAX_CONCURRENCY}")
    timeout = budget.request_timeout(_host(parts), timeout)
    barrier = threading.Barrier(copies)
    results: list[Delivery | None] = [None] * copies

    def one(index: int) -> None:
        request = _Request(parts, payload, headers, timeout, redactor)
        request.connect()
        # A peer that failed to start breaks the barrier: send anyway rather than not at all.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout)
        results[index] = request.send()

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [_counted(parts, r, timeout) for r in results if r is not None]


def _host(parts: SplitResult) -> str:
    return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def _counted(parts: SplitResult, delivery: Delivery, timeout: float) -> Delivery:
    """Tell the running check's budget whether the host answered (it may stop the check)."""
    if delivery.timed_out:
        budget.timed_out(_host(parts), timeout)
    elif delivery.status is not None:
        budget.answered(_host(parts))
    return delivery


def send_forged(
    url: str,
    forged: Forged,
    *,
    concurrency: int = 1,
    timeout: float = DEFAULT_TIMEOUT_S,
    allow_hosts: Iterable[str] = (),
    redactor: Redactor = REDACT,
) -> list[Delivery]:
    """Every copy of a forged delivery: all at once behind a barrier when it asks for that,
    else `concurrency` at a time."""
    if forged.concurrent:
        return deliver_together(
            url,
            forged.payload,
            forged.headers,
            forged.copies,
            timeout=timeout,
            allow_hosts=allow_hosts,
            redactor=redactor,
        )
    requests = [(forged.payload, forged.headers)] * forged.copies
    return deliver_many(
        url,
        requests,
        concurrency=concurrency,
        timeout=timeout,
        allow_hosts=allow_hosts,
        redactor=redactor,
    )


class _Request:
    """One POST split in two steps (connect, then send) so a barrier can sit between them."""

    def __init__(
        self,
        parts: SplitResult,
        payload: bytes,
        headers: Mapping[str, str],
        timeout: float,
        redactor: Redactor = REDACT,
    ) -> None:
        self.parts = parts
        self.redactor = redactor
        self.payload = payload
        self.timeout = timeout
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.hostname or ""
        netloc_host = f"[{host}]" if ":" in host else host
        self.headers = {
            "Host": netloc_host + (f":{parts.port}" if parts.port else ""),
            **STRIPE_HEADERS,
            **headers,
            "Content-Length": str(len(payload)),
        }
        self.conn: http.client.HTTPConnection | None = None
        self.error: str | None = None
        self.timed_out = False

    def connect(self) -> None:
        cls = (
            http.client.HTTPSConnection
            if self.parts.scheme == "https"
            else http.client.HTTPConnection
        )
        conn = cls(self.parts.hostname or "", self.parts.port, timeout=self.timeout)
        try:
            conn.connect()
        except OSError as exc:
            self.error = _describe(exc, self.timeout)
            self.timed_out = isinstance(exc, TimeoutError)
            conn.close()
            return
        self.conn = conn

    def send(self) -> Delivery:
        started = time.perf_counter()
        if self.conn is None:
            return self._failed(started, self.error or "not connected", self.timed_out)
        try:
            self.conn.putrequest("POST", self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                self.conn.putheader(name, value)
            self.conn.endheaders(self.payload)
            response = self.conn.getresponse()
            body = response.read(_MAX_READ)
        except (OSError, http.client.HTTPException) as exc:
            return self._failed(
                started, _describe(exc, self.timeout), isinstance(exc, TimeoutError)
            )
        finally:
            self.conn.close()
        return Delivery(
            status=response.status,
            latency_ms=(time.perf_counter() - started) * 1000,
            body_excerpt=excerpt(body, redactor=self.redactor),
            request_headers=dict(self.headers),
            payload=self.payload,
            body_text=self.redactor.text(body[:BODY_CHARS].decode("utf-8", errors="replace")),
            response_headers={
                name: self.redactor.text(value) for name, value in response.getheaders()
            },
        )

    def _failed(self, started: float, error: str, timed_out: bool = False) -> Delivery:
        return Delivery(
            status=None,
            latency_ms=(time.perf_counter() - started) * 1000,
            body_excerpt="",
            request_headers=dict(self.headers),
            payload=self.payload,
            error=error,
            timed_out=timed_out,
        )


def excerpt(body: bytes, limit: int = EXCERPT_CHARS, *, redactor: Redactor = REDACT) -> str:
    """The start of a response body on one line, with secrets and card numbers masked (in
    the whole body, before it is cut)."""
    text = " ".join(body.decode("utf-8", errors="replace").split())
    text = redactor.text(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
