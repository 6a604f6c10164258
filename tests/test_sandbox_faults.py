"""API fault injection: FaultMiddleware and the /_golive/faults admin endpoints, served by a
real uvicorn on 127.0.0.1 in front of a tiny Starlette app, called over real HTTP (and by the
official stripe library)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import stripe
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from golive.sandbox.delivery import Dispatcher, WebhookFaults
from golive.sandbox.faults import (
    API_ERROR_BODY,
    RATE_LIMIT_BODY,
    FaultConfigError,
    FaultMiddleware,
    FaultPlan,
    RouteFault,
    fault_routes,
)


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    # The stripe library's HTTP client honours proxy variables; keep every call on loopback.
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)


async def create_payment_intent(request: Request) -> JSONResponse:
    return JSONResponse({"id": "pi_123", "object": "payment_intent", "amount": 100})


async def get_customer(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.path_params["id"], "object": "customer"})


async def ping(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


@dataclass
class Sandbox:
    url: str
    plan: FaultPlan
    dispatcher: Dispatcher
    http: httpx.Client


@contextlib.contextmanager
def serve(app: object) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1:<free port> in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    dispatcher = Dispatcher(retry_schedule_s=[0.05])
    plan = FaultPlan(webhooks=dispatcher.faults)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        await dispatcher.start()
        yield
        await dispatcher.stop()

    routes = [
        Route("/v1/payment_intents", create_payment_intent, methods=["POST"]),
        Route("/v1/customers/{id}", get_customer, methods=["GET"]),
        Route("/_golive/ping", ping, methods=["GET"]),
    ]
    routes += fault_routes(plan, dispatcher)
    app = FaultMiddleware(Starlette(routes=routes, lifespan=lifespan), plan)
    with serve(app) as url, httpx.Client(base_url=url, trust_env=False, timeout=10) as http:
        yield Sandbox(url, plan, dispatcher, http)


def stripe_client(sandbox: Sandbox) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_faults", base_addresses={"api": sandbox.url}, max_network_retries=0
    )


def set_plan(sandbox: Sandbox, plan: dict) -> dict:
    response = sandbox.http.post("/_golive/faults", json=plan)
    assert response.status_code == 200, response.text
    return response.json()


# -- errors -------------------------------------------------------------------------------


def test_error_rate_one_answers_stripes_api_error(sandbox: Sandbox) -> None:
    set_plan(sandbox, {"routes": [{"route": "/v1/payment_intents*", "error_rate": 1.0}]})

    response = sandbox.http.post("/v1/payment_intents", data={"amount": 100})
    assert response.status_code == 500
    assert response.json() == API_ERROR_BODY
    assert response.json()["error"]["type"] == "api_error"
    assert response.headers["request-id"].startswith("req_")
    assert response.headers["golive-fault"].startswith("error_rate")

    with pytest.raises(stripe.APIError) as raised:
        stripe_client(sandbox).v1.payment_intents.create(params={"amount": 100, "currency": "usd"})
    assert raised.value.http_status == 500

    # Other routes are untouched.
    assert sandbox.http.get("/v1/customers/cus_1").json()["id"] == "cus_1"


def test_methods_limit_a_fault(sandbox: Sandbox) -> None:
    set_plan(sandbox, {"routes": [{"route": "*", "methods": ["post"], "error_rate": 1.0}]})
    assert sandbox.http.get("/v1/customers/cus_1").status_code == 200
    assert sandbox.http.post("/v1/payment_intents").status_code == 500


def test_error_rate_is_deterministic_for_a_seed(sandbox: Sandbox) -> None:
    plan = {"seed": 42, "routes": [{"route": "/v1/*", "error_rate": 0.5}]}

    def statuses() -> list[int]:
        set_plan(sandbox, plan)  # re-seeds
        return [sandbox.http.get("/v1/customers/cus_1").status_code for _ in range(20)]

    first, second = statuses(), statuses()
    assert first == second
    assert set(first) == {200, 500}


# -- rate limit ---------------------------------------------------------------------------


def test_a_burst_above_the_rate_limit_gets_429s(sandbox: Sandbox) -> None:
    # 5/s rather than test mode's 25/s: on a loaded machine a burst of 60 may take longer
    # than 1 s, and at 25/s the refill alone could then let every request through.
    set_plan(sandbox, {"routes": [{"route": "/v1/*", "rate_limit_per_s": 5}]})

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=sandbox.url, trust_env=False, timeout=10) as c:
            return await asyncio.gather(*(c.get("/v1/customers/cus_1") for _ in range(60)))

    responses = asyncio.run(burst())
    limited = [r for r in responses if r.status_code == 429]
    ok = [r for r in responses if r.status_code == 200]
    assert len(limited) + len(ok) == 60
    assert limited and len(ok) >= 5  # the bucket's first second's worth goes through
    assert limited[0].json() == RATE_LIMIT_BODY
    assert limited[0].json()["error"]["code"] == "rate_limit"

    # The official library recognises it for what it is.
    with pytest.raises(stripe.RateLimitError):
        for _ in range(60):  # the bucket is empty or nearly; bounded either way
            stripe_client(sandbox).v1.customers.retrieve("cus_1")


def test_a_slow_trickle_under_the_rate_limit_is_never_limited(sandbox: Sandbox) -> None:
    set_plan(sandbox, {"routes": [{"route": "/v1/*", "rate_limit_per_s": 25}]})
    # 35 requests (more than the bucket holds) at no more than 20/s: refill keeps up.
    statuses = []
    for _ in range(35):
        statuses.append(sandbox.http.get("/v1/customers/cus_1").status_code)
        time.sleep(0.05)
    assert statuses == [200] * 35


# -- latency ------------------------------------------------------------------------------


def test_latency_adds_at_least_the_delay(sandbox: Sandbox) -> None:
    set_plan(sandbox, {"routes": [{"route": "/v1/customers/*", "latency_ms": 300}]})
    started = time.monotonic()
    response = sandbox.http.get("/v1/customers/cus_1")
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200  # latency alone still answers normally


# -- admin endpoints ----------------------------------------------------------------------


def test_admin_sets_gets_and_clears_the_plan(sandbox: Sandbox) -> None:
    assert sandbox.http.get("/_golive/faults").json() == {
        "seed": None,
        "routes": [],
        "webhooks": WebhookFaults().to_dict(),
    }
    body = {
        "routes": [{"route": "/v1/payment_intents*", "methods": ["POST"], "error_rate": 1.0}],
        "webhooks": {"drop_rate": 0.5, "fail_first": 2, "seed": 9},
    }
    current = set_plan(sandbox, body)
    assert current == sandbox.http.get("/_golive/faults").json()
    assert current["routes"][0]["route"] == "/v1/payment_intents*"
    assert current["routes"][0]["error_rate"] == 1.0
    assert current["webhooks"]["drop_rate"] == 0.5
    # The dispatcher now runs with the new webhook faults.
    assert sandbox.dispatcher.faults.drop_rate == 0.5
    assert sandbox.dispatcher.faults.fail_first == 2
    assert sandbox.http.post("/v1/payment_intents").status_code == 500

    cleared = sandbox.http.delete("/_golive/faults")
    assert cleared.status_code == 200
    assert cleared.json()["routes"] == []
    assert sandbox.dispatcher.faults == WebhookFaults()
    assert sandbox.http.post("/v1/payment_intents").status_code == 200


def test_post_replaces_rather_than_merges(sandbox: Sandbox) -> None:
    set_plan(
        sandbox, {"routes": [{"route": "*", "error_rate": 1.0}], "webhooks": {"reorder": True}}
    )
    current = set_plan(sandbox, {"routes": [{"route": "/v1/customers/*", "latency_ms": 1}]})
    assert [r["route"] for r in current["routes"]] == ["/v1/customers/*"]
    assert current["webhooks"]["reorder"] is False
    assert sandbox.http.post("/v1/payment_intents").status_code == 200


@pytest.mark.parametrize(
    "bad",
    [
        {"routes": [{"route": "*", "error_rate": 1.5}]},
        {"routes": [{"route": "*", "rate_limit_per_s": 0}]},
        {"routes": [{"route": "*", "latency_ms": -1}]},
        {"routes": [{"route": "*", "typo": 1}]},
        {"routes": [{"error_rate": 1.0}]},
        {"routes": "*"},
        {"webhooks": {"drop_rate": 2}},
        {"webhooks": {"fail_first": -1}},
        {"unknown": True},
    ],
)
def test_an_invalid_plan_is_refused_and_the_old_one_stays(sandbox: Sandbox, bad: dict) -> None:
    before = set_plan(sandbox, {"routes": [{"route": "/v1/customers/*", "latency_ms": 1}]})
    response = sandbox.http.post("/_golive/faults", json=bad)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert response.json()["error"]["message"]
    assert sandbox.http.get("/_golive/faults").json() == before


def test_golive_paths_are_never_faulted(sandbox: Sandbox) -> None:
    set_plan(
        sandbox,
        {"routes": [{"route": "*", "error_rate": 1.0, "rate_limit_per_s": 1, "latency_ms": 2000}]},
    )
    for _ in range(5):  # above the 1/s limit, under a 100% error rate, without the 2 s delay
        assert sandbox.http.get("/_golive/ping", timeout=1.5).json() == {"ok": True}
        assert sandbox.http.get("/_golive/faults", timeout=1.5).status_code == 200
    assert sandbox.http.delete("/_golive/faults", timeout=1.5).status_code == 200
    # ...while everything else was faulted: proves the plan was live.
    set_plan(sandbox, {"routes": [{"route": "*", "error_rate": 1.0}]})
    assert sandbox.http.get("/v1/customers/cus_1").status_code == 500


# -- the plan itself ----------------------------------------------------------------------


def test_route_fault_validates_its_fields() -> None:
    with pytest.raises(FaultConfigError):
        RouteFault(route="*", error_rate=-0.1)
    with pytest.raises(FaultConfigError):
        RouteFault(route="")
    assert RouteFault(route="*", methods=["get"]).methods == ["GET"]


def test_matching_rules_add_latency_and_the_first_failure_answers() -> None:
    plan = FaultPlan(
        routes=[
            RouteFault(route="/v1/*", latency_ms=100),
            RouteFault(route="/v1/charges*", error_rate=1.0, latency_ms=50),
            RouteFault(route="*", rate_limit_per_s=1000, latency_ms=25),
        ]
    )
    decision = plan.decide("GET", "/v1/charges/ch_1")
    assert decision.status == 500 and decision.body == API_ERROR_BODY
    assert decision.latency_s == pytest.approx(0.175)
    other = plan.decide("GET", "/v1/customers")
    assert other.status is None and other.latency_s == pytest.approx(0.125)
