"""Forged webhook variants: each fails Stripe's own verification for the right reason.

Stripe's library (`stripe.Webhook.construct_event`) is the reference receiver here: every
variant that a correct receiver must reject has to be refused by it with the message
that names the flaw, and the ones a correct receiver accepts have to pass it.
"""

from __future__ import annotations

import json
import secrets
import time

import pytest
import stripe

from golive.errors import InputError
from golive.webhooks import battery, fixtures, forge
from golive.webhooks.signing import encode_event, verify_header

NO_HEADER = "No Stripe-Signature header value was provided"
UNPARSABLE = "Unable to extract timestamp and signatures from header"
NO_MATCH = "No signatures found matching the expected signature for payload"
NO_V1 = "No signatures found with expected scheme v1"
TOO_OLD = "Timestamp outside the tolerance zone"

# None: Stripe's library accepts the delivery. Every variant must be listed here.
STRIPE_SAYS = {
    "signed": None,
    "unsigned": NO_HEADER,
    "empty-header": NO_HEADER,
    "malformed-header": UNPARSABLE,
    "wrong-secret": NO_MATCH,
    "tampered-body": NO_MATCH,
    "stale-timestamp": TOO_OLD,
    "future-timestamp": None,
    "v0-only": NO_V1,
    "multiple-v1": None,
    "non-canonical-json": None,
    "re-serialized": NO_MATCH,
    "duplicate": None,
    "concurrent-duplicates": None,
}
ACCEPTED_BY_A_CORRECT_RECEIVER = {
    "signed",
    "multiple-v1",
    "non-canonical-json",
    "duplicate",
    "concurrent-duplicates",
}


@pytest.fixture
def secret() -> str:
    return "whsec_" + secrets.token_hex(16)


@pytest.fixture
def payload() -> bytes:
    return encode_event(fixtures.render_event("checkout.session.completed"))


def stripe_verdict(forged: forge.Forged, secret: str) -> str | None:
    """None when Stripe's library accepts the delivery, else its error message."""
    try:
        stripe.Webhook.construct_event(forged.payload, forged.signature, secret)
    except stripe.SignatureVerificationError as exc:
        return str(exc.user_message or exc)
    return None


def test_every_variant_has_an_expected_stripe_verdict() -> None:
    assert set(forge.names()) == set(STRIPE_SAYS)
    for required in ("unsigned", "tampered-body", "concurrent-duplicates", "non-canonical-json"):
        assert required in forge.names()


@pytest.mark.parametrize("name", list(STRIPE_SAYS))
def test_stripe_refuses_each_forgery_for_the_right_reason(
    name: str, payload: bytes, secret: str
) -> None:
    forged = forge.build(name, payload, secret)
    verdict = stripe_verdict(forged, secret)
    expected = STRIPE_SAYS[name]
    if expected is None:
        assert verdict is None, f"{name}: Stripe refused it: {verdict}"
    else:
        assert verdict is not None, f"{name}: Stripe accepted it"
        assert verdict.startswith(expected), f"{name}: {verdict}"


@pytest.mark.parametrize("name", list(STRIPE_SAYS))
def test_each_variant_says_what_a_correct_receiver_does(name: str, payload: bytes) -> None:
    forged = forge.build(name, payload, "whsec_" + secrets.token_hex(16))
    assert forged.variant == name
    want = "accept" if name in ACCEPTED_BY_A_CORRECT_RECEIVER else "reject"
    assert forged.expect == want
    doc = forge.describe(name)
    assert (
        ("Accept" in doc or "ACCEPT" in doc or "2xx" in doc) if want == "accept" else "eject" in doc
    )


@pytest.mark.parametrize("name", list(STRIPE_SAYS))
def test_golives_own_verifier_agrees_with_stripe(name: str, payload: bytes, secret: str) -> None:
    forged = forge.build(name, payload, secret)
    ours = verify_header(forged.payload, forged.signature or "", secret)
    assert ours is (STRIPE_SAYS[name] is None)


def test_every_magic_signature_of_the_battery_fails_stripes_verification(
    payload: bytes, secret: str
) -> None:
    for candidate in battery.signature_candidates(int(time.time())):
        forged = forge.with_headers(
            forge.build("unsigned", payload, secret), {candidate.name: candidate.value}
        )
        assert stripe_verdict(forged, secret) is not None, candidate
        assert not verify_header(payload, candidate.value, secret)


def test_tampered_body_was_signed_before_the_amount_changed(payload: bytes, secret: str) -> None:
    forged = forge.build("tampered-body", payload, secret)
    original, tampered = json.loads(payload), json.loads(forged.payload)
    assert tampered["data"]["object"]["amount_total"] != original["data"]["object"]["amount_total"]
    tampered["data"]["object"]["amount_total"] = original["data"]["object"]["amount_total"]
    tampered["data"]["object"]["amount_subtotal"] = original["data"]["object"]["amount_subtotal"]
    assert tampered == original  # only the amounts changed
    assert verify_header(payload, forged.signature or "", secret)  # the signature is genuine


def test_tampering_a_body_without_amounts_still_changes_it() -> None:
    assert forge.tamper(b'{"id": "evt_1"}') != b'{"id": "evt_1"}'


def test_timestamps_are_ten_minutes_off(payload: bytes, secret: str) -> None:
    now = int(time.time())
    stale = forge.build("stale-timestamp", payload, secret, now=now)
    future = forge.build("future-timestamp", payload, secret, now=now)
    assert stale.signature and stale.signature.startswith(f"t={now - 600},v1=")
    assert future.signature and future.signature.startswith(f"t={now + 600},v1=")
    # Both carry a genuine signature: only the time is wrong.
    assert verify_header(payload, stale.signature, secret, tolerance_s=0)
    assert verify_header(payload, future.signature, secret, tolerance_s=0)


def test_multiple_v1_puts_the_wrong_signature_first(payload: bytes, secret: str) -> None:
    forged = forge.build("multiple-v1", payload, secret)
    t, first, second = (forged.signature or "").split(",")
    assert first.startswith("v1=") and second.startswith("v1=")
    # A receiver that only checks the first signature would refuse a rotation-time event.
    assert not verify_header(payload, f"{t},{first}", secret)
    assert verify_header(payload, f"{t},{second}", secret)


def test_v0_only_is_signed_with_the_real_secret(payload: bytes, secret: str) -> None:
    forged = forge.build("v0-only", payload, secret)
    assert "v1=" not in (forged.signature or "")
    as_v1 = (forged.signature or "").replace("v0=", "v1=")
    assert verify_header(payload, as_v1, secret)  # a receiver accepting any scheme would pass


def test_non_canonical_json_is_the_same_event_in_other_bytes(payload: bytes, secret: str) -> None:
    forged = forge.build("non-canonical-json", payload, secret)
    assert forged.payload != payload
    assert json.loads(forged.payload) == json.loads(payload)
    assert list(json.loads(forged.payload)) == list(reversed(list(json.loads(payload))))
    text = forged.payload.decode("ascii")  # every non-ASCII character is escaped
    assert "Ros\\u00e9n" in text and "Rosén" in payload.decode()
    assert "https:\\/\\/example.com" in text
    assert " :  " in text and "\t" in text
    # Re-serializing the parsed body, as a broken receiver would, does not give these bytes.
    assert encode_event(json.loads(forged.payload)) != forged.payload


def test_duplicates_are_one_delivery_repeated(payload: bytes, secret: str) -> None:
    dup = forge.build("duplicate", payload, secret)
    assert (dup.copies, dup.concurrent) == (2, False)
    many = forge.build("concurrent-duplicates", payload, secret, copies=7)
    assert (many.copies, many.concurrent) == (7, True)
    assert forge.build("signed", payload, secret).copies == 1


@pytest.mark.parametrize("copies", [0, 1, forge.MAX_COPIES + 1])
def test_duplicate_copies_are_bounded(copies: int, payload: bytes, secret: str) -> None:
    with pytest.raises(InputError, match="copies"):
        forge.build("concurrent-duplicates", payload, secret, copies=copies)


def test_copies_only_apply_to_duplicates(payload: bytes, secret: str) -> None:
    with pytest.raises(InputError, match="one delivery"):
        forge.build("unsigned", payload, secret, copies=3)


def test_unknown_variant_names_the_known_ones(payload: bytes, secret: str) -> None:
    with pytest.raises(InputError, match="unknown variant 'nope'") as caught:
        forge.build("nope", payload, secret)
    assert "multiple-v1" in str(caught.value)


def test_wrong_secrets_differ_every_time(payload: bytes, secret: str) -> None:
    a = forge.build("wrong-secret", payload, secret, now=1)
    b = forge.build("wrong-secret", payload, secret, now=1)
    assert a.signature != b.signature


def test_repr_hides_signatures(payload: bytes, secret: str) -> None:
    forged = forge.build("signed", payload, secret)
    signature = (forged.signature or "").split("v1=")[1]
    shown = repr(forged)
    assert signature not in shown and signature[-4:] in shown
    assert secret not in shown


def test_re_serialized_is_signed_over_what_a_parser_writes_never_over_the_bytes_sent() -> None:
    # Stripe's own library is the oracle: the bytes sent do not verify, a re-serialization does.
    secret = "whsec_" + "r" * 32
    payload = encode_event(
        {
            "id": "evt_1",
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": "pi_1", "description": "thé"}},
        }
    )
    forged = forge.build("re-serialized", payload, secret)
    header = forged.headers["Stripe-Signature"]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(forged.payload, header, secret)
    for form in forge.reserializations(forged.payload):
        assert stripe.Webhook.construct_event(form, header, secret)["id"] == "evt_1"
    assert forged.payload not in forge.reserializations(forged.payload)
    assert forged.expect == "reject"
