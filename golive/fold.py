"""Folding check results into item outcomes, and item outcomes into the verdict."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from golive.attestations import AttestationBook
from golive.checklist import Checklist, Item
from golive.results import (
    ACCEPTING,
    CheckResult,
    ItemResult,
    Outcome,
    SectionSummary,
    Verdict,
    WaiverRecord,
)
from golive.timeutil import as_utc
from golive.waivers import WaiverBook

# When an item has several checks, the worst one decides.
_SEVERITY_ORDER = [
    Outcome.FAIL,
    Outcome.ERROR,
    Outcome.NOT_RUN,
    Outcome.PASS,
    Outcome.NOT_APPLICABLE,
]


def fold_checks(checks: list[CheckResult]) -> tuple[Outcome, str]:
    outcomes = {c.outcome for c in checks}
    for outcome in _SEVERITY_ORDER:
        if outcome in outcomes:
            if outcome == Outcome.NOT_APPLICABLE or outcome == Outcome.PASS:
                # pass needs at least one pass; all not-applicable is not-applicable.
                outcome = Outcome.PASS if Outcome.PASS in outcomes else Outcome.NOT_APPLICABLE
            reasons = [c.message for c in checks if c.outcome == outcome and c.message]
            return outcome, "; ".join(dict.fromkeys(reasons))  # each reason once
    return Outcome.NOT_RUN, "no check ran"


def fold_item(
    item: Item,
    checklist: Checklist,
    checks: list[CheckResult],
    attestations: AttestationBook,
    waivers: WaiverBook,
    now: datetime,
) -> ItemResult:
    section = checklist.section_of[item.id]
    result = ItemResult(
        id=item.id,
        title=item.title,
        section=section.id,
        section_title=section.title,
        group=section.group,
        severity=item.severity,
        phase=item.phase,
        kind=item.kind,
        why_not_automated=item.attested.why_not_automated if item.attested else None,
        parent=item.parent,
        tags=item.tags,
        outcome=Outcome.NOT_RUN,
        checks=checks,
    )
    if item.attested is not None:
        record = attestations.judge(item.id, item.attested.freshness_days, now)
        result.attestation = record
        if record is None:
            result.outcome, result.reason = Outcome.PENDING, "no attestation on file"
        elif record.valid:
            result.outcome, result.reason = Outcome.ATTESTED, f"attested by {record.by}"
        else:
            result.outcome, result.reason = Outcome.PENDING, f"attestation {record.reason}"
        return result

    result.outcome, result.reason = fold_checks(checks)
    waiver = waivers.for_item(item.id)
    if waiver is not None:
        expired = WaiverBook.expired(waiver, now)
        applies = result.outcome in (Outcome.FAIL, Outcome.ERROR) and not expired
        result.waiver = WaiverRecord(
            item=item.id,
            reason=waiver.reason,
            author=waiver.author,
            approver=waiver.approver,
            expires=as_utc(waiver.expires),
            expired=expired,
            applied=applies,
        )
        if applies:
            result.reason = f"waived ({waiver.reason}); was {result.outcome.value}: {result.reason}"
            result.outcome = Outcome.WAIVED
        elif expired:
            result.reason = (
                f"waiver expired {as_utc(waiver.expires):%Y-%m-%d}; " + result.reason
            ).rstrip("; ")
    return result


def verdict(items: list[ItemResult], harness_errors: list[str]) -> tuple[Verdict, list[str]]:
    """GO when every blocker is accepted and no waiver has expired."""
    reasons = []
    for item in items:
        if item.severity == "blocker" and item.outcome not in ACCEPTING:
            reasons.append(
                f"blocker {item.id} is {item.outcome.value}"
                + (f": {item.reason}" if item.reason else "")
            )
    for item in items:
        if item.waiver is not None and item.waiver.expired:
            reasons.append(
                f"waiver for {item.id} expired on {item.waiver.expires:%Y-%m-%d}: renew or remove it"
            )
    if harness_errors:
        return Verdict.INCOMPLETE, harness_errors + reasons
    return (Verdict.NO_GO, reasons) if reasons else (Verdict.GO, [])


def count(items: list[ItemResult]) -> dict[str, int]:
    counts = Counter(item.outcome.value for item in items)
    return {outcome.value: counts.get(outcome.value, 0) for outcome in Outcome}


def summarize_sections(checklist: Checklist, items: list[ItemResult]) -> list[SectionSummary]:
    summaries = []
    for section in checklist.sections:
        mine = [i for i in items if i.section == section.id]
        if mine:
            summaries.append(
                SectionSummary(
                    id=section.id, title=section.title, group=section.group, counts=count(mine)
                )
            )
    return summaries
