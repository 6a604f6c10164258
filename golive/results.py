"""The results model: one run's outcomes, from which every report is rendered.

`results.json` is this model serialized; its JSON Schema (reports/results.schema.json)
is generated from it by `golive schema results` and versioned by SCHEMA_VERSION.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

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


InputKind = Literal[
    "checklist", "check-module", "profile", "attestations", "waivers", "setup-command"
]


class InputRecord(_Model):
    """One input the run read, hashed as it read it (golive/audit/inputs.py)."""

    kind: InputKind
    path: str | None = Field(
        None, description="The absolute path the run read; None for a setup command"
    )
    sha256: str = Field(description="SHA-256 of the file's bytes, or of the command's text")
    text: str | None = Field(None, description="A setup command's text, redacted")


class RunMeta(_Model):
    harness_version: str = Field(description="golive's version")
    profile_name: str
    profile_path: str
    checklist_path: str
    checklist_sha256: str
    target_git_sha: str | None = Field(
        None, description="HEAD of the profile's repository.path; None when it is no git repository"
    )
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


# --- a run compared with an earlier one (golive/history/) ----------------------------------

ItemChangeKind = Literal["newly-failing", "newly-passing", "outcome-changed", "added", "removed"]
SignoffChangeKind = Literal[
    "waiver-added",
    "waiver-removed",
    "waiver-expired",
    "waiver-renewed",
    "attestation-added",
    "attestation-removed",
    "attestation-renewed",
    "attestation-invalid",
]


class BaselineRun(_Model):
    """The earlier run a diff compares with: which file, and that run's identity."""

    path: str
    sha256: str = Field(description="SHA-256 of the baseline file's bytes")
    started_at: datetime
    verdict: Verdict
    target_git_sha: str | None = None
    profile_name: str
    checklist_sha256: str


class ItemChange(_Model):
    item: str
    title: str
    severity: str
    change: ItemChangeKind
    before: Outcome | None = Field(None, description="None: not in the baseline's selection")
    after: Outcome | None = Field(None, description="None: not in this run's selection")
    worse: bool = Field(
        description="Newly failing, or accepted in the baseline and not accepted now"
    )
    reason: str = Field("", description="Why the item ended as it did in the newer run")


class SignoffChange(_Model):
    item: str
    change: SignoffChangeKind
    detail: str


class MeasureChange(_Model):
    """A number a check measured against a threshold, in both runs (or in one of them)."""

    item: str
    check: str
    metric: str
    threshold: str | None = None
    before: float | None = None
    after: float | None = None
    worse: bool | None = Field(
        None, description="Moved toward the threshold's limit; None: no direction to judge"
    )


class RunDiff(_Model):
    baseline: BaselineRun
    notes: list[str] = Field(
        default_factory=list, description="What makes the two runs hard to compare"
    )
    items: list[ItemChange] = Field(default_factory=list)
    signoffs: list[SignoffChange] = Field(default_factory=list)
    measures: list[MeasureChange] = Field(default_factory=list)
    regressed: bool = Field(description="Some item got worse (ItemChange.worse)")


class TrendRun(_Model):
    started_at: datetime
    verdict: Verdict


class ItemTrend(_Model):
    item: str
    outcomes: list[Outcome | None] = Field(
        description="One per run of RunHistory.runs; None: not selected in that run"
    )
    measures: dict[str, list[float | None]] = Field(
        default_factory=dict, description="`check metric` -> one value per run"
    )


class RunHistory(_Model):
    """The runs kept in the --history folder, oldest first, this run last."""

    folder: str
    keep: int
    runs: list[TrendRun]
    items: list[ItemTrend]


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
    inputs: list[InputRecord] = Field(
        default_factory=list,
        description="Every input the run read, with its SHA-256 (`golive verify` re-hashes them)",
    )
    manifest: dict[str, str] = Field(
        default_factory=dict,
        description="SHA-256 of every other file this run wrote into the report folder, by "
        "name relative to it (results.json itself and manifest.json are in manifest.json)",
    )
    diff: RunDiff | None = Field(None, description="Changes since a baseline run, if one was given")
    history: RunHistory | None = Field(None, description="Per-item trends over the --history runs")
