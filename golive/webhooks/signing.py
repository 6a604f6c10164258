"""Stripe's webhook signature scheme.

    Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "{t}.{payload}" with the whsec_ secret>

Stripe signs the exact bytes it sends; a receiver must verify those raw bytes, reject
a timestamp older than its tolerance (300 s in Stripe's libraries), and accept any of
several v1 signatures (sent while a secret is being rotated).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from golive.redact import redact_key

DEFAULT_TOLERANCE_S = 300


def encode_event(event: dict[str, Any]) -> bytes:
    """An event as Stripe puts it on the wire: UTF-8 JSON, pretty-printed with 2 spaces."""
    return json.dumps(event, indent=2, ensure_ascii=False).encode("utf-8")


def compute_signature(payload: bytes, secret: str, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign_header(
    payload: bytes,
    secrets: str | list[str],
    timestamp: int | None = None,
    *,
    scheme: str = "v1",
) -> str:
    """The Stripe-Signature header value for `payload`, one signature per secret."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    secrets = [secrets] if isinstance(secrets, str) else secrets
    parts = [f"t={timestamp}"]
    parts += [f"{scheme}={compute_signature(payload, secret, timestamp)}" for secret in secrets]
    return ",".join(parts)


def verify_header(
    payload: bytes,
    header: str,
    secret: str,
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: int | None = None,
) -> bool:
    """True when one v1 signature matches and the timestamp is within tolerance."""
    fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [v for k, v in fields if k.strip() == "t"]
    signatures = [v for k, v in fields if k.strip() == "v1"]
    if not timestamps or not signatures or not timestamps[0].isdigit():
        return False
    timestamp = int(timestamps[0])
    now = int(time.time()) if now is None else now
    if tolerance_s and now - timestamp > tolerance_s:
        return False
    expected = compute_signature(payload, secret, timestamp)
    return any(hmac.compare_digest(expected, sig.strip()) for sig in signatures)


def redact_header(value: str) -> str:
    """`t=1700000000,v1=…9f3a`: keeps the timestamp and the schemes, hides signatures.

    A signature only authenticates one payload, but a report has no use for it whole.
    """
    parts = []
    for part in value.split(","):
        key, sep, signature = part.partition("=")
        if not sep:
            parts.append(redact_key(part) if part else part)
        elif key.strip() == "t":
            parts.append(part)
        else:
            parts.append(f"{key}={redact_key(signature) if signature else ''}")
    return ",".join(parts)
