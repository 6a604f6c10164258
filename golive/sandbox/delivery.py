"""Webhook delivery for the sandbox, the way Stripe does it.

Each (event, endpoint) pair is one delivery: the event JSON is serialised once, and every
attempt POSTs those exact bytes with a fresh `Stripe-Signature` (timestamp = send time).
A non-2xx answer, a connection error or a timeout fails the attempt; failures are retried
on a compressed copy of Stripe's exponential schedule (live Stripe retries for up to three
days). Endpoints are independent: one failing receiver never delays another.

Only loopback receivers are ever contacted: this harness never sends traffic off the machine.

Faults (`WebhookFaults`) are decided per delivery at dispatch time from a seeded RNG, so a
fixed seed gives the same drops/duplicates/order whatever the network timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from golive import httpclient
from golive.loopback import is_loopback_url
from golive.webhooks.signing import encode_event, sign_header

log = logging.getLogger(__name__)

DEFAULT_RETRY_SCHEDULE_S = [0.5, 1.0, 2.0, 4.0, 8.0]
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
CONTENT_TYPE = "application/json; charset=utf-8"
# The default bound of the delivery history: attempt records, and events whose deliveries
# are counted (pending, failed). The sandbox sets it to its object cap; older records fall
# off, oldest first, instead of growing forever.
MAX_HISTORY = 100_000


@dataclass
class WebhookFaults:
    """Per-sandbox webhook fault injection."""

    drop_rate: float = 0.0  # share of deliveries silently never sent (attempt recorded as dropped)
    duplicate_rate: float = 0.0  # share of deliveries sent twice (same event id, same bytes)
    delay_ms: float = 0.0  # added before each send
    reorder: bool = False  # hold deliveries briefly and send them in shuffled order
    fail_first: int = 0  # first N attempts of each delivery fail unsent (receiver unreachable)
    seed: int | None = None  # deterministic randomness

    def to_dict(self) -> dict:
        return {
            "drop_rate": self.drop_rate,
            "duplicate_rate": self.duplicate_rate,
            "delay_ms": self.delay_ms,
            "reorder": self.reorder,
            "fail_first": self.fail_first,
            "seed": self.seed,
        }


@dataclass
class _Delivery:
    event_id: str
    endpoint_id: str
    url: str
    secret: str
    body: bytes
    drop: bool
    duplicate: bool
    delay_s: float
    fail_first: int
    duplicated: bool = False
    first_done: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(slots=True)
class _EventState:
    pending: int = 0  # deliveries still being tried
    undelivered: int = 0  # deliveries without a 2xx yet: the event's pending_webhooks
    failed: bool = False


@dataclass(slots=True)
class _Attempt:
    """One delivery attempt, as GET /_golive/deliveries shows it. Slotted: the history holds
    up to max_history of them (a third of a dict's size each)."""

    event: str
    endpoint: str
    url: str
    attempt: int
    status: int | None
    latency_ms: float
    error: str | None
    outcome: str
    at: float

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}


class Dispatcher:
    """Queues and sends webhook deliveries on the sandbox server's event loop."""

    # How long reorder mode collects deliveries before sending them shuffled.
    reorder_window_s: float = 0.2
    reorder_max_held: int = 100

    def __init__(
        self,
        *,
        retry_schedule_s: list[float] | None = None,
        timeout_s: float = 5.0,
        faults: WebhookFaults | None = None,
        max_history: int = MAX_HISTORY,
    ) -> None:
        self.retry_schedule_s = list(
            DEFAULT_RETRY_SCHEDULE_S if retry_schedule_s is None else retry_schedule_s
        )
        self.timeout_s = timeout_s
        self.faults = faults if faults is not None else WebhookFaults()
        self.on_settled: Callable[[str], None] | None = None
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task] = set()
        self.max_history = max_history
        self._attempts: deque[_Attempt] = deque(maxlen=max_history)
        # In dispatch order. The store evicts events in the same order and keeps at most as
        # many, so an event dropped from here is no longer stored either.
        self._events: OrderedDict[str, _EventState] = OrderedDict()
        self._held: list[_Delivery] = []
        self._flush_task: asyncio.Task | None = None
        self._rng = random.Random()
        self._rng_key: tuple[int, int | None] | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._ensure_client()

    async def stop(self) -> None:
        """Cancel pending sends and retries, close the client; bounded by a few seconds."""
        tasks = list(self._tasks)
        if self._flush_task is not None:
            tasks.append(self._flush_task)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5.0)
        self._tasks.clear()
        self._flush_task = None
        self._held.clear()
        if self._client is not None:
            client, self._client = self._client, None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.aclose(), timeout=5.0)

    def _ensure_client(self) -> httpx.AsyncClient:
        if self._client is None:
            # golive's client (no proxy from the environment: deliveries never leave the
            # machine). No redirects: Stripe treats a 3xx as a failure.
            self._client = httpclient.async_client(follow_redirects=False, timeout=self.timeout_s)
        return self._client

    # -- public API ------------------------------------------------------------------------

    def dispatch(self, event: dict, endpoints: list[dict]) -> int:
        """Queue one delivery per endpoint; returns how many were queued. Never blocks."""
        if not endpoints:
            return 0
        self._ensure_client()
        event_id = str(event.get("id", ""))
        # Serialised once: these exact bytes are signed and sent on every attempt.
        body = encode_event(event)
        faults = self.faults
        rng = self._random()
        state = self._events.get(event_id)
        if state is None:
            state = self._events[event_id] = _EventState()
            while len(self._events) > self.max_history:
                self._events.popitem(last=False)
        deliveries = []
        for endpoint in endpoints:
            deliveries.append(
                _Delivery(
                    event_id=event_id,
                    endpoint_id=str(endpoint.get("id", "")),
                    url=str(endpoint.get("url", "")),
                    secret=str(endpoint.get("secret", "")),
                    body=body,
                    drop=rng.random() < faults.drop_rate,
                    duplicate=rng.random() < faults.duplicate_rate,
                    delay_s=max(0.0, faults.delay_ms) / 1000,
                    fail_first=max(0, int(faults.fail_first)),
                )
            )
        state.pending += len(deliveries)
        state.undelivered += len(deliveries)
        self._notify(event_id)
        for delivery in deliveries:
            if delivery.drop:
                self._record(delivery, 1, None, 0.0, "dropped by fault injection", "dropped")
                self._settle(delivery, succeeded=False)
            elif faults.reorder:
                self._hold(delivery)
            else:
                self._spawn(self._run(delivery))
        return len(deliveries)

    def attempts(self, event_id: str | None = None) -> list[dict]:
        return [a.as_dict() for a in self._attempts if event_id is None or a.event == event_id]

    def history_sizes(self) -> dict[str, int]:
        """How many attempt records and per-event states are kept (at most max_history each)."""
        return {"attempts": len(self._attempts), "events": len(self._events)}

    def pending(self, event_id: str) -> int:
        """Deliveries of the event still being tried (0 once each succeeded or gave up)."""
        state = self._events.get(event_id)
        return state.pending if state else 0

    def undelivered(self, event_id: str) -> int:
        """Deliveries of the event that never got a 2xx: Stripe's `pending_webhooks`, which
        stays above 0 for a delivery that failed for good (Stripe would go on retrying)."""
        state = self._events.get(event_id)
        return state.undelivered if state else 0

    def delivery_success(self, event_id: str) -> bool | None:
        """True once every endpoint got a 2xx; False once any delivery gave up; else None.

        None too for an event that was never dispatched to any endpoint.
        """
        state = self._events.get(event_id)
        if state is None:
            return None
        if state.failed:
            return False
        return None if state.pending else True

    # -- internals -------------------------------------------------------------------------

    def _random(self) -> random.Random:
        # Re-seed whenever the faults object or its seed changes (the admin endpoint swaps it).
        key = (id(self.faults), self.faults.seed)
        if key != self._rng_key:
            self._rng = random.Random(self.faults.seed)
            self._rng_key = key
        return self._rng

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _hold(self, delivery: _Delivery) -> None:
        self._held.append(delivery)
        if self._flush_task is None:
            self._flush_task = asyncio.get_running_loop().create_task(self._flush_held())

    async def _flush_held(self) -> None:
        # Collect for a short window (bounded in time and count), then send shuffled.
        deadline = time.monotonic() + self.reorder_window_s
        while time.monotonic() < deadline and len(self._held) < self.reorder_max_held:
            await asyncio.sleep(min(0.01, max(0.0, deadline - time.monotonic())))
        batch, self._held = self._held, []
        self._flush_task = None
        self._random().shuffle(batch)
        for delivery in batch:
            self._spawn(self._run(delivery))
            # First attempts go out one at a time so arrival order is the shuffled order.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    delivery.first_done.wait(), timeout=self.timeout_s + delivery.delay_s + 1
                )

    async def _run(self, delivery: _Delivery) -> None:
        max_attempts = 1 + len(self.retry_schedule_s)
        try:
            for attempt in range(1, max_attempts + 1):
                ok, retryable = await self._attempt(delivery, attempt)
                delivery.first_done.set()
                if ok:
                    self._settle(delivery, succeeded=True)
                    return
                if not retryable or attempt == max_attempts:
                    break
                await asyncio.sleep(self.retry_schedule_s[attempt - 1])
            self._settle(delivery, succeeded=False)
        finally:
            delivery.first_done.set()

    async def _attempt(self, delivery: _Delivery, attempt: int) -> tuple[bool, bool]:
        """One send; returns (succeeded, worth retrying)."""
        if not is_loopback_url(delivery.url):
            error = f"refused: {delivery.url!r} is not a loopback URL (127.0.0.0/8, ::1, localhost); golive never sends traffic off the machine"
            self._record(delivery, attempt, None, 0.0, error, "failed")
            return False, False
        if delivery.delay_s:
            await asyncio.sleep(delivery.delay_s)
        if attempt <= delivery.fail_first:
            error = f"receiver unreachable (fail_first fault, attempt {attempt} of {delivery.fail_first})"
            self._record(delivery, attempt, None, 0.0, error, "failed")
            return False, True
        header = sign_header(delivery.body, delivery.secret, int(time.time()))
        status, latency_ms, error = await self._post(delivery, header)
        ok = status is not None and 200 <= status < 300
        self._record(delivery, attempt, status, latency_ms, error, "succeeded" if ok else "failed")
        if delivery.duplicate and not delivery.duplicated:
            # The same request again: same bytes, same signature, as a network retransmit would.
            delivery.duplicated = True
            dup_status, dup_latency, dup_error = await self._post(delivery, header)
            self._record(delivery, attempt, dup_status, dup_latency, dup_error, "duplicate")
        return ok, True

    async def _post(self, delivery: _Delivery, header: str) -> tuple[int | None, float, str | None]:
        headers = {
            "Content-Type": CONTENT_TYPE,
            "User-Agent": USER_AGENT,
            "Stripe-Signature": header,
        }
        client = self._ensure_client()
        started = time.perf_counter()
        try:
            # httpx timeouts are per phase; this bounds the whole request.
            async with asyncio.timeout(self.timeout_s):
                response = await client.post(delivery.url, content=delivery.body, headers=headers)
        except TimeoutError:
            return None, _ms_since(started), f"timed out after {self.timeout_s:g}s"
        except httpx.HTTPError as exc:
            return None, _ms_since(started), f"{type(exc).__name__}: {exc}".rstrip(": ")
        latency = _ms_since(started)
        if 200 <= response.status_code < 300:
            return response.status_code, latency, None
        return response.status_code, latency, f"receiver answered HTTP {response.status_code}"

    def _record(
        self,
        delivery: _Delivery,
        attempt: int,
        status: int | None,
        latency_ms: float,
        error: str | None,
        outcome: str,
    ) -> None:
        self._attempts.append(
            _Attempt(
                event=delivery.event_id,
                endpoint=delivery.endpoint_id,
                url=delivery.url,
                attempt=attempt,
                status=status,
                latency_ms=round(latency_ms, 3),
                error=error,
                outcome=outcome,
                at=time.time(),
            )
        )

    def _settle(self, delivery: _Delivery, *, succeeded: bool) -> None:
        state = self._events.get(delivery.event_id)
        if state is None:
            return  # fell out of the history (its event is evicted too)
        state.pending = max(0, state.pending - 1)
        if succeeded:
            state.undelivered = max(0, state.undelivered - 1)
        else:
            state.failed = True
        self._notify(delivery.event_id)

    def _notify(self, event_id: str) -> None:
        if self.on_settled is None:
            return
        try:
            self.on_settled(event_id)
        except Exception:  # a broken callback must not stop deliveries
            log.exception("on_settled callback failed for %s", event_id)


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
