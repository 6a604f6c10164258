"""Running a booted gate with live progress and writing its reports.

`golive gate`, `golive smoke` and `golive load` differ in what they select and print
around the run; this part they share: SIGTERM (a CI runner cancelling the job) behaves
like Ctrl-C so the partial report of what finished is still written, and a report that
cannot be written still leaves the verdict on the terminal.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

from golive import gate


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_and_report(
    prepared: gate.Prepared, console: Any, out: Path
) -> tuple[gate.GateOutcome, dict[str, Path] | None]:
    """(outcome, report paths); None for the paths when the reports could not be written."""
    from golive.reports.writer import write_reports

    signal.signal(signal.SIGTERM, interrupt)
    outcome = gate.run(prepared, on_item_done=console.item_done)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # let the reports be written whole
    try:
        paths = write_reports(outcome.result, out, redactor=prepared.target.redactor)
    except Exception as exc:  # noqa: BLE001 - the verdict still reaches the terminal
        message = prepared.target.redactor.text(f"could not write the reports to {out}: {exc}")
        print(f"golive: {message}", file=sys.stderr)
        console.finish(outcome.result, {})
        return outcome, None
    console.finish(outcome.result, paths)
    return outcome, paths
