"""Sealing a report folder once its other files are written: results.json with the
hashes of those files, then manifest.json, then manifest.sig when the run signs
(the order is explained in golive/audit/manifest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from golive.audit import manifest
from golive.audit.signing import Signer, signature_text
from golive.redact import Redactor
from golive.results import RunResult

# The reports written before results.json (writer.FORMATS keys), then results.json alone.
BEFORE_RESULTS = ("html", "junit", "md")


def seal(
    result: RunResult,
    out: Path,
    before: manifest.Snapshot,
    redactor: Redactor,
    signer: Signer | None = None,
) -> dict[str, Path]:
    """Write results.json (its `manifest` filled in), manifest.json and, with a signer,
    manifest.sig; their paths by report kind."""
    from golive.reports.writer import atomic_write_text, write_reports

    others = manifest.written_since(out, before)
    result.manifest = {
        name: manifest.sha256_of(out / name)
        for name in others
        if name not in (manifest.RESULTS, *manifest.SEALS)
    }
    paths = write_reports(result, out, ("json",), redactor=redactor)
    files = {**result.manifest, manifest.RESULTS: manifest.sha256_of(out / manifest.RESULTS)}
    stale = [n for n in manifest.files_in(out) if n not in files and n not in manifest.SEALS]
    path = out / manifest.FILENAME
    atomic_write_text(path, redactor.text(manifest.render(files, stale)))
    paths["manifest"] = path
    if signer is not None:
        signature = out / manifest.SIGNATURE
        atomic_write_text(signature, signature_text(signer, path.read_bytes(), path.name))
        paths["sig"] = signature
    if stale:
        print(
            f"golive: warning: {out} holds files this run did not write ({', '.join(stale)}): "
            "manifest.json does not certify them and `golive verify` fails on them; "
            "remove them or write the reports into an empty --out",
            file=sys.stderr,
        )
    return paths
