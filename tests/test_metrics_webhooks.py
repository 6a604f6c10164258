"""Webhook delivery rate through `golive gate`: events of the window that an enabled
endpoint still waits for (`pending_webhooks > 0`) after the grace period are undelivered.
A real receiver on 127.0.0.1 answers the sandbox's deliveries: 200 delivers them, 500
leaves them pending (the sandbox retries in ten minutes, as Stripe retries for days)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sandboxkit
import stripe
from metricskit import check_of, measured, pay, profile, run
from sandboxkit import Receiver, client_for, wait_for

from golive.sandbox import Sandbox

receiver = sandboxkit.receiver
ITEMS = (
    "daily-operations.webhook-delivery-rate",
    "post-deployment.webhook-delivery",
    "week-1.webhook-delivery-rate",
)
SUBSCRIBED = ["payment_intent.succeeded", "payment_intent.payment_failed"]


@pytest.fixture(scope="module")
def _slow_retries() -> Iterator[Sandbox]:
    # A failed delivery is retried only after the test: its event stays pending.
    with Sandbox(retry_schedule_s=[600]) as started:
        yield started


@pytest.fixture
def sandbox(_slow_retries: Sandbox) -> Sandbox:
    _slow_retries.reset()
    return _slow_retries


@pytest.fixture
def client(sandbox: Sandbox) -> stripe.StripeClient:
    return client_for(sandbox)


def endpoint(client: stripe.StripeClient, url: str, events: list[str] = SUBSCRIBED) -> str:
    made = client.v1.webhook_endpoints.create(params={"url": url, "enabled_events": events})
    return made.id


def test_delivered_events_pass(tmp_path, sandbox, client, receiver: Receiver) -> None:
    endpoint_id = endpoint(client, receiver.url)
    pay(client, 25)
    wait_for(lambda: len(receiver.received) >= 25, "25 deliveries")
    wait_for(
        lambda: all(e.pending_webhooks == 0 for e in client.v1.events.list({"limit": 100}).data),
        "every event settled",
    )
    done = run(profile(tmp_path, sandbox), tmp_path / "out", *ITEMS)
    assert done.outcomes() == dict.fromkeys(ITEMS, "pass"), done.stdout
    evidence = measured(done, "week-1.webhook-delivery-rate", "webhook_delivery_rate")
    assert evidence["events"] == 25 and evidence["delivered"] == 25
    # payment_intent.created and charge.succeeded go to no endpoint: not judged.
    assert evidence["not_subscribed_not_counted"] == 50
    assert evidence["endpoints"] == [{"id": endpoint_id, "url": receiver.url, "status": "enabled"}]


def test_undelivered_events_fail_naming_them(tmp_path, sandbox, client, receiver) -> None:
    receiver.status = 500
    endpoint(client, receiver.url)
    pay(client, 25)
    wait_for(lambda: len(receiver.received) >= 25, "25 first attempts")
    done = run(profile(tmp_path, sandbox), tmp_path / "out", *ITEMS)
    assert done.outcomes() == dict.fromkeys(ITEMS, "fail")
    message = check_of(done, "post-deployment.webhook-delivery")["message"]
    assert message.startswith(
        "webhook_delivery_rate rate>=0.99 breached: measured 0 over 25 sample(s) (first-day window"
    )
    evidence = measured(done, "post-deployment.webhook-delivery", "webhook_delivery_rate")
    assert evidence["undelivered"] == 25
    assert evidence["undelivered_types"] == {"payment_intent.succeeded": 25}
    assert len(evidence["undelivered_events"]) == 10
    assert all(e["pending_webhooks"] == 1 for e in evidence["undelivered_events"])


def test_no_enabled_endpoint_fails_whatever_the_events_say(tmp_path, sandbox, client) -> None:
    endpoint_id = endpoint(client, "http://127.0.0.1:9/nowhere")
    client.v1.webhook_endpoints.update(endpoint_id, params={"disabled": True})
    pay(client, 25)
    done = run(profile(tmp_path, sandbox), tmp_path / "out", ITEMS[0])
    assert done.outcomes() == {ITEMS[0]: "fail"}
    assert check_of(done, ITEMS[0])["message"].startswith(
        "no enabled webhook endpoint among the account's 1: events are delivered nowhere"
    )
    evidence = measured(done, ITEMS[0], "webhook_delivery_rate")
    assert evidence["endpoints"][0]["status"] == "disabled"


def test_events_younger_than_the_grace_are_not_judged(tmp_path, sandbox, client, receiver):
    endpoint(client, receiver.url)
    pay(client, 5)
    wait_for(lambda: len(receiver.received) >= 5, "5 deliveries")
    # Judged as of one minute from now: every event is younger than the 10m grace.
    moment = datetime.now(UTC) + timedelta(minutes=1)
    done = run(profile(tmp_path, sandbox), tmp_path / "out", ITEMS[0], now=moment)
    assert done.outcomes() == {ITEMS[0]: "error"}
    assert check_of(done, ITEMS[0])["message"].startswith(
        "examined nothing: webhook_delivery_rate: no samples in the window"
    )
    evidence = measured(done, ITEMS[0], "webhook_delivery_rate")
    assert evidence["too_recent_not_counted"] == 5 and evidence["grace_s"] == 600


def test_a_backend_without_webhook_endpoints_is_not_run(tmp_path, sandbox, client) -> None:
    pay(client, 5)
    stripe_spec = {
        "backend": "sandbox",
        "api_base": sandbox.url,
        "capabilities": {"without": ["webhook-endpoints"]},
    }
    done = run(profile(tmp_path, sandbox, stripe=stripe_spec), tmp_path / "out", ITEMS[0])
    assert done.outcomes() == {ITEMS[0]: "not-run"}
    assert "cannot keep webhook endpoints" in done.item(ITEMS[0])["reason"]


def test_deliveries_that_failed_for_good_stay_undelivered(tmp_path, receiver) -> None:
    receiver.status = 503
    with Sandbox(retry_schedule_s=[0.05]) as quick:  # one retry, then Stripe would give up
        client = client_for(quick)
        endpoint(client, receiver.url)
        pay(client, 20)
        wait_for(lambda: len(receiver.received) >= 40, "two attempts of 20 events")
        wait_for(
            lambda: (
                len(quick.deliveries()) >= 40
                and all(
                    e.pending_webhooks == 1
                    for e in client.v1.events.list(params={"type": "payment_intent.succeeded"})
                )
            ),
            "the retries given up",
        )
        done = run(profile(tmp_path, quick), tmp_path / "out", ITEMS[2])
    assert done.outcomes() == {ITEMS[2]: "fail"}
    evidence = measured(done, ITEMS[2], "webhook_delivery_rate")
    assert evidence["events"] == 20 and evidence["undelivered"] == 20
