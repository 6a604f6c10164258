"""Hint mining: bypasses an app advertises in its own rejection answers.

Debug switches leak into error messages ("missing Stripe-Signature (or set X-Foo: 1 for
local testing)", "use ?insecure=1", 'signature "letmein" not allowed') and into answer
headers. Every 4xx answer to a forged delivery is read with general patterns — tokens
shaped like header names, `?name=value` / `name=value`, quoted words near words like
signature/bypass/test/debug — and what they find becomes further candidates to replay.
Nothing here knows a particular app's names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from golive.webhooks.battery import QUERY_TRUTHY, TRUTHY, Candidate
from golive.webhooks.forge import SIGNATURE_HEADER

MAX_TEXT = 8192  # characters of one answer that are read
# A header-shaped token: X-anything, or Title-Case words joined by hyphens (Webhook-Test).
_HEADER = r"(?:[Xx]-[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*|[A-Z][a-z0-9]+(?:-[A-Z][A-Za-z0-9]*)+)"
_VALUE = r"[^\s\"'`,;)\]}]{1,40}"
HEADER_RE = re.compile(rf"(?<![\w-])({_HEADER})(?![\w-])(?:\s*[:=]\s*[\"'`]?({_VALUE}))?")
QUERY_RE = re.compile(r"[?&]([A-Za-z_][\w.\-]{0,40})(?:=([^\s&\"'`,;)#]{1,40}))?")
ASSIGN_RE = re.compile(r"(?<![\w?&./:-])([a-z_][a-z0-9_]{1,30})=([A-Za-z0-9_\-]{1,30})\b")
QUOTED_RE = re.compile(r"[\"'`\u201c\u2018]([^\"'`\u201d\u2019\s]{1,64})[\"'`\u201d\u2019]")
KEYWORD_RE = re.compile(
    r"signature|\bsig\b|bypass|test|debug|skip|magic|\bdev|allow|override|verif|insecure",
    re.IGNORECASE,
)
NEAR = 60  # characters between a quoted word and a keyword
# Headers every HTTP stack sends or answers: never a debug switch.
STANDARD = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "cache-control",
        "connection",
        "content-encoding",
        "content-length",
        "content-security-policy",
        "content-type",
        "cross-origin-opener-policy",
        "cross-origin-resource-policy",
        "date",
        "etag",
        "host",
        "keep-alive",
        "last-modified",
        "location",
        "referrer-policy",
        "retry-after",
        "server",
        "set-cookie",
        "strict-transport-security",
        "transfer-encoding",
        "user-agent",
        "vary",
        "x-content-type-options",
        "x-frame-options",
        "x-powered-by",
        "x-request-id",
        "x-xss-protection",
    }
)


def mine(status: int | None, body: str, headers: dict[str, str]) -> list[Candidate]:
    """Candidates found in one answer's body and its non-standard headers (in order found,
    without repeats); `origin` names the part of the answer each came from."""
    found: dict[tuple[str, str, str], Candidate] = {}
    sources = [(f"mined from the app's {status} body", _body_text(body))]
    for name, value in headers.items():
        if name.lower() not in STANDARD and not name.lower().startswith("access-control-"):
            sources.append((f"mined from the app's {status} answer header {name}", value))
    for origin, text in sources:
        for candidate in _from_text(text[:MAX_TEXT], origin):
            found.setdefault((candidate.kind, candidate.name.lower(), candidate.value), candidate)
    return list(found.values())


def _body_text(body: str) -> str:
    """A JSON body's string values, one a line (its keys are not hints); other bodies as
    they are."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    return "\n".join(_strings(data))


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _from_text(text: str, origin: str) -> Iterator[Candidate]:
    for match in HEADER_RE.finditer(text):
        name, value = match.group(1), match.group(2)
        if name.lower() == SIGNATURE_HEADER.lower():
            if value:
                yield Candidate("header", SIGNATURE_HEADER, value, origin)
        elif name.lower() not in STANDARD:
            yield from _header(name, value, origin)
    for match in QUERY_RE.finditer(text):
        yield from _query(match.group(1), match.group(2), origin)
    for match in ASSIGN_RE.finditer(text):
        yield from _query(match.group(1), match.group(2), origin)
    for match in QUOTED_RE.finditer(text):
        word = match.group(1)
        around = text[max(0, match.start() - NEAR) : match.end() + NEAR]
        if not KEYWORD_RE.search(around.replace(word, " ")):
            continue
        if HEADER_RE.fullmatch(word) or word.startswith("?"):
            continue  # already found as a header or query token above
        yield Candidate("header", SIGNATURE_HEADER, word, origin)


def _header(name: str, value: str | None, origin: str) -> Iterator[Candidate]:
    for each in _values(value, TRUTHY[:3]):
        yield Candidate("header", name, each, origin)


def _query(name: str, value: str | None, origin: str) -> Iterator[Candidate]:
    for each in _values(value, QUERY_TRUTHY[:2]):
        yield Candidate("query", name, each, origin)


def _values(mined: str | None, defaults: Iterable[str]) -> list[str]:
    """The value the answer gave first, then the usual truthy ones."""
    return list(dict.fromkeys([*([mined] if mined else []), *defaults]))


__all__ = ["mine"]
