"""The classes of mistake golive's rules find, and the one golive combines itself.

Every rule file holds one rule per concern and language; `metadata.golive-concern` names
the concern and `golive-kind` says whether a match is a finding or a marker. Markers say
where Stripe events are handled and where a signature is verified: a repository that
handles events but verifies nowhere has a handler that never verifies (semgrep matches
within one file, the verification may sit in another, so the repository decides).
"""

from __future__ import annotations

from typing import Any

from golive.static.findings import StaticFinding

RULE_PREFIX = "golive.webhook."
NEVER_VERIFIES = "never-verifies"
EVENT_DISPATCH = "event-dispatch"
VERIFICATION_CALL = "verification-call"

# The concerns and what each says, for the checks' messages and the SARIF rules.
CONCERNS: dict[str, str] = {
    "conditional-verification": (
        "Signature verification depends on a request header, query parameter or the environment"
    ),
    "swallowed-verification-error": "A failed signature verification is caught and processing goes on",
    "verifies-parsed-body": (
        "The signature is verified over a parsed or re-serialized body, not the raw bytes"
    ),
    "tolerance-over-300": "The signature timestamp tolerance is above Stripe's 300 s",
    NEVER_VERIFIES: "A webhook handler reads Stripe events but never verifies a signature",
}
# Which checklist concern each group of live checks shares evidence with.
SIGNATURE = frozenset({"conditional-verification", "swallowed-verification-error", NEVER_VERIFIES})
RAW_BODY = frozenset({"verifies-parsed-body"})
REPLAY = frozenset({"tolerance-over-300"})


def concern_of(metadata: dict[str, Any], rule: str) -> str:
    concern = metadata.get("golive-concern")
    if isinstance(concern, str) and concern:
        return concern
    # golive.webhook.<concern>.<language>
    return rule.removeprefix(RULE_PREFIX).rsplit(".", 1)[0]


def never_verifies(markers: list[StaticFinding]) -> list[StaticFinding]:
    """One finding per file that handles Stripe event types, when nothing in the scanned
    repository verifies a signature (no construct_event, no HMAC compare, …)."""
    if any(m.concern == VERIFICATION_CALL for m in markers):
        return []
    first: dict[str, StaticFinding] = {}
    for marker in sorted(markers, key=lambda m: (m.file, m.line)):
        if marker.concern == EVENT_DISPATCH:
            first.setdefault(marker.file, marker)
    return [
        StaticFinding(
            rule=f"{RULE_PREFIX}{NEVER_VERIFIES}",
            concern=NEVER_VERIFIES,
            kind="finding",
            severity="ERROR",
            file=marker.file,
            line=marker.line,
            message=(
                "Stripe events are handled here, but nothing in the repository verifies a "
                "webhook signature (construct_event/constructEvent, or an HMAC compared in "
                "constant time): anyone can post events to the handler."
            ),
            suppressed=marker.suppressed,
        )
        for marker in first.values()
    ]
