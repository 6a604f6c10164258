"""Checking a report folder against its manifest, its inputs and its signature.

Every problem is one line naming the file. `problems` make `golive verify` exit 1;
`warnings` (an input not on this machine) do not, unless --require-inputs; `notes` say
what was checked. Usage errors (not a report folder) are InputError: exit 2.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from golive.audit import manifest, signing
from golive.errors import InputError


@dataclass
class Verification:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def verify(
    folder: Path, key: Ed25519PublicKey | None = None, *, require_inputs: bool = False
) -> Verification:
    found = Verification()
    if not folder.is_dir():
        raise InputError("not a folder", file=folder, hint="name a golive report folder (--out)")
    results = _results(folder)
    listed = _manifest(folder, results, found)
    _files(folder, listed, found)
    if results is not None and listed.files.get(manifest.RESULTS) == _hash(
        folder / manifest.RESULTS
    ):
        _cross_check(folder, results, listed, found)
    if results is not None:
        _inputs(results, found, require_inputs)
    _signature(folder, key, found)
    return found


def _results(folder: Path) -> dict[str, Any] | None:
    """results.json's content when it is readable JSON (a changed one shows by its hash)."""
    try:
        data = json.loads((folder / manifest.RESULTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _manifest(
    folder: Path, results: dict[str, Any] | None, found: Verification
) -> manifest.Manifest:
    path = folder / manifest.FILENAME
    has_results = (folder / manifest.RESULTS).exists()
    if not path.exists():
        if not has_results:
            raise InputError(
                "not a golive report folder: it has neither manifest.json nor results.json",
                file=folder,
            )
        if results is not None and "manifest" not in results:
            raise InputError(
                "written by a golive without manifests (results.json schema "
                f"{results.get('schema_version')}): there is nothing to verify",
                file=folder,
                hint="run the gate again with this golive",
            )
        found.problems.append(f"{manifest.FILENAME}: missing (deleted after the run)")
        # What is left to check against: results.json's own record of the other files.
        return manifest.Manifest(dict((results or {}).get("manifest") or {}))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the manifest ({exc.strerror})", file=path) from None
    except UnicodeDecodeError:
        text = ""
    try:
        listed = manifest.parse(text)
    except manifest.NotAManifest as exc:
        if not has_results:
            raise InputError(f"unreadable manifest: {exc}", file=path) from None
        found.problems.append(f"{manifest.FILENAME}: changed after the run ({exc})")
        return manifest.Manifest(dict((results or {}).get("manifest") or {}))
    for problem in listed.problems:
        found.problems.append(f"{manifest.FILENAME}: changed after the run ({problem})")
    return listed


def _files(folder: Path, listed: manifest.Manifest, found: Verification) -> None:
    matching = 0
    for name, recorded in sorted(listed.files.items()):
        path = folder / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            found.problems.append(
                f"{manifest.FILENAME}: changed (lists {name}, outside the folder)"
            )
        elif not path.is_file():
            found.problems.append(f"{name}: missing (deleted after the run)")
        elif (now := _hash(path)) != recorded:
            found.problems.append(
                f"{name}: changed after the run (sha256 {now[:12]}…, the manifest "
                f"records {recorded[:12]}…)"
            )
        else:
            matching += 1
    for name in manifest.files_in(folder):
        if name in listed.files or name in manifest.SEALS:
            continue
        if name == manifest.RESULTS:  # a manifest without it: its own problem is named
            continue
        if name in listed.not_written:
            found.problems.append(
                f"{name}: not written by this run (it was in the folder before): not "
                "certified; remove it, or write the reports into an empty --out"
            )
        else:
            found.problems.append(f"{name}: added after the run (not in the manifest)")
    found.notes.append(f"{matching} of {len(listed.files)} files match the manifest")


def _cross_check(
    folder: Path, results: dict[str, Any], listed: manifest.Manifest, found: Verification
) -> None:
    """results.json (itself intact) records the other files too: manifest.json must agree."""
    recorded = results.get("manifest") or {}
    for name, digest in sorted(recorded.items()):
        if listed.files.get(name) == digest:
            continue
        if listed.files.get(name) is None:
            found.problems.append(f"{manifest.FILENAME}: changed after the run ({name} removed)")
            continue
        found.problems.append(
            f"{manifest.FILENAME}: changed after the run (its entry for {name} is not the "
            "one results.json records)"
        )
        if (folder / name).is_file() and _hash(folder / name) != digest:
            found.problems.append(f"{name}: changed after the run (results.json records another)")
    extra = set(listed.files) - set(recorded) - {manifest.RESULTS}
    for name in sorted(extra):
        found.problems.append(
            f"{manifest.FILENAME}: changed after the run (lists {name}, which results.json "
            "does not)"
        )


def _inputs(results: dict[str, Any], found: Verification, require: bool) -> None:
    checked = 0
    for record in results.get("inputs") or []:
        if not isinstance(record, dict) or not record.get("path"):
            continue  # a setup command: its text is in the profile, hashed as a file
        path, kind = Path(str(record["path"])), record.get("kind", "input")
        if not path.is_file():
            message = f"input {path} ({kind}): not on this machine, not checked"
            (found.problems if require else found.warnings).append(message)
            continue
        checked += 1
        if _hash(path) != record.get("sha256"):
            found.problems.append(f"input {path} ({kind}): changed since the run")
    found.notes.append(f"{checked} recorded inputs re-hashed")


def _signature(folder: Path, key: Ed25519PublicKey | None, found: Verification) -> None:
    path = folder / manifest.SIGNATURE
    expected = signing.fingerprint(key) if key else None
    if not path.exists():
        if key is not None:
            found.problems.append(
                f"unsigned report: no {manifest.SIGNATURE}, but --key {expected} was given"
            )
        else:
            found.notes.append("unsigned (no manifest.sig)")
        return
    try:
        signature = signing.parse_signature(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        found.problems.append(f"{manifest.SIGNATURE}: changed after signing ({exc})")
        return
    try:
        signed = (folder / manifest.FILENAME).read_bytes()
    except OSError:
        signed = b""
    if key is not None and signature.signs(signed, key):
        found.notes.append(f"signed by --key {expected}")
    elif not signature.signs(signed):
        found.problems.append(
            f"{manifest.FILENAME}: changed after signing (the signature by "
            f"{signature.fingerprint} no longer matches it)"
        )
    elif key is not None:
        found.problems.append(
            f"re-signed report: {manifest.SIGNATURE} is a valid signature by another key "
            f"({signature.fingerprint}), not by --key ({expected})"
        )
    else:
        found.notes.append(
            f"signed by {signature.fingerprint} (pass --key PUB.pem to check it is the "
            "key you trust)"
        )


def _hash(path: Path) -> str | None:
    try:
        return manifest.sha256_of(path)
    except OSError:
        return None
