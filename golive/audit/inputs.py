"""The inputs a run read, each with its SHA-256: what results.json's `inputs` records.

Hashed when the run reads them: the checklist (its hash is taken as it is parsed), the
extra check modules of the profile's `check_paths`, the profile, the attestations and
waivers files, and the text of each `setup:` command. A sign-off file that a setup command
writes (the demo's .build/signoffs.yaml) is hashed after the setup, when the run reads it
(gate.boot collects the inputs again then). Paths are absolute, as the run opened them:
`golive verify` re-hashes each at that path.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from golive.audit.manifest import sha256_of
from golive.checklist import Checklist
from golive.profile import Profile
from golive.redact import Redactor
from golive.results import InputKind, InputRecord


def collect(
    profile: Profile, checklist: Checklist, redactor: Redactor, *, deferred: bool
) -> list[InputRecord]:
    """The run's inputs. `deferred`: before the setup, the files it has yet to write are
    left out (boot collects again after it)."""
    records = [InputRecord(kind="checklist", path=str(checklist.path), sha256=checklist.sha256)]
    for folder in profile.extra_check_paths:
        records += [_file("check-module", path) for path in _modules(folder)]
    records.append(_file("profile", profile.path))
    signoffs: list[tuple[InputKind, Path]] = [
        ("attestations", path) for path in profile.attestation_files
    ]
    if profile.waiver_file is not None:
        signoffs.append(("waivers", profile.waiver_file))
    for kind, path in signoffs:
        if deferred and profile.built_by_setup(path):
            continue
        if path.is_file():  # (a missing one is the loaders' error, named by them)
            records.append(_file(kind, path))
    for command in profile.model.setup:
        records.append(
            InputRecord(
                kind="setup-command",
                sha256=hashlib.sha256(command.encode("utf-8")).hexdigest(),
                text=redactor.text(command),
            )
        )
    return records


def _file(kind: InputKind, path: Path) -> InputRecord:
    resolved = path.resolve()
    return InputRecord(kind=kind, path=str(resolved), sha256=sha256_of(resolved))


def _modules(folder: Path) -> list[Path]:
    """The Python files pytest may import from a check folder (checks and conftest)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)
