"""Redaction of secrets in anything the harness writes: reports, evidence, the terminal.

What is masked: the target's own secret values (`Redactor.add_secret`), Stripe keys
(`sk_live_…wxyz`: the mode prefix and the last four characters, enough for a person to
tell two keys apart and never enough to use one), Luhn-valid card numbers (first six and
last four), and JWTs (`eyJ…wxyz`).

A target's answers carry secrets in any encoding, so they are looked for in the text as it
is and in decoded copies of it: JSON and Python escapes (`"\\nsk_live_…"`) and percent
encoding (`%22sk_live_…`, `key%3Dsk_live_…`), decoded up to twice; each copy remembers
where its characters came from, so a match in it masks exactly the encoded characters of
the original and nothing else changes. Runs of base64 are decoded too: a run that holds a
secret is replaced whole (`«base64, 312 chars, redacted»`), since any part of it left in
the output could be decoded back.

Redact the whole text before cutting it to an excerpt (`excerpt`): a secret across the cut
is then masked, not left as a prefix too short to recognise.
"""

from __future__ import annotations

import binascii
import re
from bisect import bisect_right
from collections.abc import Iterable
from typing import Any

ELLIPSIS = "…"

# Stripe secret material: secret, restricted and webhook-signing keys. Publishable keys
# (`pk_`) are public by design, but we still shorten them so reports stay uniform.
# Bounded by non-alphanumerics rather than \b: `_` is a word character, and a key glued
# to one (`X_sk_live_…`, `sk_live_…_backup`) must still be caught. The secret scan of a
# repository (golive.repo_scan) uses this strict form; redaction also takes keys glued to
# letters (see _key_spans).
KEY_PATTERN = re.compile(
    r"(?<![A-Za-z0-9])(?P<prefix>(?:sk|rk|pk)_(?:live|test)_|whsec_)(?P<body>[A-Za-z0-9]{4,255})(?![A-Za-z0-9])"
)
_KEY_AT = re.compile(
    r"(?P<prefix>(?:sk|rk|pk)_(?:live|test)_|whsec_)(?P<body>[A-Za-z0-9]{4,255})(?![A-Za-z0-9])"
)
# A key glued to a letter or digit before it (`abcsk_live_…`) counts when its body is this
# long: Stripe's are 24 characters or more, while `task_live_feed` is a word.
_GLUED_KEY_BODY = 16
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
# Kept for callers that test a whole string; redaction itself uses the forms below.
PAN_PATTERN = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
# A run of digits with single separators between them. Greedy from its first digit, it
# needs no look-around: digits glued to letters (`\n4242…`, `ref4242…x`) are found too.
_DIGIT_RUN = re.compile(r"[0-9](?:[ \t.+-]?[0-9]){12,}")
_GROUP = re.compile(r"[0-9]+")
# A hex digest (md5 and longer: sha1, sha256): its digit runs are not card numbers.
_HEX_DIGEST = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{32,}(?![0-9A-Za-z])")
# Three base64url segments, the first a JSON header (`{"` encodes as `eyJ`).
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
# Standard or URL-safe base64 long enough to hold a secret of 8 characters or more.
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_URLSAFE = str.maketrans("-_", "+/")
# What a decoded base64 run must show before it is searched in full.
_WORTH_A_LOOK = re.compile(r"_live_|_test_|whsec_|eyJ|[0-9]{4}|[%\\]|[A-Za-z0-9+/_-]{16}")
# Escapes decoded before searching: JSON/Python backslash escapes and percent encoding.
_ESCAPE = re.compile(r"\\u[0-9a-fA-F]{4}|\\x[0-9a-fA-F]{2}|\\[nrtbfv0\"'\\/]|%[0-9A-Fa-f]{2}")
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_DECODE_PASSES = 2  # `%255C` or `\\n`: encoded twice
_BASE64_DEPTH = 2  # base64 inside base64, and no further


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


def mask_jwt(token: str) -> str:
    return f"eyJ{ELLIPSIS}{token[-4:]}"


def mask_base64(run: str) -> str:
    return f"«base64, {len(run)} chars, redacted»"


Span = tuple[int, int, str]  # start, end, what replaces text[start:end]


class Redactor:
    """Scrubs known secret values and anything shaped like a key, a card number or a JWT."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._secret_pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add_secret(secret)

    def add_secret(self, value: str | None, min_length: int = 8) -> None:
        # Very short values would redact ordinary words; keys are never that short (a
        # user's password may be: golive adds those with a lower bound).
        if value and len(value) >= min_length and value not in self._secrets:
            self._secrets.add(value)
            longest_first = sorted(self._secrets, key=len, reverse=True)
            self._secret_pattern = re.compile("|".join(map(re.escape, longest_first)))

    def text(self, text: str) -> str:
        if not text:
            return text
        spans = self._spans(text, _BASE64_DEPTH)
        return _replace(text, spans) if spans else text

    def value(self, value: Any) -> Any:
        """Redact every string inside a JSON-like structure."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value

    # --- finding -----------------------------------------------------------------------------

    def _spans(self, text: str, depth: int) -> list[Span]:
        """Everything to mask in text, searched as it is and decoded."""
        views = _decoded_views(text)
        if not views:
            return self._find(text, depth)
        found = self._secret_spans(text)  # a secret may itself look encoded (`…%41…`)
        for view in views:
            for start, end, mask in self._find(view.text, depth):
                found.append((*view.source(start, end), mask))
        return found

    def _find(self, text: str, depth: int) -> list[Span]:
        found = self._secret_spans(text)
        found += _key_spans(text)
        if "eyJ" in text:
            found += [(m.start(), m.end(), mask_jwt(m.group())) for m in _JWT.finditer(text)]
        found += _pan_spans(text)
        if depth > 0:
            found += [
                (m.start(), m.end(), mask_base64(m.group()))
                for m in _BASE64_RUN.finditer(text)
                if _may_encode_text(m.group()) and self._base64_hides_secret(m.group(), depth - 1)
            ]
        return found

    def _secret_spans(self, text: str) -> list[Span]:
        if self._secret_pattern is None:
            return []
        return [
            (m.start(), m.end(), redact_key(m.group())) for m in self._secret_pattern.finditer(text)
        ]

    def _base64_hides_secret(self, run: str, depth: int) -> bool:
        """Whether run, decoded from any of the four alignments, shows a secret: a run cut
        out of a longer text need not start on a boundary of the encoding."""
        normal = run.rstrip("=").translate(_URLSAFE)
        for offset in range(4):
            chunk = normal[offset:]
            if len(chunk) < 12:
                break
            chunk = chunk[:-1] if len(chunk) % 4 == 1 else chunk + "=" * (-len(chunk) % 4)
            try:
                decoded = binascii.a2b_base64(chunk).decode("latin-1")
            except binascii.Error:
                continue
            worth = _WORTH_A_LOOK.search(decoded) or (
                self._secret_pattern is not None and self._secret_pattern.search(decoded)
            )
            if worth and self._spans(decoded, depth):
                return True
        return False


def _may_encode_text(run: str) -> bool:
    """Whether a base64 run can encode ASCII text. Every third byte of text starts a group
    of four characters; a byte below `h` (a digit, a capital, `_`, a quote: any text that
    holds a key, a card number or a token) starts it with a capital letter. So runs without
    one, identifiers like `ix_orders_payment_intent` and hex digests, are passed over."""
    return run.lower() != run


def _key_spans(text: str) -> list[Span]:
    """Stripe keys, found by their literal markers (much faster than a regex scan)."""
    found: list[Span] = []
    for hint, back in (("_live_", 2), ("_test_", 2), ("whsec_", 0)):
        at = text.find(hint)
        while at != -1:
            start = at - back
            match = _KEY_AT.match(text, start) if start >= 0 else None
            if match and (
                start == 0 or text[start - 1] not in _ALNUM or len(match["body"]) >= _GLUED_KEY_BODY
            ):
                found.append((start, match.end(), mask_key(match["prefix"], match["body"])))
            at = text.find(hint, at + 1)
    return found


def _pan_spans(text: str) -> list[Span]:
    found: list[Span] = []
    digests = _digests(text)
    for run in _DIGIT_RUN.finditer(text):
        written = run.group()
        if _is_decimal(written) or _inside(run.span(), digests):
            continue
        digits = written if written.isdigit() else "".join(c for c in written if c.isdigit())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            found.append((run.start(), run.end(), mask_pan(digits)))
        elif len(digits) > 13 and digits != written:
            found += _pan_in_groups(run)
    return found


def _pan_in_groups(run: re.Match[str]) -> list[Span]:
    """A card number among other digit groups (`order 12 4242 4242 4242 4242`): consecutive
    groups of two digits or more whose digits make a Luhn-valid 13-19 digit number."""
    groups = list(_GROUP.finditer(run.group()))
    found: list[Span] = []
    first = 0
    while first < len(groups):
        digits = ""
        for last in range(first, len(groups)):
            if len(groups[last].group()) < 2:
                break
            digits += groups[last].group()
            if len(digits) > 19:
                break
            if len(digits) >= 13 and luhn_valid(digits):
                start, end = groups[first].start(), groups[last].end()
                found.append((run.start() + start, run.start() + end, mask_pan(digits)))
                first = last
                break
        first += 1
    return found


def _digests(text: str) -> list[tuple[int, int]]:
    """Where the text holds hex digests: 32 hex characters or more, letters among them
    (so 40 digits alone, maybe a run of card numbers, are not one)."""
    if not any(c in text for c in "abcdefABCDEF"):
        return []
    return [m.span() for m in _HEX_DIGEST.finditer(text) if not m.group().isdigit()]


def _inside(span: tuple[int, int], digests: list[tuple[int, int]]) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in digests)


def _is_decimal(run: str) -> bool:
    """`0.1234567890123456`: one point and no other separator is a number, not a card."""
    return run.count(".") == 1 and sum(not c.isdigit() for c in run) == 1


# --- decoded views ------------------------------------------------------------------------------


class _View:
    """Text with its escapes decoded, and where each of its characters came from."""

    def __init__(self, source: str, parent: _View | None = None) -> None:
        self.parent = parent
        pieces: list[str] = []
        self._at: list[int] = []  # where each decoded escape is in this view
        self._span: list[tuple[int, int]] = []  # and what it was in the source
        done = length = 0
        for match in _ESCAPE.finditer(source):
            plain = source[done : match.start()]
            pieces += [plain, _unescape(match.group())]
            length += len(plain)
            self._at.append(length)
            self._span.append(match.span())
            length += 1  # every escape decodes to one character
            done = match.end()
        pieces.append(source[done:])
        self.text = "".join(pieces)

    def source(self, start: int, end: int) -> tuple[int, int]:
        """The characters of the original text that text[start:end] was decoded from."""
        first, last = self._char(start)[0], self._char(end - 1)[1]
        return self.parent.source(first, last) if self.parent else (first, last)

    def _char(self, index: int) -> tuple[int, int]:
        escape = bisect_right(self._at, index) - 1
        if escape < 0:
            return index, index + 1
        if self._at[escape] == index:
            return self._span[escape]
        origin = self._span[escape][1] + index - self._at[escape] - 1
        return origin, origin + 1


def _decoded_views(text: str) -> list[_View]:
    views: list[_View] = []
    source, parent = text, None
    for _ in range(_DECODE_PASSES):
        if not _ESCAPE.search(source):
            break
        parent = _View(source, parent)
        views.append(parent)
        source = parent.text
    return views


def _unescape(escape: str) -> str:
    if escape[0] == "%":
        return chr(int(escape[1:], 16))
    kind = escape[1]
    if kind in "ux":
        return chr(int(escape[2:], 16))
    return _SIMPLE_ESCAPES.get(kind, kind)


def _replace(text: str, spans: list[Span]) -> str:
    """text with each span replaced; overlapping spans become one, masked as the longest."""
    spans = sorted(spans, key=lambda s: (s[0], -s[1]))
    pieces: list[str] = []
    done = 0
    start, end, mask = spans[0]
    for next_start, next_end, next_mask in spans[1:]:
        if next_start < end:  # overlaps: one span, the longer match's mask
            if next_end - next_start > end - start:
                mask = next_mask
            end = max(end, next_end)
            continue
        pieces += [text[done:start], mask]
        done = end
        start, end, mask = next_start, next_end, next_mask
    pieces += [text[done:start], mask, text[end:]]
    return "".join(pieces)


def excerpt(redactor: Redactor, text: str, limit: int) -> str:
    """The first `limit` characters of text as it may be shown: the whole text is redacted
    first, so a secret across the cut is masked rather than left as a prefix."""
    return redactor.text(text)[:limit]


DEFAULT = Redactor()
