"""Stripe-style object ids: a type prefix and 24 base62 characters (`pi_3MtwBwLkdIwHu7ix28a3tqPa`).

The ids of stored objects are numbered (`Numbering`): 11 random characters, the object's
creation number (8 characters, offset by a random start so ids do not all show 0000) and
a 5-character tag keyed with a salt of this sandbox. The store evicts its oldest objects beyond a cap; the number says whether an id it no longer
holds was evicted, without remembering evicted ids. The tag makes that answer exact for
strings this sandbox never issued (another sandbox's ids, a restarted one's, typos): they
fail the tag and are simply unknown.
"""

from __future__ import annotations

import os

_ALPHABET = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_DIGITS = _ALPHABET.decode()
# Random bytes mapped onto the alphabet in one C call: ids are made on every request.
# (256 is not a multiple of 62, so a few characters are slightly likelier: fine for ids.)
_TABLE = bytes(_ALPHABET[i % 62] for i in range(256))

ID_LENGTH = 24
NUMBER_CHARS = 8  # 62**8: 218 trillion objects
TAG_CHARS = 5  # a foreign id passes the tag about once in 900 million (62**5)
RANDOM_CHARS = ID_LENGTH - NUMBER_CHARS - TAG_CHARS
NUMBERS = 62**NUMBER_CHARS
_PAIRS = [a + b for a in _DIGITS for b in _DIGITS]  # "00" … "zz": two digits per lookup


def random_token(length: int = 24) -> str:
    return os.urandom(length).translate(_TABLE).decode("ascii")


def new_id(prefix: str, length: int = 24) -> str:
    """An id of something the sandbox does not store (a balance transaction, a source)."""
    return f"{prefix}_{random_token(length)}"


def request_id() -> str:
    # Stripe's request ids are shorter than object ids: req_ + 14 characters.
    return "req_" + random_token(14)


class Numbering:
    """Issues numbered ids (1, 2, 3… across all object types) and reads the number back."""

    def __init__(self) -> None:
        # The tag is Python's hash of the id with this salt: str hashes are keyed per
        # process, the salt per sandbox. Cheap (ids are made on every request); not a MAC.
        self._salt = int.from_bytes(os.urandom(8), "big")
        self._start = int.from_bytes(os.urandom(8), "big") % NUMBERS
        self.last = 0  # the number of the newest id issued

    def new_id(self, prefix: str) -> str:
        self.last += 1
        head = random_token(RANDOM_CHARS) + _number_chars((self._start + self.last) % NUMBERS)
        return f"{prefix}_{head}{self._tag(prefix, head)}"

    def number(self, object_id: str) -> int | None:
        """The creation number of an id this Numbering issued; None for any other string."""
        # The token is the part after the last "_": prefixes may hold one (cs_test_…).
        prefix, _, token = object_id.rpartition("_")
        if len(token) != ID_LENGTH:
            return None
        head, tag = token[:-TAG_CHARS], token[-TAG_CHARS:]
        if tag != self._tag(prefix, head):
            return None
        number = 0
        for char in head[RANDOM_CHARS:]:
            number = number * 62 + _DIGITS.index(char)
        return (number - self._start) % NUMBERS

    def _tag(self, prefix: str, head: str) -> str:
        digest = hash((self._salt, prefix, head)) & (1 << 8 * TAG_CHARS) - 1
        return digest.to_bytes(TAG_CHARS, "big").translate(_TABLE).decode("ascii")


def _number_chars(number: int) -> str:
    """`number` (below 62**8) in 8 base62 digits."""
    return (
        _PAIRS[number // 3844**3 % 3844]
        + _PAIRS[number // 3844**2 % 3844]
        + _PAIRS[number // 3844 % 3844]
        + _PAIRS[number % 3844]
    )
