"""`golive verdict BUNDLE`: the verdict recomputed from an evidence bundle alone.

No network, no target, no report folder: the bundled checklist, attestation and waiver
files are read again (golive/checklist.py, attestations.py, waivers.py), each item of the
bundled results.json is folded again from its recorded check results with the time the run
judged as of (meta.judged_at), and the verdict is decided again from those items and the
run's recorded harness errors (golive/fold.py). Agreement means the recorded verdict
follows from the recorded check results and the bundled inputs.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from golive import attestations, waivers, yamlsrc
from golive.checklist import Checklist, ChecklistModel
from golive.errors import InputError
from golive.evidence import archive, layout
from golive.fold import fold_item, verdict
from golive.results import ItemResult, RunResult, Verdict
from golive.validation import validate


@dataclass
class Difference:
    item: str
    recorded: str
    recomputed: str


@dataclass
class Recomputation:
    bundle: Path
    members: int
    recorded: RunResult
    verdict: Verdict
    reasons: list[str]
    items: list[ItemResult]
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return self.verdict == self.recorded.verdict and not self.differences


def recompute(bundle: Path) -> Recomputation:
    """InputError naming the bundle and the member when the bundle cannot be read."""
    members = archive.read(bundle)
    index = _index(bundle, members)
    recorded = _results(bundle, members)
    now = recorded.meta.judged_at
    if now is None:
        raise _member_error(
            bundle,
            layout.RESULTS,
            "records no meta.judged_at (the time the run judged as of)",
            "bundles from golive before results schema 1.3 cannot be recomputed",
        )
    notes: list[str] = []
    the_checklist = _checklist(bundle, members, index, recorded, notes)
    with tempfile.TemporaryDirectory(prefix="golive-verdict-") as scratch:
        book, waiver_book = _signoffs(bundle, members, index, the_checklist, Path(scratch))

    items: list[ItemResult] = []
    differences: list[Difference] = []
    for item in recorded.items:
        spec = the_checklist.items.get(item.id)
        if spec is None:
            raise _member_error(
                bundle, layout.RESULTS, f"item {item.id} is not in the bundled checklist"
            )
        again = fold_item(spec, the_checklist, item.checks, book, waiver_book, now)
        items.append(again)
        if again.outcome != item.outcome:
            differences.append(Difference(item.id, item.outcome.value, again.outcome.value))
    meta = recorded.meta
    selected = the_checklist.select(
        meta.phases,
        meta.selection.get("sections", []),
        meta.selection.get("items", []),
        meta.selection.get("tags", []),
    )
    recorded_ids = {i.id for i in recorded.items}
    for spec in selected:
        if spec.id not in recorded_ids:
            differences.append(Difference(spec.id, "missing from results.json", "selected"))
    selected_ids = {s.id for s in selected}
    for item in recorded.items:
        if item.id not in selected_ids:
            differences.append(Difference(item.id, item.outcome.value, "not selected by the run"))
    the_verdict, reasons = verdict(items, recorded.errors)
    return Recomputation(
        bundle, len(members), recorded, the_verdict, reasons, items, differences, notes
    )


def _index(bundle: Path, members: dict[str, bytes]) -> dict[str, Any]:
    """bundle.json, with every member's sha256 checked against it."""
    if layout.INDEX not in members:
        raise _member_error(bundle, layout.INDEX, "is missing")
    try:
        index = json.loads(members[layout.INDEX])
        listed = {entry["name"]: entry for entry in index["members"]}
        hashes = {name: entry["sha256"] for name, entry in listed.items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise _member_error(bundle, layout.INDEX, f"is not a bundle index ({exc})") from None
    if index.get("format") != layout.FORMAT:
        raise _member_error(
            bundle, layout.INDEX, f"has format {index.get('format')!r}, not {layout.FORMAT!r}"
        )
    for name, data in sorted(members.items()):
        if name == layout.INDEX:
            continue
        if name not in hashes:
            raise _member_error(bundle, name, "is not listed in bundle.json")
        if hashlib.sha256(data).hexdigest() != hashes[name]:
            raise _member_error(bundle, name, "does not match its sha256 in bundle.json")
    for name in sorted(set(hashes) - set(members)):
        raise _member_error(bundle, name, "is listed in bundle.json but missing")
    return listed


def _results(bundle: Path, members: dict[str, bytes]) -> RunResult:
    if layout.RESULTS not in members:
        raise _member_error(bundle, layout.RESULTS, "is missing")
    try:
        return RunResult.model_validate_json(members[layout.RESULTS])
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise _member_error(
            bundle,
            layout.RESULTS,
            f"is not a golive results.json ({exc.error_count()} error(s); {where}: {first['msg']})",
        ) from None


def _checklist(
    bundle: Path,
    members: dict[str, bytes],
    index: dict[str, Any],
    recorded: RunResult,
    notes: list[str],
) -> Checklist:
    """The bundled checklist, validated as a model (its checks need not be installed here),
    and the very one the run used: its sha256 is the one results.json records."""
    data = _member(bundle, members, layout.CHECKLIST)
    label = Path(f"{bundle}:{layout.CHECKLIST}")
    text = _text(bundle, layout.CHECKLIST, data)
    model = validate(ChecklistModel, yamlsrc.loads(text, label))
    digest = hashlib.sha256(data).hexdigest()
    if index[layout.CHECKLIST].get("redacted"):
        notes.append("the bundled checklist was redacted: its sha256 cannot match the run's")
    elif recorded.meta.checklist_sha256 != digest:
        raise _member_error(
            bundle,
            layout.CHECKLIST,
            f"has sha256 {digest}, but results.json records {recorded.meta.checklist_sha256}",
        )
    return Checklist(model=model, path=label, sha256=digest)


def _signoffs(
    bundle: Path,
    members: dict[str, bytes],
    index: dict[str, Any],
    the_checklist: Checklist,
    scratch: Path,
) -> tuple[attestations.AttestationBook, waivers.WaiverBook]:
    """The bundled attestation and waiver files, read as the gate reads them (from files in a
    scratch folder; errors name the member)."""
    # (Named 01-…, 02-… in the profile's order.)
    names = sorted(n for n, e in index.items() if e.get("kind") == layout.KIND_ATTESTATIONS)
    try:
        paths = [_scratch_file(scratch, name, members[name]) for name in names]
        book = attestations.load(paths, the_checklist)
        waiver_path = None
        if layout.WAIVERS in members:
            waiver_path = _scratch_file(scratch, layout.WAIVERS, members[layout.WAIVERS])
        return book, waivers.load(waiver_path, the_checklist)
    except InputError as exc:
        raise InputError(str(exc).replace(f"{scratch}/", f"{bundle}:")) from None


def _scratch_file(scratch: Path, name: str, data: bytes) -> Path:
    path = scratch / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _member(bundle: Path, members: dict[str, bytes], name: str) -> bytes:
    if name not in members:
        raise _member_error(bundle, name, "is missing")
    return members[name]


def _text(bundle: Path, name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _member_error(bundle, name, "is not UTF-8 text") from None


def _member_error(bundle: Path, name: str, message: str, hint: str | None = None) -> InputError:
    return InputError(
        f"member {name} {message}",
        file=bundle,
        hint=hint or "the bundle is damaged or was edited; use the one the run wrote",
    )
