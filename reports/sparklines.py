"""Per-item trend sparklines over the --history runs (golive/history/trend.py): a strip of
one square per run coloured by the item's outcome, and a small line per measured value.

Inline SVG styled by presentation attributes only (the report's CSP forbids inline
styles); each square and line carries a <title> with the run's start and its value, so a
reader hovering or a screen reader gets the numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from golive.reports._common import OUTCOME_LABELS, fmt_dt
from golive.results import Outcome, RunResult, TrendRun

# The badges' colours in report.html.j2.
OUTCOME_FILL = {
    Outcome.PASS: "#1a7f37",
    Outcome.ATTESTED: "#0550ae",
    Outcome.WAIVED: "#6639ba",
    Outcome.NOT_APPLICABLE: "#8c959f",
    Outcome.FAIL: "#cf222e",
    Outcome.ERROR: "#bc4c00",
    Outcome.PENDING: "#9a6700",
    Outcome.NOT_RUN: "#6e7781",
}
CELL, GAP, HEIGHT = 8, 2, 14
LINE_W, LINE_H = 96, 18
MAX_LINES = 3  # measured values drawn per item; the rest are in the item's evidence


def outcome_strip(outcomes: Sequence[Outcome | None], runs: Sequence[TrendRun]) -> Markup:
    """One square per run, oldest left; a run that did not select the item is an outline."""
    width = len(outcomes) * (CELL + GAP) - GAP
    parts = [_open(width, HEIGHT, f"Outcome over the last {len(outcomes)} runs")]
    for index, (outcome, run) in enumerate(zip(outcomes, runs, strict=True)):
        x = index * (CELL + GAP)
        label = OUTCOME_LABELS.get(outcome, "not selected") if outcome else "not selected"
        tip = escape(f"{fmt_dt(run.started_at)}: {label}")
        if outcome is None:
            shape = (
                f'<rect x="{x + 0.5}" y="2.5" width="{CELL - 1}" height="{HEIGHT - 5}" '
                'fill="none" stroke="#afb8c1" stroke-width="1"'
            )
        else:
            shape = (
                f'<rect x="{x}" y="1" width="{CELL}" height="{HEIGHT - 2}" rx="1" '
                f'fill="{OUTCOME_FILL.get(outcome, "#6e7781")}" data-outcome="{outcome.value}"'
            )
        parts.append(f"{shape}><title>{tip}</title></rect>")
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def value_line(label: str, values: Sequence[float | None], runs: Sequence[TrendRun]) -> Markup:
    """A small line of one measured value over the runs (gaps where it was not measured)."""
    known = [v for v in values if v is not None]
    low, high = (min(known), max(known)) if known else (0.0, 1.0)
    span = (high - low) or 1.0
    step = LINE_W / max(len(values) - 1, 1)

    def point(index: int, value: float) -> str:
        return f"{index * step + 2:.1f},{LINE_H - 2 - (value - low) / span * (LINE_H - 4):.1f}"

    last = next((i for i in range(len(values) - 1, -1, -1) if values[i] is not None), None)
    now = "—" if last is None else f"{values[last]:g}"
    title = f"{label}: " + ", ".join("—" if v is None else f"{v:g}" for v in values)
    parts = [_open(LINE_W + 4, LINE_H, title)]
    run: list[str] = []
    for index, value in [*enumerate(values), (len(values), None)]:
        if value is None:
            if len(run) > 1:
                parts.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="#1f6feb" '
                    'stroke-width="1.5"/>'
                )
            run = []
            continue
        run.append(point(index, value))
        tip = escape(f"{fmt_dt(runs[index].started_at)}: {value:g}")
        radius = 2.5 if index == last else 1.5
        x, y = point(index, value).split(",")
        parts.append(
            f'<circle cx="{x}" cy="{y}" r="{radius}" fill="#1f6feb"><title>{tip}</title></circle>'
        )
    parts.append("</svg>")
    caption = f' <span class="muted">{escape(label)}: {escape(now)}</span>'
    return Markup("".join(parts) + caption)  # noqa: S704 - every text above is escaped


def trend_cells(result: RunResult) -> dict[str, Markup]:
    """item id -> its sparklines, for a run with a history; empty otherwise."""
    history = result.history
    if history is None:
        return {}
    cells = {}
    for trend in history.items:
        parts = [outcome_strip(trend.outcomes, history.runs)]
        for label, values in list(trend.measures.items())[:MAX_LINES]:
            parts.append(value_line(label, values, history.runs))
        cells[trend.item] = (
            Markup('<span class="trend">') + Markup("<br>").join(parts) + Markup("</span>")
        )
    return cells


def _open(width: int, height: int, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>"
    )
