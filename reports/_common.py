"""What every report format shares: outcome order and labels, per-section rows, formatting."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from golive.redact import DEFAULT, Redactor, luhn_valid, mask_pan
from golive.results import ACCEPTING, ItemResult, Outcome, RunResult

# Accepting outcomes first, then the ones that hold a blocker at the gate.
OUTCOME_ORDER: tuple[Outcome, ...] = (
    Outcome.PASS,
    Outcome.ATTESTED,
    Outcome.WAIVED,
    Outcome.NOT_APPLICABLE,
    Outcome.FAIL,
    Outcome.ERROR,
    Outcome.PENDING,
    Outcome.NOT_RUN,
)

OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.PASS: "Pass",
    Outcome.ATTESTED: "Attested",
    Outcome.WAIVED: "Waived",
    Outcome.NOT_APPLICABLE: "Not applicable",
    Outcome.FAIL: "Fail",
    Outcome.ERROR: "Error",
    Outcome.PENDING: "Pending",
    Outcome.NOT_RUN: "Not run",
}

# Plain-language meaning, for readers who never ran the harness.
OUTCOME_MEANINGS: dict[Outcome, str] = {
    Outcome.PASS: "Automated checks ran against the target and found what was required.",
    Outcome.ATTESTED: "A named person confirmed it, with evidence, within the freshness window.",
    Outcome.WAIVED: "It did not pass, but an approved, unexpired waiver accepts the risk.",
    Outcome.NOT_APPLICABLE: "Does not apply to this target or profile.",
    Outcome.FAIL: "Automated checks ran and found a problem.",
    Outcome.ERROR: "A check could not complete (or examined nothing), so nothing was proven.",
    Outcome.PENDING: "Needs a person's attestation, and no valid one was supplied.",
    Outcome.NOT_RUN: "Was not run in this selection of phases, sections or items.",
}

# Severities whose items decide the verdict. Other severities are reported, never gating.
BLOCKING_SEVERITIES = frozenset({"blocker"})


def is_blocking(item: ItemResult) -> bool:
    return item.severity.lower() in BLOCKING_SEVERITIES


@dataclass(frozen=True)
class SectionRow:
    id: str
    title: str
    group: str
    counts: dict[str, int]
    items: list[ItemResult]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def section_rows(result: RunResult) -> list[SectionRow]:
    """Sections in checklist order, each with its items and its counts per outcome.

    Counts come from the engine's section summary; a section that has items but no
    summary (or items of a section the summary does not list) gets counts from its items.
    """
    by_section: dict[str, list[ItemResult]] = {}
    for item in result.items:
        by_section.setdefault(item.section, []).append(item)

    rows: list[SectionRow] = []
    for section in result.sections:
        items = by_section.pop(section.id, [])
        counts = _full_counts(section.counts) if section.counts else _count(items)
        rows.append(SectionRow(section.id, section.title, section.group, counts, items))
    for section_id, items in by_section.items():
        first = items[0]
        rows.append(SectionRow(section_id, first.section_title, first.group, _count(items), items))
    return rows


def total_counts(result: RunResult, rows: list[SectionRow] | None = None) -> dict[str, int]:
    if result.counts:
        return _full_counts(result.counts)
    totals: Counter[str] = Counter()
    for row in rows if rows is not None else section_rows(result):
        totals.update(row.counts)
    return _full_counts(totals)


def not_accepted(result: RunResult) -> tuple[list[ItemResult], list[ItemResult]]:
    """(blocking, other) items whose outcome does not let them through the gate."""
    blocking: list[ItemResult] = []
    other: list[ItemResult] = []
    for item in result.items:
        if item.outcome not in ACCEPTING:
            (blocking if is_blocking(item) else other).append(item)
    return blocking, other


def item_duration(item: ItemResult) -> float:
    return sum(check.duration_s for check in item.checks)


def _count(items: list[ItemResult]) -> dict[str, int]:
    return _full_counts(Counter(item.outcome.value for item in items))


def _full_counts(counts: dict[str, int] | Counter[str]) -> dict[str, int]:
    """Every outcome present (zero when absent), in display order; unknown keys kept last."""
    full = {outcome.value: int(counts.get(outcome.value, 0)) for outcome in OUTCOME_ORDER}
    for key, value in counts.items():
        full.setdefault(key, int(value))
    return full


def fmt_dt(value: datetime | None) -> str:
    """`2025-11-26 04:30:12 UTC` for aware times; naive ones are shown as given."""
    if value is None:
        return "—"
    if value.tzinfo is not None:
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return value.strftime("%Y-%m-%d %H:%M:%S")


def fmt_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def redact_value(value: Any, redactor: Redactor = DEFAULT) -> Any:
    """redactor.value, plus integers that are card numbers (they become masked strings).

    For structures about to be JSON-encoded: once encoded, a value after an escape
    (`"line\\n4242…"`) no longer matches the patterns of a text pass.
    """
    if isinstance(value, str):
        return redactor.text(value)
    if isinstance(value, dict):
        return {redactor.text(str(k)): redact_value(v, redactor) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v, redactor) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        digits = str(abs(value))
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return mask_pan(digits)
    return value


def dumps_redacted(value: Any, *, indent: int | None = None) -> str:
    """JSON text of value whose secrets a later text pass over it is sure to find.

    Encoding hides a value only behind a control-character escape (`"line\\n4242…"`:
    no word boundary before the digits). Only then is the structure redacted first.
    """
    text = json.dumps(value, indent=indent, ensure_ascii=False, default=str)
    if _CONTROL_ESCAPE.search(text):
        text = json.dumps(redact_value(value), indent=indent, ensure_ascii=False, default=str)
    return text


_CONTROL_ESCAPE = re.compile(r"\\(?:[nrtbf]|u00[01])")
