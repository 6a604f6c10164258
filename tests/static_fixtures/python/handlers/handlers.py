# Fixture for golive's Python rules (tests/test_static_rules.py): `# ruleid: X` says rule X
# fires on the next line, `# ok: X` that it must not. Never imported or run.
import hashlib
import hmac
import json
import os

import stripe
from django.conf import settings
from flask import abort


def debug_header_bypass(request):
    # ruleid: golive.webhook.conditional-verification.python
    if request.headers.get("X-Debug-Skip") == "1":
        return handle(json.loads(request.data))
    # ruleid: golive.webhook.verification-call.python
    event = stripe.Webhook.construct_event(request.data, request.headers["Stripe-Signature"], SECRET)
    return handle(event)


def env_gated(request):
    # ruleid: golive.webhook.conditional-verification.python
    if os.environ.get("APP_ENV") == "production":
        # ruleid: golive.webhook.verification-call.python
        event = stripe.Webhook.construct_event(request.body, request.META["HTTP_STRIPE_SIGNATURE"], SECRET)
    else:
        event = json.loads(request.body)
    return handle(event)


def settings_debug(request):
    # ruleid: golive.webhook.conditional-verification.python
    if not settings.DEBUG:
        # ruleid: golive.webhook.verification-call.python
        verify_stripe_signature(request.body, request.headers.get("Stripe-Signature"))
    return handle(json.loads(request.body))


def bare_headers(raw, headers):
    # ruleid: golive.webhook.conditional-verification-bare-headers.python
    if headers.get("x-internal-test", "") == "yes":
        return
    # ruleid: golive.webhook.verification-call.python
    check_signature_and_verify(raw, headers.get("stripe-signature"))


def swallowed(request):
    # ruleid: golive.webhook.swallowed-verification-error.python
    try:
        # ruleid: golive.webhook.verification-call.python
        event = stripe.Webhook.construct_event(request.data, request.headers["Stripe-Signature"], SECRET)
    except stripe.SignatureVerificationError:
        log("bad signature")
    return handle(json.loads(request.data))


def reserialized(request):
    body = json.dumps(request.get_json())
    # ruleid: golive.webhook.verification-call.python
    event = stripe.Webhook.construct_event(
        # ruleid: golive.webhook.verifies-parsed-body.python
        body, request.headers["Stripe-Signature"], SECRET
    )
    return handle(event)


def reserialized_hmac(raw, secret, timestamp):
    payload = json.dumps(json.loads(raw), indent=2).encode()
    # ruleid: golive.webhook.verifies-parsed-body.python
    mac = hmac.new(secret, timestamp + b"." + payload, hashlib.sha256)
    return mac.hexdigest()


def long_tolerance(request):
    # ruleid: golive.webhook.verification-call.python, golive.webhook.tolerance-over-300.python
    return stripe.Webhook.construct_event(
        request.data, request.headers["Stripe-Signature"], SECRET, tolerance=3600
    )


# ruleid: golive.webhook.tolerance-over-300.python
WEBHOOK_TOLERANCE_SECONDS = 86400


def dispatch(event):
    # ruleid: golive.webhook.event-dispatch.python
    if event["type"] == "payment_intent.succeeded":
        mark_paid(event["data"]["object"]["id"])


# --- correct handlers: nothing fires but the markers ------------------------------------

# ok: golive.webhook.tolerance-over-300.python
TOLERANCE_S = 300


def correct(request):
    payload = request.body
    try:
        # ruleid: golive.webhook.verification-call.python
        event = stripe.Webhook.construct_event(
            # ok: golive.webhook.verifies-parsed-body.python
            payload, request.headers.get("Stripe-Signature"), SECRET, tolerance=300
        )
    # ok: golive.webhook.swallowed-verification-error.python
    except (ValueError, stripe.SignatureVerificationError):
        return HttpResponse(status=400)
    data = json.loads(payload)  # parsing after verification is right
    # ok: golive.webhook.conditional-verification.python
    if request.headers.get("X-Request-Id"):
        log(request.headers["X-Request-Id"])
    return handle(event, data)


def correct_abort(request):
    try:
        # ruleid: golive.webhook.verification-call.python
        event = verify_webhook(request.get_data(), request.headers.get("Stripe-Signature"))
    except SignatureError:
        abort(400)
    if settings.DEBUG:  # debug logging after verification is fine
        log(event)
    return handle(event)


def correct_headers(raw, headers):
    # ok: golive.webhook.conditional-verification-bare-headers.python
    if headers.get("content-type") != "application/json":
        log("unexpected content type")
    # ruleid: golive.webhook.verification-call.python
    check_signature_and_verify(raw, headers.get("stripe-signature"))


def correct_raise(raw, header, secret, ts):
    expected = hmac.new(secret, ts + b"." + raw, hashlib.sha256).hexdigest()
    # ruleid: golive.webhook.verification-call.python
    if not hmac.compare_digest(expected, header):
        raise SignatureError("no match")
