"""Disputes and Radar Early Fraud Warnings: Stripe's test cards make them, the API lists and
retrieves them; the official stripe library is the oracle for their shape."""

from __future__ import annotations

import time

import pytest
import sandboxkit
import stripe
from sandboxkit import paid_intent, wait_for

_module_sandbox = sandboxkit._module_sandbox
sandbox = sandboxkit.sandbox
stripe_client = sandboxkit.stripe_client
receiver = sandboxkit.receiver


@pytest.mark.parametrize(
    ("token", "reason", "status", "case_type"),
    [
        ("pm_card_createDispute", "fraudulent", "needs_response", "chargeback"),
        (
            "pm_card_createDisputeProductNotReceived",
            "product_not_received",
            "needs_response",
            "chargeback",
        ),
        ("pm_card_createDisputeInquiry", "general", "warning_needs_response", "inquiry"),
    ],
)
def test_dispute_test_cards_open_a_dispute(stripe_client, token, reason, status, case_type):
    pi = paid_intent(stripe_client, amount=4200, payment_method=token)
    assert pi.status == "succeeded"
    charge = stripe_client.v1.charges.retrieve(pi.latest_charge)
    assert charge.disputed is True
    listed = stripe_client.v1.disputes.list(params={"charge": charge.id}).data
    assert len(listed) == 1
    dispute = listed[0]
    assert isinstance(dispute, stripe.Dispute)
    assert (dispute.reason, dispute.status) == (reason, status)
    assert (dispute.amount, dispute.currency, dispute.payment_intent) == (4200, "usd", pi.id)
    assert dispute.payment_method_details.card.case_type == case_type
    assert dispute.evidence.uncategorized_text is None
    assert dispute.evidence_details.due_by > dispute.created
    assert dispute.is_charge_refundable is (case_type == "inquiry")
    withdrawn = [t.amount for t in dispute.balance_transactions]
    assert withdrawn == ([] if case_type == "inquiry" else [-4200])
    assert stripe_client.v1.disputes.retrieve(dispute.id).to_dict() == dispute.to_dict()
    types = [e.type for e in stripe_client.v1.events.list().data]
    assert "charge.dispute.created" in types
    assert ("charge.dispute.funds_withdrawn" in types) is (case_type == "chargeback")


def test_an_ordinary_card_is_not_disputed(stripe_client):
    pi = paid_intent(stripe_client)
    assert stripe_client.v1.charges.retrieve(pi.latest_charge).disputed is False
    assert stripe_client.v1.disputes.list().data == []
    assert stripe_client.v1.radar.early_fraud_warnings.list().data == []


def test_dispute_event_is_delivered_to_subscribed_endpoints(sandbox, stripe_client, receiver):
    endpoint = stripe_client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["charge.dispute.created"]}
    )
    pi = paid_intent(stripe_client, payment_method="pm_card_createDispute")
    wait_for(lambda: receiver.received, "the charge.dispute.created delivery")
    delivery = receiver.received[0]
    event = stripe.Webhook.construct_event(
        delivery["body"], delivery["headers"]["Stripe-Signature"], endpoint.secret
    )
    assert event.type == "charge.dispute.created"
    assert event.data.object.object == "dispute"
    assert event.data.object.payment_intent == pi.id
    # The payment's own events went to no endpoint: only the dispute's was sent.
    assert {a["event"] for a in sandbox.deliveries()} == {event.id}


def test_a_manual_capture_is_disputed_once_captured(stripe_client):
    pi = paid_intent(stripe_client, payment_method="pm_card_createDispute", capture_method="manual")
    assert pi.status == "requires_capture"
    assert stripe_client.v1.disputes.list().data == []
    stripe_client.v1.payment_intents.capture(pi.id)
    [dispute] = stripe_client.v1.disputes.list(params={"payment_intent": pi.id}).data
    assert dispute.charge == pi.latest_charge


def test_early_fraud_warning_card(stripe_client, receiver):
    stripe_client.v1.webhook_endpoints.create(
        params={"url": receiver.url, "enabled_events": ["radar.early_fraud_warning.created"]}
    )
    pi = paid_intent(stripe_client, payment_method="pm_card_createIssuerFraudRecord")
    assert pi.status == "succeeded"
    [warning] = stripe_client.v1.radar.early_fraud_warnings.list(
        params={"payment_intent": pi.id}
    ).data
    assert isinstance(warning, stripe.radar.EarlyFraudWarning)
    assert warning.object == "radar.early_fraud_warning"
    assert (warning.charge, warning.actionable) == (pi.latest_charge, True)
    assert warning.fraud_type in {"misc", "made_with_stolen_card"}
    fetched = stripe_client.v1.radar.early_fraud_warnings.retrieve(
        warning.id, params={"expand": ["charge"]}
    )
    assert fetched.charge.id == pi.latest_charge
    assert stripe_client.v1.charges.retrieve(pi.latest_charge).disputed is False
    wait_for(lambda: receiver.received, "the radar.early_fraud_warning.created delivery")
    assert receiver.bodies()[0]["data"]["object"]["id"] == warning.id


def test_dispute_lists_filter_and_expand(sandbox, stripe_client):
    now = int(time.time())
    sandbox.set_clock(now=now - 86_400)
    old = paid_intent(stripe_client, payment_method="pm_card_createDispute")
    sandbox.set_clock()
    new = paid_intent(stripe_client, payment_method="pm_card_createDisputeInquiry")
    disputes = stripe_client.v1.disputes
    assert [d.payment_intent for d in disputes.list().data] == [new.id, old.id]
    recent = disputes.list(params={"created": {"gte": now - 3600}}).data
    assert [d.payment_intent for d in recent] == [new.id]
    older = disputes.list(params={"created": {"lt": now - 3600}}).data
    assert [d.payment_intent for d in older] == [old.id]
    by_pi = disputes.list(params={"payment_intent": old.id, "expand": ["data.charge"]}).data
    assert by_pi[0].charge.id == old.latest_charge and by_pi[0].charge.disputed is True
    walked = [d.id for d in disputes.list(params={"limit": 1}).auto_paging_iter()]
    assert len(walked) == 2


def test_unknown_dispute_and_warning_ids(stripe_client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.disputes.retrieve("du_nope")
    assert caught.value.http_status == 404 and caught.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.radar.early_fraud_warnings.retrieve("issfr_nope")
    assert caught.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.disputes.list(params={"status": "won"})
    assert caught.value.param == "status"


def test_a_full_refund_makes_the_warning_not_actionable(stripe_client):
    pi = paid_intent(stripe_client, amount=3000, payment_method="pm_card_createIssuerFraudRecord")
    [warning] = stripe_client.v1.radar.early_fraud_warnings.list().data
    stripe_client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1000})
    assert stripe_client.v1.radar.early_fraud_warnings.retrieve(warning.id).actionable is True
    stripe_client.v1.refunds.create(params={"payment_intent": pi.id})  # the rest
    assert stripe_client.v1.radar.early_fraud_warnings.retrieve(warning.id).actionable is False
    [updated] = stripe_client.v1.events.list(
        params={"type": "radar.early_fraud_warning.updated"}
    ).data
    assert (updated.data.object.id, updated.data.object.actionable) == (warning.id, False)


def test_evidence_submitted_puts_a_dispute_under_review(stripe_client):
    paid_intent(stripe_client, payment_method="pm_card_createDispute")
    [dispute] = stripe_client.v1.disputes.list().data
    staged = stripe_client.v1.disputes.update(
        dispute.id,
        params={"evidence": {"uncategorized_text": "Delivered, signed for."}, "submit": False},
    )
    assert (staged.status, staged.evidence_details.has_evidence) == ("needs_response", True)
    assert staged.evidence_details.submission_count == 0
    submitted = stripe_client.v1.disputes.update(
        dispute.id,
        params={"evidence": {"customer_name": "Ada"}, "metadata": {"case": "42"}},
    )
    assert submitted.status == "under_review"
    assert submitted.evidence.uncategorized_text == "Delivered, signed for."
    assert submitted.evidence.customer_name == "Ada" and submitted.metadata.case == "42"
    assert submitted.evidence_details.submission_count == 1
    updates = stripe_client.v1.events.list(params={"type": "charge.dispute.updated"}).data
    assert [e.data.object.status for e in updates] == ["under_review", "needs_response"]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.disputes.update(dispute.id, params={"evidence": {"colour": "red"}})
    assert caught.value.param == "evidence[colour]"


@pytest.mark.parametrize(
    ("token", "closed_as"),
    [("pm_card_createDispute", "lost"), ("pm_card_createDisputeInquiry", "warning_closed")],
)
def test_closing_a_dispute_accepts_it(stripe_client, token, closed_as):
    paid_intent(stripe_client, payment_method=token)
    [dispute] = stripe_client.v1.disputes.list().data
    closed = stripe_client.v1.disputes.close(dispute.id)
    assert closed.status == closed_as
    [event] = stripe_client.v1.events.list(params={"type": "charge.dispute.closed"}).data
    assert event.data.object.status == closed_as
    with pytest.raises(stripe.InvalidRequestError) as caught:
        stripe_client.v1.disputes.close(dispute.id)
    assert "already closed" in caught.value.user_message
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client.v1.disputes.update(dispute.id, params={"metadata": {"late": "yes"}})


def test_a_charged_back_payment_cannot_be_refunded_an_inquiry_can(stripe_client):
    # Stripe: charge_disputed ("has been charged back; cannot issue a refund").
    chargeback = paid_intent(stripe_client, payment_method="pm_card_createDispute")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe_client.v1.refunds.create(params={"payment_intent": chargeback.id})
    assert refused.value.code == "charge_disputed"
    assert "has been charged back; cannot issue a refund" in str(refused.value.user_message)
    assert stripe_client.v1.refunds.list(params={"payment_intent": chargeback.id}).data == []
    inquiry = paid_intent(stripe_client, payment_method="pm_card_createDisputeInquiry")
    refund = stripe_client.v1.refunds.create(params={"payment_intent": inquiry.id})
    assert refund.status == "succeeded"
