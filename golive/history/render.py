"""A RunDiff written out: plain text for the terminal, GitHub Markdown for summary.md and
`golive diff --markdown`. (report.html draws it from reports/templates/_diff.html.j2.)"""

from __future__ import annotations

from golive.reports._common import fmt_dt
from golive.results import ItemChange, MeasureChange, RunDiff, RunResult

HEADING = "Changes since the baseline"
# (change, heading), in the order they are shown.
ITEM_KINDS = (
    ("newly-failing", "Newly failing"),
    ("newly-passing", "Newly passing"),
    ("outcome-changed", "Outcome changed"),
    ("added", "Added to the selection"),
    ("removed", "Removed from the selection"),
)
SIGNOFF_LABELS = {
    "waiver-added": "waiver added",
    "waiver-removed": "waiver removed",
    "waiver-expired": "waiver expired",
    "waiver-renewed": "waiver renewed",
    "attestation-added": "attestation added",
    "attestation-removed": "attestation removed",
    "attestation-renewed": "attestation renewed",
    "attestation-invalid": "attestation stale or invalid",
}


def grouped(diff: RunDiff) -> list[tuple[str, str, list[ItemChange]]]:
    """(change, heading, changes) for each kind that has changes."""
    groups = []
    for kind, heading in ITEM_KINDS:
        changes = [c for c in diff.items if c.change == kind]
        if changes:
            groups.append((kind, heading, changes))
    return groups


def counts_line(diff: RunDiff) -> str:
    """`2 newly failing, 1 measured value moved`: the kinds that have changes."""
    parts = []
    for kind, heading in ITEM_KINDS:
        n = sum(1 for c in diff.items if c.change == kind)
        if n:
            parts.append(f"{n} {heading.lower()}")
    if diff.signoffs:
        parts.append(_plural(len(diff.signoffs), "sign-off change"))
    if diff.measures:
        parts.append(_plural(len(diff.measures), "measured value") + " moved")
    return ", ".join(parts) or "no item, sign-off or measured value changed"


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def number(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def movement(change: MeasureChange, arrow: str = "->") -> str:
    """`37 -> 41 (+10.8%, worse)`."""
    note = change_note(change)
    moved = f"{number(change.before)} {arrow} {number(change.after)}"
    return moved + (f" ({note})" if note else "")


def change_note(change: MeasureChange) -> str:
    """`+10.8%, worse`: the relative move and whether it went toward the threshold's limit."""
    extra = []
    if change.before not in (None, 0) and change.after is not None:
        extra.append(f"{(change.after - change.before) / abs(change.before):+.1%}")
    if change.worse is not None:
        extra.append("worse" if change.worse else "better")
    return ", ".join(extra)


def _run_line(label: str, verdict: str, started: str, sha: str | None) -> str:
    commit = f" · target commit {sha[:12]}" if sha else ""
    return f"  {label + ':':<9} started {started} · {verdict}{commit}"


def text(diff: RunDiff, current: RunResult, *, source: str | None = None) -> str:
    """The diff for a terminal; `source` names the newer run's file (`golive diff A B`)."""
    base = diff.baseline
    lines = [
        f"{HEADING} ({base.path})",
        _run_line("baseline", base.verdict.value, fmt_dt(base.started_at), base.target_git_sha)
        + f" · sha256 {base.sha256[:12]}…",
        _run_line(
            "this run" if source is None else "newer",
            current.verdict.value,
            fmt_dt(current.meta.started_at),
            current.meta.target_git_sha,
        )
        + (f" ({source})" if source else ""),
    ]
    lines += [f"  note: {note}" for note in diff.notes]
    for kind, heading, changes in grouped(diff):
        lines += ["", f"{heading} ({len(changes)})"]
        width = max(len(c.item) for c in changes)
        for c in changes:
            was = c.before.value if c.before else "—"
            now = c.after.value if c.after else "—"
            lines.append(f"  {c.item:<{width}}  {c.severity:<8} {was} -> {now}  {c.title}")
            if c.reason and kind in ("newly-failing", "outcome-changed") and c.worse:
                lines.append(f"  {'':<{width}}  why: {_short(c.reason)}")
    if diff.signoffs:
        lines += ["", f"Waivers and attestations ({len(diff.signoffs)})"]
        width = max(len(SIGNOFF_LABELS[s.change]) for s in diff.signoffs)
        for s in diff.signoffs:
            lines.append(f"  {SIGNOFF_LABELS[s.change]:<{width}}  {s.item}: {_short(s.detail)}")
    if diff.measures:
        lines += ["", f"Measured values that moved ({len(diff.measures)})"]
        width = max(len(m.item) for m in diff.measures)
        for m in diff.measures:
            threshold = f" [{m.threshold}]" if m.threshold else ""
            lines.append(f"  {m.item:<{width}}  {m.check} {m.metric}{threshold}: {movement(m)}")
    if not (diff.items or diff.signoffs or diff.measures):
        lines += ["", "No item, sign-off or measured value changed."]
    verdict = "some item got worse" if diff.regressed else "nothing got worse"
    lines += ["", f"Summary: {counts_line(diff)}; {verdict}."]
    return "\n".join(lines) + "\n"


def markdown(diff: RunDiff, heading_level: int = 3) -> list[str]:
    """Lines of the diff section of summary.md (every cell escaped)."""
    from golive.reports.markdown import _table as table
    from golive.reports.markdown import cell, code

    base = diff.baseline
    h = "#" * heading_level
    commit = f" · target commit {code(base.target_git_sha[:12])}" if base.target_git_sha else ""
    out = [
        f"{h} {HEADING}",
        "",
        f"Baseline {cell(base.path)} · started {cell(fmt_dt(base.started_at))} · "
        f"{cell(base.verdict.value)}{commit} · sha256 {code(base.sha256[:12])}",
        "",
    ]
    out += [f"> **Note:** {cell(note, 1000)}" for note in diff.notes]
    if diff.notes:
        out.append("")
    bold = "**" if diff.regressed else ""
    out += [f"{bold}{cell(counts_line(diff))}{bold}", ""]
    rows = [
        [
            heading,
            code(c.item),
            cell(c.title),
            cell(c.severity),
            c.before.value if c.before else "—",
            f"**{c.after.value}**" if c.after and c.worse else (c.after.value if c.after else "—"),
            cell(c.reason),
        ]
        for _, heading, changes in grouped(diff)
        for c in changes
    ]
    if rows:
        out += table(["Change", "Item", "Title", "Severity", "Before", "After", "Reason"], rows)
    if diff.signoffs:
        out += [f"{h}# Waivers and attestations ({len(diff.signoffs)})", ""]
        out += table(
            ["Change", "Item", "Detail"],
            [[SIGNOFF_LABELS[s.change], code(s.item), cell(s.detail)] for s in diff.signoffs],
        )
    if diff.measures:
        out += [f"{h}# Measured values that moved ({len(diff.measures)})", ""]
        out += table(
            ["Item", "Check", "Metric", "Threshold", "Before → after"],
            [
                [
                    code(m.item),
                    code(m.check),
                    cell(m.metric),
                    code(m.threshold) if m.threshold else "—",
                    cell(movement(m, "→")),
                ]
                for m in diff.measures
            ],
        )
    if not (diff.items or diff.signoffs or diff.measures):
        out += ["No item, sign-off or measured value changed.", ""]
    return out


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
