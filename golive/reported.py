"""Running a booted gate with live progress and writing its reports.

`golive gate`, `golive smoke` and `golive load` differ in what they select and print
around the run; this part they share: SIGTERM (a CI runner cancelling the job) behaves
like Ctrl-C so the partial report of what finished is still written, a signal while the
reports are written waits for them (they then say the run was interrupted), and a report
that cannot be written still leaves the verdict on the terminal.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from golive import gate, interrupts
from golive.evidence.bundle import attach as attach_bundle
from golive.redact import Redactor

# Test hook (tests/test_interrupts.py): when set, touch this file and pause 2 s before
# writing the reports, so a test can signal the gate while it writes them.
HOLD_VAR = "GOLIVE_TEST_HOLD_REPORT"


def run_and_report(
    prepared: gate.Prepared, console: Any, out: Path, bundle: str | Path | None = None
) -> tuple[gate.GateOutcome, dict[str, Path] | None]:
    """(outcome, report paths); None for the paths when the reports could not be written.
    `bundle`: the --bundle option (golive/evidence/bundle.py), written last of all."""
    # (cli.main has made SIGTERM raise KeyboardInterrupt, as Ctrl-C does, for the command.)
    outcome = gate.run(prepared, on_item_done=console.item_done)
    with interrupts.shielded() as late:
        _hold_for_tests()
        paths = _write(outcome, out, prepared.target.redactor)
        if paths is not None:
            paths.update(_write_sarif(prepared.target, out))
        if late and gate.mark_interrupted(outcome, "while its reports were written"):
            paths = _write(outcome, out, prepared.target.redactor)  # again: now they say so
        paths = attach_bundle(prepared, outcome.result, out, paths, bundle)  # after every file
        console.finish(outcome.result, paths or {})
    return outcome, paths


def _write(outcome: gate.GateOutcome, out: Path, redactor: Redactor) -> dict[str, Path] | None:
    from golive.reports.writer import write_reports

    try:
        return write_reports(outcome.result, out, redactor=redactor)
    except Exception as exc:  # noqa: BLE001 - the verdict still reaches the terminal
        message = redactor.text(f"could not write the reports to {out}: {exc}")
        print(f"golive: {message}", file=sys.stderr)
        return None


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
