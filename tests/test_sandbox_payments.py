"""PaymentIntent flows against the sandbox, driven by the official stripe library."""

from __future__ import annotations

import httpx
import pytest
import sandboxkit
import stripe
from sandboxkit import PUBLISHABLE_KEY, client_for, paid_intent

_module_sandbox = sandboxkit._module_sandbox
sandbox = sandboxkit.sandbox
stripe_client = sandboxkit.stripe_client


def card_intent(client: stripe.StripeClient, **params) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={"amount": 2000, "currency": "usd", "payment_method_types": ["card"], **params}
    )


def test_create_then_confirm_with_visa_succeeds_with_a_charge(stripe_client):
    pi = card_intent(stripe_client, metadata={"order": "42"}, description="Order 42")
    assert pi.object == "payment_intent"
    assert pi.id.startswith("pi_")
    assert pi.status == "requires_payment_method"
    assert pi.client_secret.startswith(pi.id + "_secret_")
    assert pi.capture_method == "automatic_async"
    assert pi.livemode is False

    pi = stripe_client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert pi.status == "succeeded"
    assert pi.amount_received == 2000
    assert pi.payment_method.startswith("pm_") and pi.payment_method != "pm_card_visa"
    charge = stripe_client.v1.charges.retrieve(pi.latest_charge)
    assert charge.id.startswith("ch_")
    assert (charge.status, charge.paid, charge.captured) == ("succeeded", True, True)
    assert (charge.amount, charge.amount_captured, charge.amount_refunded) == (2000, 2000, 0)
    assert charge.payment_intent == pi.id
    assert charge.metadata.to_dict() == {"order": "42"}
    assert charge.payment_method_details.card.brand == "visa"
    assert charge.payment_method_details.card.last4 == "4242"
    assert charge.outcome.type == "authorized"


def test_payment_method_is_a_new_card_payment_method(stripe_client):
    pi = paid_intent(stripe_client, payment_method="pm_card_mastercard")
    pm = stripe_client.v1.payment_methods.retrieve(pi.payment_method)
    assert pm.type == "card"
    assert (pm.card.brand, pm.card.last4) == ("mastercard", "4444")


def test_create_with_payment_method_waits_for_confirmation(stripe_client):
    pi = card_intent(stripe_client, payment_method="pm_card_visa")
    assert pi.status == "requires_confirmation"
    assert stripe_client.v1.payment_intents.confirm(pi.id).status == "succeeded"


@pytest.mark.parametrize(
    ("payment_method", "decline_code", "message"),
    [
        ("pm_card_chargeDeclined", "generic_decline", "Your card was declined."),
        (
            "pm_card_chargeDeclinedInsufficientFunds",
            "insufficient_funds",
            "Your card has insufficient funds.",
        ),
    ],
)
def test_declined_card_raises_card_error_and_records_the_failure(
    stripe_client, payment_method, decline_code, message
):
    pi = card_intent(stripe_client)
    with pytest.raises(stripe.CardError) as caught:
        stripe_client.v1.payment_intents.confirm(pi.id, params={"payment_method": payment_method})
    error = caught.value
    assert error.http_status == 402
    assert error.code == "card_declined"
    assert error.error.decline_code == decline_code
    assert error.error.message == message
    assert error.error.payment_intent["id"] == pi.id

    pi = stripe_client.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.code == "card_declined"
    assert pi.last_payment_error.decline_code == decline_code
    assert pi.payment_method is None
    charge = stripe_client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.status, charge.paid, charge.failure_code) == ("failed", False, "card_declined")
    assert charge.outcome.reason == decline_code

    # the customer tries another card: the same PaymentIntent succeeds
    pi = stripe_client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert pi.status == "succeeded"
    assert pi.last_payment_error is None


@pytest.mark.parametrize(
    ("number", "outcome"),
    [
        ("4242424242424242", "succeeded"),
        ("4000000000000002", "generic_decline"),
        ("4000000000009995", "insufficient_funds"),
        ("4000002500003155", "requires_action"),
    ],
)
def test_raw_test_card_numbers(stripe_client, number, outcome):
    data = {
        "type": "card",
        "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
    }
    pi = card_intent(stripe_client)
    if outcome in ("succeeded", "requires_action"):
        pi = stripe_client.v1.payment_intents.confirm(pi.id, params={"payment_method_data": data})
        assert pi.status == outcome
        pm = stripe_client.v1.payment_methods.retrieve(pi.payment_method)
        assert pm.card.last4 == number[-4:]
        assert (pm.card.exp_month, pm.card.exp_year) == (12, 2034)
    else:
        with pytest.raises(stripe.CardError) as caught:
            stripe_client.v1.payment_intents.confirm(pi.id, params={"payment_method_data": data})
        assert caught.value.error.decline_code == outcome


def test_bad_card_numbers(stripe_client):
    pi = card_intent(stripe_client)
    card = {"exp_month": 12, "exp_year": 2034}
    with pytest.raises(stripe.CardError) as caught:
        stripe_client.v1.payment_intents.confirm(
            pi.id,
            params={
                "payment_method_data": {
                    "type": "card",
                    "card": {**card, "number": "4242424242424241"},
                }
            },
        )
    assert caught.value.code == "incorrect_number"
    # a real (non-test) card number is declined in test mode, as Stripe does
    with pytest.raises(stripe.CardError) as caught:
        stripe_client.v1.payment_intents.confirm(
            pi.id,
            params={
                "payment_method_data": {
                    "type": "card",
                    "card": {**card, "number": "4532015112830366"},
                }
            },
        )
    assert caught.value.error.decline_code == "test_mode_live_card"


def test_three_d_secure_completed_by_the_customer(sandbox, stripe_client):
    pi = card_intent(stripe_client)
    pi = stripe_client.v1.payment_intents.confirm(
        pi.id, params={"payment_method": "pm_card_authenticationRequired"}
    )
    assert pi.status == "requires_action"
    assert pi.next_action.type == "use_stripe_sdk"
    assert pi.latest_charge is None

    completed = sandbox.complete_action(pi.id)
    assert completed["status"] == "succeeded"
    pi = stripe_client.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "succeeded"
    assert pi.next_action is None
    charge = stripe_client.v1.charges.retrieve(pi.latest_charge)
    assert charge.payment_method_details.card.three_d_secure.result == "authenticated"


def test_three_d_secure_failed_by_the_customer(sandbox, stripe_client):
    pi = card_intent(stripe_client, payment_method="pm_card_authenticationRequired")
    stripe_client.v1.payment_intents.confirm(pi.id)
    sandbox.fail_action(pi.id)
    pi = stripe_client.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.code == "payment_intent_authentication_failure"
    # completing an action that is no longer pending is refused
    with pytest.raises(httpx.HTTPStatusError) as caught:
        sandbox.complete_action(pi.id)
    assert caught.value.response.json()["error"]["code"] == "payment_intent_unexpected_state"


def test_three_d_secure_confirmed_again_with_another_card(stripe_client):
    pi = card_intent(stripe_client, payment_method="pm_card_authenticationRequired", confirm=True)
    assert pi.status == "requires_action"
    pi = stripe_client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert pi.status == "succeeded"


def test_three_d_secure_redirect_returns_to_the_return_url(sandbox, stripe_client):
    pi = card_intent(
        stripe_client,
        payment_method="pm_card_authenticationRequired",
        confirm=True,
        return_url="https://shop.example/return?order=42",
    )
    assert pi.next_action.type == "redirect_to_url"
    url = pi.next_action.redirect_to_url.url
    response = httpx.get(url, follow_redirects=False, trust_env=False)
    assert response.status_code == 302
    location = httpx.URL(response.headers["location"])
    assert location.host == "shop.example"
    assert location.params["order"] == "42"
    assert location.params["payment_intent"] == pi.id
    assert location.params["redirect_status"] == "succeeded"
    assert stripe_client.v1.payment_intents.retrieve(pi.id).status == "succeeded"


def test_off_session_payment_needing_authentication_is_declined(stripe_client):
    with pytest.raises(stripe.CardError) as caught:
        card_intent(
            stripe_client,
            payment_method="pm_card_authenticationRequired",
            confirm=True,
            off_session=True,
        )
    assert caught.value.code == "authentication_required"
    assert caught.value.error.payment_intent["status"] == "requires_payment_method"


def test_manual_capture_full(stripe_client):
    pi = paid_intent(stripe_client, capture_method="manual")
    assert pi.status == "requires_capture"
    assert (pi.amount_capturable, pi.amount_received) == (2000, 0)
    assert stripe_client.v1.charges.retrieve(pi.latest_charge).captured is False

    pi = stripe_client.v1.payment_intents.capture(pi.id)
    assert pi.status == "succeeded"
    assert (pi.amount_capturable, pi.amount_received) == (0, 2000)
    charge = stripe_client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.captured, charge.amount_captured) == (True, 2000)


def test_manual_capture_partial(stripe_client):
    pi = paid_intent(stripe_client, amount=5000, capture_method="manual")
    pi = stripe_client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 3000})
    assert (pi.status, pi.amount_received) == ("succeeded", 3000)
    charge = stripe_client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount, charge.amount_captured, charge.amount_refunded) == (5000, 3000, 2000)
    assert charge.refunded is False


def test_capture_more_than_capturable_is_refused(stripe_client):
    pi = paid_intent(stripe_client, capture_method="manual")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 2001})
    assert caught.value.param == "amount_to_capture"
    assert stripe_client.v1.payment_intents.retrieve(pi.id).status == "requires_capture"


def test_cancel(stripe_client):
    pi = card_intent(stripe_client)
    pi = stripe_client.v1.payment_intents.cancel(
        pi.id, params={"cancellation_reason": "requested_by_customer"}
    )
    assert pi.status == "canceled"
    assert pi.cancellation_reason == "requested_by_customer"
    assert pi.canceled_at is not None


def test_cancel_an_authorization_releases_the_charge(stripe_client):
    pi = paid_intent(stripe_client, capture_method="manual")
    pi = stripe_client.v1.payment_intents.cancel(pi.id)
    assert (pi.status, pi.amount_capturable) == ("canceled", 0)
    charge = stripe_client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.refunded, charge.amount_refunded, charge.captured) == (True, 2000, False)


@pytest.mark.parametrize(
    ("setup", "operation", "message_part"),
    [
        ("succeeded", "capture", "already been captured"),
        ("requires_payment_method", "capture", "status of requires_payment_method"),
        ("succeeded", "cancel", "status of succeeded"),
        ("succeeded", "confirm", "already succeeded"),
        ("canceled", "confirm", "status of canceled"),
    ],
)
def test_invalid_transitions_are_unexpected_state(stripe_client, setup, operation, message_part):
    if setup == "succeeded":
        pi = paid_intent(stripe_client)
    else:
        pi = card_intent(stripe_client)
        if setup == "canceled":
            stripe_client.v1.payment_intents.cancel(pi.id)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        getattr(stripe_client.v1.payment_intents, operation)(pi.id)
    error = caught.value
    assert error.http_status == 400
    assert error.code == "payment_intent_unexpected_state"
    assert message_part in error.user_message
    assert error.error.payment_intent["id"] == pi.id
    assert stripe_client.v1.payment_intents.retrieve(pi.id).status == setup


def test_confirm_without_payment_method_is_refused(stripe_client):
    pi = card_intent(stripe_client)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.payment_intents.confirm(pi.id)
    assert caught.value.code == "payment_intent_unexpected_state"
    assert "missing a payment method" in caught.value.user_message


def test_automatic_payment_methods_need_a_return_url_to_confirm(stripe_client):
    # Stripe's default since 2023-08-16: no payment_method_types means automatic payment
    # methods with redirects allowed, and confirming such an intent needs a return_url.
    pi = stripe_client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd"})
    assert pi.automatic_payment_methods.enabled is True
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert caught.value.param == "return_url"
    pi = stripe_client.v1.payment_intents.confirm(
        pi.id, params={"payment_method": "pm_card_visa", "return_url": "https://shop.example/done"}
    )
    assert pi.status == "succeeded"
    never = stripe_client.v1.payment_intents.create(
        params={
            "amount": 2000,
            "currency": "usd",
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "payment_method": "pm_card_visa",
            "confirm": True,
        }
    )
    assert never.status == "succeeded"


def test_update_amount_and_metadata(stripe_client):
    pi = card_intent(stripe_client, metadata={"a": "1", "b": "2"})
    pi = stripe_client.v1.payment_intents.update(
        pi.id, params={"amount": 3000, "metadata": {"a": "", "c": "3"}}
    )
    assert pi.amount == 3000
    assert pi.metadata.to_dict() == {"b": "2", "c": "3"}
    paid = paid_intent(stripe_client)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.payment_intents.update(paid.id, params={"amount": 100})
    assert caught.value.code == "payment_intent_unexpected_state"
    # descriptive fields may still change after payment
    assert (
        stripe_client.v1.payment_intents.update(
            paid.id, params={"description": "shipped"}
        ).description
        == "shipped"
    )


def test_publishable_key_confirms_and_retrieves_with_the_client_secret(sandbox, stripe_client):
    pi = card_intent(stripe_client, metadata={"internal": "yes"})
    browser = client_for(sandbox, PUBLISHABLE_KEY)
    seen = browser.v1.payment_intents.retrieve(pi.id, params={"client_secret": pi.client_secret})
    assert seen.status == "requires_payment_method"
    assert "metadata" not in seen  # a publishable key sees a restricted view
    confirmed = browser.v1.payment_intents.confirm(
        pi.id, params={"client_secret": pi.client_secret, "payment_method": "pm_card_visa"}
    )
    assert confirmed.status == "succeeded"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        browser.v1.payment_intents.retrieve(pi.id, params={"client_secret": "pi_x_secret_wrong"})
    assert caught.value.param == "client_secret"
    with pytest.raises(stripe.AuthenticationError):
        browser.v1.payment_intents.create(params={"amount": 2000, "currency": "usd"})
    with pytest.raises(stripe.AuthenticationError):
        browser.v1.payment_intents.capture(pi.id)


def test_payment_methods_created_with_either_key(sandbox, stripe_client):
    card = {"number": "4000000000009995", "exp_month": 1, "exp_year": 2035, "cvc": "314"}
    browser = client_for(sandbox, PUBLISHABLE_KEY)
    pm = browser.v1.payment_methods.create(
        params={"type": "card", "card": card, "billing_details": {"name": "Jenny Rosen"}}
    )
    assert pm.id.startswith("pm_")
    assert (pm.card.last4, pm.billing_details.name) == ("9995", "Jenny Rosen")
    # the card behind it decides the outcome
    with pytest.raises(stripe.CardError) as caught:
        card_intent(stripe_client, payment_method=pm.id, confirm=True)
    assert caught.value.error.decline_code == "insufficient_funds"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.payment_methods.create(params={"type": "sepa_debit"})
    assert caught.value.param == "type"
