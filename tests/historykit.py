"""Hand-made RunResults for the diff and history tests: a few items with chosen outcomes,
sign-offs and evidence, on top of tests/sample_results.py's run metadata."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sample_results import NOW, make_result

from golive.fold import count
from golive.results import (
    AttestationRecord,
    CheckResult,
    ItemResult,
    Outcome,
    RunResult,
    WaiverRecord,
)


def item(
    item_id: str,
    outcome: Outcome | str,
    *,
    evidence: list[dict[str, Any]] | None = None,
    check: str = "demo.check",
    reason: str = "",
    waiver: WaiverRecord | None = None,
    attestation: AttestationRecord | None = None,
) -> ItemResult:
    outcome = Outcome(outcome)
    section = item_id.split(".", 1)[0]
    checks = (
        [CheckResult(ref=check, outcome=outcome, evidence=evidence or [{"examined": 1}])]
        if attestation is None
        else []
    )
    return ItemResult(
        id=item_id,
        title=f"Title of {item_id}",
        section=section,
        section_title=section.title(),
        group="Testing",
        severity="blocker",
        phase="staging",
        kind="attested" if attestation else "automated",
        outcome=outcome,
        reason=reason,
        checks=checks,
        attestation=attestation,
        waiver=waiver,
    )


def run(*items: ItemResult, started: datetime = NOW, **meta: Any) -> RunResult:
    """A run of these items; `meta` overrides RunMeta fields (profile_name, phases, …)."""
    base = make_result(1)
    return base.model_copy(
        update={
            "items": list(items),
            "counts": count(list(items)),
            "sections": [],
            "attestations": [i.attestation for i in items if i.attestation],
            "waivers": [i.waiver for i in items if i.waiver],
            "diagnostics": [],
            "meta": base.meta.model_copy(
                update={"started_at": started, "finished_at": started + timedelta(seconds=30)}
                | meta
            ),
        }
    )


def waiver(item_id: str, *, expires: datetime, expired: bool = False) -> WaiverRecord:
    return WaiverRecord(
        item=item_id,
        reason="vendor fix due next sprint",
        author="Dana",
        approver="Ravi",
        expires=expires,
        expired=expired,
        applied=not expired,
    )


def attestation(
    item_id: str, *, date: datetime, valid: bool = True, reason: str = ""
) -> AttestationRecord:
    return AttestationRecord(
        item=item_id,
        by="Mia Chen",
        evidence="https://tickets.example/SEC-1",
        date=date,
        expires=None,
        valid=valid,
        reason=reason,
    )
