"""Forged and edge-case webhook deliveries: what a receiver must reject, and must accept.

Each variant is a function `(payload, secret, now) -> Forged` whose docstring says what a
correct receiver does with it. "Reject" means a non-2xx answer (Stripe's docs use 400)
and no side effect; "accept" means a 2xx answer. `build(name, …)` picks one by name.

`payload` is the exact body a correct signer would send (see `signing.encode_event`);
`secret` is the receiver's real `whsec_` signing secret; `now` is the Unix time the
delivery pretends to be sent at.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from golive.errors import InputError
from golive.webhooks.signing import (
    DEFAULT_TOLERANCE_S,
    compute_signature,
    encode_event,
    redact_header,
    sign_header,
)

SIGNATURE_HEADER = "Stripe-Signature"
SKEW_S = 2 * DEFAULT_TOLERANCE_S  # ten minutes: well outside Stripe's tolerance
MAX_COPIES = 50  # concurrent duplicates: enough to expose a race, few enough for any box
DEFAULT_DUPLICATES = 2
DEFAULT_CONCURRENT_DUPLICATES = 5

Expect = Literal["accept", "reject"]
# Variants that send one event several times: `copies` is their N.
REPEATED = frozenset({"duplicate", "concurrent-duplicates"})


@dataclass(frozen=True)
class Forged:
    """One request to send `copies` times (all at once behind a barrier when `concurrent`)."""

    variant: str
    payload: bytes = field(repr=False)
    headers: dict[str, str] = field(repr=False)
    expect: Expect
    copies: int = 1
    concurrent: bool = False

    @property
    def signature(self) -> str | None:
        return self.headers.get(SIGNATURE_HEADER)

    def __repr__(self) -> str:
        signature = self.signature
        shown = redact_header(signature) if signature is not None else None
        return (
            f"Forged(variant={self.variant!r}, expect={self.expect!r}, copies={self.copies}, "
            f"concurrent={self.concurrent}, signature={shown!r}, payload=<{len(self.payload)} bytes>)"
        )


Builder = Callable[[bytes, str, int], "Forged"]
VARIANTS: dict[str, Builder] = {}


def _variant(name: str) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        VARIANTS[name] = builder
        return builder

    return register


def _signed(header: str) -> dict[str, str]:
    return {SIGNATURE_HEADER: header}


def _wrong_secret() -> str:
    return "whsec_" + secrets.token_hex(16)


@_variant("signed")
def signed(payload: bytes, secret: str, now: int) -> Forged:
    """Correctly signed, as Stripe sends it. Accept (2xx) and process it."""
    return Forged("signed", payload, _signed(sign_header(payload, secret, now)), "accept")


@_variant("unsigned")
def unsigned(payload: bytes, secret: str, now: int) -> Forged:
    """No Stripe-Signature header at all. Reject: anyone can POST to a webhook URL."""
    return Forged("unsigned", payload, {}, "reject")


@_variant("empty-header")
def empty_header(payload: bytes, secret: str, now: int) -> Forged:
    """Stripe-Signature present but empty. Reject (an empty header is a missing one)."""
    return Forged("empty-header", payload, {SIGNATURE_HEADER: ""}, "reject")


@_variant("malformed-header")
def malformed_header(payload: bytes, secret: str, now: int) -> Forged:
    """Stripe-Signature is garbage with no `t=`. Reject it, without crashing (no 5xx)."""
    garbage = "sha256=" + secrets.token_hex(32) + "; nonce=%%%"
    return Forged("malformed-header", payload, {SIGNATURE_HEADER: garbage}, "reject")


@_variant("wrong-secret")
def wrong_secret(payload: bytes, secret: str, now: int) -> Forged:
    """Well-formed and fresh, but signed with another secret. Reject."""
    header = sign_header(payload, _wrong_secret(), now)
    return Forged("wrong-secret", payload, _signed(header), "reject")


@_variant("tampered-body")
def tampered_body(payload: bytes, secret: str, now: int) -> Forged:
    """Signed, then the amount in the body changed. Reject: the signature covers the raw body."""
    header = sign_header(payload, secret, now)
    return Forged("tampered-body", tamper(payload), _signed(header), "reject")


@_variant("stale-timestamp")
def stale_timestamp(payload: bytes, secret: str, now: int) -> Forged:
    """Correctly signed, but `t` is ten minutes old (tolerance is 300 s). Reject: a replay."""
    header = sign_header(payload, secret, now - SKEW_S)
    return Forged("stale-timestamp", payload, _signed(header), "reject")


@_variant("future-timestamp")
def future_timestamp(payload: bytes, secret: str, now: int) -> Forged:
    """Correctly signed with `t` ten minutes ahead. Strict receivers reject it; accepting
    it is lenient, not wrong (a minor finding).

    Stripe's own libraries only bound a timestamp's age, so they accept it.
    """
    header = sign_header(payload, secret, now + SKEW_S)
    return Forged("future-timestamp", payload, _signed(header), "reject")


@_variant("v0-only")
def v0_only(payload: bytes, secret: str, now: int) -> Forged:
    """Only a `v0` signature (computed with the real secret). Reject: only v1 counts.

    Stripe's libraries ignore every scheme but v1; a receiver that checks "any scheme"
    accepts signatures it was never meant to trust.
    """
    header = sign_header(payload, secret, now, scheme="v0")
    return Forged("v0-only", payload, _signed(header), "reject")


@_variant("multiple-v1")
def multiple_v1(payload: bytes, secret: str, now: int) -> Forged:
    """Two v1 signatures, the first with an old secret, as during a rotation. ACCEPT it.

    A receiver that checks only the first signature drops real events while a secret is
    being rolled.
    """
    header = sign_header(payload, [_wrong_secret(), secret], now)
    return Forged("multiple-v1", payload, _signed(header), "accept")


@_variant("non-canonical-json")
def non_canonical_json(payload: bytes, secret: str, now: int) -> Forged:
    """The same event re-formatted (keys reversed, odd whitespace, `\\u` escapes), correctly
    signed over those bytes. ACCEPT it.

    A receiver that parses the body and verifies a re-serialization of it rejects this,
    and will reject real events whenever Stripe's formatting differs from its own.
    """
    body = non_canonical(payload)
    return Forged("non-canonical-json", body, _signed(sign_header(body, secret, now)), "accept")


@_variant("re-serialized")
def re_serialized(payload: bytes, secret: str, now: int) -> Forged:
    """Signed over what a JSON parser makes of the body (one v1 per common re-encoding:
    Python's json.dumps, JavaScript's JSON.stringify, sorted keys, ASCII or UTF-8), sent
    as other bytes. Reject: the signature covers the raw body, not a re-serialization.

    A receiver that verifies `dumps(loads(body))`, even only as a fallback, accepts bodies
    nobody signed as sent: whoever controls the formatting controls what is verified.
    """
    body = non_canonical(payload)
    header = f"t={now}," + ",".join(
        f"v1={compute_signature(form, secret, now)}" for form in reserializations(body)
    )
    return Forged("re-serialized", body, _signed(header), "reject")


@_variant("duplicate")
def duplicate(payload: bytes, secret: str, now: int) -> Forged:
    """The exact same delivery sent again (Stripe retries). Acknowledge every copy with
    2xx, but process the event once (no second order, email or refund)."""
    header = sign_header(payload, secret, now)
    return Forged("duplicate", payload, _signed(header), "accept", DEFAULT_DUPLICATES)


@_variant("concurrent-duplicates")
def concurrent_duplicates(payload: bytes, secret: str, now: int) -> Forged:
    """N identical deliveries released at the same instant. Answer 2xx and process the event
    exactly once: a check-then-insert without a unique constraint or lock fails this."""
    header = sign_header(payload, secret, now)
    return Forged(
        "concurrent-duplicates",
        payload,
        _signed(header),
        "accept",
        DEFAULT_CONCURRENT_DUPLICATES,
        concurrent=True,
    )


# Every variant whose signature is missing, broken or wrong: what a receiver must refuse
# and never act on (stale and future timestamps are judged apart, as replays). Debug
# bypasses (headers, query parameters, magic signature values) are not variants: they
# are generated and mined per run by golive.webhooks.battery, hints and adaptive.
FORGERIES = (
    "unsigned",
    "empty-header",
    "malformed-header",
    "wrong-secret",
    "tampered-body",
    "v0-only",
)


# --- the registry -------------------------------------------------------------------------


def names() -> list[str]:
    return list(VARIANTS)


def describe(name: str) -> str:
    """The first line of the variant's docstring: what a correct receiver does."""
    doc = (VARIANTS[name].__doc__ or "").strip()
    return " ".join(doc.split("\n\n")[0].split())


def build(
    name: str,
    payload: bytes,
    secret: str,
    *,
    now: int | None = None,
    copies: int | None = None,
) -> Forged:
    """Variant `name` of `payload`; `copies` sets N for the two duplicate variants."""
    if name not in VARIANTS:
        raise InputError(f"unknown variant {name!r}", hint="known variants: " + ", ".join(names()))
    forged = VARIANTS[name](payload, secret, int(time.time()) if now is None else now)
    if copies is not None:
        if name not in REPEATED:
            raise InputError(f"variant {name} is one delivery; copies applies to duplicates")
        if not 2 <= copies <= MAX_COPIES:
            raise InputError(f"{name} needs between 2 and {MAX_COPIES} copies, not {copies}")
        forged = replace(forged, copies=copies)
    return forged


def with_headers(forged: Forged, extra: dict[str, str]) -> Forged:
    """`forged` with `extra` headers; a header it already has (any case) is replaced."""
    if not extra:
        return forged
    lowered = {name.lower() for name in extra}
    kept = {k: v for k, v in forged.headers.items() if k.lower() not in lowered}
    return replace(forged, headers={**kept, **extra})


# --- body rewriting -------------------------------------------------------------------------

_AMOUNT_KEYS = ("amount", "amount_received", "amount_total", "amount_captured", "amount_refunded")


def tamper(payload: bytes) -> bytes:
    """The payload with its amounts multiplied (or, if it has none, one byte changed)."""
    try:
        event = json.loads(payload)
        obj = event["data"]["object"]
        keys = [k for k in _AMOUNT_KEYS if isinstance(obj.get(k), int)]
    except (ValueError, TypeError, KeyError, AttributeError):
        keys = []
    if not keys:
        return payload + b" "  # trailing whitespace still changes the signed bytes
    for key in keys:
        obj[key] = obj[key] * 100 or 100
    return encode_event(event)


def reserializations(body: bytes) -> list[bytes]:
    """The bytes the usual JSON libraries produce for `body`'s value (other than `body`)."""
    value = json.loads(body)
    forms: list[bytes] = []
    for separators in ((",", ":"), (", ", ": ")):
        for ascii_only in (True, False):
            for sort_keys in (False, True):
                form = json.dumps(
                    value, separators=separators, ensure_ascii=ascii_only, sort_keys=sort_keys
                ).encode("utf-8")
                if form != body and form not in forms:
                    forms.append(form)
    return forms


def non_canonical(payload: bytes) -> bytes:
    """Equal JSON, different bytes: reversed key order, irregular whitespace, escapes."""
    return _dump(json.loads(payload), 0).encode("ascii")


def _dump(node: Any, depth: int) -> str:
    pad = "\n" + "\t" * (depth + 1)
    if isinstance(node, dict):
        items = [f"{pad}{_string(k)} :  {_dump(v, depth + 1)}" for k, v in reversed(node.items())]
        return ("{" + " ,".join(items) + "\n" + "\t" * depth + "}") if items else "{ }"
    if isinstance(node, list):
        return "[ " + " , ".join(_dump(v, depth + 1) for v in node) + " ]"
    if isinstance(node, str):
        return _string(node)
    return json.dumps(node)


def _string(text: str) -> str:
    # ensure_ascii turns "é" into "\u00e9"; "/" may legally be escaped too.
    return json.dumps(text, ensure_ascii=True).replace("/", "\\/")


__all__ = [
    "FORGERIES",
    "MAX_COPIES",
    "REPEATED",
    "SIGNATURE_HEADER",
    "VARIANTS",
    "Forged",
    "build",
    "describe",
    "names",
    "non_canonical",
    "tamper",
    "with_headers",
]
