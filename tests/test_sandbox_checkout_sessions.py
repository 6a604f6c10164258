"""Checkout Sessions in the sandbox, driven through stripe-python as an app drives Stripe's,
and completed through the admin route that plays the customer on the hosted page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sandboxkit
import stripe
from sandboxkit import SECRET_KEY, client_for, wait_for

from golive.backends import (
    Backend,
    BackendError,
    CheckoutCompletionError,
    complete_checkout_session,
    pay_payment_intent,
)
from golive.sandbox import Sandbox

_module_sandbox = sandboxkit._module_sandbox
sandbox = sandboxkit.sandbox
stripe_client = sandboxkit.stripe_client
receiver = sandboxkit.receiver

SUCCESS_URL = "https://shop.example/thanks?session_id={CHECKOUT_SESSION_ID}"


def item(amount: int = 1500, quantity: int = 1, currency: str = "usd", name: str = "Tee"):
    return {
        "price_data": {
            "currency": currency,
            "unit_amount": amount,
            "product_data": {"name": name},
        },
        "quantity": quantity,
    }


def new_session(client: stripe.StripeClient, **params: Any) -> stripe.checkout.Session:
    return client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [item()],
            "success_url": SUCCESS_URL,
            "cancel_url": "https://shop.example/cart",
            **params,
        }
    )


def backend_of(sandbox: Sandbox) -> Backend:
    return Backend("sandbox", sandbox.url, SECRET_KEY)


def history(client: stripe.StripeClient) -> list[stripe.Event]:
    """Every event, oldest first."""
    return list(client.v1.events.list(params={"limit": 100}).auto_paging_iter())[::-1]


def refused(call) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call()
    assert caught.value.error.type == "invalid_request_error"
    return caught.value


# -- create, retrieve, line items ---------------------------------------------------------


def test_create_answers_an_open_session_shaped_as_stripes(sandbox, stripe_client):
    before = int(time.time())
    session = new_session(
        stripe_client,
        line_items=[item(1500, 2), item(999, 1, name="Mug")],
        client_reference_id="order-42",
        customer_email="buyer@example.com",
        metadata={"order_id": "42"},
        payment_intent_data={"metadata": {"order_id": "42"}},
    )
    assert isinstance(session, stripe.checkout.Session)
    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert (session.amount_subtotal, session.amount_total, session.currency) == (3999, 3999, "usd")
    assert (session.mode, session.status, session.payment_status) == ("payment", "open", "unpaid")
    assert session.payment_intent is None  # made when the customer pays
    assert session.url == f"{sandbox.url}/_golive/checkout/{session.id}"
    assert session.metadata.to_dict() == {"order_id": "42"}
    assert session.client_reference_id == "order-42"
    assert session.customer_email == "buyer@example.com"
    assert session.customer_details is None
    assert session.success_url == SUCCESS_URL  # the placeholder is kept, as Stripe keeps it
    assert session.cancel_url == "https://shop.example/cart"
    assert before <= session.created <= int(time.time())
    assert session.expires_at == session.created + 24 * 3600
    assert session.livemode is False
    assert session.payment_method_types == ["card"]
    assert "line_items" not in session  # only when expanded
    retrieved = stripe_client.v1.checkout.sessions.retrieve(session.id)
    assert retrieved.to_dict() == session.to_dict()


def test_expires_at_is_kept_and_bounded(stripe_client):
    expires_at = int(time.time()) + 3600
    assert new_session(stripe_client, expires_at=expires_at).expires_at == expires_at
    error = refused(lambda: new_session(stripe_client, expires_at=int(time.time()) + 600))
    assert error.param == "expires_at"
    assert "at least 30 minutes" in error.user_message
    error = refused(lambda: new_session(stripe_client, expires_at=int(time.time()) + 25 * 3600))
    assert error.param == "expires_at"
    assert "less than 24 hours" in error.user_message


def test_line_items_are_listed_in_order_paged_and_expandable(stripe_client):
    session = new_session(
        stripe_client,
        line_items=[item(1500, 2, name="Tee"), item(999, 1, name="Mug"), item(250, 4, name="Pin")],
    )
    items = stripe_client.v1.checkout.sessions.line_items.list(session.id)
    assert [(i.description, i.quantity, i.amount_total) for i in items.data] == [
        ("Tee", 2, 3000),
        ("Mug", 1, 999),
        ("Pin", 4, 1000),
    ]
    first = items.data[0]
    assert first.object == "item"
    assert first.id.startswith("li_")
    assert first.currency == "usd"
    assert first.price.object == "price"
    assert (first.price.unit_amount, first.price.type, first.price.active) == (
        1500,
        "one_time",
        False,
    )
    assert first.price.product.startswith("prod_")  # no Products here: the id stays an id
    page = stripe_client.v1.checkout.sessions.line_items.list(
        session.id, params={"limit": 2, "starting_after": first.id}
    )
    assert [i.description for i in page.data] == ["Mug", "Pin"]
    assert page.has_more is False
    assert stripe_client.v1.checkout.sessions.line_items.list(
        session.id, params={"limit": 1}
    ).has_more
    expanded = stripe_client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["line_items"]}
    )
    assert [i.id for i in expanded.line_items.data] == [i.id for i in items.data]
    assert expanded.line_items.url == f"/v1/checkout/sessions/{session.id}/line_items"
    # Inside the embedded list Stripe's path names the items: line_items.data.<field>
    deep = stripe_client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["line_items.data.price.product"]}
    )
    assert deep.line_items.data[0].price.unit_amount == 1500
    error = refused(
        lambda: stripe_client.v1.checkout.sessions.retrieve(
            session.id, params={"expand": ["line_items.price"]}
        )
    )
    assert (error.param, error.user_message) == (
        "expand",
        "This property cannot be expanded (line_items.price).",
    )


def test_a_fractional_unit_amount_is_rounded_on_the_line(stripe_client):
    session = new_session(
        stripe_client,
        line_items=[
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount_decimal": "99.5",
                    "product_data": {"name": "Sticker"},
                },
                "quantity": 3,
            }
        ],
    )
    assert session.amount_total == 299  # 298.5, half up
    (line,) = stripe_client.v1.checkout.sessions.line_items.list(session.id).data
    assert (line.price.unit_amount, line.price.unit_amount_decimal) == (None, Decimal("99.5"))


def test_the_page_url_answers_with_what_it_sells(sandbox, stripe_client):
    session = new_session(stripe_client, line_items=[item(1500, 2)])
    page = httpx.get(session.url, trust_env=False).json()
    assert page["checkout_session"] == session.id
    assert page["amount_total"] == 3000
    assert page["line_items"] == [{"description": "Tee", "quantity": 2}]
    assert page["pay"]["url"] == f"{sandbox.url}/_golive/checkout/sessions/{session.id}/complete"


# -- list and expire -----------------------------------------------------------------------


def test_list_pages_newest_first_and_filters_by_status_and_payment_intent(sandbox, stripe_client):
    sessions = [new_session(stripe_client) for _ in range(3)]
    paid = sandbox.complete_checkout_session(sessions[0].id)
    stripe_client.v1.checkout.sessions.expire(sessions[1].id)

    listed = stripe_client.v1.checkout.sessions.list()
    assert [s.id for s in listed.data] == [s.id for s in reversed(sessions)]
    page = stripe_client.v1.checkout.sessions.list(params={"limit": 2})
    assert len(page.data) == 2 and page.has_more is True

    def ids(**query) -> list[str]:
        return [s.id for s in stripe_client.v1.checkout.sessions.list(params=query).data]

    assert ids(status="open") == [sessions[2].id]
    assert ids(status="complete") == [sessions[0].id]
    assert ids(status="expired") == [sessions[1].id]
    assert ids(payment_intent=paid["payment_intent"]) == [sessions[0].id]
    assert ids(payment_intent="pi_none") == []
    error = refused(lambda: stripe_client.v1.checkout.sessions.list(params={"status": "paid"}))
    assert error.param == "status"
    expanded = stripe_client.v1.checkout.sessions.list(
        params={"status": "complete", "expand": ["data.payment_intent"]}
    )
    assert expanded.data[0].payment_intent.id == paid["payment_intent"]


def test_expire_closes_an_open_session_once_and_emits_expired(sandbox, stripe_client):
    session = new_session(stripe_client)
    expired = stripe_client.v1.checkout.sessions.expire(
        session.id, options={"idempotency_key": "expire-1"}
    )
    assert (expired.status, expired.payment_status, expired.url) == ("expired", "unpaid", None)
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    (event,) = history(stripe_client)
    assert event.type == "checkout.session.expired"
    assert event.data.object.id == session.id
    assert event.data.object.status == "expired"
    assert event.request.idempotency_key == "expire-1"

    error = refused(lambda: stripe_client.v1.checkout.sessions.expire(session.id))
    assert error.http_status == 400
    assert error.user_message == (
        'Only Checkout Sessions with a status in ["open"] can be expired. '
        "This Checkout Session has a status of `expired`."
    )
    with pytest.raises(CheckoutCompletionError) as caught:
        complete_checkout_session(backend_of(sandbox), session.id)
    assert caught.value.status == 400
    assert "expired" in caught.value.error["message"]
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).payment_intent is None


# -- completion ----------------------------------------------------------------------------


def test_completion_pays_through_a_payment_intent_and_emits_completed(sandbox, stripe_client):
    session = new_session(
        stripe_client,
        line_items=[item(1500, 2), item(500)],
        customer_email="buyer@example.com",
        metadata={"cart": "c-1"},
        payment_intent_data={"metadata": {"order_id": "42"}, "description": "Order 42"},
    )
    done = complete_checkout_session(backend_of(sandbox), session.id)
    assert (done["status"], done["payment_status"]) == ("complete", "paid")
    assert done["payment_intent"].startswith("pi_")
    assert done["url"] is None
    assert done["customer_details"]["email"] == "buyer@example.com"

    retrieved = stripe_client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent"]}
    )
    assert (retrieved.status, retrieved.payment_status) == ("complete", "paid")
    pi = retrieved.payment_intent
    assert pi.id == done["payment_intent"]
    assert (pi.status, pi.amount, pi.amount_received, pi.currency) == (
        "succeeded",
        3500,
        3500,
        "usd",
    )
    assert pi.metadata.to_dict() == {"order_id": "42"}  # payment_intent_data, not the session's
    assert pi.description == "Order 42"
    assert stripe_client.v1.payment_intents.retrieve(pi.id).latest_charge.startswith("ch_")

    events = history(stripe_client)
    assert [e.type for e in events] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.completed",
    ]
    completed = events[-1].data.object
    plain = stripe_client.v1.checkout.sessions.retrieve(session.id)
    assert completed.to_dict() == plain.to_dict()  # the session as retrieved then
    assert events[-1].request.id is None  # made by the customer, not by an API call


def test_a_declined_card_leaves_the_session_open_and_a_retry_reuses_the_intent(
    sandbox, stripe_client
):
    session = new_session(stripe_client, payment_intent_data={"metadata": {"order_id": "7"}})
    with pytest.raises(CheckoutCompletionError) as caught:
        complete_checkout_session(backend_of(sandbox), session.id, "pm_card_chargeDeclined")
    error = caught.value.error
    assert caught.value.status == 402
    assert (error["type"], error["code"], error["decline_code"]) == (
        "card_error",
        "card_declined",
        "generic_decline",
    )
    assert error["checkout_session"] == session.id
    declined_pi = error["payment_intent"]
    assert declined_pi["status"] == "requires_payment_method"

    still = stripe_client.v1.checkout.sessions.retrieve(session.id)
    assert (still.status, still.payment_status, still.payment_intent) == ("open", "unpaid", None)
    pi = stripe_client.v1.payment_intents.retrieve(declined_pi["id"])
    assert (pi.amount, pi.metadata.to_dict()) == (1500, {"order_id": "7"})
    assert pi.last_payment_error.decline_code == "generic_decline"
    assert [e.type for e in history(stripe_client)] == [
        "payment_intent.created",
        "charge.failed",
        "payment_intent.payment_failed",
    ]

    done = sandbox.complete_checkout_session(session.id, "pm_card_visa")
    assert done["payment_intent"] == declined_pi["id"]  # the same intent, paid this time
    assert stripe_client.v1.payment_intents.retrieve(declined_pi["id"]).status == "succeeded"
    assert len(stripe_client.v1.payment_intents.list().data) == 1


def test_completing_twice_or_an_unknown_session_is_refused(sandbox, stripe_client):
    session = new_session(stripe_client)
    sandbox.complete_checkout_session(session.id)
    with pytest.raises(CheckoutCompletionError) as caught:
        complete_checkout_session(backend_of(sandbox), session.id)
    assert caught.value.status == 400
    assert "complete" in caught.value.error["message"]
    with pytest.raises(CheckoutCompletionError) as caught:
        complete_checkout_session(backend_of(sandbox), "cs_test_nope")
    assert caught.value.status == 404
    assert caught.value.error["code"] == "resource_missing"
    assert len(stripe_client.v1.payment_intents.list().data) == 1  # no second payment


def test_a_card_asking_for_3ds_passes_it_on_the_page(sandbox, stripe_client):
    session = new_session(stripe_client)
    done = sandbox.complete_checkout_session(session.id, "pm_card_authenticationRequired")
    assert (done["status"], done["payment_status"]) == ("complete", "paid")
    types = [e.type for e in history(stripe_client)]
    assert "payment_intent.requires_action" in types
    assert types[-1] == "checkout.session.completed"


def test_manual_capture_completes_the_session_unpaid(sandbox, stripe_client):
    session = new_session(stripe_client, payment_intent_data={"capture_method": "manual"})
    done = sandbox.complete_checkout_session(session.id)
    assert (done["status"], done["payment_status"]) == ("complete", "unpaid")
    pi = stripe_client.v1.payment_intents.retrieve(done["payment_intent"])
    assert (pi.status, pi.amount_capturable) == ("requires_capture", 1500)


def test_the_helper_refuses_backends_that_need_a_browser():
    for kind in ("stripe-mock", "stripe-test", "localstripe"):
        backend = Backend(kind, "http://127.0.0.1:9", SECRET_KEY)
        with pytest.raises(BackendError) as caught:
            complete_checkout_session(backend, "cs_test_x")
        assert f"backend {kind}: only the sandbox can complete a Checkout Session" in str(
            caught.value
        )


def test_the_admin_route_refuses_unknown_fields(sandbox, stripe_client):
    session = new_session(stripe_client)
    with pytest.raises(httpx.HTTPStatusError) as caught:
        sandbox.admin(
            "POST", f"checkout/sessions/{session.id}/complete", json={"card": "pm_card_visa"}
        )
    assert caught.value.response.status_code == 400
    assert caught.value.response.json()["error"]["param"] == "card"
    assert stripe_client.v1.checkout.sessions.retrieve(session.id).status == "open"


# -- webhooks ------------------------------------------------------------------------------


def test_completed_and_expired_reach_a_subscribed_endpoint_signed(sandbox, stripe_client, receiver):
    endpoint = stripe_client.v1.webhook_endpoints.create(
        params={
            "url": receiver.url,
            "enabled_events": ["checkout.session.completed", "checkout.session.expired"],
        }
    )
    paid = new_session(stripe_client, client_reference_id="order-9")
    sandbox.complete_checkout_session(paid.id)
    abandoned = new_session(stripe_client)
    stripe_client.v1.checkout.sessions.expire(abandoned.id)

    wait_for(lambda: len(receiver.received) >= 2, "both checkout webhooks")
    events = {}
    for delivery in receiver.received:
        event = stripe.Webhook.construct_event(
            delivery["body"].decode(), delivery["headers"]["Stripe-Signature"], endpoint.secret
        )
        events[event.type] = event
    assert set(events) == {"checkout.session.completed", "checkout.session.expired"}
    completed = events["checkout.session.completed"].data.object
    assert (completed.id, completed.status, completed.payment_status) == (
        paid.id,
        "complete",
        "paid",
    )
    assert completed.client_reference_id == "order-9"
    assert (
        completed.payment_intent
        == stripe_client.v1.checkout.sessions.retrieve(paid.id).payment_intent
    )
    expired = events["checkout.session.expired"].data.object
    assert (expired.id, expired.status) == (abandoned.id, "expired")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            receiver.received[0]["body"].decode(),
            receiver.received[0]["headers"]["Stripe-Signature"],
            "whsec_" + "x" * 32,
        )
    assert len(receiver.received) == 2  # nothing else: the PaymentIntent events are not subscribed


def test_a_quiet_completion_records_the_events_and_sends_none(sandbox, stripe_client, receiver):
    stripe_client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["*"]})
    quiet = new_session(stripe_client)
    done = complete_checkout_session(backend_of(sandbox), quiet.id, deliver=False)
    assert (done["status"], done["payment_status"]) == ("complete", "paid")
    listed = stripe_client.v1.events.list(params={"type": "checkout.session.completed"})
    assert [e.data.object.id for e in listed.data] == [quiet.id]
    loud = new_session(stripe_client)
    sandbox.complete_checkout_session(loud.id)  # the control: a normal completion is sent
    wait_for(
        lambda: any(b"checkout.session.completed" in d["body"] for d in receiver.received),
        "the loud session's webhook",
    )
    sent = [d["body"].decode() for d in receiver.received]
    assert not any(quiet.id in body for body in sent)
    assert any(loud.id in body for body in sent)


def test_a_payment_intent_paid_quietly_is_succeeded_and_sent_to_no_endpoint(
    sandbox, stripe_client, receiver
):
    stripe_client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["payment_intent.succeeded"]}
    )
    quiet = stripe_client.v1.payment_intents.create(params={"amount": 1234, "currency": "usd"})
    paid = pay_payment_intent(backend_of(sandbox), quiet.id, deliver=False)
    assert (paid["id"], paid["status"], paid["amount"]) == (quiet.id, "succeeded", 1234)
    assert stripe_client.v1.payment_intents.retrieve(quiet.id).status == "succeeded"
    listed = stripe_client.v1.events.list(params={"type": "payment_intent.succeeded"})
    assert quiet.id in [e.data.object.id for e in listed.data]
    loud = stripe_client.v1.payment_intents.create(params={"amount": 99, "currency": "usd"})
    pay_payment_intent(backend_of(sandbox), loud.id)  # the control: a normal payment is sent
    wait_for(lambda: any(loud.id.encode() in d["body"] for d in receiver.received), "loud")
    assert not any(quiet.id.encode() in d["body"] for d in receiver.received)
    with pytest.raises(CheckoutCompletionError) as declined:
        card = stripe_client.v1.payment_intents.create(params={"amount": 500, "currency": "usd"})
        pay_payment_intent(backend_of(sandbox), card.id, "pm_card_chargeDeclined", deliver=False)
    assert declined.value.status == 402


# -- idempotency and the object cap --------------------------------------------------------


def test_an_idempotent_create_replays_the_same_session(stripe_client):
    params = {"mode": "payment", "line_items": [item()], "success_url": SUCCESS_URL}
    first = stripe_client.v1.checkout.sessions.create(
        params=params, options={"idempotency_key": "cart-1"}
    )
    again = stripe_client.v1.checkout.sessions.create(
        params=params, options={"idempotency_key": "cart-1"}
    )
    assert again.id == first.id
    assert len(stripe_client.v1.checkout.sessions.list().data) == 1
    with pytest.raises(stripe.IdempotencyError):
        stripe_client.v1.checkout.sessions.create(
            params={**params, "line_items": [item(2500)]}, options={"idempotency_key": "cart-1"}
        )


@pytest.fixture(scope="module")
def _small_sandbox() -> Iterator[Sandbox]:
    with Sandbox(max_objects=3) as started:
        yield started


def test_sessions_count_towards_the_object_cap(_small_sandbox):
    _small_sandbox.reset()
    client = client_for(_small_sandbox)
    sessions = [new_session(client) for _ in range(4)]  # a create stores the session only
    stats = _small_sandbox.stats()
    assert stats["objects"]["checkout.session"] == 3
    assert stats["evicted"] == 1
    listed = client.v1.checkout.sessions.list().data
    assert [s.id for s in listed] == [s.id for s in reversed(sessions[1:])]
    error = refused(lambda: client.v1.checkout.sessions.retrieve(sessions[0].id))
    assert error.http_status == 404
    assert error.code == "resource_missing"
    assert error.user_message.startswith(
        f"No such checkout.session: '{sessions[0].id}'; it was evicted"
    )
    never = refused(lambda: client.v1.checkout.sessions.retrieve("cs_test_" + "a" * 24))
    assert "evicted" not in never.user_message


# -- Stripe-shaped refusals ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "param", "code", "message"),
    [
        ({"mode": "subscription"}, "mode", None, "supports only mode=payment"),
        ({"mode": "setup"}, "mode", None, "supports only mode=payment"),
        ({"mode": "instalments"}, "mode", None, "Invalid mode"),
        ({"mode": None}, "mode", "parameter_missing", "Missing required param: mode."),
        ({"line_items": None}, "line_items", "parameter_missing", "line_items is required"),
        (
            {"line_items": [{"price": "price_123", "quantity": 1}]},
            "line_items[0][price]",
            "resource_missing",
            "No such price: 'price_123'",
        ),
        (
            {"line_items": [{"quantity": 1}]},
            "line_items[0][price_data]",
            None,
            "either price or price_data",
        ),
        (
            {"line_items": [item(-1)]},
            "line_items[0][price_data][unit_amount]",
            "parameter_invalid_integer",
            "greater than or equal to 0",
        ),
        (
            {"line_items": [item(1500, 0)]},
            "line_items[0][quantity]",
            "parameter_invalid_integer",
            "greater than or equal to 1",
        ),
        (
            {"line_items": [{"price_data": item()["price_data"]}]},
            "line_items[0][quantity]",
            "parameter_missing",
            "Missing required param: line_items[0][quantity].",
        ),
        (
            {"line_items": [item(), item(currency="eur")]},
            "line_items[1][price_data][currency]",
            None,
            "one currency",
        ),
        (
            {"currency": "eur", "line_items": [item()]},
            "line_items[0][price_data][currency]",
            None,
            "one currency",
        ),
        (
            {"line_items": [item(currency="zzz")]},
            "line_items[0][price_data][currency]",
            None,
            "Invalid currency: zzz",
        ),
        (
            {"line_items": [item(10)]},
            "line_items",
            "amount_too_small",
            "at least $0.50 usd",
        ),
        (
            {
                "line_items": [
                    {
                        "price_data": {**item()["price_data"], "recurring": {"interval": "month"}},
                        "quantity": 1,
                    }
                ]
            },
            "line_items[0][price_data][recurring]",
            None,
            "passed a recurring price",
        ),
        (
            {"line_items": [{**item(), "colour": "red"}]},
            "line_items[0][colour]",
            "parameter_unknown",
            "Received unknown parameter: line_items[0][colour]",
        ),
        ({"shoe_size": "42"}, "shoe_size", "parameter_unknown", "Received unknown parameter"),
        ({"customer_email": "not-an-email"}, "customer_email", "email_invalid", "Invalid email"),
        ({"success_url": "shop.example/thanks"}, "success_url", "url_invalid", "Not a valid URL"),
        (
            {"payment_intent_data": {"metadata": {"k" * 41: "v"}}},
            f"payment_intent_data[metadata][{'k' * 41}]",
            None,
            "up to 40 characters",
        ),
        ({"customer": "cus_123"}, "customer", "resource_missing", "No such customer"),
    ],
)
def test_bad_input_is_refused_as_stripe_refuses_it(stripe_client, params, param, code, message):
    merged = {
        "mode": "payment",
        "line_items": [item()],
        "success_url": SUCCESS_URL,
        **params,
    }
    merged = {k: v for k, v in merged.items() if v is not None}
    error = refused(lambda: stripe_client.v1.checkout.sessions.create(params=merged))
    assert error.http_status == 400
    assert error.param == param
    assert error.code == code
    assert message in error.user_message
    assert stripe_client.v1.checkout.sessions.list().data == []  # nothing was made


def test_an_unknown_session_is_stripes_404(stripe_client):
    error = refused(lambda: stripe_client.v1.checkout.sessions.retrieve("cs_test_unknown"))
    assert error.http_status == 404
    assert (error.code, error.param) == ("resource_missing", "id")
    assert error.user_message == "No such checkout.session: 'cs_test_unknown'"
    error = refused(lambda: stripe_client.v1.checkout.sessions.line_items.list("cs_test_unknown"))
    assert error.http_status == 404
