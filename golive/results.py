"""The results model: one run's outcomes, from which every report is rendered.

`results.json` is this model serialized; its JSON Schema (reports/results.schema.json)
is generated from it by `golive schema results` and versioned by SCHEMA_VERSION.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.3"


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    NOT_RUN = "not-run"
    WAIVED = "waived"
    ATTESTED = "attested"
    PENDING = "pending"
    NOT_APPLICABLE = "not-applicable"


# Outcomes that let a blocker through the gate.
ACCEPTING = frozenset({Outcome.PASS, Outcome.WAIVED, Outcome.ATTESTED, Outcome.NOT_APPLICABLE})


class Verdict(StrEnum):
    GO = "GO"
    NO_GO = "NO-GO"
    INCOMPLETE = "INCOMPLETE"  # the harness failed or was interrupted before the end


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckResult(_Model):
    """One automated check run for one item."""

    ref: str = Field(description="Check id, as referenced from checklist.yaml")
    outcome: Outcome
    message: str = Field("", description="Why the check ended as it did (redacted)")
    duration_s: float = 0.0
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="The params the check ran with (defaults filled in): checklist.yaml's, "
        "overridden by the profile's `params:`",
    )
    profile_params: dict[str, Any] = Field(
        default_factory=dict,
        description="Those of `params` that the profile's `params:` block set",
    )
    evidence: list[dict[str, Any]] = Field(
        default_factory=list, description="What was sent and seen, redacted"
    )


class AttestationRecord(_Model):
    item: str
    by: str
    evidence: str
    date: datetime
    expires: datetime | None = None
    valid: bool
    reason: str = ""


class WaiverRecord(_Model):
    item: str
    reason: str
    author: str
    approver: str
    expires: datetime
    expired: bool
    applied: bool = Field(description="True when the waiver turned a failing item into waived")


class ItemResult(_Model):
    id: str
    title: str
    section: str
    section_title: str
    group: str
    severity: str
    phase: str
    kind: str = Field(description="automated or attested")
    why_not_automated: str | None = Field(
        None, description="An attested item: why golive cannot check it (checklist.yaml)"
    )
    parent: str | None = None
    tags: list[str] = Field(default_factory=list)
    outcome: Outcome
    reason: str = ""
    checks: list[CheckResult] = Field(default_factory=list)
    attestation: AttestationRecord | None = None
    waiver: WaiverRecord | None = None


class SectionSummary(_Model):
    id: str
    title: str
    group: str
    counts: dict[str, int]


class DiagnosticResult(_Model):
    id: str
    title: str
    detection: str
    resolution: list[str]
    prevention: list[str]
    prevented_by: list[str]
    at_risk: bool = Field(description="True when an item that prevents it did not pass")


class RunMeta(_Model):
    harness_version: str
    profile_name: str
    profile_path: str
    checklist_path: str
    checklist_sha256: str
    target_git_sha: str | None = None
    started_at: datetime
    finished_at: datetime
    judged_at: datetime | None = Field(
        None,
        description="The time freshness and expiry were judged as of (`--now`, else the "
        "run's start): `golive verdict` re-folds the items with it",
    )
    duration_s: float
    phases: list[str]
    selection: dict[str, list[str]] = Field(default_factory=dict)
    stripe_backend: dict[str, Any] | None = Field(
        None, description="The Stripe API the run used (backend, api_base, redacted key)"
    )
    target_app: dict[str, str] | None = Field(
        None, description="Where the running target answered (base URL, webhook URL)"
    )
    python: str
    host: str


class RunResult(_Model):
    schema_version: str = SCHEMA_VERSION
    verdict: Verdict
    verdict_reasons: list[str] = Field(default_factory=list)
    exit_code: int
    meta: RunMeta
    counts: dict[str, int]
    sections: list[SectionSummary]
    items: list[ItemResult]
    attestations: list[AttestationRecord] = Field(default_factory=list)
    waivers: list[WaiverRecord] = Field(default_factory=list)
    diagnostics: list[DiagnosticResult] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list, description="Harness-level errors, if any")
