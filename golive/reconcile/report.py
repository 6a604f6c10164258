"""What `golive reconcile --out DIR` writes:

    findings.csv   every finding, one row each, written as it is found
    results.json   the summary and every finding (read back from the CSV, streamed)
    summary.md     the summary and the first findings, for a CI job's page
    report.html    the same as one self-contained page (reports/templates/reconcile.html.j2)
    junit.xml      one test case per kind of finding: a failure when there are any

Every text passes the run's redactor.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from golive.reconcile.engine import Result
from golive.reconcile.match import KINDS, Finding
from golive.redact import Redactor

CSV = "findings.csv"
FILES = ("results.json", "summary.md", "report.html", "junit.xml", CSV)
SHOWN = 200  # findings listed in summary.md and report.html (all are in the CSV and JSON)
COLUMNS = ("kind", "payment_intent", "order_id", "stripe", "order", "detail")


class CsvSink:
    """Writes each finding to findings.csv as it is found; keeps the first SHOWN."""

    def __init__(self, path: Path, redactor: Redactor) -> None:
        self.path = path
        self._redactor = redactor
        self._file = path.open("w", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._file, fieldnames=COLUMNS)
        self._writer.writeheader()
        self.first: list[dict[str, str]] = []

    def add(self, finding: Finding) -> None:
        row = {k: self._redactor.text(str(v)) for k, v in finding.row().items()}
        self._writer.writerow(row)
        if len(self.first) < SHOWN:
            self.first.append(row)

    def close(self) -> None:
        self._file.close()


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def write(out: Path, result: Result, sink: CsvSink, redactor: Redactor, status: str) -> None:
    """results.json, summary.md, report.html and junit.xml beside the sink's CSV."""
    summary = redactor.value({"status": status, **result.summary()})
    _json(out / "results.json", summary, sink.path)
    (out / "summary.md").write_text(_markdown(summary, sink.first), encoding="utf-8")
    (out / "report.html").write_text(_html(summary, sink.first), encoding="utf-8")
    (out / "junit.xml").write_text(_junit(summary, sink.first), encoding="utf-8")


def _json(path: Path, summary: dict[str, Any], csv_path: Path) -> None:
    # The findings are streamed from the CSV: never all in memory at once.
    with path.open("w", encoding="utf-8") as handle:
        head = json.dumps({"summary": summary}, indent=2)
        handle.write(head[: head.rstrip().rfind("}")].rstrip() + ',\n  "findings": [')
        for n, row in enumerate(_rows(csv_path)):
            handle.write(("," if n else "") + "\n    " + json.dumps(row))
        handle.write("\n  ]\n}\n")


def _markdown(summary: dict[str, Any], first: list[dict[str, str]]) -> str:
    window = summary["window"]
    lines = [
        f"# golive reconcile: {summary['status']}",
        "",
        f"Window {window['from']} → {window['to']}; orders from {summary['orders_source']}.",
        "",
        "| payments | succeeded | orders | matched | findings |",
        "| ---: | ---: | ---: | ---: | ---: |",
        f"| {summary['payments']} | {summary['succeeded']} | {summary['orders']} | "
        f"{summary['matched']} | {summary['findings']} |",
        "",
    ]
    if summary["by_kind"]:
        lines += ["| finding | count |", "| --- | ---: |"]
        lines += [f"| {kind} | {count} |" for kind, count in summary["by_kind"].items()]
        lines.append("")
    fee, latency = summary["platform_fee"], summary["order_creation_ms"]
    lines.append(
        f"Stripe: {summary['refunds_listed']} refunds and {summary['disputes_listed']} "
        "disputes listed. "
        f"Platform fee: {fee['collected']} collected over {fee['orders']} paid orders"
        + (f" (the pricing rules give {fee['expected']})" if fee["expected"] is not None else "")
        + f". Order creation: {latency['samples']} samples, avg {latency['avg']} ms, "
        f"max {latency['max']} ms."
    )
    for note in summary["notes"]:
        lines += ["", f"Note: {note}"]
    if first:
        lines += [
            "",
            "| kind | PaymentIntent | order | Stripe | app | detail |",
            *["| --- " * 6 + "|"],
        ]
        lines += ["| " + " | ".join(_md(row[c]) for c in COLUMNS) + " |" for row in first[:SHOWN]]
        if summary["findings"] > len(first):
            lines += ["", f"… {summary['findings'] - len(first)} more in findings.csv."]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _html(summary: dict[str, Any], first: list[dict[str, str]]) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    from golive.reports.html import TEMPLATES

    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined
    )
    return env.get_template("reconcile.html.j2").render(
        summary=summary, findings=first, columns=COLUMNS, more=summary["findings"] - len(first)
    )


def _junit(summary: dict[str, Any], first: list[dict[str, str]]) -> str:
    by_kind = summary["by_kind"]
    suite = ET.Element(
        "testsuite",
        name="golive reconcile",
        tests=str(len(KINDS)),
        failures=str(sum(1 for k in KINDS if by_kind.get(k))),
        errors="0",
    )
    for kind in KINDS:
        case = ET.SubElement(suite, "testcase", classname="reconcile", name=kind)
        count = by_kind.get(kind, 0)
        if count:
            examples = [row for row in first if row["kind"] == kind][:10]
            failure = ET.SubElement(case, "failure", message=f"{count} {kind} finding(s)")
            failure.text = "\n".join(
                f"{r['payment_intent']} / order {r['order_id']}: {r['detail']}" for r in examples
            )
    ET.indent(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode")
