"""API fault injection for the sandbox: errors, rate limits and latency, per route.

How the sandbox mounts it (the plan shares its WebhookFaults with the Dispatcher):

    plan = FaultPlan(webhooks=dispatcher.faults)
    routes += fault_routes(plan, dispatcher)        # GET/POST/DELETE /_golive/faults
    starlette_app = Starlette(routes=routes, ...)
    app = FaultMiddleware(starlette_app, plan)      # serve `app` with uvicorn

Admin API (never faulted itself — nothing under /_golive/ is):

    GET    /_golive/faults   -> {"seed": ..., "routes": [RouteFault...], "webhooks": {WebhookFaults}}
    POST   /_golive/faults   <- {"routes": [...], "webhooks": {...}, "seed": 1}  (replaces all)
    DELETE /_golive/faults   -> clears every fault

Every matching RouteFault applies, in order: their latencies add up, and the first one that
rate-limits or errors answers the request. Errors use Stripe's own bodies, so the official
libraries raise what they raise in production (stripe.APIError, stripe.RateLimitError).
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import random
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from golive.sandbox.delivery import Dispatcher, WebhookFaults

ADMIN_PREFIX = "/_golive"

API_ERROR_BODY = {"error": {"type": "api_error", "message": "An unknown error occurred"}}
# The body Stripe answers a 429 with; stripe-python maps any 429 to stripe.RateLimitError.
RATE_LIMIT_BODY = {
    "error": {
        "code": "rate_limit",
        "doc_url": "https://stripe.com/docs/error-codes/rate-limit",
        "message": "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.",
        "type": "invalid_request_error",
    }
}


class FaultConfigError(ValueError):
    """A fault plan that cannot be applied; the admin endpoint answers 400 with it."""


@dataclass
class RouteFault:
    route: str  # a path glob like "/v1/payment_intents*" or "*"
    methods: list[str] | None = None  # None: every method
    error_rate: float = 0.0  # share answered 500 with Stripe's api_error body
    rate_limit_per_s: float | None = None  # token bucket per rule; above it: 429 rate_limit
    latency_ms: float = 0.0  # added before handling

    def __post_init__(self) -> None:
        if not isinstance(self.route, str) or not self.route:
            raise FaultConfigError("route must be a non-empty path glob, e.g. '/v1/charges*'")
        if self.methods is not None:
            if not isinstance(self.methods, list) or not all(
                isinstance(m, str) for m in self.methods
            ):
                raise FaultConfigError("methods must be a list of HTTP method names or null")
            self.methods = [m.upper() for m in self.methods]
        self.error_rate = _rate("error_rate", self.error_rate)
        self.latency_ms = _non_negative("latency_ms", self.latency_ms)
        if self.rate_limit_per_s is not None:
            self.rate_limit_per_s = _non_negative("rate_limit_per_s", self.rate_limit_per_s)
            if self.rate_limit_per_s == 0:
                raise FaultConfigError("rate_limit_per_s must be > 0 (or null for no limit)")

    def matches(self, method: str, path: str) -> bool:
        if self.methods is not None and method.upper() not in self.methods:
            return False
        return fnmatch.fnmatchcase(path, self.route)


@dataclass
class Decision:
    """What the middleware does with one request."""

    latency_s: float = 0.0
    status: int | None = None  # None: pass the request through
    body: dict | None = None
    fault: str | None = None  # which fault answered, for the Golive-Fault header


class _TokenBucket:
    """Allows `rate` requests/s on average with bursts of up to one second's worth."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass
class FaultPlan:
    """The sandbox's current faults: API route faults plus the Dispatcher's WebhookFaults."""

    routes: list[RouteFault] = field(default_factory=list)
    webhooks: WebhookFaults = field(default_factory=WebhookFaults)
    seed: int | None = None

    def __post_init__(self) -> None:
        # A lock because tests may change the plan from their own thread while the
        # server's loop reads it; decide() never awaits, so it is cheap.
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)
        self._buckets: dict[int, _TokenBucket] = {}

    def replace(
        self,
        routes: list[RouteFault],
        webhooks: WebhookFaults | None = None,
        seed: int | None = None,
    ) -> None:
        with self._lock:
            self.routes = list(routes)
            self.webhooks = webhooks if webhooks is not None else WebhookFaults()
            self.seed = seed
            self._rng = random.Random(seed)
            self._buckets = {}

    def clear(self) -> None:
        self.replace([], WebhookFaults(), None)

    def decide(self, method: str, path: str) -> Decision:
        decision = Decision()
        with self._lock:
            for index, rule in enumerate(self.routes):
                if not rule.matches(method, path):
                    continue
                decision.latency_s += rule.latency_ms / 1000
                if decision.status is not None:
                    continue  # already answered; later rules only add latency
                if rule.rate_limit_per_s is not None:
                    bucket = self._buckets.get(index)
                    if bucket is None:
                        bucket = self._buckets[index] = _TokenBucket(rule.rate_limit_per_s)
                    if not bucket.take():
                        decision.status, decision.body = 429, RATE_LIMIT_BODY
                        decision.fault = f"rate_limit:{rule.route}"
                        continue
                if rule.error_rate and self._rng.random() < rule.error_rate:
                    decision.status, decision.body = 500, API_ERROR_BODY
                    decision.fault = f"error_rate:{rule.route}"
        return decision

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "seed": self.seed,
                "routes": [asdict(rule) for rule in self.routes],
                "webhooks": self.webhooks.to_dict(),
            }


class FaultMiddleware:
    """Pure ASGI middleware applying a FaultPlan to every request outside /_golive/."""

    def __init__(self, app: ASGIApp, plan: FaultPlan) -> None:
        self.app = app
        self.plan = plan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        decision = self.plan.decide(scope["method"], path)
        if decision.latency_s:
            await asyncio.sleep(decision.latency_s)
        if decision.status is None:
            await self.app(scope, receive, send)
            return
        response = JSONResponse(
            decision.body,
            status_code=decision.status,
            headers={
                "Request-Id": "req_" + secrets.token_hex(7),
                "Golive-Fault": decision.fault or "injected",  # says the failure is injected
            },
        )
        await response(scope, receive, send)


def fault_routes(plan: FaultPlan, dispatcher: Dispatcher) -> list[Route]:
    """The /_golive/faults admin endpoints; POST and DELETE also set dispatcher.faults."""

    def current() -> JSONResponse:
        plan.webhooks = dispatcher.faults  # the dispatcher's copy is the one in force
        return JSONResponse(plan.to_dict())

    async def get_faults(request: Request) -> JSONResponse:
        return current()

    async def set_faults(request: Request) -> JSONResponse:
        try:
            payload = json.loads(await request.body() or b"{}")
            routes, webhooks, seed = parse_plan(payload)
        except (ValueError, TypeError) as exc:  # FaultConfigError and JSON errors
            body = {"error": {"type": "invalid_request_error", "message": str(exc)}}
            return JSONResponse(body, status_code=400)
        plan.replace(routes, webhooks, seed)
        dispatcher.faults = plan.webhooks
        return current()

    async def clear_faults(request: Request) -> JSONResponse:
        plan.clear()
        dispatcher.faults = plan.webhooks
        return current()

    return [
        Route(f"{ADMIN_PREFIX}/faults", get_faults, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/faults", set_faults, methods=["POST"]),
        Route(f"{ADMIN_PREFIX}/faults", clear_faults, methods=["DELETE"]),
    ]


def parse_plan(payload: Any) -> tuple[list[RouteFault], WebhookFaults, int | None]:
    """Validate an admin POST body into (routes, webhook faults, seed)."""
    if not isinstance(payload, dict):
        raise FaultConfigError("body must be a JSON object with 'routes' and/or 'webhooks'")
    _no_unknown_keys("plan", payload, {"routes", "webhooks", "seed"})
    raw_routes = payload.get("routes") or []
    if not isinstance(raw_routes, list):
        raise FaultConfigError("routes must be a list")
    routes = []
    for item in raw_routes:
        if not isinstance(item, dict):
            raise FaultConfigError("each route fault must be an object")
        _no_unknown_keys("route fault", item, {f.name for f in fields(RouteFault)})
        routes.append(RouteFault(**item))
    webhooks = parse_webhook_faults(payload.get("webhooks") or {})
    seed = payload.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise FaultConfigError("seed must be an integer or null")
    return routes, webhooks, seed


def parse_webhook_faults(raw: Any) -> WebhookFaults:
    if not isinstance(raw, dict):
        raise FaultConfigError("webhooks must be an object")
    _no_unknown_keys("webhooks", raw, {f.name for f in fields(WebhookFaults)})
    faults = WebhookFaults(**raw)
    faults.drop_rate = _rate("drop_rate", faults.drop_rate)
    faults.duplicate_rate = _rate("duplicate_rate", faults.duplicate_rate)
    faults.delay_ms = _non_negative("delay_ms", faults.delay_ms)
    if not isinstance(faults.reorder, bool):
        raise FaultConfigError("reorder must be true or false")
    if not isinstance(faults.fail_first, int) or faults.fail_first < 0:
        raise FaultConfigError("fail_first must be a non-negative integer")
    if faults.seed is not None and (
        not isinstance(faults.seed, int) or isinstance(faults.seed, bool)
    ):
        raise FaultConfigError("seed must be an integer or null")
    return faults


def _no_unknown_keys(what: str, raw: dict, known: set[str]) -> None:
    unknown = sorted(set(raw) - known)
    if unknown:
        raise FaultConfigError(f"unknown {what} field(s) {unknown}; known: {sorted(known)}")


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultConfigError(f"{name} must be a number")
    return float(value)


def _rate(name: str, value: Any) -> float:
    value = _number(name, value)
    if not 0.0 <= value <= 1.0:
        raise FaultConfigError(f"{name} must be between 0 and 1")
    return value


def _non_negative(name: str, value: Any) -> float:
    value = _number(name, value)
    if value < 0:
        raise FaultConfigError(f"{name} must be >= 0")
    return value
