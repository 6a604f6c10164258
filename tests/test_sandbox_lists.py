"""Lists: Stripe's envelope, newest first, cursor pagination, filters and expansion."""

from __future__ import annotations

import pytest
import sandboxkit
import stripe
from sandboxkit import paid_intent

_module_sandbox = sandboxkit._module_sandbox
sandbox = sandboxkit.sandbox
stripe_client = sandboxkit.stripe_client


def make_intents(client: stripe.StripeClient, count: int, **params) -> list[str]:
    return [
        client.v1.payment_intents.create(
            params={
                "amount": 1000 + i,
                "currency": "usd",
                "payment_method_types": ["card"],
                **params,
            }
        ).id
        for i in range(count)
    ]


def test_auto_paging_walks_every_page_newest_first(stripe_client):
    ids = make_intents(stripe_client, 25)
    first = stripe_client.v1.payment_intents.list(params={"limit": 10})
    assert first.object == "list"
    assert first.url == "/v1/payment_intents"
    assert first.has_more is True
    assert [pi.id for pi in first.data] == ids[::-1][:10]
    walked = [pi.id for pi in first.auto_paging_iter()]
    assert walked == ids[::-1]


def test_starting_after_and_ending_before(stripe_client):
    ids = make_intents(stripe_client, 5)[::-1]  # newest first
    after = stripe_client.v1.payment_intents.list(params={"starting_after": ids[1], "limit": 2})
    assert [pi.id for pi in after.data] == ids[2:4]
    assert after.has_more is True
    before = stripe_client.v1.payment_intents.list(params={"ending_before": ids[3], "limit": 2})
    assert [pi.id for pi in before.data] == ids[1:3]
    assert before.has_more is True
    last = stripe_client.v1.payment_intents.list(params={"starting_after": ids[3]})
    assert [pi.id for pi in last.data] == ids[4:]
    assert last.has_more is False


def test_bad_paging_parameters(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.payment_intents.list(params={"limit": 101})
    assert caught.value.param == "limit"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.payment_intents.list(params={"starting_after": "pi_nope"})
    assert (caught.value.param, caught.value.code) == ("starting_after", "resource_missing")


def test_filters(stripe_client):
    mine = make_intents(stripe_client, 2, customer="cus_golive")
    make_intents(stripe_client, 3)
    by_customer = stripe_client.v1.payment_intents.list(params={"customer": "cus_golive"})
    assert [pi.id for pi in by_customer.data] == mine[::-1]
    created = stripe_client.v1.payment_intents.retrieve(mine[0]).created
    assert (
        len(stripe_client.v1.payment_intents.list(params={"created": {"gte": created}}).data) == 5
    )
    assert (
        stripe_client.v1.payment_intents.list(params={"created": {"gt": created + 3600}}).data == []
    )
    assert len(stripe_client.v1.payment_intents.list(params={"created": created}).data) >= 2


def test_charges_listed_by_payment_intent_and_expanded(stripe_client):
    pi = paid_intent(stripe_client)
    paid_intent(stripe_client)
    charges = stripe_client.v1.charges.list(params={"payment_intent": pi.id})
    assert [c.id for c in charges.data] == [pi.latest_charge]
    assert len(stripe_client.v1.charges.list().data) == 2
    expanded = stripe_client.v1.payment_intents.list(params={"expand": ["data.latest_charge"]})
    assert all(item.latest_charge.object == "charge" for item in expanded.data)
    one = stripe_client.v1.payment_intents.retrieve(
        pi.id, params={"expand": ["latest_charge", "payment_method"]}
    )
    assert (one.latest_charge.id, one.payment_method.object) == (pi.latest_charge, "payment_method")
