"""junit.xml: one <testsuite> per checklist section, one <testcase> per item.

The shape GitLab's and Jenkins' JUnit parsers read: <testsuites> > <testsuite> with
tests/failures/errors/skipped/time, <properties>, and <testcase classname name time>
holding at most one of <failure>, <error> or <skipped>, plus <system-out>.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from golive.redact import DEFAULT
from golive.reports._common import dumps_redacted, fmt_dt, item_duration, section_rows
from golive.results import CheckResult, ItemResult, Outcome, RunResult

SKIPPED = frozenset({Outcome.NOT_RUN, Outcome.PENDING, Outcome.NOT_APPLICABLE})
EVIDENCE_CHARS = 2000  # per evidence entry in a failure body; report.html has it in full

# Characters XML 1.0 forbids even as references; ElementTree writes them raw and the
# file would not parse (think ANSI colour codes in a captured message).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _x(text: Any) -> str:
    return _XML_INVALID.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def render(result: RunResult) -> str:
    rows = section_rows(result)
    root = ET.Element("testsuites", name="golive")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}

    for row in rows:
        counts = {
            "tests": len(row.items),
            "failures": sum(i.outcome is Outcome.FAIL for i in row.items),
            "errors": sum(i.outcome is Outcome.ERROR for i in row.items),
            "skipped": sum(i.outcome in SKIPPED for i in row.items),
        }
        for key, value in counts.items():
            totals[key] += value
        suite = ET.SubElement(
            root,
            "testsuite",
            name=_x(f"{row.id} — {row.title}"),
            **{key: str(value) for key, value in counts.items()},
            time=_seconds(sum(item_duration(i) for i in row.items)),
            timestamp=result.meta.started_at.isoformat(),
            hostname=_x(result.meta.host),
        )
        _properties(suite, result)
        for item in row.items:
            _testcase(suite, item)

    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", _seconds(result.meta.duration_s))

    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _properties(suite: ET.Element, result: RunResult) -> None:
    meta = result.meta
    props: list[tuple[str, str]] = [
        ("verdict", result.verdict.value),
        ("exit_code", str(result.exit_code)),
        *(("verdict_reason", reason) for reason in result.verdict_reasons),
        ("profile", meta.profile_name),
        ("profile_path", meta.profile_path),
        ("checklist_path", meta.checklist_path),
        ("checklist_sha256", meta.checklist_sha256),
        ("target_git_sha", meta.target_git_sha or ""),
        ("harness_version", meta.harness_version),
        ("schema_version", result.schema_version),
        ("phases", ",".join(meta.phases)),
        *(("harness_error", error) for error in result.errors),
    ]
    element = ET.SubElement(suite, "properties")
    for name, value in props:
        ET.SubElement(element, "property", name=name, value=_x(value))


def _testcase(suite: ET.Element, item: ItemResult) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname=_x(item.section),
        name=_x(f"{item.id} — {item.title}"),
        time=_seconds(item_duration(item)),
    )
    outcome = item.outcome
    if outcome in (Outcome.FAIL, Outcome.ERROR):
        tag = "failure" if outcome is Outcome.FAIL else "error"
        message = item.reason or _first_message(item.checks) or outcome.value
        element = ET.SubElement(case, tag, message=_x(message), type=outcome.value)
        element.text = _x(_details(item))
    elif outcome in SKIPPED:
        message = f"{outcome.value}: {item.reason}" if item.reason else outcome.value
        ET.SubElement(case, "skipped", message=_x(message))
    else:
        out = _accepted_note(item)
        if out:
            ET.SubElement(case, "system-out").text = _x(out)


def _first_message(checks: list[CheckResult]) -> str:
    for check in checks:
        if check.outcome in (Outcome.FAIL, Outcome.ERROR) and check.message:
            return check.message
    return next((c.message for c in checks if c.message), "")


def _details(item: ItemResult) -> str:
    lines = [f"{item.id}: {item.title}", f"severity {item.severity}, phase {item.phase}"]
    if item.reason:
        lines.append(f"reason: {item.reason}")
    for check in item.checks:
        lines.append("")
        lines.append(f"[{check.outcome.value}] {check.ref} ({check.duration_s:.3f} s)")
        if check.message:
            lines.append(f"  {check.message}")
        for index, entry in enumerate(check.evidence, 1):
            lines.append(f"  evidence {index}: {_clip(dumps_redacted(entry))}")
    if item.waiver is not None:
        lines.append("")
        lines.append(_waiver_note(item))
    return "\n".join(lines) + "\n"


def _accepted_note(item: ItemResult) -> str:
    lines: list[str] = []
    if item.outcome is Outcome.ATTESTED and item.attestation is not None:
        a = item.attestation
        lines.append(f"Attested by {a.by} on {fmt_dt(a.date)}, expires {fmt_dt(a.expires)}.")
        lines.append(f"Evidence: {a.evidence}")
        if a.reason:
            lines.append(f"Note: {a.reason}")
    elif item.outcome is Outcome.ATTESTED:
        lines.append("Attested.")
    if item.outcome is Outcome.WAIVED:
        lines.append(_waiver_note(item) if item.waiver else "Waived.")
    if item.reason:
        lines.append(f"Reason: {item.reason}")
    for check in item.checks:
        message = f": {check.message}" if check.message else ""
        lines.append(f"[{check.outcome.value}] {check.ref}{message}")
    return "\n".join(lines)


def _waiver_note(item: ItemResult) -> str:
    w = item.waiver
    assert w is not None
    state = "expired" if w.expired else ("applied" if w.applied else "not applied")
    return (
        f"Waiver ({state}): {w.reason} — by {w.author}, approved by {w.approver}, "
        f"expires {fmt_dt(w.expires)}."
    )


def _clip(text: str) -> str:
    if len(text) <= EVIDENCE_CHARS:
        return text
    text = DEFAULT.text(text)  # whole, before the cut: the final pass sees only the rest
    if len(text) <= EVIDENCE_CHARS:
        return text
    return f"{text[:EVIDENCE_CHARS]}… ({len(text) - EVIDENCE_CHARS} more characters)"
