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

from golive import capabilities
from golive.sandbox import Sandbox
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


# -- history in bulk ------------------------------------------------------------------------


def post_history(sandbox, payments) -> httpx.Response:
    with httpx.Client(base_url=sandbox.url, timeout=120) as client:
        return client.post("/_golive/history", json={"payments": payments})


def test_history_makes_payments_as_stripe_shows_them(sandbox, stripe_client, receiver):
    stripe_client.v1.webhook_endpoints.create(params={"url": receiver.url, "enabled_events": ["*"]})
    t = int(time.time()) - 10 * DAY
    made = sandbox.add_history(
        [
            {
                "created": t,
                "amount": 5000,
                "currency": "usd",
                "outcome": "succeeded",
                "metadata": {"order_id": "A-1"},
                "application_fee_amount": 150,
                "refunds": [
                    {"amount": 1000, "created": t + 3600, "reason": "requested_by_customer"},
                    {"amount": 500, "created": t + 7200},
                ],
                "early_fraud_warning": {"created": t + DAY, "fraud_type": "made_with_stolen_card"},
                "dispute": {"created": t + 2 * DAY, "reason": "fraudulent", "status": "lost"},
            },
            {
                "created": t + 60,
                "amount": 1200,
                "currency": "eur",
                "outcome": "declined",
                "decline_code": "insufficient_funds",
            },
            {"created": t + 120, "amount": 900, "currency": "usd", "outcome": "canceled"},
            {
                "created": t + 180,
                "amount": 800,
                "currency": "usd",
                "outcome": "requires_payment_method",
            },
        ]
    )
    assert [m["payment_intent"][:3] for m in made] == ["pi_"] * 4
    paid, declined, canceled, abandoned = made

    pi = stripe_client.v1.payment_intents.retrieve(paid["payment_intent"])
    assert (pi.status, pi.created, pi.amount_received) == ("succeeded", t, 5000)
    assert (pi.metadata.order_id, pi.application_fee_amount) == ("A-1", 150)
    charge = stripe_client.v1.charges.retrieve(paid["charge"])
    assert (charge.status, charge.paid, charge.captured, charge.created) == (
        "succeeded",
        True,
        True,
        t,
    )
    assert (charge.amount_refunded, charge.refunded, charge.disputed) == (1500, False, True)
    refunds = stripe_client.v1.refunds.list(params={"payment_intent": pi.id}).data
    assert [(r.id, r.amount, r.created) for r in refunds] == [
        (paid["refunds"][1], 500, t + 7200),
        (paid["refunds"][0], 1000, t + 3600),
    ]
    assert refunds[1].reason == "requested_by_customer"
    [dispute] = stripe_client.v1.disputes.list(params={"payment_intent": pi.id}).data
    assert (dispute.id, dispute.status, dispute.reason, dispute.created) == (
        paid["dispute"],
        "lost",
        "fraudulent",
        t + 2 * DAY,
    )
    warning = stripe_client.v1.radar.early_fraud_warnings.retrieve(paid["early_fraud_warning"])
    assert (warning.fraud_type, warning.created, warning.charge) == (
        "made_with_stolen_card",
        t + DAY,
        charge.id,
    )
    assert warning.actionable is False  # disputed since

    pi = stripe_client.v1.payment_intents.retrieve(declined["payment_intent"])
    assert pi.status == "requires_payment_method"
    assert (pi.last_payment_error.decline_code, pi.last_payment_error.code) == (
        "insufficient_funds",
        "card_declined",
    )
    failed = stripe_client.v1.charges.retrieve(declined["charge"])
    assert (failed.status, failed.paid, failed.failure_code, failed.currency) == (
        "failed",
        False,
        "card_declined",
        "eur",
    )
    assert (failed.outcome.type, failed.outcome.reason) == ("issuer_declined", "insufficient_funds")
    assert failed.failure_message == "Your card has insufficient funds."

    pi = stripe_client.v1.payment_intents.retrieve(canceled["payment_intent"])
    assert (pi.status, pi.canceled_at, pi.latest_charge) == ("canceled", t + 120, None)
    pi = stripe_client.v1.payment_intents.retrieve(abandoned["payment_intent"])
    assert (pi.status, pi.latest_charge, canceled["charge"]) == (
        "requires_payment_method",
        None,
        None,
    )

    events = {
        e.id: e for e in stripe_client.v1.events.list(params={"limit": 100}).auto_paging_iter()
    }
    types = [events[i].type for i in paid["events"]]
    assert types == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "refund.created",
        "charge.refunded",
        "refund.created",
        "charge.refunded",
        "radar.early_fraud_warning.created",
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.closed",
        "radar.early_fraud_warning.updated",
    ]
    assert [events[i].type for i in declined["events"]] == [
        "payment_intent.created",
        "charge.failed",
        "payment_intent.payment_failed",
    ]
    assert [events[i].type for i in canceled["events"]] == [
        "payment_intent.created",
        "payment_intent.canceled",
    ]
    # Each event shows its object as it was then, at its own time; none is ever sent.
    shown = [events[i] for i in paid["events"]]
    assert [e.created for e in shown[:5]] == [t, t, t, t + 3600, t + 3600]
    assert shown[1].data.object.amount_refunded == 0 and shown[1].data.object.disputed is False
    assert [shown[4].data.object.amount_refunded, shown[6].data.object.amount_refunded] == [
        1000,
        1500,
    ]
    assert shown[7].data.object.actionable is True and shown[11].data.object.actionable is False
    assert all(e.pending_webhooks == 0 for e in events.values())
    assert sandbox.deliveries() == [] and receiver.received == []


def test_history_lists_and_windows(sandbox, stripe_client):
    now = int(time.time())
    live = paid_intent(stripe_client)
    days = 30
    outcomes = ["succeeded", "succeeded", "declined", "succeeded"]
    payments = [
        {
            "created": now - (days - d) * DAY + 60 * i,
            "amount": 1000 + i,
            "currency": "usd",
            "outcome": outcomes[i],
        }
        for d in range(days)
        for i in range(len(outcomes))
    ]
    made = sandbox.add_history(payments)
    walked = [
        pi.id
        for pi in stripe_client.v1.payment_intents.list(params={"limit": 7}).auto_paging_iter()
    ]
    assert walked == [live.id] + [m["payment_intent"] for m in made][::-1]
    # The last 7 days: 7 days x 4 payments, 3 of them succeeded each day.
    week = {"created": {"gte": now - 7 * DAY}, "limit": 100}
    in_week = list(stripe_client.v1.payment_intents.list(params=week).auto_paging_iter())
    history_in_week = [pi for pi in in_week if pi.id != live.id]
    assert len(history_in_week) == 7 * 4
    assert sum(pi.status == "succeeded" for pi in history_in_week) == 7 * 3
    charges = list(stripe_client.v1.charges.list(params=week).auto_paging_iter())
    assert sum(c.status == "failed" for c in charges) == 7
    succeeded = stripe_client.v1.events.list(
        params={"type": "payment_intent.succeeded", "created": {"lt": now - 7 * DAY}, "limit": 100}
    )
    assert len(list(succeeded.auto_paging_iter())) == (days - 7) * 3


@pytest.mark.parametrize(
    ("payment", "param"),
    [
        ({"amount": 100, "currency": "usd"}, "payments[0][created]"),
        ({"created": 1, "amount": 0, "currency": "usd"}, "payments[0][amount]"),
        ({"created": 1, "amount": 100, "currency": "xyz"}, "payments[0][currency]"),
        (
            {"created": 1, "amount": 100, "currency": "usd", "outcome": "won"},
            "payments[0][outcome]",
        ),
        ({"created": 1, "amount": 100, "currency": "usd", "colour": "red"}, "payments[0][colour]"),
        (
            {"created": int(time.time()) + 2 * DAY, "amount": 100, "currency": "usd"},
            "payments[0][created]",
        ),
        (
            {
                "created": 100,
                "amount": 100,
                "currency": "usd",
                "refunds": [{"amount": 50, "created": 99}],
            },
            "payments[0][refunds][0][created]",
        ),
        (
            {
                "created": 100,
                "amount": 100,
                "currency": "usd",
                "refunds": [{"amount": 60, "created": 200}, {"amount": 60, "created": 300}],
            },
            "payments[0][refunds][1][amount]",
        ),
        (
            {"created": 1, "amount": 100, "currency": "usd", "outcome": "declined", "refunds": []},
            "payments[0][refunds]",
        ),
        (
            {"created": 1, "amount": 100, "currency": "usd", "decline_code": "lost_card"},
            "payments[0][decline_code]",
        ),
        (
            {
                "created": 1,
                "amount": 100,
                "currency": "usd",
                "dispute": {"created": 2, "status": "open"},
            },
            "payments[0][dispute][status]",
        ),
        (
            {
                "created": 1,
                "amount": 100,
                "currency": "usd",
                "early_fraud_warning": {"fraud_type": "misc"},
            },
            "payments[0][early_fraud_warning][created]",
        ),
        (
            {"created": 1, "amount": 100, "currency": "usd", "metadata": {"k": 5}},
            "payments[0][metadata][k]",
        ),
    ],
)
def test_history_refuses_a_bad_batch_whole(sandbox, payment, param):
    good = {"created": 1, "amount": 100, "currency": "usd"}
    answer = post_history(sandbox, [payment, good])
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == param
    assert answer.json()["error"]["message"].startswith("payments[0]")
    assert sandbox.stats()["objects"]["payment_intent"] == 0  # nothing of the batch was made


def test_history_refuses_a_batch_the_cap_would_evict():
    with Sandbox(max_objects=40) as small:
        answer = post_history(small, [{"created": 1, "amount": 100, "currency": "usd"}] * 10)
        assert answer.status_code == 400
        assert "--max-objects" in answer.json()["error"]["message"]
        assert small.stats()["objects"]["payment_intent"] == 0
        assert len(small.add_history([{"created": 1, "amount": 100, "currency": "usd"}] * 5)) == 5
        assert small.stats()["evicted"] == 0


def test_history_takes_a_batch_over_the_api_body_limit(sandbox, stripe_client):
    start = int(time.time()) - 5 * DAY
    note = "n" * 400
    payments = [
        {
            "created": start + i,
            "amount": 500 + i % 7,
            "currency": "usd",
            "metadata": {"order_id": f"order-{i}", "note": note},
        }
        for i in range(3000)
    ]
    assert len(str(payments)) > sandbox.stats()["max_body_bytes"]  # more than /v1 accepts
    made = sandbox.add_history(payments)
    assert len(made) == 3000
    walked = stripe_client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
    listed = [(pi.id, pi.metadata["order_id"]) for pi in walked]
    assert listed == [(m["payment_intent"], f"order-{i}") for i, m in enumerate(made)][::-1]


def test_capabilities_name_history_and_disputes():
    assert {"history", "disputes"} <= capabilities.of("sandbox")
    assert "disputes" in capabilities.of("stripe-test")
    assert "history" not in capabilities.of("stripe-test")
    for kind in ("stripe-mock", "localstripe"):
        assert not {"history", "disputes"} & capabilities.of(kind)
    reason = capabilities.lacking("stripe-mock", capabilities.of("stripe-mock"), ["history"])
    assert reason is not None and reason.endswith("use the sandbox")


def test_lists_by_parent_page_like_the_rest(sandbox, stripe_client):
    t = int(time.time()) - 9 * DAY
    refunds = [{"amount": 100, "created": t + DAY * (i + 1)} for i in range(7)]
    [made, other] = sandbox.add_history(
        [
            {"created": t, "amount": 5000, "currency": "usd", "refunds": refunds},
            {"created": t, "amount": 900, "currency": "usd", "refunds": refunds[:2]},
        ]
    )
    newest_first = made["refunds"][::-1]
    by_charge = {"charge": made["charge"], "limit": 2}
    walked = stripe_client.v1.refunds.list(params=by_charge).auto_paging_iter()
    assert [r.id for r in walked] == newest_first
    page = stripe_client.v1.refunds.list(params={**by_charge, "ending_before": newest_first[4]})
    assert ([r.id for r in page.data], page.has_more) == (newest_first[2:4], True)
    window = {
        "payment_intent": made["payment_intent"],
        "created": {"gt": t + 2 * DAY, "lte": t + 5 * DAY},
    }
    assert [r.id for r in stripe_client.v1.refunds.list(params=window).data] == newest_first[2:5]
    charge = stripe_client.v1.charges.retrieve(made["charge"], params={"expand": ["refunds"]})
    assert [r.id for r in charge.refunds.data] == newest_first
    listed = stripe_client.v1.charges.list(params={"payment_intent": other["payment_intent"]})
    assert [c.id for c in listed.data] == [other["charge"]]


def test_evicted_objects_leave_the_parent_index():
    with Sandbox(max_objects=60) as small:
        client = sandboxkit.client_for(small)
        first = paid_intent(client)
        for _ in range(15):  # 5 objects each (PaymentMethod, intent, charge, 2+ events)
            paid_intent(client)
        assert small.stats()["evicted"] > 0
        assert client.v1.charges.list(params={"payment_intent": first.id}).data == []
        last = paid_intent(client)
        assert [c.id for c in client.v1.charges.list(params={"payment_intent": last.id}).data] == [
            last.latest_charge
        ]


def test_auto_paging_backwards_from_ending_before(sandbox, stripe_client):
    now = int(time.time())
    made = sandbox.add_history(
        [{"created": now - 3600 + i, "amount": 100 + i, "currency": "usd"} for i in range(11)]
    )
    ids = [m["payment_intent"] for m in made]  # oldest first
    params = {"ending_before": ids[0], "limit": 3, "created": {"lt": now - 3600 + 9}}
    walked = stripe_client.v1.payment_intents.list(params=params).auto_paging_iter()
    # stripe-python walks towards newer objects, oldest first.
    assert [pi.id for pi in walked] == ids[1:9]
