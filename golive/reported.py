"""Running a booted gate with live progress and writing its reports.

`golive gate`, `golive smoke` and `golive load` differ in what they select and print
around the run; this part they share: SIGTERM (a CI runner cancelling the job) behaves
like Ctrl-C so the partial report of what finished is still written, a signal while the
reports are written waits for them (they then say the run was interrupted), and a report
that cannot be written still leaves the verdict on the terminal. The folder is sealed last:
results.json, manifest.json and, with `--sign-key`, manifest.sig (golive/audit/).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from golive import gate, interrupts
from golive.audit import manifest, seal
from golive.audit.signing import Signer
from golive.evidence.bundle import attach as attach_bundle
from golive.results import RunResult

# Test hook (tests/test_interrupts.py): when set, touch this file and pause 2 s before
# writing the reports, so a test can signal the gate while it writes them.
HOLD_VAR = "GOLIVE_TEST_HOLD_REPORT"


def run_and_report(
    prepared: gate.Prepared,
    console: Any,
    out: Path,
    signer: Signer | None = None,
    before_write: Callable[[RunResult], None] | None = None,
    bundle: str | Path | None = None,
) -> tuple[gate.GateOutcome, dict[str, Path] | None]:
    """(outcome, report paths); None for the paths when the reports could not be written.
    `signer`: the `--sign-key` that signs the folder's manifest; `before_write` adds to the
    result before the reports are written (the baseline diff); `bundle`: the --bundle
    option (golive/evidence/bundle.py), written last of all, after the seal."""
    # (cli.main has made SIGTERM raise KeyboardInterrupt, as Ctrl-C does, for the command.)
    for secret in signer.secrets if signer else ():
        prepared.target.redactor.add_secret(secret)
    before = manifest.snapshot(out)  # what the folder held: not certified by this run
    outcome = gate.run(prepared, on_item_done=console.item_done)
    with interrupts.shielded() as late:
        if before_write is not None:
            _add(before_write, outcome)
        _hold_for_tests()
        paths = _write(outcome, prepared.target, out, before, signer)
        if late and gate.mark_interrupted(outcome, "while its reports were written"):
            paths = _write(outcome, prepared.target, out, before, signer)  # now they say so
        paths = attach_bundle(prepared, outcome.result, out, paths, bundle)  # after every file
        console.finish(outcome.result, paths or {})
    return outcome, paths


def _add(before_write: Callable[[RunResult], None], outcome: gate.GateOutcome) -> None:
    try:
        before_write(outcome.result)
    except Exception as exc:  # noqa: BLE001 - the reports are still written without it
        print(f"golive: could not compare with the baseline: {exc}", file=sys.stderr)


def _write(
    outcome: gate.GateOutcome,
    target: Any,
    out: Path,
    before: manifest.Snapshot,
    signer: Signer | None,
) -> dict[str, Path] | None:
    from golive.reports.writer import write_reports

    redactor = target.redactor
    try:
        manifest.unseal(out)  # a previous run's seal never outlives a failed write
        paths = write_reports(outcome.result, out, seal.BEFORE_RESULTS, redactor=redactor)
        paths.update(_write_sarif(target, out))
        paths.update(seal.seal(outcome.result, out, before, redactor, signer))
    except Exception as exc:  # noqa: BLE001 - the verdict still reaches the terminal
        message = redactor.text(f"could not write the reports to {out}: {exc}")
        print(f"golive: {message}", file=sys.stderr)
        return None
    order = ("html", "json", "junit", "md")
    return {k: paths[k] for k in order if k in paths} | paths


def _write_sarif(target: Any, out: Path) -> dict[str, Path]:
    """findings.sarif when the run's static scan found something (golive/static/sarif.py)."""
    from golive.static.evidence import cached_scans
    from golive.static.sarif import write_sarif

    try:
        path = write_sarif(cached_scans(target), out)
    except OSError as exc:
        print(f"golive: could not write findings.sarif to {out}: {exc}", file=sys.stderr)
        return {}
    return {"sarif": path} if path else {}


def _hold_for_tests() -> None:
    marker = os.environ.get(HOLD_VAR)
    if marker:
        Path(marker).touch()
        time.sleep(2)
