"""Idempotency-Key, as Stripe implements it.

The first response to a POST with a key (status and body, success or error) is saved for
that API key; a retry with the same key and the same parameters gets the saved response
again with `Idempotent-Replayed: true`. The same key on another endpoint or with other
parameters is a 400 `idempotency_error`. Requests refused while validating their parameters
save nothing, so a corrected retry runs. Keys expire after 24 hours, as Stripe's do.

The sandbox also keeps at most `max_keys` keys (its object cap): beyond it the oldest key
is forgotten, exactly as if it had expired, so a retry with it executes anew. A key still
kept replays its response even if the object in it has since been evicted.

Check and save happen in one synchronous stretch of the event loop (no await between
them), so concurrent retries of one key create one object.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from golive.sandbox.defaults import DEFAULT_TTL_S
from golive.sandbox.errors import idempotency_error, invalid_request
from golive.sandbox.store import Snapshot

MAX_KEY_LENGTH = 255
_CANONICAL = json.JSONEncoder(separators=(",", ":"), sort_keys=True).encode


def fingerprint(params: dict[str, Any]) -> bytes:
    """What a retry's parameters are compared by: 16 bytes instead of the decoded form."""
    return hashlib.blake2b(_CANONICAL(params).encode(), digest_size=16).digest()


@dataclass(slots=True)
class Saved:
    method: str
    path: str
    params: bytes  # fingerprint(params)
    status: int
    # The response body as sent, or (for a success) a snapshot of the object it showed,
    # serialised again on replay to the same bytes. That snapshot is usually the one the
    # request's last event holds (Store.snapshot), so a saved create costs no second copy.
    body: bytes | Snapshot
    request_id: str
    expires: float


class IdempotencyCache:
    def __init__(self, ttl_s: float = DEFAULT_TTL_S, max_keys: int | None = None) -> None:
        self.ttl_s = ttl_s
        self.max_keys = max_keys
        # Insertion order is expiry order (one TTL for all): expiry and the cap both pop
        # from the front, which an OrderedDict does in constant time.
        self._saved: OrderedDict[tuple[str, str], Saved] = OrderedDict()

    def __len__(self) -> int:
        return len(self._saved)

    def clear(self) -> None:
        self._saved.clear()

    def lookup(
        self, api_key: str, key: str, method: str, path: str, params: dict[str, Any]
    ) -> Saved | None:
        """The saved response to replay, None to execute, or an idempotency_error."""
        if len(key) > MAX_KEY_LENGTH:
            raise invalid_request(
                f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters long.",
                param="Idempotency-Key",
            )
        saved = self._saved.get((api_key, key))
        if saved is None:
            return None
        if saved.expires <= time.monotonic():
            del self._saved[(api_key, key)]
            return None
        if saved.method != method or saved.path != path:
            raise idempotency_error(
                f"Keys for idempotent requests can only be used for the same endpoint they were first used for ('{saved.method} {saved.path}' vs '{method} {path}'). Try using a key other than '{key}' if you meant to execute a different request."
            )
        if saved.params != fingerprint(params):
            raise idempotency_error(
                f"Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
            )
        return saved

    def save(
        self,
        api_key: str,
        key: str,
        method: str,
        path: str,
        params: dict[str, Any],
        status: int,
        body: bytes | Snapshot,
        request_id: str,
    ) -> None:
        now = time.monotonic()
        saved = self._saved
        while saved:
            first = next(iter(saved))
            if saved[first].expires > now:
                break
            saved.popitem(last=False)
        # The few API keys and paths repeat on every request: one copy each.
        entry = (sys.intern(api_key), key)
        saved[entry] = Saved(
            method,
            sys.intern(path),
            fingerprint(params),
            status,
            body,
            request_id,
            now + self.ttl_s,
        )
        saved.move_to_end(entry)
        if self.max_keys is not None:
            while len(saved) > self.max_keys:
                saved.popitem(last=False)
