"""Bad requests get Stripe's error shapes and statuses, so the stripe library raises what it
raises in production."""

from __future__ import annotations

import httpx
import pytest
import sandboxkit
import stripe
from sandboxkit import SECRET_KEY, client_for

_module_sandbox = sandboxkit._module_sandbox
sandbox = sandboxkit.sandbox
stripe_client = sandboxkit.stripe_client

VALID = {"amount": 2000, "currency": "usd", "payment_method_types": ["card"]}
FORM = {"amount": "2000", "currency": "usd", "payment_method_types[]": "card"}


def create(client: stripe.StripeClient, **params) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(params={**VALID, **params})


def test_unknown_parameter_names_it(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create(stripe_client, colour="blue")
    error = caught.value
    assert (error.http_status, error.code, error.param) == (400, "parameter_unknown", "colour")
    assert error.user_message == "Received unknown parameter: colour"
    assert error.error.type == "invalid_request_error"


def test_unknown_nested_parameter_names_its_path(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create(
            stripe_client,
            payment_method_data={
                "type": "card",
                "card": {"number": "4242424242424242", "pin": "1"},
            },
        )
    assert caught.value.param == "payment_method_data[card][pin]"


def test_missing_required_parameter(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.payment_intents.create(params={"amount": 2000})
    assert (caught.value.code, caught.value.param) == ("parameter_missing", "currency")


@pytest.mark.parametrize(
    ("amount", "currency", "code", "message"),
    [
        (49, "usd", "amount_too_small", "Amount must be at least $0.50 usd"),
        (29, "gbp", "amount_too_small", "Amount must be at least £0.30 gbp"),
        (49, "jpy", "amount_too_small", "Amount must be at least ¥50 jpy"),
        (100_000_000, "usd", "amount_too_large", None),
        (0, "usd", "parameter_invalid_integer", None),
        ("12.5", "usd", "parameter_invalid_integer", "Invalid integer: 12.5"),
    ],
)
def test_amounts_are_validated(stripe_client, amount, currency, code, message):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create(stripe_client, amount=amount, currency=currency)
    assert (caught.value.code, caught.value.param) == (code, "amount")
    if message:
        assert caught.value.user_message == message


def test_unknown_currency(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create(stripe_client, currency="xyz")
    assert caught.value.param == "currency"
    assert caught.value.user_message.startswith("Invalid currency: xyz.")
    assert create(stripe_client, currency="EUR").currency == "eur"


def test_invalid_enum_and_boolean(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create(stripe_client, capture_method="later")
    assert caught.value.param == "capture_method"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create(stripe_client, confirm="maybe")
    assert caught.value.param == "confirm"


def test_unknown_object_is_resource_missing(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.payment_intents.retrieve("pi_doesnotexist")
    error = caught.value
    assert (error.http_status, error.code, error.param) == (404, "resource_missing", "id")
    assert error.user_message == "No such payment_intent: 'pi_doesnotexist'"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create(stripe_client, payment_method="pm_doesnotexist", confirm=True)
    assert (caught.value.code, caught.value.param) == ("resource_missing", "payment_method")


def test_missing_api_key_is_an_authentication_error(sandbox):
    response = httpx.post(f"{sandbox.url}/v1/payment_intents", data=FORM, trust_env=False)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "You did not provide an API key" in response.json()["error"]["message"]
    assert response.headers["request-id"].startswith("req_")


@pytest.mark.parametrize("key", ["sk_test", "not a key", "sk_" + "live_abcdef123456"])
def test_bad_or_live_keys_are_refused(sandbox, key):
    with pytest.raises(stripe.AuthenticationError) as caught:
        create(client_for(sandbox, key))
    assert caught.value.http_status == 401


def test_basic_auth_like_curl_u_works(sandbox):
    response = httpx.post(
        f"{sandbox.url}/v1/payment_intents", data=FORM, auth=(SECRET_KEY, ""), trust_env=False
    )
    assert response.status_code == 200, response.text


def test_restricted_key_works(sandbox):
    assert create(client_for(sandbox, "rk_test_golive")).status == "requires_payment_method"


def test_every_response_has_a_request_id(sandbox):
    with httpx.Client(base_url=sandbox.url, trust_env=False) as http:
        responses = [
            http.get("/v1/balance", headers={"Authorization": f"Bearer {SECRET_KEY}"}),
            http.get("/v1/balance"),
            http.get("/v1/nothing_here", headers={"Authorization": f"Bearer {SECRET_KEY}"}),
            http.get("/_golive/health"),
        ]
    assert [r.status_code for r in responses] == [200, 401, 404, 200]
    ids = [r.headers["request-id"] for r in responses]
    assert all(i.startswith("req_") for i in ids)
    assert len(set(ids)) == len(ids)


def test_unrecognized_url_is_stripes_404(sandbox):
    response = httpx.delete(
        f"{sandbox.url}/v1/payment_intents/pi_123",
        headers={"Authorization": f"Bearer {SECRET_KEY}"},
        trust_env=False,
    )
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith(
        "Unrecognized request URL (DELETE: /v1/payment_intents/pi_123)"
    )


def test_legacy_charge_creation_is_refused_with_a_reason(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.charges.create(
            params={"amount": 2000, "currency": "usd", "source": "tok_visa"}
        )
    assert "PaymentIntent" in caught.value.user_message


def test_expanding_what_cannot_be_expanded(stripe_client):
    pi = create(stripe_client)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.payment_intents.retrieve(pi.id, params={"expand": ["currency"]})
    assert "cannot be expanded (currency)" in caught.value.user_message


def test_stripe_version_header_is_echoed_and_checked(stripe_client, sandbox):
    pi = create(stripe_client)
    assert pi.last_response.headers["Stripe-Version"] == stripe.api_version
    response = httpx.get(
        f"{sandbox.url}/v1/balance",
        headers={"Authorization": f"Bearer {SECRET_KEY}", "Stripe-Version": "yesterday"},
        trust_env=False,
    )
    assert response.status_code == 400
