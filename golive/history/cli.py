"""`golive diff A B`, and the gate's --baseline / --history / --history-keep options."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from golive.history import diff, render, store, trend
from golive.redact import DEFAULT, Redactor
from golive.results import RunResult

DIFF_EXIT_CODES = """exit codes:
  0  nothing got worse (or --exit-zero)
  1  some item got worse: it newly fails, or was accepted in A (pass, waived, attested,
     not applicable) and is not in B
  2  invalid input or usage: a file that cannot be read or is not a golive results.json
     (the message names it)
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "diff",
        help="compare two runs' results: what newly fails or passes, sign-offs, measured values",
        description="Compare run B with the earlier run A, item by item.",
        epilog=DIFF_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "a", type=Path, metavar="A", help="the baseline: a results.json or report folder"
    )
    p.add_argument(
        "b", type=Path, metavar="B", help="the newer run: a results.json or report folder"
    )
    shape = p.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print the diff as JSON")
    shape.add_argument("--markdown", action="store_true", help="print the diff as Markdown")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even when some item got worse")
    p.set_defaults(func=_cmd_diff)


def add_gate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--baseline",
        type=Path,
        help="compare with this earlier run (its results.json or report folder); "
        "the changes head the reports",
    )
    p.add_argument(
        "--history",
        type=Path,
        metavar="DIR",
        help="keep a copy of each run's results.json in DIR; without --baseline the most "
        "recent run kept there is the baseline; the HTML report draws per-item trends",
    )
    p.add_argument(
        "--history-keep",
        type=_positive,
        default=store.DEFAULT_KEEP,
        metavar="N",
        help=f"runs kept in --history, the oldest removed (default: {store.DEFAULT_KEEP})",
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _cmd_diff(args: argparse.Namespace) -> int:
    older, newer = store.load(args.a), store.load(args.b)
    result = diff.compare(older.result, newer.result, older.ref())
    result.notes[:0] = older.notes + newer.notes
    if args.json:
        from golive.reports.json_report import redact_text

        print(redact_text(result.model_dump_json(indent=2)))
    elif args.markdown:
        print(DEFAULT.text("\n".join(render.markdown(result, heading_level=2))))
    else:
        print(DEFAULT.text(render.text(result, newer.result, source=str(newer.path))), end="")
    return 1 if result.regressed and not args.exit_zero else 0


@dataclass
class Comparison:
    """A gate's baseline and history, read before anything runs (exit 2 on a bad file)."""

    baseline: store.Loaded | None = None
    folder: Path | None = None
    keep: int = store.DEFAULT_KEEP
    previous: list[store.Loaded] = field(default_factory=list)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Comparison:
        folder = getattr(args, "history", None)
        keep = getattr(args, "history_keep", store.DEFAULT_KEEP)
        previous: list[store.Loaded] = []
        if folder is not None:
            store.check_folder(folder)
            previous = store.load_all(folder)
        path = getattr(args, "baseline", None)
        baseline = store.load(path) if path is not None else None
        if baseline is None and previous:
            baseline = previous[-1]
        return cls(baseline, folder, keep, previous)

    def attach(self, result: RunResult) -> None:
        """Put the diff and the trends into the run's result, before its reports are written."""
        if self.baseline is not None:
            result.diff = diff.compare(self.baseline.result, result, self.baseline.ref())
            result.diff.notes[:0] = self.baseline.notes
        if self.folder is not None:
            past = [loaded.result for loaded in self.previous]
            result.history = trend.build(past, result, self.folder, self.keep)

    def after(self, result: RunResult, paths: dict[str, Path] | None, redactor: Redactor) -> None:
        """Print the diff's summary; keep the run's results.json in the history folder."""
        if result.diff is not None:
            print(redactor.text(_summary(result)))
        if self.folder is None:
            return
        if not paths or "json" not in paths:
            print("golive: the run is not kept in the history: results.json was not written",
                  file=sys.stderr)  # fmt: skip
            return
        try:
            kept = store.keep(paths["json"], result, self.folder, self.keep)
        except OSError as exc:  # the verdict stands; only the history misses this run
            print(f"golive: could not keep the run in {self.folder}: {exc}", file=sys.stderr)
            return
        if kept is None:
            print(f"history: not kept (the run is {result.verdict.value}) in {self.folder}")
        else:
            print(
                f"history: kept as {kept} ({len(store.runs(self.folder))} of at most {self.keep})"
            )


def _summary(result: RunResult, limit: int = 10) -> str:
    changes = result.diff
    assert changes is not None
    lines = [f"{render.HEADING} ({changes.baseline.path}): {render.counts_line(changes)}"]
    lines += [f"  note: {note}" for note in changes.notes]
    worse = [c for c in changes.items if c.worse]
    for c in worse[:limit]:
        was = c.before.value if c.before else "—"
        lines.append(f"  worse: {c.item} {was} -> {c.after.value if c.after else '—'}")
    if len(worse) > limit:
        lines.append(f"  … and {len(worse) - limit} more (see the report)")
    return "\n".join(lines)
