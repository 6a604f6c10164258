"""What a static scan found: rule matches at file:line, and the scan they came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StaticFinding:
    """One rule match, at file:line (a path relative to the scanned root)."""

    rule: str  # golive's rule id, e.g. golive.webhook.conditional-verification.python
    concern: str  # the class of mistake, shared by the rule's languages
    kind: str  # "finding" or "marker"
    severity: str  # semgrep's: ERROR, WARNING, INFO
    file: str
    line: int
    message: str  # redacted
    suppressed: bool = False  # a `nosemgrep` comment in the app's source silences it

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def to_evidence(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.lower(),
            "where": self.where,
            "message": self.message,
            **({"suppressed": "nosemgrep comment in the source"} if self.suppressed else {}),
        }


@dataclass
class StaticScan:
    root: Path
    findings: list[StaticFinding]  # mistakes, suppressed ones included (marked)
    markers: list[StaticFinding]
    files_scanned: list[str]  # files of a supported language
    semgrep_version: str = ""
    errors: list[str] = field(default_factory=list)  # files semgrep could not parse, …

    @property
    def active(self) -> list[StaticFinding]:
        """The findings that count: not silenced by a nosemgrep comment."""
        return [f for f in self.findings if not f.suppressed]

    def about(self, concerns: set[str] | frozenset[str]) -> list[StaticFinding]:
        return [f for f in self.findings if f.concern in concerns]
