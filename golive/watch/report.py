"""The watch's reports: watch.html (a chart per metric), watch.json, watch.md and
junit.xml (one test case per metric), every file redacted and written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from markupsafe import Markup

from golive.redact import Redactor
from golive.reports import html as html_report
from golive.reports import svg
from golive.reports.writer import atomic_write_text
from golive.watch.analysis import INCONCLUSIVE, PROMOTE, ROLLBACK
from golive.watch.runner import WatchResult

INTERRUPTED = "INTERRUPTED"
VERDICT_CLASSES = {
    PROMOTE: "promote",
    ROLLBACK: "rollback",
    INCONCLUSIVE: "inconclusive",
    INTERRUPTED: "interrupted",
}
PHASES = ("successful", "failed", "inconclusive", "error")


def verdict_of(result: WatchResult) -> str:
    """The verdict the reports and the exit code show: a watch cut short by Ctrl-C is
    INTERRUPTED unless a trigger had already rolled it back."""
    if result.interrupted and result.verdict != ROLLBACK:
        return INTERRUPTED
    return result.verdict


def summary(result: WatchResult, target: str) -> dict[str, Any]:
    """Everything the reports show, as plain data (this is watch.json)."""
    plan = result.plan
    metrics = []
    for rule in plan.rules:
        state = result.analysis.metrics[rule.name]
        status, why = state.status()
        metrics.append(
            {
                "name": rule.name,
                "role": rule.role,
                "threshold": rule.threshold.expression,
                "failure_limit": rule.failure_limit,
                "consecutive_failure_limit": rule.consecutive_failure_limit,
                "consecutive_error_limit": rule.consecutive_error_limit,
                "min_samples": rule.min_samples,
                "status": status,
                "why": why,
                "counts": {phase: state.count(phase) for phase in PHASES},
                "measurements": [m.as_dict() for m in state.measurements],
            }
        )
    return {
        "tool": "golive watch",
        "target": target,
        "verdict": verdict_of(result),
        "reasons": result.reasons,
        "warnings": result.analysis.warnings(),
        "started": result.started.isoformat(),
        "ended": result.ended.isoformat() if result.ended else None,
        "since": result.since.isoformat(),
        "duration": str(plan.duration),
        "interval": str(plan.interval),
        "lookback": str(plan.lookback) if plan.lookback else None,
        "ticks": result.ticks,
        "interrupted": result.interrupted,
        "metrics": metrics,
    }


def _chart(metric: dict[str, Any]) -> Markup:
    points = [m for m in metric["measurements"] if m["observed"] is not None]
    if not points:
        return Markup('<p class="muted">no measurement could be judged</p>')
    from datetime import datetime

    times = [datetime.fromisoformat(m["at"]).timestamp() for m in points]
    series = {metric["name"]: [float(m["observed"]) for m in points]}
    limit = metric["threshold"]
    return svg.line_chart(f"{metric['name']} ({limit})", times, series, "")


def render_html(data: dict[str, Any]) -> str:
    template = html_report._environment().get_template("watch.html.j2")
    return template.render(
        w=data,
        verdict_class=VERDICT_CLASSES.get(data["verdict"], "inconclusive"),
        charts={m["name"]: _chart(m) for m in data["metrics"]},
    )


def render_markdown(data: dict[str, Any]) -> str:
    lines = [
        f"# golive watch: **{data['verdict']}**",
        "",
        *[f"- {reason}" for reason in data["reasons"]],
        "",
        f"{data['target']} · {data['started']} → {data['ended']} · {data['ticks']} tick(s), "
        f"every {data['interval']} for up to {data['duration']}",
        "",
        "| metric | role | threshold | status | ok | failed | inconclusive | error | last |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for m in data["metrics"]:
        last = m["measurements"][-1]["message"] if m["measurements"] else ""
        c = m["counts"]
        lines.append(
            f"| `{m['name']}` | {m['role']} | `{m['threshold']}` | {m['status']} | "
            f"{c['successful']} | {c['failed']} | {c['inconclusive']} | {c['error']} | {last} |"
        )
    if data["warnings"]:
        lines += ["", "Post-deploy targets missed (reported, not a rollback):", ""]
        lines += [f"- {w}" for w in data["warnings"]]
    return "\n".join(lines) + "\n"


def render_junit(data: dict[str, Any]) -> str:
    suite = ET.Element(
        "testsuite",
        name="golive watch",
        tests=str(len(data["metrics"])),
        failures=str(sum(1 for m in data["metrics"] if m["status"] == "failed")),
        errors=str(sum(1 for m in data["metrics"] if m["status"] == "errored")),
    )
    for m in data["metrics"]:
        case = ET.SubElement(suite, "testcase", classname=f"watch.{m['role']}", name=m["name"])
        if m["status"] == "failed":
            ET.SubElement(case, "failure", message=m["why"])
        elif m["status"] == "errored":
            ET.SubElement(case, "error", message=m["why"])
        elif m["status"] == "unjudged":
            ET.SubElement(case, "skipped", message=m["why"])
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def write(result: WatchResult, target: str, out: Path, redactor: Redactor) -> dict[str, Path]:
    """Write the four files into `out`; their paths by format."""
    data = summary(result, target)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "html": ("watch.html", render_html(data)),
        "json": ("watch.json", json.dumps(data, indent=2) + "\n"),
        "markdown": ("watch.md", render_markdown(data)),
        "junit": ("junit.xml", render_junit(data)),
    }
    written = {}
    for fmt, (name, text) in files.items():
        path = out / name
        atomic_write_text(path, redactor.text(text))
        written[fmt] = path
    return written
