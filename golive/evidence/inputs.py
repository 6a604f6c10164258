"""The inputs a run judged with, read back for its bundle.

The checklist, the profile, the attestation and waiver files (as they are after the setup
commands, which may write them: the demo dates its sign-offs relative to the run), and the
setup commands' texts. A sign-off file goes in only if what it holds now is what the run
judged with (a file a setup wrote from an earlier run, which this run never read because it
was interrupted before its setup, stays out, and bundle.json says why). The env file never
goes in: it holds the target's secrets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from golive import attestations, waivers
from golive.errors import InputError
from golive.evidence import layout


@dataclass
class Input:
    name: str  # the member's name in the bundle
    kind: str
    data: bytes
    source: str | None = None  # the original file, when there is one


@dataclass
class LeftOut:
    path: str
    why: str


def env_file(prepared: Any) -> Path | None:
    spec = prepared.profile.model.env
    return prepared.profile.resolve(spec.file) if spec.source == "file" and spec.file else None


def run_inputs(prepared: Any) -> tuple[list[Input], list[LeftOut]]:
    """(inputs to bundle, files deliberately left out and why). OSError when a file the run
    read cannot be read any more."""
    profile, the_checklist = prepared.profile, prepared.checklist
    found = [
        _file(layout.CHECKLIST, layout.KIND_CHECKLIST, Path(the_checklist.path)),
        _file(layout.PROFILE, layout.KIND_PROFILE, profile.path),
    ]
    left_out: list[LeftOut] = []
    secrets = env_file(prepared)
    if secrets is not None:
        left_out.append(LeftOut(str(secrets), "the target's env file holds its secrets"))

    run_entries = prepared.attestations.entries
    for index, path in enumerate(profile.attestation_files, start=1):
        why = _unused(path, run_entries, lambda p: attestations.load([p], the_checklist).entries)
        if why:
            left_out.append(LeftOut(str(path), why))
            continue
        name = f"{layout.ATTESTATIONS_DIR}/{index:02d}-{path.name}"
        found.append(_file(name, layout.KIND_ATTESTATIONS, path))
    waiver_file = profile.waiver_file
    if waiver_file is not None:
        why = _unused(
            waiver_file, prepared.waivers.entries, lambda p: waivers.load(p, the_checklist).entries
        )
        if why:
            left_out.append(LeftOut(str(waiver_file), why))
        else:
            found.append(_file(layout.WAIVERS, layout.KIND_WAIVERS, waiver_file))
    setup = json.dumps({"commands": list(profile.model.setup)}, indent=2, ensure_ascii=False)
    found.append(Input(layout.SETUP, layout.KIND_SETUP, (setup + "\n").encode("utf-8")))
    return found, left_out


def _file(name: str, kind: str, path: Path) -> Input:
    return Input(name, kind, path.read_bytes(), str(path))


def _unused(path: Path, run_entries: list[Any], load: Any) -> str | None:
    """Why the file is not what the run judged with; None when it is."""
    if not path.is_file():
        return "not there when the bundle was written (the run never read it)"
    try:
        entries = load(path)
    except InputError as exc:
        return f"it no longer reads as a sign-off file: {exc}"
    if any(entry not in run_entries for entry in entries):
        return "it holds entries the run did not judge with (changed, or never read by the run)"
    return None
