"""Bounded memory: the sandbox keeps the newest `max_objects` objects, idempotency keys and
delivery records, evicts older ones, and says so when an evicted id is asked for.

The sandbox here keeps 5 objects. Each unconfirmed create stores two (the PaymentIntent and
its `payment_intent.created` event), so after six creates (twelve objects) the newest five
are evt6, pi6, evt5, pi5 and evt4: pi4 is gone while its event is still there.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Iterator

import pytest
import sandboxkit
import stripe
from sandboxkit import client_for, paid_intent, wait_for

from golive.backends import start_backend
from golive.profile import StripeBackend
from golive.sandbox import Sandbox
from golive.sandbox.cli import add_parser
from golive.sandbox.defaults import DEFAULT_MAX_OBJECTS
from golive.sandbox.ids import random_token

CAP = 5
PARAMS = {"amount": 2000, "currency": "usd", "payment_method_types": ["card"]}
receiver = sandboxkit.receiver


@pytest.fixture(scope="module")
def _small_sandbox() -> Iterator[Sandbox]:
    with Sandbox(max_objects=CAP, retry_schedule_s=[0.05, 0.1]) as started:
        yield started


@pytest.fixture
def small(_small_sandbox: Sandbox) -> Sandbox:
    _small_sandbox.reset()
    return _small_sandbox


@pytest.fixture
def client(small: Sandbox) -> stripe.StripeClient:
    return client_for(small)


def create(client: stripe.StripeClient, key: str | None = None) -> stripe.PaymentIntent:
    options = {"idempotency_key": key} if key else {}
    return client.v1.payment_intents.create(params=PARAMS, options=options)


def not_found(call) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call()
    error = caught.value
    assert error.code == "resource_missing"
    assert error.error.type == "invalid_request_error"
    return error


def stored_total(sandbox: Sandbox) -> int:
    return sum(sandbox.stats()["objects"].values())


def test_beyond_the_cap_the_oldest_objects_are_evicted_and_the_newest_kept(small, client):
    intents = [create(client, key=f"order-{i}") for i in range(1, 7)]
    stats = small.stats()
    assert stats["max_objects"] == CAP
    assert stored_total(small) == CAP
    assert stats["evicted"] == 12 - CAP
    assert stats["idempotency_keys"] == CAP
    # The newest are retrievable, as they were created.
    for pi in intents[-2:]:
        assert client.v1.payment_intents.retrieve(pi.id).amount == 2000
    # Lists show only what is stored, newest first.
    listed = client.v1.payment_intents.list(params={"limit": 100}).data
    assert [pi.id for pi in listed] == [intents[5].id, intents[4].id]
    events = client.v1.events.list(params={"limit": 100}).data
    assert [e.data.object.id for e in events] == [intents[i].id for i in (5, 4, 3)]


def test_under_the_cap_nothing_is_evicted(small, client):
    intents = [create(client, key=f"order-{i}") for i in range(2)]  # four objects
    stats = small.stats()
    assert (stored_total(small), stats["evicted"], stats["idempotency_keys"]) == (4, 0, 2)
    for pi in intents:
        assert client.v1.payment_intents.retrieve(pi.id).id == pi.id
    assert len(client.v1.events.list().data) == 2


def test_an_evicted_id_is_a_404_that_says_it_was_evicted(small, client):
    oldest = create(client)
    (oldest_event,) = client.v1.events.list().data
    for _ in range(3):
        create(client)  # eight objects: pi1, its event and pi2 are evicted
    error = not_found(lambda: client.v1.payment_intents.retrieve(oldest.id))
    assert error.http_status == 404
    assert error.param == "id"
    assert error.user_message.startswith(f"No such payment_intent: '{oldest.id}'")
    assert "evicted" in error.user_message
    assert "newest 5 objects" in error.user_message
    assert "--max-objects" in error.user_message
    error = not_found(lambda: client.v1.events.retrieve(oldest_event.id))
    assert error.user_message.startswith(f"No such event: '{oldest_event.id}'; it was evicted")


def test_an_id_never_issued_is_the_ordinary_404(small, client):
    for _ in range(4):
        create(client)  # evictions happened: only ids this sandbox made can be "evicted"
    made_up = "pi_" + random_token(24)
    error = not_found(lambda: client.v1.payment_intents.retrieve(made_up))
    assert (error.http_status, error.param) == (404, "id")
    assert error.user_message == f"No such payment_intent: '{made_up}'"
    with Sandbox() as other:
        foreign = create(client_for(other))  # a real id, but another sandbox's
    error = not_found(lambda: client.v1.payment_intents.retrieve(foreign.id))
    assert error.user_message == f"No such payment_intent: '{foreign.id}'"


def test_ids_forgotten_by_a_reset_are_not_called_evicted(small, client):
    before = create(client)
    for _ in range(3):
        create(client)
    small.reset()
    for _ in range(3):
        create(client)  # evictions after the reset
    error = not_found(lambda: client.v1.payment_intents.retrieve(before.id))
    assert error.user_message == f"No such payment_intent: '{before.id}'"


def test_ids_still_look_like_stripes(small, client):
    pi = paid_intent(client)
    ids = [pi.id, pi.payment_method, pi.latest_charge]
    ids += [e.id for e in client.v1.events.list().data]
    for object_id in ids:
        assert re.fullmatch(r"(pi|pm|ch|evt)_[0-9A-Za-z]{24}", object_id), object_id
    assert len(set(ids)) == len(ids)


def test_an_event_outlives_its_object_and_still_shows_it(small, client):
    intents = [create(client) for _ in range(4)]  # 8 objects: pi1, evt1, pi2 gone; evt2 kept
    gone = intents[1]
    assert "evicted" in not_found(lambda: client.v1.payment_intents.retrieve(gone.id)).user_message
    created = client.v1.events.list(params={"limit": 100}).data[-1]
    assert created.data.object.id == gone.id
    assert client.v1.events.retrieve(created.id).data.object.status == "requires_payment_method"


def test_a_charge_outlives_its_payment_intent(small, client):
    pi = paid_intent(client)  # pm, pi, created, charge, charge.succeeded, pi.succeeded
    create(client)  # two more: the intent and its created event follow the pm out
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert charge.payment_intent == pi.id
    expanded = client.v1.charges.retrieve(pi.latest_charge, params={"expand": ["payment_intent"]})
    assert expanded.payment_intent == pi.id  # an evicted reference stays an id
    error = not_found(
        lambda: client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 500})
    )
    assert (error.http_status, error.param) == (400, "payment_intent")
    assert "evicted" in error.user_message
    refund = client.v1.refunds.create(params={"charge": charge.id, "amount": 500})
    assert (refund.status, refund.payment_intent) == ("succeeded", pi.id)
    (refunded,) = client.v1.events.list(params={"type": "charge.refunded"}).data
    assert refunded.data.object.amount_refunded == 500


def test_the_balance_still_counts_evicted_charges(small, client):
    paid_intent(client, amount=2000)
    assert client.v1.balance.retrieve().pending[0].amount == 2000
    for _ in range(3):
        create(client)  # six more objects: the charge is evicted
    assert small.stats()["objects"]["charge"] == 0
    assert client.v1.balance.retrieve().pending[0].amount == 2000


def test_a_confirm_whose_payment_method_was_evicted_says_so(small, client):
    pi = client.v1.payment_intents.create(params={**PARAMS, "payment_method": "pm_card_visa"})
    create(client)  # five objects: pm, pi, its event, pi2, its event
    client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2040},
        }
    )  # a sixth: the intent's PaymentMethod (made before it) is evicted, the intent kept
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_confirmation"
    error = not_found(lambda: client.v1.payment_intents.confirm(pi.id))
    assert (error.http_status, error.param) == (400, "payment_method")
    assert error.user_message.startswith(f"No such PaymentMethod: '{pi.payment_method}'")
    assert "evicted" in error.user_message


def test_a_paging_cursor_that_was_evicted_says_so(small, client):
    first = create(client)
    for _ in range(3):
        create(client)
    error = not_found(lambda: client.v1.payment_intents.list(params={"starting_after": first.id}))
    assert (error.http_status, error.param) == (400, "starting_after")
    assert "evicted" in error.user_message


def test_webhook_endpoints_are_never_evicted(small, client, receiver):
    endpoint = client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["payment_intent.created"]}
    )
    for _ in range(6):
        create(client)
    assert small.stats()["objects"]["webhook_endpoint"] == 1
    assert client.v1.webhook_endpoints.retrieve(endpoint.id).url == receiver.url
    wait_for(lambda: len(receiver.received) == 6, "six deliveries")


def test_delivery_history_stays_at_the_cap(receiver):
    # A sandbox of its own: a reset keeps the dispatcher's history (state.py).
    with Sandbox(max_objects=CAP) as fresh:
        client = client_for(fresh)
        client.v1.webhook_endpoints.create(
            params={"url": receiver.url, "enabled_events": ["payment_intent.created"]}
        )

        def history() -> dict[str, int]:
            return fresh.stats()["deliveries"]["history"]

        for _ in range(4):
            create(client)
        wait_for(lambda: history()["attempts"] == 4, "four delivery attempts")
        assert history() == {"attempts": 4, "events": 4}
        for _ in range(4):
            create(client)
        # Only deliveries of events still stored are shown (the newest three events).
        stored = {e.id for e in client.v1.events.list(params={"limit": 100}).data}
        assert len(stored) == 3
        wait_for(
            lambda: (
                {a["event"] for a in fresh.deliveries()} == stored and len(receiver.received) == 8
            ),
            "the last deliveries",
        )
        assert history() == {"attempts": CAP, "events": CAP}


def test_private_facts_leave_with_their_objects(small, client, receiver):
    client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["*"]})
    for _ in range(3):
        paid_intent(client)
    private = small.state.store.private
    stored = set().union(*small.state.store.tables.values())
    assert set(private) <= stored
    assert len(private) <= CAP + 1  # and the endpoint's secret


def test_a_replay_shows_the_object_as_it_was_then(small, client):
    first = create(client, key="order-7")
    client.v1.payment_intents.cancel(first.id)
    again = create(client, key="order-7")
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert again.last_response.body == first.last_response.body
    assert again.status == "requires_payment_method"
    # A confirmed create answers the object after its last event (they share one snapshot).
    paid_params = {**PARAMS, "payment_method": "pm_card_visa", "confirm": True}
    paid = client.v1.payment_intents.create(params=paid_params, options={"idempotency_key": "o8"})
    replayed = client.v1.payment_intents.create(
        params=paid_params, options={"idempotency_key": "o8"}
    )
    assert replayed.last_response.headers["Idempotent-Replayed"] == "true"
    assert replayed.last_response.body == paid.last_response.body
    assert replayed.status == "succeeded"


def test_a_key_evicted_by_the_cap_executes_anew(small, client):
    intents = [create(client, key=f"order-{i}") for i in range(1, 7)]  # six keys, cap five
    # The newest keys replay, even when their object is evicted (pi2 is).
    replayed = create(client, key="order-2")
    assert replayed.last_response.headers.get("Idempotent-Replayed") == "true"
    assert replayed.id == intents[1].id
    # The oldest key was dropped: the same request creates a new PaymentIntent.
    anew = create(client, key="order-1")
    assert "Idempotent-Replayed" not in anew.last_response.headers
    assert anew.id != intents[0].id
    assert client.v1.payment_intents.retrieve(anew.id).id == anew.id


def test_a_key_replays_within_its_ttl_and_executes_anew_after_it():
    with Sandbox(idempotency_ttl_s=3.0) as short_lived:
        client = client_for(short_lived)
        first = create(client, key="ttl-key")
        again = create(client, key="ttl-key")
        assert again.last_response.headers.get("Idempotent-Replayed") == "true"
        assert again.id == first.id

        def after_the_ttl() -> stripe.PaymentIntent | None:
            pi = create(client, key="ttl-key")
            return None if pi.id == first.id else pi

        # Bounded polling, no timing assertion: the key expires some time after 3 s.
        anew = wait_for(after_the_ttl, "the key to expire")
        assert "Idempotent-Replayed" not in anew.last_response.headers


def test_expired_keys_leave_memory():
    with Sandbox(idempotency_ttl_s=1.0) as short_lived:
        client = client_for(short_lived)
        for i in range(3):
            create(client, key=f"old-{i}")
        time.sleep(1.2)  # a bounded wait past the TTL of all three (the server's clock too)
        create(client, key="new")  # saving a key purges the expired ones
        assert short_lived.stats()["idempotency_keys"] == 1


def test_the_cli_takes_the_cap():
    parser = argparse.ArgumentParser(prog="golive")
    add_parser(parser.add_subparsers())
    assert parser.parse_args(["sandbox"]).max_objects == DEFAULT_MAX_OBJECTS
    assert parser.parse_args(["sandbox", "--max-objects", "200_000"]).max_objects == 200_000
    with pytest.raises(SystemExit):
        parser.parse_args(["sandbox", "--max-objects", "0"])


def test_the_cap_comes_from_the_profile_through_the_backend():
    backend = start_backend(StripeBackend(backend="sandbox", max_objects=7), {})
    try:
        assert backend.sandbox.stats()["max_objects"] == 7
    finally:
        backend.stop()
    default = start_backend(StripeBackend(backend="sandbox"), {})
    try:
        assert default.sandbox.stats()["max_objects"] == DEFAULT_MAX_OBJECTS
    finally:
        default.stop()
