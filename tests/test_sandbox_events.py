"""Events for every state change, and their delivery to real webhook receivers."""

from __future__ import annotations

import json

import httpx
import pytest
import sandboxkit
import stripe
from sandboxkit import client_for, paid_intent, wait_for

from golive.sandbox import Sandbox
from golive.sandbox.delivery import WebhookFaults
from golive.webhooks.signing import verify_header

_module_sandbox = sandboxkit._module_sandbox
sandbox = sandboxkit.sandbox
stripe_client = sandboxkit.stripe_client
receiver = sandboxkit.receiver


def history(client: stripe.StripeClient) -> list[stripe.Event]:
    """Every event, oldest first (Stripe lists newest first)."""
    return list(client.v1.events.list(params={"limit": 100}).auto_paging_iter())[::-1]


def card_intent(client: stripe.StripeClient, **params) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={"amount": 2000, "currency": "usd", "payment_method_types": ["card"], **params}
    )


def test_successful_payment_events_in_order_with_snapshots(stripe_client):
    pi = card_intent(stripe_client)
    stripe_client.v1.payment_intents.confirm(
        pi.id, params={"payment_method": "pm_card_visa"}, options={"idempotency_key": "pay-42"}
    )
    events = history(stripe_client)
    assert [e.type for e in events] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]
    created, charged, succeeded = events
    # data.object is the object as it was at that moment
    assert created.data.object.status == "requires_payment_method"
    assert created.data.object.id == pi.id
    assert charged.data.object.object == "charge"
    assert charged.data.object.payment_intent == pi.id
    assert succeeded.data.object.status == "succeeded"
    for event in events:
        assert event.id.startswith("evt_")
        assert event.object == "event"
        assert event.api_version == stripe.api_version
        assert event.livemode is False
        assert event.pending_webhooks == 0
    assert succeeded.request.idempotency_key == "pay-42"
    assert succeeded.request.id.startswith("req_")
    assert stripe_client.v1.events.retrieve(succeeded.id).type == "payment_intent.succeeded"


@pytest.mark.parametrize(
    ("flow", "types"),
    [
        (
            "decline",
            ["payment_intent.created", "charge.failed", "payment_intent.payment_failed"],
        ),
        (
            "3ds",
            [
                "payment_intent.created",
                "payment_intent.requires_action",
                "charge.succeeded",
                "payment_intent.succeeded",
            ],
        ),
        (
            "manual_capture",
            [
                "payment_intent.created",
                "charge.succeeded",
                "payment_intent.amount_capturable_updated",
                "charge.captured",
                "payment_intent.succeeded",
            ],
        ),
        (
            "cancel_authorization",
            [
                "payment_intent.created",
                "charge.succeeded",
                "payment_intent.amount_capturable_updated",
                "charge.refunded",
                "payment_intent.canceled",
            ],
        ),
        (
            "refund",
            [
                "payment_intent.created",
                "charge.succeeded",
                "payment_intent.succeeded",
                "refund.created",
                "charge.refunded",
            ],
        ),
    ],
)
def test_each_flow_emits_stripes_events(sandbox, stripe_client, flow, types):
    if flow == "decline":
        with pytest.raises(stripe.CardError):
            paid_intent(stripe_client, payment_method="pm_card_chargeDeclined")
    elif flow == "3ds":
        pi = paid_intent(stripe_client, payment_method="pm_card_authenticationRequired")
        sandbox.complete_action(pi.id)
    elif flow == "manual_capture":
        pi = paid_intent(stripe_client, capture_method="manual")
        stripe_client.v1.payment_intents.capture(pi.id)
    elif flow == "cancel_authorization":
        pi = paid_intent(stripe_client, capture_method="manual")
        stripe_client.v1.payment_intents.cancel(pi.id)
    else:
        pi = paid_intent(stripe_client)
        stripe_client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 500})
    events = history(stripe_client)
    assert [e.type for e in events] == types
    if flow == "3ds":
        # made by the customer's authentication, not by an API request
        assert events[-1].request.id is None
    if flow == "refund":
        assert events[-1].data.object.amount_refunded == 500


def test_filter_events_by_type_types_and_created(stripe_client):
    paid_intent(stripe_client)
    by_type = stripe_client.v1.events.list(params={"type": "charge.succeeded"})
    assert [e.type for e in by_type.data] == ["charge.succeeded"]
    wildcard = stripe_client.v1.events.list(params={"type": "payment_intent.*"})
    assert {e.type for e in wildcard.data} == {"payment_intent.created", "payment_intent.succeeded"}
    several = stripe_client.v1.events.list(
        params={"types": ["charge.succeeded", "payment_intent.created"]}
    )
    assert len(several.data) == 2
    created = by_type.data[0].created
    assert len(stripe_client.v1.events.list(params={"created": {"gte": created}}).data) == 3
    assert stripe_client.v1.events.list(params={"created": {"lt": created - 3600}}).data == []


def test_webhooks_are_delivered_signed_and_settle(stripe_client, receiver):
    endpoint = stripe_client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["payment_intent.succeeded"]}
    )
    pi = paid_intent(stripe_client)
    succeeded = stripe_client.v1.events.list(params={"type": "payment_intent.succeeded"}).data[0]

    wait_for(lambda: receiver.received, "the webhook to arrive")
    assert len(receiver.received) == 1  # only the subscribed type
    delivery = receiver.received[0]
    assert verify_header(delivery["body"], delivery["headers"]["Stripe-Signature"], endpoint.secret)
    payload = json.loads(delivery["body"])
    assert payload["id"] == succeeded.id
    assert payload["data"]["object"]["id"] == pi.id
    # the library's own verifier accepts it as Stripe's would
    event = stripe.Webhook.construct_event(
        delivery["body"], delivery["headers"]["Stripe-Signature"], endpoint.secret
    )
    assert event.type == "payment_intent.succeeded"

    wait_for(
        lambda: stripe_client.v1.events.retrieve(succeeded.id).pending_webhooks == 0,
        "pending_webhooks to reach 0",
    )
    delivered = stripe_client.v1.events.list(params={"delivery_success": True})
    assert [e.id for e in delivered.data] == [succeeded.id]
    undelivered = stripe_client.v1.events.list(params={"delivery_success": False})
    assert succeeded.id not in {e.id for e in undelivered.data}


def test_failed_deliveries_are_not_delivery_success(receiver):
    receiver.status = 500
    with Sandbox(retry_schedule_s=[0.01]) as failing:
        client = client_for(failing)
        client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["*"]})
        paid_intent(client)
        assert len(client.v1.events.list().data) == 3
        wait_for(
            lambda: (
                len(client.v1.events.list(params={"delivery_success": False}).data) == 3
                and len(failing.deliveries()) == 6
            ),
            "the retries to give up",
        )
        assert len(receiver.received) == 6  # 3 events x (1 attempt + 1 retry)
        # As on Stripe, a webhook never delivered stays pending (Stripe would retry for days).
        assert [e.pending_webhooks for e in client.v1.events.list().data] == [1, 1, 1]
        # the payload was sent while its delivery was pending, as Stripe's are
        assert {body["pending_webhooks"] for body in receiver.bodies()} == {1}
        assert client.v1.events.list(params={"delivery_success": True}).data == []
        assert len(client.v1.events.list(params={"delivery_success": False}).data) == 3
        attempts = failing.deliveries()
        assert {a["status"] for a in attempts} == {500}
        assert failing.stats()["deliveries"]["attempts"] == 6


def test_pending_webhooks_falls_only_when_a_delivery_succeeds(receiver):
    # The first attempt of each delivery fails (receiver unreachable), the retry succeeds.
    with Sandbox(retry_schedule_s=[0.5], webhook_faults=WebhookFaults(fail_first=1)) as flaky:
        client = client_for(flaky)
        client.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["payment_intent.created"]}
        )
        pi = client.v1.payment_intents.create(
            params={"amount": 700, "currency": "usd", "payment_method_types": ["card"]}
        )
        [event] = client.v1.events.list(params={"type": "payment_intent.created"}).data
        assert event.data.object.id == pi.id
        wait_for(lambda: flaky.deliveries(event.id), "the first, failed attempt")
        if not receiver.received:  # still between the failed attempt and its retry
            assert client.v1.events.retrieve(event.id).pending_webhooks == 1
        wait_for(lambda: receiver.received, "the retry to arrive")
        wait_for(
            lambda: client.v1.events.retrieve(event.id).pending_webhooks == 0,
            "pending_webhooks to fall once the retry succeeded",
        )
        assert [a["outcome"] for a in flaky.deliveries(event.id)] == ["failed", "succeeded"]


def test_disabled_endpoints_get_nothing(stripe_client, receiver):
    endpoint = stripe_client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["*"]}
    )
    stripe_client.v1.webhook_endpoints.update(endpoint.id, params={"disabled": True})
    paid_intent(stripe_client)
    assert all(e.pending_webhooks == 0 for e in stripe_client.v1.events.list().data)
    assert receiver.received == []


def test_an_endpoint_can_sign_with_the_apps_configured_secret(sandbox, stripe_client, receiver):
    # The harness registers a target's webhook URL and gives the endpoint the secret the
    # app was configured with, as a person copies it from the Dashboard into the app's env.
    endpoint = stripe_client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["payment_intent.succeeded"]}
    )
    configured = "whsec_" + "AppConfigured" + "7" * 20
    answer = sandbox.set_endpoint_secret(endpoint.id, configured)
    assert answer == {"id": endpoint.id, "secret_set": True}
    paid_intent(stripe_client)
    wait_for(lambda: receiver.received, "the webhook to arrive")
    delivery = receiver.received[0]
    header = delivery["headers"]["Stripe-Signature"]
    assert stripe.Webhook.construct_event(delivery["body"], header, configured).type == (
        "payment_intent.succeeded"
    )
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(delivery["body"], header, endpoint.secret)


def test_setting_a_secret_checks_its_shape_and_the_endpoint(sandbox, stripe_client):
    endpoint = stripe_client.v1.webhook_endpoints.create(
        params={"url": "http://127.0.0.1:9/hook", "enabled_events": ["*"]}
    )
    with pytest.raises(httpx.HTTPStatusError) as bad:
        sandbox.set_endpoint_secret(endpoint.id, "nope")
    assert bad.value.response.status_code == 400
    assert bad.value.response.json()["error"]["param"] == "secret"
    with pytest.raises(httpx.HTTPStatusError) as missing:
        sandbox.set_endpoint_secret("we_missing", "whsec_" + "x" * 20)
    assert missing.value.response.status_code == 404
