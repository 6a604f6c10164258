"""Redaction of Stripe secrets and card numbers in anything the harness writes.

A key keeps its mode prefix and its last four characters (`sk_live_…wxyz`), which is
enough for a person to tell two keys apart and never enough to use one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

ELLIPSIS = "…"

# Stripe secret material: secret, restricted and webhook-signing keys. Publishable keys
# (`pk_`) are public by design, but we still shorten them so reports stay uniform.
# Bounded by non-alphanumerics rather than \b: `_` is a word character, and a key glued
# to one (`X_sk_live_…`, `sk_live_…_backup`) must still be caught.
KEY_PATTERN = re.compile(
    r"(?<![A-Za-z0-9])(?P<prefix>(?:sk|rk|pk)_(?:live|test)_|whsec_)(?P<body>[A-Za-z0-9]{4,255})(?![A-Za-z0-9])"
)
_KEY_HINTS = ("_live_", "_test_", "whsec_")
# 13-19 digits, optionally split by single spaces or dashes (a PAN as people write it).
PAN_PATTERN = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")


def mask_key(prefix: str, body: str) -> str:
    """`sk_live_` + `abc…wxyz` -> `sk_live_…wxyz`."""
    return f"{prefix}{ELLIPSIS}{body[-4:]}"


def redact_key(value: str) -> str:
    """Redact one key-like value; non-key strings keep only their last four characters."""
    match = KEY_PATTERN.fullmatch(value.strip())
    if match:
        return mask_key(match["prefix"], match["body"])
    if len(value) <= 4:
        return ELLIPSIS
    return f"{ELLIPSIS}{value[-4:]}"


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        number = int(char)
        if index % 2 == 1:
            number *= 2
            if number > 9:
                number -= 9
        total += number
    return total % 10 == 0


def mask_pan(digits: str) -> str:
    """First six and last four, as PCI DSS allows: 424242******4242."""
    return f"{digits[:6]}{'*' * (len(digits) - 10)}{digits[-4:]}"


class Redactor:
    """Scrubs known secret values and anything shaped like a key or a card number."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add_secret(secret)

    def add_secret(self, value: str | None) -> None:
        # Very short values would redact ordinary words; keys are never that short.
        if value and len(value) >= 8:
            self._secrets.add(value)

    def text(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, redact_key(secret))
        if any(hint in text for hint in _KEY_HINTS):  # cheap test before the regex
            text = KEY_PATTERN.sub(lambda m: mask_key(m["prefix"], m["body"]), text)
        return PAN_PATTERN.sub(_mask_pan_match, text)

    def value(self, value: Any) -> Any:
        """Redact every string inside a JSON-like structure."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value


def _mask_pan_match(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    if luhn_valid(digits):
        return mask_pan(digits)
    return match.group(0)


DEFAULT = Redactor()
