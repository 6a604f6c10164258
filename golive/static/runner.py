"""Run Semgrep with golive's own rules over the target's repository and read its JSON.

The semgrep CLI runs as a subprocess, offline: `--config` names only the rule files shipped
in golive/static/rules/ (never the registry), metrics and the version check are off, and a
time limit bounds the run. What it reports is split into findings (mistakes) and markers
(where Stripe events are handled, where a signature is verified); golive combines the
markers itself into the "handler that never verifies" finding (golive/static/concerns.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from golive.static.concerns import NEVER_VERIFIES, RULE_PREFIX, concern_of, never_verifies
from golive.static.findings import StaticFinding, StaticScan

RULES_DIR = Path(__file__).parent / "rules"
INSTALL_HINT = (
    "install golive's static extra: pip install 'golive[static]' (semgrep), "
    "or put a `semgrep` executable on PATH"
)
# Extensions of the languages golive has rules for: a scan that read none examined nothing.
LANGUAGES = {
    ".py": "python",
    ".js": "javascript",
    ".jsx": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".rb": "ruby",
    ".php": "php",
    ".go": "go",
}
DEFAULT_TIMEOUT_S = 300.0
# Test code is not the handler: tests sign the events they build (json.dumps then HMAC),
# which is right there. Semgrep's own default ignore already skips tests/ folders.
TEST_CODE = (
    "test_*.py",
    "*_test.py",
    "tests.py",
    "conftest.py",
    "*_test.go",
    "*.test.*",
    "*.spec.*",
    "__tests__",
    "spec",
    "test",
    "tests",
)


class StaticError(Exception):
    """Semgrep could not scan: golive's own tool failed, not a verdict on the app."""


class SemgrepMissing(StaticError):
    """No semgrep executable: the static extra is not installed."""


def semgrep_command() -> list[str]:
    """The semgrep executable: GOLIVE_SEMGREP when set, else the one installed beside this
    Python, else the one on PATH."""
    chosen = os.environ.get("GOLIVE_SEMGREP")
    if chosen:
        return [chosen]
    beside = Path(sys.executable).parent / "semgrep"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("semgrep")
    if found:
        return [found]
    raise SemgrepMissing(f"semgrep is not installed: {INSTALL_HINT}")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # Offline and quiet: no metrics, no "new version" request, no telemetry exporter.
    env.update(
        SEMGREP_SEND_METRICS="off",
        SEMGREP_ENABLE_VERSION_CHECK="0",
        OTEL_SDK_DISABLED="true",
        PYTHONWARNINGS="ignore",
    )
    return env


def run_semgrep(
    root: Path, *, timeout_s: float = DEFAULT_TIMEOUT_S, rules: Path = RULES_DIR
) -> dict[str, Any]:
    """Semgrep's JSON report of `rules` over `root` (raises StaticError when it fails)."""
    argv = semgrep_command() + [
        "scan",
        "--config",
        str(rules),
        "--metrics=off",
        "--disable-version-check",
        "--json",
        "--disable-nosem",  # report silenced matches too: golive marks and lists them
        "--timeout",
        "30",  # per file and rule
        "--max-target-bytes",
        "2000000",
        "--quiet",
        *(arg for glob in TEST_CODE for arg in ("--exclude", glob)),
        ".",
    ]
    try:
        proc = subprocess.run(
            argv,
            cwd=root,
            env=_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except FileNotFoundError as exc:
        raise SemgrepMissing(f"cannot run semgrep ({exc}): {INSTALL_HINT}") from None
    except subprocess.TimeoutExpired:
        raise StaticError(f"semgrep did not finish within {timeout_s:.0f} s on {root}") from None
    # Exit 0 (no findings) or 1 (findings) both carry a full report; others are failures.
    try:
        report = json.loads(proc.stdout or b"{}")
    except ValueError:
        report = {}
    if proc.returncode not in (0, 1) or "results" not in report:
        tail = (proc.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-3:]
        tail += [
            " ".join(str(e.get("message", "")).split())[:300] for e in report.get("errors", [])
        ]
        raise StaticError(
            f"semgrep exited {proc.returncode} on {root}: " + (" | ".join(tail) or "no output")
        )
    return report


def scan(
    root: Path,
    *,
    redact: Any = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    rules: Path = RULES_DIR,
) -> StaticScan:
    """Scan the repository at `root` with golive's rules; `redact(text)` masks messages."""
    root = Path(root)
    if not root.is_dir():
        raise StaticError(f"{root} is not a directory")
    report = run_semgrep(root, timeout_s=timeout_s, rules=rules)
    mask = redact or (lambda text: text)
    findings, markers = [], []
    for result in report.get("results", []):
        found = _finding(result, mask, root)
        if found is None:
            continue
        (markers if found.kind == "marker" else findings).append(found)
    scanned = sorted(
        p for p in report.get("paths", {}).get("scanned", []) if Path(p).suffix in LANGUAGES
    )
    findings += never_verifies(markers)
    findings.sort(key=lambda f: (f.file, f.line, f.rule))
    errors = [
        mask(f"{e.get('path') or ''} {e.get('type') or ''}: {e.get('message') or ''}".strip())[:300]
        for e in report.get("errors", [])
    ]
    return StaticScan(
        root=root,
        findings=findings,
        markers=sorted(markers, key=lambda f: (f.file, f.line, f.rule)),
        files_scanned=scanned,
        semgrep_version=str(report.get("version", "")),
        errors=errors,
    )


def _silenced(root: Path, path: str, line: int, rule: str) -> bool:
    """A `nosemgrep` comment on the finding's line, or alone on the line above it, that
    names no rule or names this one (Semgrep's own convention)."""
    try:
        lines = (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return False
    candidates = lines[line - 1 : line] if 0 < line <= len(lines) else []
    if 1 < line <= len(lines) + 1 and lines[line - 2].lstrip().startswith(("#", "//")):
        candidates.append(lines[line - 2])
    for text in candidates:
        match = _NOSEM.search(text)
        if match and (not match["ids"] or rule in match["ids"]):
            return True
    return False


_NOSEM = re.compile(r"nosemgrep(?::\s*(?P<ids>[\w.,\s-]+))?", re.IGNORECASE)


def _finding(result: dict[str, Any], mask: Any, root: Path) -> StaticFinding | None:
    check_id = str(result.get("check_id", ""))
    # Semgrep prefixes a rule's id with the folder it was loaded from: keep golive's id.
    start = check_id.find(RULE_PREFIX)
    if start < 0:
        return None
    rule = check_id[start:]
    extra = result.get("extra", {})
    meta = extra.get("metadata", {})
    line = int(result.get("start", {}).get("line", 0))
    return StaticFinding(
        rule=rule,
        concern=concern_of(meta, rule),
        kind=str(meta.get("golive-kind", "finding")),
        severity=str(extra.get("severity", "ERROR")).upper(),
        file=mask(str(result.get("path", ""))),
        line=line,
        message=mask(" ".join(str(extra.get("message", "")).split())),
        suppressed=_silenced(root, str(result.get("path", "")), line, rule),
    )


__all__ = [
    "INSTALL_HINT",
    "LANGUAGES",
    "NEVER_VERIFIES",
    "RULES_DIR",
    "SemgrepMissing",
    "StaticError",
    "StaticFinding",
    "StaticScan",
    "run_semgrep",
    "scan",
    "semgrep_command",
]
