"""Writing a run's evidence bundle (golive-evidence-<commit>.tar.gz) once its reports are out.

Members (layout.py names them): report/… every file the run wrote to its report folder
(reports, findings.sarif, a load run's Locust files, whatever else the run put there),
inputs/… what it judged with (inputs.py), and bundle.json, the index: each member's name,
kind, size and sha256, an input's original path, and whether redaction changed it. Every
member passes through the run's Redactor; a file that is not UTF-8 text cannot be redacted
and stays out, as do files in the report folder older than the run and the env file.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from golive import __version__
from golive.evidence import archive, layout
from golive.evidence.inputs import Input, LeftOut, env_file, run_inputs
from golive.redact import Redactor
from golive.results import RunResult

# Filesystem timestamps may be coarser than the clock: a file written in the run's first
# instant may carry a time a little before it.
_MTIME_SLACK_S = 2.0
_JSON_SUFFIXES = (".json", ".sarif")
_TAR_SUFFIXES = (".tar.gz", ".tgz")


def attach(
    prepared: Any,
    result: RunResult,
    out: Path,
    paths: dict[str, Path] | None,
    where: str | Path | None,
) -> dict[str, Path] | None:
    """golive/reported.py's hook, called once every other file of the run is written.
    `where`: None (no bundle asked), "" (next to the report folder) or the --bundle PATH.
    Returns the report paths with "bundle" added, or None when the bundle could not be
    written (the command then ends with exit code 3, as for a report it could not write)."""
    if where is None or paths is None:
        return paths
    redactor = prepared.target.redactor
    try:
        path = write_bundle(prepared, result, Path(out), where)
    except Exception as exc:  # noqa: BLE001 - the verdict still reaches the terminal
        print(
            f"golive: {redactor.text(f'could not write the evidence bundle: {exc}')}",
            file=sys.stderr,
        )
        return None
    return {**paths, "bundle": path}


def destination(meta_name: str, out: Path, where: str | Path) -> Path:
    """The bundle's path: `--bundle` alone puts it beside the report folder; a PATH ending
    in .tar.gz or .tgz is the file; any other PATH is a folder to put it in."""
    if where == "":
        return out.absolute().parent / meta_name
    target = Path(where)
    if target.name.endswith(_TAR_SUFFIXES):
        return target
    return target / meta_name


def write_bundle(prepared: Any, result: RunResult, out: Path, where: str | Path) -> Path:
    redactor: Redactor = prepared.target.redactor
    path = destination(layout.bundle_name(result.meta), out, where)
    inputs, left_out = run_inputs(prepared)
    reports, more_left_out = _report_files(prepared, result, out, path)
    members: dict[str, bytes] = {}
    index: list[dict[str, Any]] = []
    for item in reports + inputs:
        data, redacted = _redacted(item, redactor)
        if data is None:
            left_out.append(LeftOut(item.source or item.name, "not UTF-8 text: cannot be redacted"))
            continue
        members[item.name] = data
        entry: dict[str, Any] = {
            "name": item.name,
            "kind": item.kind,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "redacted": redacted,
        }
        if item.kind != layout.KIND_REPORT and item.source:
            entry["source"] = redactor.text(item.source)
        index.append(entry)
    left_out += more_left_out
    members[layout.INDEX] = _index(result, index, left_out, redactor)
    archive.write(path, members, int(result.meta.started_at.timestamp()))
    return path


def _report_files(
    prepared: Any, result: RunResult, out: Path, bundle: Path
) -> tuple[list[Input], list[LeftOut]]:
    """Every regular file under the report folder that this run wrote (its mtime is not
    older than the run's start): reports, a manifest, findings.sarif, Locust's files."""
    since = result.meta.started_at.timestamp() - _MTIME_SLACK_S
    never = {p.resolve() for p in (bundle, env_file(prepared)) if p is not None}
    found: list[Input] = []
    left_out: list[LeftOut] = []
    for path in sorted(Path(out).rglob("*")):
        relative = path.relative_to(out).as_posix()
        if path.is_symlink() or not path.is_file() or path.name.startswith("."):
            continue  # (a hidden file is a writer's temporary one)
        if path.resolve() in never:
            left_out.append(LeftOut(str(path), "the env file or the bundle itself"))
        elif path.stat().st_mtime < since:
            left_out.append(LeftOut(str(path), "older than the run: not written by it"))
        elif not layout.SAFE_NAME.match(relative):
            left_out.append(LeftOut(str(path), "a name unsafe in an archive"))
        else:
            found.append(
                Input(f"{layout.REPORT_DIR}/{relative}", layout.KIND_REPORT, path.read_bytes())
            )
    return found, left_out


def _redacted(item: Input, redactor: Redactor) -> tuple[bytes | None, bool]:
    """(the member's bytes after redaction, whether redaction changed them); None for bytes
    that are not UTF-8 text."""
    from golive.reports.json_report import redact_text

    try:
        text = item.data.decode("utf-8")
    except UnicodeDecodeError:
        return None, False
    if item.name.endswith(_JSON_SUFFIXES):
        try:
            clean = redact_text(text, redactor)  # stays valid JSON
        except ValueError:  # not JSON after all
            clean = redactor.text(text)
    else:
        clean = redactor.text(text)
    return clean.encode("utf-8"), clean != text


def _index(
    result: RunResult, members: list[dict[str, Any]], left_out: list[LeftOut], redactor: Redactor
) -> bytes:
    # Redacted field by field: the names and texts; the digests are no secret.
    meta = result.meta
    index = {
        "format": layout.FORMAT,
        "golive": __version__,
        "run": {
            "verdict": result.verdict.value,
            "exit_code": result.exit_code,
            "profile": redactor.text(meta.profile_name),
            "target_git_sha": meta.target_git_sha,
            "started_at": meta.started_at.isoformat(),
            "judged_at": meta.judged_at.isoformat() if meta.judged_at else None,
        },
        "members": sorted(members, key=lambda m: m["name"]),
        "left_out": [redactor.value(asdict(entry)) for entry in left_out],
    }
    return (json.dumps(index, indent=2, ensure_ascii=False) + "\n").encode()
