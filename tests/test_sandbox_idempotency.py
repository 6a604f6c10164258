"""Idempotency-Key semantics, checked through the stripe library."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sandboxkit
import stripe
from sandboxkit import client_for

from golive.sandbox import Sandbox

_module_sandbox = sandboxkit._module_sandbox
sandbox = sandboxkit.sandbox
stripe_client = sandboxkit.stripe_client

PARAMS = {"amount": 2000, "currency": "usd", "payment_method_types": ["card"]}


def create(client: stripe.StripeClient, key: str, **params) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={**PARAMS, **params}, options={"idempotency_key": key}
    )


def count_intents(client: stripe.StripeClient) -> int:
    return len(list(client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()))


def test_same_key_same_params_replays_the_first_response(stripe_client):
    first = create(stripe_client, "order-1")
    again = create(stripe_client, "order-1")
    assert again.id == first.id
    assert again.last_response.code == first.last_response.code == 200
    assert again.last_response.body == first.last_response.body
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.last_response.headers
    assert again.last_response.headers["Original-Request"] == first.last_response.request_id
    assert count_intents(stripe_client) == 1


def test_same_key_other_params_is_an_idempotency_error(stripe_client):
    create(stripe_client, "order-2")
    with pytest.raises(stripe.IdempotencyError) as caught:
        create(stripe_client, "order-2", amount=3000)
    assert caught.value.http_status == 400
    assert caught.value.error.type == "idempotency_error"
    assert "same parameters" in caught.value.user_message


def test_same_key_on_another_endpoint_is_an_idempotency_error(stripe_client):
    pi = create(stripe_client, "order-3")
    with pytest.raises(stripe.IdempotencyError):
        stripe_client.v1.payment_intents.cancel(pi.id, options={"idempotency_key": "order-3"})


def test_a_decline_is_replayed_too(stripe_client):
    pi = create(stripe_client, "pay-1")
    with pytest.raises(stripe.CardError) as first:
        stripe_client.v1.payment_intents.confirm(
            pi.id,
            params={"payment_method": "pm_card_chargeDeclined"},
            options={"idempotency_key": "confirm-1"},
        )
    with pytest.raises(stripe.CardError) as again:
        stripe_client.v1.payment_intents.confirm(
            pi.id,
            params={"payment_method": "pm_card_chargeDeclined"},
            options={"idempotency_key": "confirm-1"},
        )
    assert again.value.headers["Idempotent-Replayed"] == "true"
    assert again.value.http_body == first.value.http_body
    # one attempt, one failed charge
    assert len(stripe_client.v1.charges.list().data) == 1


def test_a_request_refused_by_validation_is_not_saved(stripe_client):
    with pytest.raises(stripe.InvalidRequestError):
        create(stripe_client, "order-4", amount=10)  # below the minimum
    fixed = create(stripe_client, "order-4", amount=2000)
    assert "Idempotent-Replayed" not in fixed.last_response.headers
    assert fixed.status == "requires_payment_method"


def test_keys_are_scoped_per_api_key(sandbox, stripe_client):
    mine = create(stripe_client, "shared-key")
    theirs = create(client_for(sandbox, "sk_test_someone_else"), "shared-key")
    assert mine.id != theirs.id


def test_keys_expire():
    with Sandbox(idempotency_ttl_s=0) as short_lived:
        client = client_for(short_lived)
        assert create(client, "k").id != create(client, "k").id


def test_fifty_concurrent_requests_with_one_key_create_one_intent(sandbox, stripe_client):
    start = threading.Barrier(50)

    def one(_: int) -> tuple[str, bool]:
        client = client_for(sandbox)  # each thread its own connection
        start.wait()
        pi = create(client, "burst-key", metadata={"burst": "1"})
        return pi.id, pi.last_response.headers.get("Idempotent-Replayed") == "true"

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(50)))
    assert len({pi_id for pi_id, _ in results}) == 1
    assert sum(replayed for _, replayed in results) == 49
    assert count_intents(stripe_client) == 1
    created = stripe_client.v1.events.list(params={"type": "payment_intent.created"})
    assert len(created.data) == 1
