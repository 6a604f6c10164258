"""The built-in battery of debug bypasses, generated from word lists rather than listed.

A webhook handler that skips signature verification "for testing" usually keys the skip
on a header, a query parameter or a magic `Stripe-Signature` value whose name is built
from a handful of words: an environment or trust claim (test, debug, qa, internal, …),
an action (skip, bypass, …) and what is skipped (signature, verification, …). The
battery is every combination of a few such grammars with the usual truthy values. It is
large (hundreds of header candidates), so golive.webhooks.adaptive packs many candidates
into one request and bisects only a request that was accepted.

No name here is a particular app's: each comes out of the grammar.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

from golive.webhooks.forge import SIGNATURE_HEADER

Kind = Literal["header", "query"]
BUILT_IN = "built-in battery"

# An environment, or a claim of being trusted: what a debug switch is named after.
MODES = (
    "test",
    "testing",
    "debug",
    "dev",
    "local",
    "qa",
    "mock",
    "sandbox",
    "staging",
    "e2e",
    "internal",
    "trusted",
    "insecure",
    "unsafe",
    "noverify",
    "fake",
)
ACTIONS = ("skip", "bypass", "disable", "no", "ignore", "allow")
OBJECTS = ("signature", "sig", "verification", "verify", "check", "auth", "webhook", "hmac")
# What a mode switch's name may end with (X-Debug-Webhook, X-Internal-Request, X-Test-Mode).
MODE_TAILS = ("mode", "request", "webhook", "override")
HEADER_PREFIXES = ("x-", "", "x-stripe-", "x-webhook-", "webhook-", "stripe-")
# Names that take a mode as their value (X-Env: test).
MODE_NAMES = ("x-mode", "x-env", "x-environment", "x-webhook-mode", "x-stripe-mode", "x-app-env")
TRUTHY = ("true", "1", "yes", "on")
# Claims of coming from the machine itself, for handlers that trust "internal" callers.
LOCAL_CLAIMS = ("x-forwarded-for", "x-real-ip", "x-client-ip", "x-originating-ip")
LOOPBACK = "127.0.0.1"
QUERY_TRUTHY = ("1", "true", "yes")
QUERY_MODE_NAMES = ("mode", "env")
# Magic Stripe-Signature values: a word alone, and the words in Stripe's own header layout.
SIGNATURE_WORDS = ("test", "debug", "skip", "bypass", "dev", "none", "null", "true", "1", "ok")
ZEROS = "0" * 64


@dataclass(frozen=True)
class Candidate:
    """One thing a debug bypass may be keyed on: a header or a query parameter with a value.
    `origin` says where golive got it (the battery, or a hint in the app's own answer)."""

    kind: Kind
    name: str
    value: str
    origin: str = BUILT_IN

    @property
    def key(self) -> tuple[str, str]:
        """What one request can carry only once (header names are case-insensitive)."""
        return (self.kind, self.name.lower() if self.kind == "header" else self.name)

    def describe(self) -> str:
        if self.kind == "header":
            return f"header {_title(self.name)}: {self.value}"
        return f"query ?{self.name}={self.value}"


def _title(name: str) -> str:
    """x-qa-bypass-sig -> X-Qa-Bypass-Sig (header names are case-insensitive anyway)."""
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def header_names() -> list[tuple[str, str]]:
    """(header name, the word that names its switch): every name the grammars build."""
    names: dict[str, str] = {}

    def add(name: str, word: str) -> None:
        names.setdefault(name, word)

    for prefix, mode in itertools.product(HEADER_PREFIXES, MODES):
        add(prefix + mode, mode)  # X-Debug, Webhook-Test, X-Stripe-Test
    for mode, tail in itertools.product(MODES, MODE_TAILS):
        add(f"x-{mode}-{tail}", mode)  # X-Test-Mode, X-Internal-Request
    for prefix, action, obj in itertools.product(("x-", ""), ACTIONS, OBJECTS):
        add(f"{prefix}{action}-{obj}", action)  # X-Skip-Verification, Bypass-Signature
    for action, obj in itertools.product(ACTIONS, OBJECTS[:6]):
        add(f"x-{obj}-{action}", action)  # X-Signature-Bypass
    for mode, action, obj in itertools.product(MODES, ACTIONS[:2], OBJECTS[:4]):
        add(f"x-{mode}-{action}-{obj}", action)  # X-Dev-Skip-Signature
    for mode in MODES:
        add(f"x_{mode}", mode)  # frameworks that keep underscores (Node, Go)
    return list(names.items())


def header_candidates() -> list[Candidate]:
    """Every generated header name with every truthy value, then the mode-valued names."""
    out = [Candidate("header", name, value) for name, _ in header_names() for value in TRUTHY]
    out += [Candidate("header", name, mode) for name in MODE_NAMES for mode in MODES]
    out += [Candidate("header", name, LOOPBACK) for name in LOCAL_CLAIMS]
    return out


def query_candidates() -> list[Candidate]:
    """Query parameters of the same words: ?debug=1, ?skip_signature=true, ?mode=test."""
    names: list[str] = list(MODES)
    for action, obj in itertools.product(ACTIONS, OBJECTS):
        names += [f"{action}_{obj}", action + obj.capitalize()]
    out = [Candidate("query", name, value) for name in names for value in QUERY_TRUTHY]
    out += [Candidate("query", name, mode) for name in QUERY_MODE_NAMES for mode in MODES]
    return out


def signature_candidates(now: int) -> list[Candidate]:
    """Magic Stripe-Signature values: placeholder words, stubbed-out Stripe layouts."""
    values: list[str] = list(SIGNATURE_WORDS)
    values += ["whsec_test", "t=0,v1=0", "t=0,v1=test", f"t={now},v1={ZEROS}", f"t={now},v1="]
    values += [f"t={now},v1={word}" for word in ("test", "debug", "skip", "bypass")]
    return [Candidate("header", SIGNATURE_HEADER, value) for value in values]


def all_candidates(now: int) -> list[Candidate]:
    return [*signature_candidates(now), *header_candidates(), *query_candidates()]


__all__ = [
    "BUILT_IN",
    "Candidate",
    "all_candidates",
    "header_candidates",
    "header_names",
    "query_candidates",
    "signature_candidates",
]
