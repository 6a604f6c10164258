"""Stripe-style object ids: a type prefix and 24 base62 characters (`pi_3MtwBwLkdIwHu7ix28a3tqPa`)."""

from __future__ import annotations

import os

_ALPHABET = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Random bytes mapped onto the alphabet in one C call: ids are made on every request.
# (256 is not a multiple of 62, so a few characters are slightly likelier: fine for ids.)
_TABLE = bytes(_ALPHABET[i % 62] for i in range(256))


def random_token(length: int = 24) -> str:
    return os.urandom(length).translate(_TABLE).decode("ascii")


def new_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_{random_token(length)}"


def request_id() -> str:
    # Stripe's request ids are shorter than object ids: req_ + 14 characters.
    return "req_" + random_token(14)
