"""The sandbox's webhook Dispatcher against real receivers on 127.0.0.1, on a real loop."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

import pytest
import stripe
from receivers import Receiver, Reply

from golive.sandbox.delivery import (
    CONTENT_TYPE,
    USER_AGENT,
    Dispatcher,
    WebhookFaults,
)
from golive.webhooks.signing import verify_header

SECRET = "whsec_test_delivery"
FAST = [0.05, 0.1]  # compressed retry schedule


def event(n: int = 1) -> dict:
    return {
        "id": f"evt_test_{n}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {
            "object": {"id": f"pi_{n}", "object": "payment_intent", "description": "Café — 19,99 €"}
        },
    }


def endpoint(rx: Receiver | str, n: int = 1, secret: str = SECRET) -> dict:
    url = rx if isinstance(rx, str) else rx.url
    return {"id": f"we_{n}", "url": url, "secret": secret}


def run(body: Callable[[Dispatcher], Awaitable[object]], **kwargs: object) -> object:
    """Run `body(dispatcher)` on a fresh asyncio loop with a started, then stopped Dispatcher."""

    async def main() -> object:
        dispatcher = Dispatcher(**kwargs)  # type: ignore[arg-type]
        await dispatcher.start()
        try:
            return await body(dispatcher)
        finally:
            await asyncio.wait_for(dispatcher.stop(), timeout=10)

    return asyncio.run(main())


async def settled(dispatcher: Dispatcher, event_id: str, timeout_s: float = 10.0) -> bool | None:
    """Poll until the event's deliveries have all settled; bounded in time."""
    deadline = time.monotonic() + timeout_s
    while dispatcher.pending(event_id) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert dispatcher.pending(event_id) == 0, f"{event_id} still pending after {timeout_s}s"
    return dispatcher.delivery_success(event_id)


async def arrived(rx: Receiver, count: int, timeout_s: float = 10.0) -> list:
    return await asyncio.to_thread(rx.wait_for, count, timeout_s)


# -- what a delivery looks like -----------------------------------------------------------


def test_delivery_is_signed_like_stripe_and_verifies_with_the_official_library() -> None:
    evt = event()
    notified: list[str] = []

    async def body(d: Dispatcher) -> None:
        d.on_settled = notified.append
        assert d.dispatch(evt, [endpoint(rx)]) == 1
        assert d.pending(evt["id"]) == 1
        assert d.delivery_success(evt["id"]) is None
        assert await settled(d, evt["id"]) is True

        (req,) = rx.requests
        assert req.method == "POST" and req.path == "/webhooks"
        assert req.header("Content-Type") == CONTENT_TYPE
        assert req.header("User-Agent") == USER_AGENT
        header = req.header("Stripe-Signature")
        assert header is not None and header.startswith("t=") and ",v1=" in header
        # The official library verifies the raw bytes against the header: byte-identical.
        verified = stripe.Webhook.construct_event(req.body, header, SECRET)
        assert verified["id"] == evt["id"]
        assert json.loads(req.body) == evt
        # A different secret must not verify (the check can fail).
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(req.body, header, "whsec_other")

        (attempt,) = d.attempts(evt["id"])
        assert attempt["event"] == evt["id"] and attempt["endpoint"] == "we_1"
        assert attempt["url"] == rx.url and attempt["attempt"] == 1
        assert attempt["status"] == 200 and attempt["outcome"] == "succeeded"
        assert attempt["error"] is None and attempt["latency_ms"] >= 0
        assert abs(attempt["at"] - time.time()) < 60

    with Receiver() as rx:
        run(body)
    # once queued (pending 1), once settled (pending 0)
    assert notified == [evt["id"], evt["id"]]


def test_receiver_failing_twice_gets_the_event_on_the_third_attempt() -> None:
    evt = event()

    async def body(d: Dispatcher) -> None:
        d.dispatch(evt, [endpoint(rx)])
        assert await settled(d, evt["id"]) is True

    with Receiver([500, 500]) as rx:
        run(body, retry_schedule_s=[0.05, 0.05, 0.05])
        requests = rx.requests
    assert len(requests) == 3
    # Retries resend the same bytes, each with a signature that verifies.
    assert {r.body for r in requests} == {requests[0].body}
    for r in requests:
        stripe.Webhook.construct_event(r.body, r.header("Stripe-Signature"), SECRET)


def test_three_attempts_are_recorded_with_their_statuses() -> None:
    evt = event()

    async def body(d: Dispatcher) -> list[dict]:
        d.dispatch(evt, [endpoint(rx)])
        await settled(d, evt["id"])
        return d.attempts(evt["id"])

    with Receiver([500, 503]) as rx:
        attempts = run(body, retry_schedule_s=FAST)
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert [a["status"] for a in attempts] == [500, 503, 200]
    assert [a["outcome"] for a in attempts] == ["failed", "failed", "succeeded"]
    assert "500" in attempts[0]["error"]


def test_a_receiver_that_times_out_is_retried() -> None:
    evt = event()

    async def body(d: Dispatcher) -> list[dict]:
        d.dispatch(evt, [endpoint(rx)])
        assert await settled(d, evt["id"]) is True
        return d.attempts(evt["id"])

    # The first answer comes long after the dispatcher's timeout.
    with Receiver([Reply(200, delay_s=3.0)]) as rx:
        attempts = run(body, retry_schedule_s=FAST, timeout_s=0.3)
        assert len(rx.requests) == 2
    assert attempts[0]["outcome"] == "failed" and attempts[0]["status"] is None
    assert "timed out" in attempts[0]["error"]
    assert attempts[1]["outcome"] == "succeeded"


def test_exhausted_retries_settle_as_failed() -> None:
    evt = event()

    async def body(d: Dispatcher) -> list[dict]:
        d.dispatch(evt, [endpoint(rx)])
        assert await settled(d, evt["id"]) is False
        return d.attempts(evt["id"])

    with Receiver(default=500) as rx:
        attempts = run(body, retry_schedule_s=FAST)
        assert len(rx.requests) == 3  # one try + one per schedule step
    assert [a["outcome"] for a in attempts] == ["failed"] * 3


def test_connection_refused_is_a_failed_attempt() -> None:
    with Receiver() as rx:
        dead_url = rx.url  # nothing listens here once closed
    evt = event()

    async def body(d: Dispatcher) -> list[dict]:
        d.dispatch(evt, [endpoint(dead_url)])
        assert await settled(d, evt["id"]) is False
        return d.attempts(evt["id"])

    attempts = run(body, retry_schedule_s=[0.05])
    assert len(attempts) == 2
    assert all(a["status"] is None and a["error"] for a in attempts)


def test_endpoints_are_independent() -> None:
    evt = event()

    async def body(d: Dispatcher) -> None:
        assert d.dispatch(evt, [endpoint(slow_bad, 1), endpoint(good, 2)]) == 2
        # The good endpoint is served while the slow one is still hanging.
        await arrived(good, 1)
        deadline = time.monotonic() + 5
        while not d.attempts(evt["id"]) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert [a["endpoint"] for a in d.attempts(evt["id"])] == ["we_2"]
        assert d.pending(evt["id"]) == 1
        assert d.delivery_success(evt["id"]) is None
        assert await settled(d, evt["id"]) is False

        by_endpoint: dict[str, list[str]] = {}
        for a in d.attempts(evt["id"]):
            by_endpoint.setdefault(a["endpoint"], []).append(a["outcome"])
        assert by_endpoint == {"we_2": ["succeeded"], "we_1": ["failed", "failed"]}

    with (
        Receiver([Reply(500, delay_s=1.0)], default=500) as slow_bad,
        Receiver() as good,
    ):
        run(body, retry_schedule_s=[0.05])
        assert len(good.requests) == 1 and len(slow_bad.requests) == 2


def test_one_success_does_not_mask_another_endpoints_failure() -> None:
    evt = event()

    async def body(d: Dispatcher) -> None:
        d.dispatch(evt, [endpoint(bad, 1), endpoint(good, 2)])
        assert await settled(d, evt["id"]) is False

    with Receiver(default=400) as bad, Receiver() as good:
        run(body, retry_schedule_s=[0.05])


def test_each_endpoint_is_signed_with_its_own_secret() -> None:
    evt = event()

    async def body(d: Dispatcher) -> None:
        d.dispatch(evt, [endpoint(a, 1, "whsec_a"), endpoint(b, 2, "whsec_b")])
        assert await settled(d, evt["id"]) is True

    with Receiver() as a, Receiver() as b:
        run(body)
        (ra,), (rb,) = a.requests, b.requests
    assert verify_header(ra.body, ra.header("Stripe-Signature"), "whsec_a")
    assert verify_header(rb.body, rb.header("Stripe-Signature"), "whsec_b")
    assert not verify_header(ra.body, ra.header("Stripe-Signature"), "whsec_b")


def test_no_endpoints_queues_nothing() -> None:
    async def body(d: Dispatcher) -> None:
        assert d.dispatch(event(), []) == 0
        assert d.pending("evt_test_1") == 0
        assert d.delivery_success("evt_test_1") is None

    run(body)


def test_stop_cancels_pending_retries() -> None:
    evt = event()

    async def body(d: Dispatcher) -> Dispatcher:
        d.dispatch(evt, [endpoint(rx)])
        await arrived(rx, 1)
        deadline = time.monotonic() + 5
        while not d.attempts(evt["id"]) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return d  # run() stops it while the 30 s retry is waiting

    with Receiver(default=500) as rx:
        d = run(body, retry_schedule_s=[30.0])
        assert len(rx.requests) == 1
    assert d.pending(evt["id"]) == 1 and d.delivery_success(evt["id"]) is None


# -- never off the machine ----------------------------------------------------------------


def test_non_loopback_endpoint_is_refused_without_sending() -> None:
    evt = event()
    # 0.0.0.0 is not loopback, yet on Linux a connection to it lands on this machine: if the
    # dispatcher ever sent to it, this receiver would see the request, and nothing leaves.
    with Receiver() as rx:
        url = f"http://0.0.0.0:{rx.port}/webhooks"

        async def body(d: Dispatcher) -> list[dict]:
            d.dispatch(evt, [endpoint(url)])
            assert await settled(d, evt["id"]) is False
            return d.attempts(evt["id"])

        attempts = run(body, retry_schedule_s=FAST)
        assert rx.requests == []
    (attempt,) = attempts  # refused once, never retried
    assert attempt["outcome"] == "failed" and attempt["status"] is None
    assert "loopback" in attempt["error"] and "0.0.0.0" in attempt["error"]


def test_proxy_variables_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy from the environment could carry deliveries off the machine; the dispatcher
    # must connect to the endpoint itself.
    evt = event()
    with Receiver() as proxy, Receiver() as rx:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)

        async def body(d: Dispatcher) -> None:
            d.dispatch(evt, [endpoint(rx)])
            assert await settled(d, evt["id"]) is True

        run(body)
        assert len(rx.requests) == 1 and proxy.requests == []


# -- webhook faults -----------------------------------------------------------------------


def test_drop_sends_nothing_and_records_a_dropped_attempt() -> None:
    dropped, kept = event(1), event(2)

    async def body(d: Dispatcher) -> list[dict]:
        d.dispatch(dropped, [endpoint(rx)])
        assert await settled(d, dropped["id"]) is False
        # Faults are mutable at runtime; the next event is a barrier proving the
        # receiver was reachable all along.
        d.faults = WebhookFaults()
        d.dispatch(kept, [endpoint(rx)])
        assert await settled(d, kept["id"]) is True
        return d.attempts(dropped["id"])

    with Receiver() as rx:
        attempts = run(body, faults=WebhookFaults(drop_rate=1.0))
        assert [json.loads(r.body)["id"] for r in rx.requests] == [kept["id"]]
    (attempt,) = attempts
    assert attempt["outcome"] == "dropped" and attempt["status"] is None


def test_drop_rate_is_deterministic_for_a_seed() -> None:
    def dropped_ids() -> list[str]:
        async def body(d: Dispatcher) -> list[str]:
            for n in range(20):
                d.dispatch(event(n), [endpoint(rx)])
            for n in range(20):
                await settled(d, f"evt_test_{n}")
            return sorted(a["event"] for a in d.attempts() if a["outcome"] == "dropped")

        return run(body, faults=WebhookFaults(drop_rate=0.5, seed=11))

    with Receiver() as rx:
        first, second = dropped_ids(), dropped_ids()
        assert len(rx.requests) == 40 - len(first) - len(second)
    assert first == second
    assert 0 < len(first) < 20


def test_duplicate_sends_two_identical_requests() -> None:
    evt = event()

    async def body(d: Dispatcher) -> list[dict]:
        d.dispatch(evt, [endpoint(rx)])
        assert await settled(d, evt["id"]) is True
        await arrived(rx, 2)
        return d.attempts(evt["id"])

    with Receiver() as rx:
        attempts = run(body, faults=WebhookFaults(duplicate_rate=1.0))
        first, second = rx.requests
    assert first.body == second.body
    assert first.header("Stripe-Signature") == second.header("Stripe-Signature")
    assert json.loads(first.body)["id"] == evt["id"]
    assert sorted(a["outcome"] for a in attempts) == ["duplicate", "succeeded"]


def test_delay_holds_the_delivery_back() -> None:
    evt = event()

    async def body(d: Dispatcher) -> float:
        started = time.time()
        d.dispatch(evt, [endpoint(rx)])
        assert await settled(d, evt["id"]) is True
        return started

    with Receiver() as rx:
        started = run(body, faults=WebhookFaults(delay_ms=300))
        (req,) = rx.requests
    assert req.at - started >= 0.29  # at least the delay; no upper bound asserted


def test_reorder_sends_in_a_shuffled_order() -> None:
    events = [event(n) for n in range(8)]

    async def body(d: Dispatcher) -> None:
        for evt in events:
            d.dispatch(evt, [endpoint(rx)])
        for evt in events:
            assert await settled(d, evt["id"]) is True

    with Receiver() as rx:
        run(body, faults=WebhookFaults(reorder=True, seed=3))
        arrival = [json.loads(r.body)["id"] for r in rx.requests]
    dispatched = [e["id"] for e in events]
    assert sorted(arrival) == sorted(dispatched)  # every event, once
    assert arrival != dispatched


def test_fail_first_fails_the_first_attempts_then_delivers() -> None:
    evt = event()

    async def body(d: Dispatcher) -> list[dict]:
        d.dispatch(evt, [endpoint(rx)])
        assert await settled(d, evt["id"]) is True
        return d.attempts(evt["id"])

    with Receiver() as rx:
        attempts = run(
            body, retry_schedule_s=[0.05, 0.05, 0.05], faults=WebhookFaults(fail_first=2)
        )
        assert len(rx.requests) == 1  # the failed attempts never reach the receiver
    assert [(a["attempt"], a["outcome"]) for a in attempts] == [
        (1, "failed"),
        (2, "failed"),
        (3, "succeeded"),
    ]
    assert attempts[0]["status"] is None and "fail_first" in attempts[0]["error"]


def test_fail_first_beyond_the_schedule_exhausts_retries() -> None:
    evt = event()

    async def body(d: Dispatcher) -> None:
        d.dispatch(evt, [endpoint(rx)])
        assert await settled(d, evt["id"]) is False
        assert len(d.attempts(evt["id"])) == 3

    with Receiver() as rx:
        run(body, retry_schedule_s=FAST, faults=WebhookFaults(fail_first=5))
        assert rx.requests == []
