"""History in the sandbox: the clock, lists filtered by `created` and ordered by it, and
past payments imported in bulk (POST /_golive/history); the official stripe library is the
oracle for what a list shows."""

from __future__ import annotations

import time

import httpx
import pytest
import sandboxkit
import stripe
from sandboxkit import paid_intent, wait_for

from golive.sandbox.clock import MAX_AHEAD_S

_module_sandbox = sandboxkit._module_sandbox
sandbox = sandboxkit.sandbox
stripe_client = sandboxkit.stripe_client
receiver = sandboxkit.receiver

DAY = 86_400


def intents_at(sandbox, client: stripe.StripeClient, when: int, count: int) -> list[str]:
    """`count` PaymentIntents created at (about) `when`, oldest first."""
    sandbox.set_clock(now=when)
    made = [
        client.v1.payment_intents.create(
            params={"amount": 500 + i, "currency": "usd", "payment_method_types": ["card"]}
        ).id
        for i in range(count)
    ]
    sandbox.set_clock()
    return made


# -- the clock ----------------------------------------------------------------------------


def test_clock_sets_created_and_goes_back_to_real_time(sandbox, stripe_client):
    real = sandbox.clock()
    assert real["simulated"] is False and real["offset_s"] == 0
    past = int(time.time()) - 30 * DAY
    shown = sandbox.set_clock(now=past)
    assert shown["simulated"] is True
    assert past <= shown["now"] <= past + 5
    pi = paid_intent(stripe_client)
    assert past <= pi.created <= past + 5
    charge = stripe_client.v1.charges.retrieve(pi.latest_charge)
    refund = stripe_client.v1.refunds.create(params={"payment_intent": pi.id})
    assert past <= charge.created <= past + 5 and past <= refund.created <= past + 5
    events = stripe_client.v1.events.list(params={"limit": 100}).data
    assert events and all(past <= e.created <= past + 5 for e in events)
    assert sandbox.set_clock(offset_s=-DAY)["offset_s"] == -DAY
    assert (
        abs(
            stripe_client.v1.payment_intents.create(
                params={"amount": 100, "currency": "usd", "payment_method_types": ["card"]}
            ).created
            - (time.time() - DAY)
        )
        < 5
    )
    assert sandbox.set_clock()["simulated"] is False
    assert abs(paid_intent(stripe_client).created - time.time()) < 5


def test_reset_sets_the_clock_back_to_real_time(sandbox):
    sandbox.set_clock(offset_s=-3600)
    sandbox.reset()
    assert sandbox.clock()["simulated"] is False


@pytest.mark.parametrize(
    "body",
    [
        {"offset_s": MAX_AHEAD_S + 60},
        {"now": time.time() + 2 * DAY},
        {"now": 1, "offset_s": 1},
        {},
        {"now": "soon"},
        {"reset": False},
        {"speed": 2},
    ],
)
def test_clock_refuses_the_future_and_bad_requests(sandbox, body):
    with httpx.Client(base_url=sandbox.url) as client:
        answer = client.post("/_golive/clock", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "invalid_request_error"
    assert sandbox.clock()["simulated"] is False  # nothing changed


def test_clock_allows_a_little_skew_ahead(sandbox):
    assert sandbox.set_clock(offset_s=MAX_AHEAD_S - 10)["simulated"] is True


def test_signatures_keep_real_time_while_events_carry_the_clock(sandbox, stripe_client, receiver):
    endpoint = stripe_client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["payment_intent.succeeded"]}
    )
    past = int(time.time()) - 7 * DAY
    sandbox.set_clock(now=past)
    pi = paid_intent(stripe_client)
    wait_for(lambda: receiver.received, "the payment_intent.succeeded delivery")
    delivery = receiver.received[0]
    signature = delivery["headers"]["Stripe-Signature"]
    signed_at = int(dict(part.split("=", 1) for part in signature.split(","))["t"])
    assert abs(signed_at - time.time()) < 60  # real wall time
    # The official library's verification (300 s tolerance) accepts it.
    event = stripe.Webhook.construct_event(delivery["body"], signature, endpoint.secret)
    assert event.type == "payment_intent.succeeded" and event.data.object.id == pi.id
    assert past <= event.created <= past + 5  # simulated time


# -- lists by `created` --------------------------------------------------------------------


def test_created_filters_on_every_list(sandbox, stripe_client):
    now = int(time.time())
    old_at, new_at = now - 3 * DAY, now - DAY
    sandbox.set_clock(now=old_at)
    old = paid_intent(stripe_client)
    old_refund = stripe_client.v1.refunds.create(params={"payment_intent": old.id})
    sandbox.set_clock(now=new_at)
    new = paid_intent(stripe_client)
    new_refund = stripe_client.v1.refunds.create(params={"payment_intent": new.id})
    sandbox.set_clock()
    middle = now - 2 * DAY
    lists = {
        "payment_intents": (stripe_client.v1.payment_intents, old.id, new.id),
        "charges": (stripe_client.v1.charges, old.latest_charge, new.latest_charge),
        "refunds": (stripe_client.v1.refunds, old_refund.id, new_refund.id),
    }
    for name, (service, old_id, new_id) in lists.items():
        before = service.list(params={"created": {"lt": middle}}).data
        after = service.list(params={"created": {"gte": middle}}).data
        assert [o.id for o in before] == [old_id], name
        assert [o.id for o in after] == [new_id], name
        exact = service.retrieve(old_id).created
        assert [o.id for o in service.list(params={"created": exact}).data] == [old_id], name
        both = service.list(params={"created": {"gt": old_at - 10, "lte": new_at + 10}}).data
        assert [o.id for o in both] == [new_id, old_id], name
        assert service.list(params={"created": {"gt": new_at + 10, "lt": old_at}}).data == []
    old_events = stripe_client.v1.events.list(params={"created": {"lte": middle}}).data
    assert old_events and all(e.created < middle for e in old_events)
    assert {e.data.object.id for e in old_events} >= {old.id, old_refund.id}
    assert new.id not in {e.data.object.id for e in old_events}


def test_auto_paging_over_a_created_window(sandbox, stripe_client):
    now = int(time.time())
    intents_at(sandbox, stripe_client, now - 3 * DAY, 12)
    window = intents_at(sandbox, stripe_client, now - 2 * DAY, 23)
    intents_at(sandbox, stripe_client, now - DAY, 12)
    query = {"created": {"gte": now - 2 * DAY - 60, "lt": now - 2 * DAY + 600}, "limit": 5}
    walked = [
        pi.id for pi in stripe_client.v1.payment_intents.list(params=query).auto_paging_iter()
    ]
    assert walked == window[::-1]
    # Stripe's cursor may lie outside the window: the page starts after it all the same.
    after_newest = stripe_client.v1.payment_intents.list(
        params={**query, "starting_after": window[-1]}
    )
    assert [pi.id for pi in after_newest.data] == window[::-1][1:6]


def test_lists_are_ordered_by_created_not_by_insertion(sandbox, stripe_client):
    now = int(time.time())
    [hour_ago] = intents_at(sandbox, stripe_client, now - 3600, 1)
    [two_hours_ago] = intents_at(sandbox, stripe_client, now - 7200, 1)  # made after, older
    [latest] = intents_at(sandbox, stripe_client, now, 1)
    listed = [pi.id for pi in stripe_client.v1.payment_intents.list().data]
    assert listed == [latest, hour_ago, two_hours_ago]
    after = stripe_client.v1.payment_intents.list(params={"starting_after": hour_ago})
    assert ([pi.id for pi in after.data], after.has_more) == ([two_hours_ago], False)
    before = stripe_client.v1.payment_intents.list(
        params={"ending_before": two_hours_ago, "limit": 1}
    )
    assert ([pi.id for pi in before.data], before.has_more) == ([hour_ago], True)
    events = stripe_client.v1.events.list().data
    assert [e.created for e in events] == sorted((e.created for e in events), reverse=True)
