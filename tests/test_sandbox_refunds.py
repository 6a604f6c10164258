"""Refunds and the balance they change."""

from __future__ import annotations

import pytest
import sandboxkit
import stripe
from sandboxkit import paid_intent

_module_sandbox = sandboxkit._module_sandbox
sandbox = sandboxkit.sandbox
stripe_client = sandboxkit.stripe_client


def test_partial_then_full_refund(stripe_client):
    pi = paid_intent(stripe_client, amount=5000)
    first = stripe_client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1500})
    assert first.id.startswith("re_")
    assert (first.object, first.status, first.amount) == ("refund", "succeeded", 1500)
    assert (first.charge, first.payment_intent) == (pi.latest_charge, pi.id)
    charge = stripe_client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (1500, False)

    rest = stripe_client.v1.refunds.create(
        params={"charge": pi.latest_charge, "reason": "requested_by_customer"}
    )
    assert rest.amount == 3500
    assert rest.reason == "requested_by_customer"
    charge = stripe_client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (5000, True)

    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.refunds.create(params={"charge": pi.latest_charge})
    assert caught.value.code == "charge_already_refunded"

    listed = stripe_client.v1.refunds.list(params={"payment_intent": pi.id})
    assert [r.id for r in listed.data] == [rest.id, first.id]
    assert stripe_client.v1.refunds.retrieve(first.id).amount == 1500
    expanded = stripe_client.v1.charges.retrieve(pi.latest_charge, params={"expand": ["refunds"]})
    assert {r.id for r in expanded.refunds.data} == {first.id, rest.id}


def test_refund_more_than_remains_is_refused(stripe_client):
    pi = paid_intent(stripe_client, amount=1000)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 2000})
    assert caught.value.param == "amount"
    assert "greater than unrefunded amount" in caught.value.user_message
    assert stripe_client.v1.charges.retrieve(pi.latest_charge).amount_refunded == 0


def test_refund_needs_a_successful_captured_payment(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.refunds.create()
    assert caught.value.code == "parameter_missing"
    unpaid = stripe_client.v1.payment_intents.create(
        params={"amount": 2000, "currency": "usd", "payment_method_types": ["card"]}
    )
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.refunds.create(params={"payment_intent": unpaid.id})
    authorized = paid_intent(stripe_client, capture_method="manual")
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.refunds.create(params={"payment_intent": authorized.id})


def test_partial_capture_then_refund_of_what_was_captured(stripe_client):
    pi = paid_intent(stripe_client, amount=5000, capture_method="manual")
    stripe_client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 3000})
    refund = stripe_client.v1.refunds.create(params={"payment_intent": pi.id})
    assert refund.amount == 3000
    charge = stripe_client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (5000, True)


def balance_amounts(client: stripe.StripeClient) -> tuple[dict, dict]:
    balance = client.v1.balance.retrieve()
    assert balance.object == "balance"
    return (
        {b.currency: b.amount for b in balance.available},
        {b.currency: b.amount for b in balance.pending},
    )


def test_balance_is_captured_charges_minus_refunds(stripe_client):
    assert balance_amounts(stripe_client) == ({"usd": 0}, {"usd": 0})
    paid = paid_intent(stripe_client, amount=5000)
    paid_intent(stripe_client, amount=2000, currency="eur")
    paid_intent(stripe_client, amount=3000, capture_method="manual")  # not captured: not counted
    with pytest.raises(stripe.CardError):
        paid_intent(stripe_client, payment_method="pm_card_chargeDeclined")
    stripe_client.v1.refunds.create(params={"payment_intent": paid.id, "amount": 1000})
    available, pending = balance_amounts(stripe_client)
    assert pending == {"usd": 4000, "eur": 2000}
    assert available == {"usd": 0, "eur": 0}
    # Stripe's bypassPending test card makes funds available at once
    paid_intent(stripe_client, amount=700, payment_method="pm_card_bypassPending")
    assert balance_amounts(stripe_client)[0]["usd"] == 700
