"""Compare two RunResults: what changed per item since the baseline.

- **newly failing**: `fail` now, and neither `fail` nor `error` in the baseline;
- **newly passing**: `pass` now, not `pass` in the baseline;
- **outcome changed**: any other change of outcome (`error` -> `fail`, `pass` -> `not-run`,
  `attested` -> `pending`, …);
- **added** / **removed**: in one run's selection only;
- sign-offs: a waiver added, removed, expired or renewed (a later expiry); an attestation
  added, removed, renewed (a later sign-off date) or no longer valid (stale, expired);
- measured values (measures.py) that moved, old -> new, per item and check.

A change is **worse** when the item newly fails, or was accepted in the baseline (pass,
waived, attested, not-applicable) and is not now; `RunDiff.regressed` says some change is.
"""

from __future__ import annotations

from golive.history import measures
from golive.reports._common import fmt_dt as iso
from golive.results import (
    ACCEPTING,
    AttestationRecord,
    BaselineRun,
    ItemChange,
    ItemChangeKind,
    ItemResult,
    MeasureChange,
    Outcome,
    RunDiff,
    RunResult,
    SignoffChange,
    WaiverRecord,
)


def compare(baseline: RunResult, current: RunResult, ref: BaselineRun) -> RunDiff:
    """What changed from `baseline` (the file `ref` describes) to `current`."""
    before = {item.id: item for item in baseline.items}
    after = {item.id: item for item in current.items}
    items: list[ItemChange] = []
    for item_id, new in after.items():
        old = before.get(item_id)
        if old is None:
            items.append(_change(new, "added", None, new.outcome))
        elif old.outcome != new.outcome:
            items.append(_change(new, _kind(old.outcome, new.outcome), old.outcome, new.outcome))
    for item_id, old in before.items():
        if item_id not in after:
            items.append(_change(old, "removed", old.outcome, None))
    common = [(before[i], after[i]) for i in after if i in before]
    return RunDiff(
        baseline=ref,
        notes=_notes(baseline, current),
        items=items,
        signoffs=[
            change
            for change in _waivers(baseline, current) + _attestations(baseline, current)
            if change.item in before and change.item in after  # else: added or removed
        ],
        measures=[change for old, new in common for change in _measures(old, new)],
        regressed=any(change.worse for change in items),
    )


def _kind(old: Outcome, new: Outcome) -> ItemChangeKind:
    if new == Outcome.FAIL and old not in (Outcome.FAIL, Outcome.ERROR):
        return "newly-failing"
    if new == Outcome.PASS:
        return "newly-passing"
    return "outcome-changed"


def _change(
    item: ItemResult, kind: ItemChangeKind, old: Outcome | None, new: Outcome | None
) -> ItemChange:
    worse = kind == "newly-failing" or (
        old is not None and new is not None and old in ACCEPTING and new not in ACCEPTING
    )
    return ItemChange(
        item=item.id,
        title=item.title,
        severity=item.severity,
        change=kind,
        before=old,
        after=new,
        worse=worse,
        reason=item.reason if new is not None else "",
    )


def _notes(baseline: RunResult, current: RunResult) -> list[str]:
    """What makes the runs hard to compare: another target, checklist, selection, version."""
    old, new = baseline.meta, current.meta
    notes = []
    if old.profile_name != new.profile_name or old.profile_path != new.profile_path:
        notes.append(
            f"the baseline is of another target profile: {old.profile_name} ({old.profile_path}); "
            f"this run: {new.profile_name} ({new.profile_path})"
        )
    if old.checklist_sha256 != new.checklist_sha256:
        notes.append(
            f"the baseline ran another checklist: {old.checklist_path} "
            f"(sha256 {old.checklist_sha256[:12]}…); this run: {new.checklist_path} "
            f"(sha256 {new.checklist_sha256[:12]}…)"
        )
    if old.phases != new.phases or old.selection != new.selection:
        notes.append(
            f"the baseline selected {_selection(old.phases, old.selection)}; "
            f"this run {_selection(new.phases, new.selection)}"
        )
    if baseline.schema_version != current.schema_version:
        notes.append(
            f"the baseline follows results schema {baseline.schema_version}; "
            f"this run {current.schema_version}"
        )
    if old.started_at > new.started_at:
        notes.append(
            f"the baseline started after this run ({iso(old.started_at)} > {iso(new.started_at)})"
        )
    return notes


def _selection(phases: list[str], selection: dict[str, list[str]]) -> str:
    parts = [f"phases {', '.join(phases) or '—'}"]
    parts += [f"{key} {', '.join(values)}" for key, values in sorted(selection.items())]
    return "; ".join(parts)


def _by_item_waiver(result: RunResult) -> dict[str, WaiverRecord]:
    found = {item.id: item.waiver for item in result.items if item.waiver}
    found.update({w.item: w for w in result.waivers})
    return found


def _by_item_attestation(result: RunResult) -> dict[str, AttestationRecord]:
    found = {item.id: item.attestation for item in result.items if item.attestation}
    found.update({a.item: a for a in result.attestations})
    return found


def _waivers(baseline: RunResult, current: RunResult) -> list[SignoffChange]:
    before, after = _by_item_waiver(baseline), _by_item_waiver(current)
    changes = []
    for item_id, new in after.items():
        old = before.get(item_id)
        if old is None:
            state = "expired" if new.expired else f"until {iso(new.expires)}"
            changes.append(
                SignoffChange(
                    item=item_id,
                    change="waiver-added",
                    detail=f"approved by {new.approver} ({state}): {new.reason}",
                )
            )
        elif new.expired and not old.expired:
            changes.append(
                SignoffChange(
                    item=item_id,
                    change="waiver-expired",
                    detail=f"expired {iso(new.expires)} (approved by {new.approver})",
                )
            )
        elif new.expires > old.expires and not new.expired:
            changes.append(
                SignoffChange(
                    item=item_id,
                    change="waiver-renewed",
                    detail=f"expires {iso(old.expires)} -> {iso(new.expires)} "
                    f"(approved by {new.approver})",
                )
            )
    for item_id, old in before.items():
        if item_id not in after:
            changes.append(
                SignoffChange(
                    item=item_id,
                    change="waiver-removed",
                    detail=f"was approved by {old.approver} until {iso(old.expires)}",
                )
            )
    return changes


def _attestations(baseline: RunResult, current: RunResult) -> list[SignoffChange]:
    before, after = _by_item_attestation(baseline), _by_item_attestation(current)
    changes = []
    for item_id, new in after.items():
        old = before.get(item_id)
        validity = "valid" if new.valid else f"not valid: {new.reason or 'stale'}"
        if old is None:
            changes.append(
                SignoffChange(
                    item=item_id,
                    change="attestation-added",
                    detail=f"by {new.by} on {iso(new.date)} ({validity})",
                )
            )
        elif old.valid and not new.valid:
            changes.append(
                SignoffChange(
                    item=item_id,
                    change="attestation-invalid",
                    detail=f"by {new.by} on {iso(new.date)}: {new.reason or 'no longer valid'}",
                )
            )
        elif new.date > old.date:
            changes.append(
                SignoffChange(
                    item=item_id,
                    change="attestation-renewed",
                    detail=f"signed {iso(old.date)} by {old.by} -> {iso(new.date)} by {new.by} "
                    f"({validity})",
                )
            )
    for item_id, old in before.items():
        if item_id not in after:
            changes.append(
                SignoffChange(
                    item=item_id,
                    change="attestation-removed",
                    detail=f"was by {old.by} on {iso(old.date)}",
                )
            )
    return changes


def _measures(old: ItemResult, new: ItemResult) -> list[MeasureChange]:
    before, after = measures.of_item(old), measures.of_item(new)
    changes = []
    for label in [*after, *(k for k in before if k not in after)]:
        was, now = before.get(label), after.get(label)
        old_value = was.value if was else None
        new_value = now.value if now else None
        if old_value == new_value:
            continue
        shown = now or was
        assert shown is not None  # one of the two holds the label
        threshold = shown.threshold
        worse = None
        sign = measures.direction(threshold)
        if sign and old_value is not None and new_value is not None:
            worse = (new_value - old_value) * sign < 0
        changes.append(
            MeasureChange(
                item=new.id,
                check=shown.check,
                metric=label.removeprefix(f"{shown.check} "),
                threshold=threshold,
                before=old_value,
                after=new_value,
                worse=worse,
            )
        )
    return changes
