"""Inline SVG line charts for the load runs (no script, no fetch: the report's CSP holds).

`load_charts(history)` draws requests/s, p50/p95/p99 latency and failures/s over time from
Locust's per-second aggregated rows (loadtests.runner.history). Styling is by SVG
presentation attributes only: the report's Content-Security-Policy forbids inline styles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from markupsafe import Markup

WIDTH, HEIGHT = 640, 200
PAD_L, PAD_R, PAD_T, PAD_B = 56, 12, 26, 30
COLOURS = ("#1f6feb", "#d29922", "#cf222e", "#2da44e")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(value))) / 10
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return value


def line_chart(
    title: str, times: Sequence[float], series: Mapping[str, Sequence[float]], unit: str
) -> Markup:
    """One chart: x = seconds since the first row, y = the series (several lines)."""
    t0 = times[0] if times else 0.0
    xs = [t - t0 for t in times]
    x_max = max(xs[-1] if xs else 1.0, 1.0)
    y_max = _nice_max(max((v for values in series.values() for v in values), default=0.0))
    plot_w, plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B

    def x(v: float) -> float:
        return PAD_L + v / x_max * plot_w

    def y(v: float) -> float:
        return PAD_T + plot_h - v / y_max * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{PAD_L}" y="16" font-size="13" font-family="sans-serif" '
        f'fill="#24292f">{escape(title)}</text>',
    ]
    for i in range(5):  # grid and y labels
        value = y_max * i / 4
        parts.append(
            f'<line x1="{PAD_L}" x2="{WIDTH - PAD_R}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            'stroke="#d0d7de" stroke-width="1"/>'
            f'<text x="{PAD_L - 6}" y="{y(value) + 4:.1f}" font-size="10" text-anchor="end" '
            f'font-family="sans-serif" fill="#57606a">{value:g}{escape(unit)}</text>'
        )
    parts.append(
        f'<text x="{WIDTH - PAD_R}" y="{HEIGHT - 8}" font-size="10" text-anchor="end" '
        f'font-family="sans-serif" fill="#57606a">{x_max:.0f} s</text>'
        f'<text x="{PAD_L}" y="{HEIGHT - 8}" font-size="10" font-family="sans-serif" '
        'fill="#57606a">0 s</text>'
    )
    legend_x = PAD_L + 220
    for index, (name, values) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        points = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in zip(xs, values, strict=False))
        if points:
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        parts.append(
            f'<rect x="{legend_x + index * 80}" y="8" width="10" height="10" fill="{colour}"/>'
            f'<text x="{legend_x + index * 80 + 14}" y="17" font-size="11" '
            f'font-family="sans-serif" fill="#24292f">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def load_charts(history: Iterable[Mapping[str, Any]]) -> list[Markup]:
    """Requests/s, latency percentiles and failures/s over the run."""
    rows = [r for r in history if isinstance(r, Mapping) and "t" in r]
    if not rows:
        return []
    times = [float(r["t"]) for r in rows]

    def col(key: str) -> list[float]:
        return [float(r.get(key) or 0.0) for r in rows]

    return [
        line_chart("Requests per second", times, {"req/s": col("rps")}, ""),
        line_chart(
            "Response time (ms)",
            times,
            {"p50": col("p50"), "p95": col("p95"), "p99": col("p99")},
            "",
        ),
        line_chart("Failures per second", times, {"failures/s": col("fps")}, ""),
    ]


def charts_of(items: Iterable[Any]) -> list[tuple[str, list[Markup]]]:
    """(item id, charts) for every check whose evidence carries a `load_chart`."""
    found = []
    for item in items:
        for check in item.checks:
            for entry in check.evidence:
                if isinstance(entry, Mapping) and isinstance(entry.get("load_chart"), list):
                    charts = load_charts(entry["load_chart"])
                    if charts:
                        found.append((item.id, charts))
    return found
