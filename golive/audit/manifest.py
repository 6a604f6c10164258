"""manifest.json: the SHA-256 of every file a run wrote into its report folder.

A run's files are written in this order, so each record can hold the hashes of what came
before it (results.json cannot hold its own hash):

1. report.html, junit.xml, summary.md, findings.sarif, and whatever the checks wrote into
   the folder while they ran (`golive load`: Locust's CSV, HTML and JSON, its log, the
   plan, the ledger);
2. results.json, whose `manifest` holds the hashes of the files of step 1;
3. manifest.json (atomically, last): the hashes of every file of steps 1 and 2;
4. manifest.sig when the run signs (golive/audit/signing.py).

"Written by this run" is decided against a listing of the folder taken before the run
(`snapshot`): a file that is new, or whose inode, size or modification time changed. A
file that was in the folder before and that the run left alone is listed under
`not_written_by_this_run`, by name only, and `golive verify` fails on it: it is not
certified. A previous run's manifest.json and manifest.sig are removed before any report
is written, so a folder whose run did not finish writing carries no stale seal.

manifest.json's text is canonical (sorted keys, two-space indent) and carries `digest`,
the SHA-256 of that text without the digest: a byte edited anywhere in it shows, although
only a signature shows a manifest rewritten whole.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FILENAME = "manifest.json"
SIGNATURE = "manifest.sig"
RESULTS = "results.json"
FORMAT = "golive-manifest/1"
ALGORITHM = "sha256"
SEALS = (FILENAME, SIGNATURE)  # never listed: they seal the others

Snapshot = dict[str, tuple[int, int, int]]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def files_in(folder: Path) -> list[str]:
    """Every file under folder (symbolic links included, not followed), as relative POSIX
    paths, sorted."""
    if not folder.is_dir():
        return []
    found = []
    for root, dirs, names in os.walk(folder):
        base = Path(root)
        links = [d for d in dirs if (base / d).is_symlink()]
        for name in [*names, *links]:
            found.append((base / name).relative_to(folder).as_posix())
    return sorted(found)


def snapshot(folder: Path) -> Snapshot:
    """What the folder holds before a run: each file's (inode, size, mtime in ns)."""
    taken: Snapshot = {}
    for name in files_in(folder):
        with contextlib.suppress(OSError):
            st = os.lstat(folder / name)
            taken[name] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return taken


def written_since(folder: Path, before: Snapshot) -> list[str]:
    """The files the run wrote: new ones, and those whose inode, size or mtime changed."""
    written = []
    for name in files_in(folder):
        try:
            st = os.lstat(folder / name)
        except OSError:
            continue
        if before.get(name) != (st.st_ino, st.st_size, st.st_mtime_ns):
            written.append(name)
    return written


def unseal(folder: Path) -> None:
    """Remove a previous run's manifest.json and manifest.sig before writing anything."""
    for name in SEALS:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            (folder / name).unlink()


def render(files: dict[str, str], not_written: list[str]) -> str:
    body: dict[str, Any] = {
        "format": FORMAT,
        "algorithm": ALGORITHM,
        "files": dict(sorted(files.items())),
        "not_written_by_this_run": sorted(not_written),
    }
    body["digest"] = _digest(body)
    return _canonical(body)


@dataclass
class Manifest:
    files: dict[str, str]
    not_written: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # how its text was changed, if it was


class NotAManifest(ValueError):
    """The text is not a golive manifest at all."""


def parse(text: str) -> Manifest:
    """The manifest's content, with what shows it was edited in `problems`; NotAManifest
    when nothing of it can be used."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise NotAManifest(f"not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        raise NotAManifest("not a golive manifest (no `files` object)")
    files = {str(k): str(v) for k, v in data["files"].items()}
    stale = data.get("not_written_by_this_run")
    manifest = Manifest(files, [str(n) for n in stale] if isinstance(stale, list) else [])
    if data.get("format") != FORMAT or data.get("algorithm") != ALGORITHM:
        manifest.problems.append(f"its format is not {FORMAT} with {ALGORITHM}")
    body = {k: v for k, v in data.items() if k != "digest"}
    if data.get("digest") != _digest(body):
        manifest.problems.append("its digest does not match its content")
    elif _canonical(data) != text:
        manifest.problems.append("its text is not as golive wrote it")
    return manifest


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(body).encode("utf-8")).hexdigest()


def _canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
