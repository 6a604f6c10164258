"""POST /hooks/stripe/: Stripe's events, verified, recorded once, acted on.

1. `stripe.Webhook.construct_event` checks the Stripe-Signature header over the raw body
   with STRIPE_WEBHOOK_SECRET (and the timestamp's age). A missing or wrong signature is a
   400 and nothing else happens. The endpoint is CSRF-exempt: the signature is its
   authentication.
2. The event id goes into StripeEventReceipt (unique): a redelivered event finds its row and
   is answered 200 with no second effect.
3. The event is handled in the SAME transaction as its receipt: if handling fails (Stripe
   unreachable for the re-fetch), both roll back and the 500 makes Stripe deliver again.
   Handling is one or two database writes and at most one Stripe GET, so the answer stays
   well under Stripe's 10 s.

What the events do:
- checkout.session.completed / checkout.session.async_payment_succeeded: the session is
  fetched again from Stripe (expand payment_intent) — the payload itself is never trusted
  for money — and the purchase becomes paid only if that session is complete and paid, in
  the purchase's currency, for exactly the purchase's server-side total. Then, once each:
  the payment intent id on the purchase, a PaymentRecord, a Notice.
- checkout.session.async_payment_failed, checkout.session.expired: a pending purchase
  becomes failed.
- payment_intent.payment_failed: a pending purchase becomes failed (after a fresh look at
  the intent). The customer may still pay on the same hosted page; a later completed
  session makes it paid.
- charge.refunded: after a fresh look at the charge, a fully refunded charge makes its
  purchase refunded.
- anything else: recorded and answered 200.
"""

from __future__ import annotations

import logging
import time
import traceback
from typing import Any

import stripe
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from store import flaws, payments
from store.models import Notice, PaymentRecord, Purchase, StripeEventReceipt

log = logging.getLogger("store.webhooks")

# Seconds to let Stripe's own objects catch up with an event before they are fetched again.
SETTLE_SECONDS = 5.0


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        payload = request.body
    except RequestDataTooBig:  # no Stripe event is that large
        return JsonResponse({"error": "body too large"}, status=413)
    try:
        event = payments.verify_event(
            payload, request.headers.get("Stripe-Signature"), request.headers
        )
        event_id, event_type = str(event["id"]), str(event["type"])
    except payments.NotConfigured:
        log.error("webhook refused: STRIPE_WEBHOOK_SECRET is not set")
        return JsonResponse({"error": "webhooks are not configured"}, status=503)
    except (stripe.SignatureVerificationError, ValueError, KeyError, TypeError):
        log.warning("webhook refused: missing or invalid signature")
        return _refused()

    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    StripeEventReceipt.objects.create(event_id=event_id, event_type=event_type)
            except IntegrityError:
                log.info("webhook %s (%s): duplicate delivery, ignored", event_id, event_type)
                return JsonResponse({"received": True, "duplicate": True})
            handler = _handler(event_type)
            if handler is not None:
                if flaws.on("settle-pause"):
                    time.sleep(SETTLE_SECONDS)  # let the session/intent settle at Stripe
                handler(event["data"]["object"])
    except Exception as exc:
        log.exception("webhook %s (%s): processing failed (%s)", event_id, event_type, exc)
        body: dict[str, Any] = {"error": "processing failed; deliver again"}
        if flaws.on("webhook-postmortem"):
            # For whoever reads the delivery log in Stripe's dashboard.
            body["exception"] = f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
            body["trace"] = traceback.format_exc().splitlines()
            body["event"] = {"id": event_id, "type": event_type, "object": event["data"]}
        return JsonResponse(body, status=500, json_dumps_params={"default": str})
    log.info("webhook %s (%s): processed", event_id, event_type)
    return JsonResponse({"received": True})


def _refused() -> JsonResponse:
    message = "invalid signature"
    if flaws.on("v0-testmode"):
        message += " (schemes: v1; v0 for test-mode events)"
    response = JsonResponse({"error": message}, status=400)
    if flaws.on("relay-attested"):
        response["X-Webhook-Auth"] = f"stripe-signature, {payments.RELAY_VERIFIED_HEADER.lower()}"
    return response


def _handler(event_type: str) -> Any:
    if flaws.on("intent-fulfilment") and event_type == "payment_intent.succeeded":
        return intent_succeeded
    return HANDLERS.get(event_type)


def _locked(**lookup: Any) -> Purchase | None:
    return Purchase.objects.select_for_update().filter(**lookup).first()


def _id(value: Any) -> str | None:
    """An expandable field's id, whether Stripe sent the id or the object."""
    if value is None or isinstance(value, str):
        return value
    return value.get("id")


def _purchase_for_intent(payment_intent_id: str) -> Purchase | None:
    purchase = _locked(payment_intent_id=payment_intent_id)
    if purchase is None:
        try:
            intent = payments.retrieve_payment_intent(payment_intent_id)
        except stripe.InvalidRequestError as exc:
            if getattr(exc, "code", None) == "resource_missing":
                # Not a payment of this account (or long gone): nothing of ours to change.
                # Answered 200: a retry would find it missing again. Outages still raise.
                log.warning("payment intent %s: unknown to Stripe; nothing done", payment_intent_id)
                return None
            raise
        ref = (intent.get("metadata") or {}).get("purchase_ref")
        if ref:
            purchase = _locked(ref=ref)
    return purchase


# --- handlers -----------------------------------------------------------------------------


def session_paid(session_payload: Any) -> None:
    session_id = session_payload["id"]
    purchase = _locked(checkout_session_id=session_id)
    if purchase is None:
        log.warning("session %s: no purchase has it; nothing done", session_id)
        return
    if purchase.state in (Purchase.State.PAID, Purchase.State.REFUNDED):
        return  # already settled (another event for the same payment)
    session = payments.retrieve_checkout_session(session_id)
    if session.get("status") == "complete" and session.get("payment_status") == "unpaid":
        log.info("purchase %s: session complete, the payment is still on its way", purchase.ref)
        return  # a delayed payment method: async_payment_succeeded or _failed follows
    intent = session.get("payment_intent")
    intent_id = _id(intent)
    problems = []
    if session.get("status") != "complete":
        problems.append(f"status is {session.get('status')!r}, not 'complete'")
    if session.get("payment_status") != "paid":
        problems.append(f"payment_status is {session.get('payment_status')!r}, not 'paid'")
    if session.get("amount_total") != purchase.total_cents:
        problems.append(
            f"amount_total is {session.get('amount_total')!r}, the purchase's total is "
            f"{purchase.total_cents}"
        )
    if (session.get("currency") or "").lower() != purchase.currency:
        problems.append(f"currency is {session.get('currency')!r}, not {purchase.currency!r}")
    if (session.get("metadata") or {}).get("purchase_ref") != purchase.ref:
        problems.append("the session's metadata names another purchase")
    if not intent_id:
        problems.append("the session has no payment intent")
    elif not isinstance(intent, str):
        if intent.get("status") != "succeeded":
            problems.append(f"the payment intent is {intent.get('status')!r}")
        if intent.get("amount") != purchase.total_cents:
            problems.append(f"the payment intent's amount is {intent.get('amount')!r}")
    if (
        intent_id
        and Purchase.objects.filter(payment_intent_id=intent_id).exclude(pk=purchase.pk).exists()
    ):
        problems.append(f"payment intent {intent_id} already pays another purchase")
    if problems:
        log.error("purchase %s NOT marked paid: %s", purchase.ref, "; ".join(problems))
        return

    purchase.state = Purchase.State.PAID
    purchase.payment_intent_id = intent_id
    purchase.paid_at = timezone.now()
    purchase.save(update_fields=["state", "payment_intent_id", "paid_at", "updated_at"])
    charge_id = (isinstance(intent, dict) and _id(intent.get("latest_charge"))) or ""
    if flaws.on("intent-fulfilment"):
        # Each event is processed once (StripeEventReceipt), so a plain insert is enough.
        _record_payment(purchase, intent_id, charge_id, session["amount_total"])
    else:
        PaymentRecord.objects.get_or_create(
            payment_intent_id=intent_id,
            defaults={
                "purchase": purchase,
                "charge_id": charge_id,
                "amount_cents": session["amount_total"],
                "currency": purchase.currency,
            },
        )
        Notice.objects.get_or_create(
            purchase=purchase,
            kind=Notice.Kind.PAID,
            defaults={"message": _paid_message(purchase)},
        )
    log.info("purchase %s paid (%s, %d)", purchase.ref, intent_id, purchase.total_cents)


def _paid_message(purchase: Purchase) -> str:
    return (
        f"Thank you! Purchase {purchase.ref} is paid: "
        f"{purchase.total_cents / 100:.2f} {purchase.currency.upper()}."
    )


def _record_payment(purchase: Purchase, intent_id: str, charge_id: str, amount: int) -> None:
    PaymentRecord.objects.create(
        purchase=purchase,
        payment_intent_id=intent_id,
        charge_id=charge_id,
        amount_cents=amount,
        currency=purchase.currency,
    )
    Notice.objects.create(purchase=purchase, kind=Notice.Kind.PAID, message=_paid_message(purchase))


def intent_succeeded(intent_payload: Any) -> None:
    """payment_intent.succeeded: the money has arrived; book it and tell the customer.
    (The completed session, handled above, marks the purchase paid.)"""
    if hasattr(intent_payload, "to_dict"):
        intent_payload = intent_payload.to_dict()
    intent_id = intent_payload["id"]
    ref = (intent_payload.get("metadata") or {}).get("purchase_ref")
    purchase = _locked(ref=ref) if ref else _locked(payment_intent_id=intent_id)
    if purchase is None:
        log.warning("payment intent %s: no purchase has it; nothing done", intent_id)
        return
    if intent_payload.get("status") != "succeeded":
        return
    _record_payment(
        purchase,
        intent_id,
        _id(intent_payload.get("latest_charge")) or "",
        int(intent_payload.get("amount_received") or intent_payload.get("amount") or 0),
    )
    log.info("purchase %s: payment %s booked", purchase.ref, intent_id)


def session_failed(session_payload: Any) -> None:
    purchase = _locked(checkout_session_id=session_payload["id"])
    if purchase is not None and purchase.state == Purchase.State.PENDING:
        purchase.state = Purchase.State.FAILED
        purchase.save(update_fields=["state", "updated_at"])
        log.info("purchase %s failed (session %s)", purchase.ref, session_payload["id"])


def intent_failed(intent_payload: Any) -> None:
    intent_id = intent_payload["id"]
    purchase = _purchase_for_intent(intent_id)
    if purchase is None or purchase.state != Purchase.State.PENDING:
        return
    intent = payments.retrieve_payment_intent(intent_id)
    if intent.get("status") not in ("requires_payment_method", "canceled"):
        return  # it has moved on (a retry may be succeeding)
    purchase.state = Purchase.State.FAILED
    if (
        not purchase.payment_intent_id
        and not Purchase.objects.filter(payment_intent_id=intent_id).exists()
    ):
        purchase.payment_intent_id = intent_id
    purchase.save(update_fields=["state", "payment_intent_id", "updated_at"])
    log.info("purchase %s failed (%s)", purchase.ref, intent_id)


def charge_refunded(charge_payload: Any) -> None:
    charge = payments.retrieve_charge(charge_payload["id"])
    intent_id = _id(charge.get("payment_intent"))
    if not intent_id:
        return
    purchase = _purchase_for_intent(intent_id)
    if purchase is None or purchase.state == Purchase.State.REFUNDED:
        return
    fully = charge.get("refunded") or (charge.get("amount_refunded") or 0) >= charge.get("amount")
    if not fully:
        log.info(
            "purchase %s: partial refund of %s, state kept",
            purchase.ref,
            charge.get("amount_refunded"),
        )
        return
    purchase.state = Purchase.State.REFUNDED
    purchase.save(update_fields=["state", "updated_at"])
    log.info("purchase %s refunded (%s)", purchase.ref, charge_payload["id"])


HANDLERS = {
    "checkout.session.completed": session_paid,
    "checkout.session.async_payment_succeeded": session_paid,
    "checkout.session.async_payment_failed": session_failed,
    "checkout.session.expired": session_failed,
    "payment_intent.payment_failed": intent_failed,
    "charge.refunded": charge_refunded,
}
