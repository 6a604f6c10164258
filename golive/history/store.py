"""results.json files read back, and the --history folder that keeps the last N runs.

A file that cannot be read or is not a golive results.json is an InputError naming it
(exit 2). Fields this golive does not know (a results.json from a newer golive) are left
out with a note, so an older golive can still compare with it; anything else that does not
fit the results model is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from golive.errors import InputError
from golive.results import BaselineRun, RunResult, Verdict

RESULTS = "results.json"
DEFAULT_KEEP = 20
# results-20261126T120000.123456Z.json: names sort as the start times do.
_NAME = re.compile(r"^results-(\d{8}T\d{6}\.\d{6}Z)(?:-(\d+))?\.json$")


@dataclass
class Loaded:
    path: Path
    result: RunResult
    sha256: str
    notes: list[str] = field(default_factory=list)

    def ref(self) -> BaselineRun:
        meta = self.result.meta
        return BaselineRun(
            path=str(self.path),
            sha256=self.sha256,
            started_at=meta.started_at,
            verdict=self.result.verdict,
            target_git_sha=meta.target_git_sha,
            profile_name=meta.profile_name,
            checklist_sha256=meta.checklist_sha256,
        )


def results_path(path: Path) -> Path:
    """A results.json file, or the report folder holding one."""
    return path / RESULTS if path.is_dir() else path


def load(path: Path) -> Loaded:
    """Read one run's results (a results.json or a report folder) or raise InputError."""
    file = results_path(path)
    hint = "pass a golive results.json, or the report folder (--out) that holds one"
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", file=file, hint=hint) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror})", file=file, hint=hint) from None
    try:
        raw = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise InputError(f"is not JSON ({exc})", file=file, line=line, hint=hint) from None
    if not isinstance(raw, dict) or "items" not in raw or "meta" not in raw:
        raise InputError(
            "is not a golive results.json (no `meta` and `items`)", file=file, hint=hint
        )
    notes: list[str] = []
    try:
        result = _validate(raw, notes, file)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputError(
            f"is not a results.json golive can read: {where}: {first['msg']} "
            f"({exc.error_count()} problem(s))",
            file=file,
            hint=hint,
        ) from None
    return Loaded(file, result, hashlib.sha256(data).hexdigest(), notes)


def _validate(raw: dict[str, Any], notes: list[str], file: Path) -> RunResult:
    """RunResult of raw; fields unknown to this golive are dropped once, with a note."""
    try:
        return RunResult.model_validate(raw)
    except ValidationError as exc:
        extra = [e["loc"] for e in exc.errors() if e["type"] == "extra_forbidden"]
        if not extra or len(extra) != exc.error_count():
            raise
    for loc in extra:
        parent: Any = raw
        for part in loc[:-1]:
            parent = parent[part]
        parent.pop(loc[-1], None)
    dropped = sorted({".".join(str(p) for p in loc if not isinstance(p, int)) for loc in extra})
    notes.append(
        f"{file} has fields this golive does not know ({', '.join(dropped[:5])}"
        f"{', …' if len(dropped) > 5 else ''}; schema {raw.get('schema_version', '?')}): "
        "they were left out"
    )
    return RunResult.model_validate(raw)


# --- the history folder -----------------------------------------------------------------------


def check_folder(folder: Path) -> None:
    """InputError unless `folder` is a folder golive may keep runs in (or make)."""
    from golive import outdir

    outdir.check_writable(folder, option="--history")


def runs(folder: Path) -> list[Path]:
    """The kept runs' files, oldest first (other files in the folder are not golive's)."""
    if not folder.is_dir():
        return []
    found = [(m, p) for p in folder.iterdir() if (m := _NAME.match(p.name)) and p.is_file()]
    # (start time, then the -2, -3 of runs that started in the same microsecond)
    found.sort(key=lambda pair: (pair[0][1], int(pair[0][2] or 1)))
    return [path for _, path in found]


def load_all(folder: Path) -> list[Loaded]:
    """Every kept run, oldest first; a broken one is an InputError naming it."""
    loaded = []
    for path in runs(folder):
        try:
            loaded.append(load(path))
        except InputError as exc:
            exc.hint = f"remove it from the history folder {folder}"
            raise
    return loaded


def keep(results: Path, result: RunResult, folder: Path, keep_last: int) -> Path | None:
    """Copy a run's results.json into the folder, named by its start time, and remove the
    oldest beyond `keep_last`. An INCOMPLETE run is not kept: it would be a poor baseline
    (every item it did not reach looks changed). Returns the copy's path."""
    if result.verdict == Verdict.INCOMPLETE:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    stamp = result.meta.started_at.strftime("%Y%m%dT%H%M%S.%fZ")
    target, n = folder / f"results-{stamp}.json", 1
    while target.exists():
        n += 1
        target = folder / f"results-{stamp}-{n}.json"
    tmp = folder / f".{target.name}.{os.getpid()}.tmp"
    shutil.copyfile(results, tmp)
    os.replace(tmp, target)
    for old in runs(folder)[:-keep_last]:
        old.unlink(missing_ok=True)
    return target
