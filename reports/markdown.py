"""summary.md: the verdict and what blocks it, for CI step summaries.

GitHub-flavoured Markdown (GitHub's `$GITHUB_STEP_SUMMARY`, GitLab merge-request notes).
Every cell is escaped: `|` would split a table cell, `<`/`>` would be taken as HTML (and
GitHub drops a `<script>` with the title around it), `*_[]` and backticks as emphasis or
links. Long cells are cut; report.html has everything.
"""

from __future__ import annotations

from golive.redact import DEFAULT
from golive.reports._common import (
    OUTCOME_LABELS,
    OUTCOME_ORDER,
    fmt_dt,
    fmt_duration,
    not_accepted,
    section_rows,
    total_counts,
)
from golive.results import ItemResult, Outcome, RunResult, Verdict

CELL_CHARS = 300

VERDICT_HEADLINES = {
    Verdict.GO: "✅ GO",
    Verdict.NO_GO: "❌ NO-GO",
    Verdict.INCOMPLETE: "⚠️ INCOMPLETE",
}
VERDICT_MEANINGS = {
    Verdict.GO: "Every blocking item passed, was attested, waived or does not apply.",
    Verdict.NO_GO: "At least one blocking item is not accepted.",
    Verdict.INCOMPLETE: "The run did not finish; the results below are partial.",
}

_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        "|": "\\|",
        "\\": "\\\\",
        "*": "\\*",
        "_": "\\_",
        "[": "\\[",
        "]": "\\]",
        "`": "\\`",
        "\r": "",
        "\n": "<br>",
    }
)


def cell(text: object, limit: int = CELL_CHARS) -> str:
    """Text made safe for one GFM table cell (or one list line)."""
    value = DEFAULT.text(str(text)).strip()  # first: once escaped, sk\_live\_… no longer matches
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return value.translate(_ESCAPES)


def code(text: object) -> str:
    """An inline code span for ids; inside a table a `|` still needs its backslash."""
    return "`" + DEFAULT.text(str(text)).replace("`", "'").replace("|", "\\|") + "`"


def _table(header: list[str], rows: list[list[str]], align: list[str] | None = None) -> list[str]:
    align = align or ["---"] * len(header)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def render(result: RunResult) -> str:
    meta = result.meta
    rows = section_rows(result)
    totals = total_counts(result, rows)
    out: list[str] = [
        f"## {VERDICT_HEADLINES[result.verdict]}",
        "",
        f"**golive production readiness: {result.verdict.value}.** "
        f"{VERDICT_MEANINGS[result.verdict]}",
        "",
        f"Profile {code(meta.profile_name)} · {len(result.items)} items · "
        f"exit code {result.exit_code} · finished {cell(fmt_dt(meta.finished_at))}",
        "",
    ]
    if result.verdict_reasons:
        out += ["**Why:**", ""]
        out += [f"- {cell(reason, 1000)}" for reason in result.verdict_reasons]
        out.append("")
    if result.errors:
        out += ["**Harness errors:**", ""]
        out += [f"- {cell(error, 1000)}" for error in result.errors]
        out.append("")
    if result.diff is not None:
        from golive.history.render import markdown as diff_section

        out += diff_section(result.diff)

    # Counts per outcome per section; outcomes nobody got are left out to keep it narrow.
    shown = [o for o in OUTCOME_ORDER if totals.get(o.value)] or [Outcome.PASS]
    out += ["### Results by section", ""]
    table_rows = [
        [f"{cell(row.title)} ({code(row.id)})"]
        + [str(row.counts.get(o.value, 0)) for o in shown]
        + [str(row.total)]
        for row in rows
    ]
    table_rows.append(
        ["**Total**"]
        + [f"**{totals.get(o.value, 0)}**" for o in shown]
        + [f"**{sum(totals.values())}**"]
    )
    out += _table(
        ["Section"] + [OUTCOME_LABELS[o] for o in shown] + ["Total"],
        table_rows,
        ["---"] + ["---:"] * (len(shown) + 1),
    )

    blocking, other = not_accepted(result)
    out += [f"### Blocking items not accepted ({len(blocking)})", ""]
    out += _items_table(blocking) if blocking else ["None.", ""]
    if other:
        out += [f"### Other items not accepted ({len(other)})", ""]
        out += ["These do not decide the verdict.", ""]
        out += _items_table(other)

    unjudged = _not_applicable(result.items)
    if unjudged:
        out += [f"### Not applicable ({len(unjudged)})", ""]
        out += ["Items, or checks of items, golive did not judge on this target, and why.", ""]
        out += _table(
            ["Item", "Title", "Outcome", "Reason"],
            [
                [
                    code(item.id),
                    cell(item.title),
                    OUTCOME_LABELS.get(item.outcome, item.outcome.value),
                    cell(reason),
                ]
                for item, reason in unjudged
            ],
        )

    out += [f"### Waivers ({len(result.waivers)})", ""]
    if result.waivers:
        out += _table(
            ["Item", "Reason", "Author", "Approver", "Expires", "Status"],
            [
                [
                    code(w.item),
                    cell(w.reason),
                    cell(w.author),
                    cell(w.approver),
                    cell(fmt_dt(w.expires)),
                    "**expired**" if w.expired else ("applied" if w.applied else "not applied"),
                ]
                for w in result.waivers
            ],
        )
    else:
        out += ["None.", ""]

    out += [f"### Attestations ({len(result.attestations)})", ""]
    if result.attestations:
        out += _table(
            ["Item", "By", "Evidence", "Date", "Expires", "Valid", "Note"],
            [
                [
                    code(a.item),
                    cell(a.by),
                    cell(a.evidence),
                    cell(fmt_dt(a.date)),
                    cell(fmt_dt(a.expires)),
                    "yes" if a.valid else "**no**",
                    cell(a.reason),
                ]
                for a in result.attestations
            ],
        )
    else:
        out += ["None.", ""]

    out += ["### Run", ""]
    out += _table(
        ["Field", "Value"],
        [
            ["Harness version", cell(meta.harness_version)],
            ["Profile", f"{code(meta.profile_name)} ({cell(meta.profile_path)})"],
            ["Checklist", cell(meta.checklist_path)],
            ["Checklist SHA-256", code(meta.checklist_sha256)],
            ["Target git SHA", code(meta.target_git_sha) if meta.target_git_sha else "—"],
            ["Phases", cell(", ".join(meta.phases)) or "—"],
            ["Started", cell(fmt_dt(meta.started_at))],
            ["Finished", cell(fmt_dt(meta.finished_at))],
            ["Duration", cell(fmt_duration(meta.duration_s))],
            ["Host", cell(meta.host)],
            ["Python", cell(meta.python)],
            ["Results schema", cell(result.schema_version)],
        ],
    )
    out.append("Full details, with the evidence behind every outcome: `report.html`.")
    return "\n".join(out) + "\n"


def _items_table(items: list[ItemResult]) -> list[str]:
    return _table(
        ["Item", "Title", "Section", "Severity", "Outcome", "Reason"],
        [
            [
                code(item.id),
                cell(item.title),
                cell(item.section_title),
                cell(item.severity),
                f"**{OUTCOME_LABELS.get(item.outcome, item.outcome.value)}**",
                cell(item.reason or _first_message(item)),
            ]
            for item in items
        ],
    )


def _not_applicable(items: list[ItemResult]) -> list[tuple[ItemResult, str]]:
    """Items that are not-applicable, or hold a not-applicable check, with the reason."""
    rows = []
    for item in items:
        if item.outcome == Outcome.NOT_APPLICABLE:
            rows.append((item, item.reason or _first_message(item)))
            continue
        reasons = [
            f"{c.ref}: {c.message}" for c in item.checks if c.outcome == Outcome.NOT_APPLICABLE
        ]
        if reasons:
            rows.append((item, "; ".join(dict.fromkeys(reasons))))
    return rows


def _first_message(item: ItemResult) -> str:
    return next((c.message for c in item.checks if c.message), "")
