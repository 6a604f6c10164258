"""findings.sarif: golive's static findings as SARIF 2.1.0, for code-scanning UIs.

One run, tool "golive", one reportingDescriptor per golive rule that matched (ids as in
golive/static/rules/), locations relative to the repository root (uriBaseId REPO). Findings
silenced by a `nosemgrep` comment carry an in-source suppression, as SARIF defines it.
Messages are the redacted ones the checks show.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from golive import __version__
from golive.static.concerns import CONCERNS
from golive.static.findings import StaticFinding, StaticScan

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FILENAME = "findings.sarif"
_LEVELS = {"ERROR": "error", "WARNING": "warning", "INFO": "note"}


def _rule(finding: StaticFinding) -> dict[str, Any]:
    summary = CONCERNS.get(finding.concern, finding.concern)
    return {
        "id": finding.rule,
        "name": finding.concern,
        "shortDescription": {"text": summary},
        "defaultConfiguration": {"level": _LEVELS.get(finding.severity, "warning")},
        "properties": {"tags": ["security", "stripe", "webhook"]},
    }


def _result(finding: StaticFinding, index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": index,
        "level": _LEVELS.get(finding.severity, "warning"),
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": finding.file, "uriBaseId": "REPO"},
                    "region": {"startLine": max(finding.line, 1)},
                }
            }
        ],
    }
    if finding.suppressed:
        result["suppressions"] = [
            {"kind": "inSource", "justification": "nosemgrep comment in the source"}
        ]
    return result


def render(scan: StaticScan) -> dict[str, Any]:
    """The SARIF log of one scan's findings (markers are not findings)."""
    rules: dict[str, int] = {}
    descriptors, results = [], []
    for finding in scan.findings:
        if finding.rule not in rules:
            rules[finding.rule] = len(descriptors)
            descriptors.append(_rule(finding))
        results.append(_result(finding, rules[finding.rule]))
    root = scan.root.resolve().as_uri().rstrip("/") + "/"
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "golive",
                        "version": __version__,
                        "rules": descriptors,
                    }
                },
                "originalUriBaseIds": {"REPO": {"uri": root}},
                "results": results,
                "properties": {
                    "semgrepVersion": scan.semgrep_version,
                    "filesScanned": len(scan.files_scanned),
                },
            }
        ],
    }


def write_sarif(scans: list[StaticScan], out: Path) -> Path | None:
    """Write findings.sarif into `out` when any scan found something; else write nothing."""
    with_findings = [s for s in scans if s.findings]
    if not with_findings:
        return None
    log = render(with_findings[0])
    for extra in with_findings[1:]:
        log["runs"] += render(extra)["runs"]
    path = Path(out) / FILENAME
    path.write_text(json.dumps(log, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
