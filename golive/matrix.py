"""The detection matrix: the gate run against the reference shop once per flaw.

    python -m golive.matrix [--jobs N] [--flaw NAME …] [--sections-only] [--write README.md]

Each flaw of `shop/catalogue.yaml` switches off one protection; the gate (pre-deploy and
staging phases) runs on a private copy of the demo target with that flaw on, and the
items that fail are compared with the flaw's catalogued `fails`. The correct shop (no
flaw) must have no failing automated item.

By default every run is the whole default gate: the complete matrix, which also shows that
no flaw fails an item of another section (about 10 minutes on 2 cores). `--sections-only`
runs each flaw on the sections its catalogued items are in, and the correct shop on
everything: the shape golive's own tests use (tests/test_matrix.py).

`--write FILE` replaces the table between the `<!-- matrix:begin -->` and
`<!-- matrix:end -->` markers of FILE (the README) with the results of this run.
Exit code 0 when every flaw is caught exactly, 1 otherwise.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from golive import resources

ROOT = resources.DATA_ROOT
DEMO = resources.DEMO_DIR
CATALOGUE = resources.SHOP_SOURCE / "catalogue.yaml"
CHECKLIST = resources.CHECKLIST
# The demo's sign-offs move with the run's time; a fixed one keeps the reports comparable.
NOW = "2026-11-26T12:00:00Z"
PHASES = ("pre-deploy", "staging")
BEGIN, END = "<!-- matrix:begin -->", "<!-- matrix:end -->"
CORRECT = "(none: the correct shop)"
GATE_TIMEOUT_S = 600
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the checklist is 2,000 lines


@dataclass
class Catalogue:
    flaws: dict[str, dict]
    undetectable: dict[str, str]

    @classmethod
    def load(cls, path: Path = CATALOGUE) -> Catalogue:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(data["flaws"], data.get("undetectable") or {})

    def expected(self, flaw: str | None) -> set[str]:
        return set(self.flaws[flaw]["fails"]) if flaw else set()

    def sections(self, flaw: str) -> list[str]:
        """The checklist sections of the flaw's catalogued items (an item id starts with its
        section's id), in checklist order: what a sections-only run selects."""
        wanted = {item.split(".", 1)[0] for item in self.flaws[flaw]["fails"]}
        return [section for section in _section_order() if section in wanted]


@functools.cache
def _section_order() -> list[str]:
    data = yaml.load(CHECKLIST.read_text(encoding="utf-8"), Loader=_LOADER)
    return [section["id"] for section in data["sections"]]


def automated_items(checklist: Path = CHECKLIST) -> dict[str, list[str]]:
    """Automated item id -> its check refs, in checklist order."""
    data = yaml.load(checklist.read_text(encoding="utf-8"), Loader=_LOADER)
    return {
        item["id"]: [c["ref"] for c in item["automated"]["checks"]]
        for section in data["sections"]
        for item in section["items"]
        if item.get("automated")
    }


@dataclass
class FlawRun:
    flaw: str | None
    returncode: int
    outcomes: dict[str, str]
    seconds: float
    output: str = ""
    expected: set[str] = field(default_factory=set)
    out: Path | None = None  # the report folder
    profile: Path | None = None  # the demo copy's target.yaml

    @property
    def failing(self) -> set[str]:
        return {item for item, outcome in self.outcomes.items() if outcome == "fail"}

    @property
    def errors(self) -> set[str]:
        return {item for item, outcome in self.outcomes.items() if outcome == "error"}

    @property
    def missed(self) -> set[str]:
        """Catalogued items that should fail but did not."""
        return self.expected - self.failing

    @property
    def extra(self) -> set[str]:
        """Items that failed although the catalogue does not list them."""
        return self.failing - self.expected

    @property
    def caught(self) -> bool:
        return self.returncode in (0, 1) and not (self.missed or self.extra or self.errors)


def run_flaw(
    flaw: str | None,
    workdir: Path,
    *,
    sections: list[str] | None = None,
    now: str | None = NOW,
    extra_args: tuple[str, ...] = (),
    runner: Runner | None = None,
) -> FlawRun:
    """The gate on a fresh copy of the demo with `flaw` on (None: the correct shop), on
    the given sections only (None: every section of the phases); `now=None` judges as of
    the wall clock. `runner(args, env)` runs `golive ARGS` (default: `python -m golive.cli`
    as a subprocess)."""
    target = workdir / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns(".build"))
    out = workdir / "out"
    phases = [arg for phase in PHASES for arg in ("--phase", phase)]
    selection = [arg for section in sections or () for arg in ("--section", section)]
    args = [
        "gate",
        "--target",
        str(target / "target.yaml"),
        "--out",
        str(out),
        *(["--now", now] if now else []),
        *phases,
        *selection,
        *extra_args,
    ]
    env = {**os.environ, "SHOP_FLAWS": flaw or ""}
    started = time.monotonic()
    done = (runner or _subprocess)(args, env)
    seconds = time.monotonic() - started
    results = out / "results.json"
    outcomes: dict[str, str] = {}
    if results.exists():
        data = json.loads(results.read_text(encoding="utf-8"))
        outcomes = {item["id"]: item["outcome"] for item in data["items"]}
    return FlawRun(
        flaw,
        done.returncode,
        outcomes,
        seconds,
        done.stdout + done.stderr,
        out=out,
        profile=target / "target.yaml",
    )


Runner = Callable[[list[str], dict[str, str]], subprocess.CompletedProcess]


def _subprocess(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "golive.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=GATE_TIMEOUT_S,
        cwd=ROOT,
    )


def run_all(
    flaws: list[str | None], jobs: int, catalogue: Catalogue, *, sections_only: bool = False
) -> list[FlawRun]:
    def one(flaw: str | None) -> FlawRun:
        sections = catalogue.sections(flaw) if sections_only and flaw else None
        with tempfile.TemporaryDirectory(prefix="golive-matrix-") as tmp:
            run = run_flaw(flaw, Path(tmp), sections=sections)
        run.expected = catalogue.expected(flaw)
        label = flaw or "correct shop"
        status = "caught" if run.caught else "NOT CAUGHT"
        print(f"  {label:<40} {status:<10} {run.seconds:5.1f} s", file=sys.stderr, flush=True)
        return run

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, flaws))


# --- the table ----------------------------------------------------------------------------


def _items(ids: set[str]) -> str:
    return ", ".join(f"`{i}`" for i in sorted(ids)) or "—"


def table(runs: list[FlawRun], catalogue: Catalogue) -> str:
    """Markdown: one row per flaw, what it is, which items fail, and whether it is caught."""
    lines = [
        "| flaw | realized by | items that fail | caught |",
        "|---|---|---|---|",
    ]
    for run in runs:
        if run.flaw is None:
            realized, failing = "—", _items(run.failing) if run.failing else "none"
        else:
            realized = catalogue.flaws[run.flaw]["realized_by"]
            failing = _items(run.expected)
        mark = "✓" if run.caught else "✗ " + _problems(run)
        lines.append(f"| `{run.flaw or CORRECT}` | {realized} | {failing} | {mark} |")
    return "\n".join(lines)


def undetectable_table(catalogue: Catalogue) -> str:
    lines = ["| items | why no flaw shows them, and where they are proven |", "|---|---|"]
    by_reason: dict[str, list[str]] = {}
    for item, reason in catalogue.undetectable.items():
        by_reason.setdefault(" ".join(reason.split()), []).append(f"`{item}`")
    for reason, items in by_reason.items():
        lines.append(f"| {', '.join(items)} | {reason} |")
    return "\n".join(lines)


def _problems(run: FlawRun) -> str:
    parts = []
    if run.missed:
        parts.append("missed " + ", ".join(sorted(run.missed)))
    if run.extra:
        parts.append("also failed " + ", ".join(sorted(run.extra)))
    if run.errors:
        parts.append("errors in " + ", ".join(sorted(run.errors)))
    if run.returncode not in (0, 1):
        parts.append(f"gate exit {run.returncode}")
    return "; ".join(parts)


def write_between_markers(path: Path, text: str) -> None:
    content = path.read_text(encoding="utf-8")
    if BEGIN not in content or END not in content:
        raise SystemExit(f"{path}: no {BEGIN} … {END} markers to write the matrix between")
    head, rest = content.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m golive.matrix", description=__doc__)
    parser.add_argument("--jobs", type=int, default=2, help="gates run at once (default 2)")
    parser.add_argument("--flaw", action="append", help="only this flaw (repeatable)")
    parser.add_argument("--write", type=Path, help="write the table into this markdown file")
    parser.add_argument(
        "--sections-only",
        action="store_true",
        help="run each flaw on its catalogued items' sections only (the tests' shape)",
    )
    args = parser.parse_args(argv)
    catalogue = Catalogue.load()
    unknown = sorted(set(args.flaw or ()) - catalogue.flaws.keys())
    if unknown:
        print(f"golive.matrix: unknown flaw(s) {', '.join(unknown)}", file=sys.stderr)
        return 2
    flaws: list[str | None] = list(args.flaw or [None, *catalogue.flaws])
    print(f"running the gate {len(flaws)} times, {args.jobs} at once …", file=sys.stderr)
    runs = run_all(flaws, max(1, args.jobs), catalogue, sections_only=args.sections_only)
    text = table(runs, catalogue)
    if catalogue.undetectable:
        text += "\n\nAutomated items no flaw can show:\n\n" + undetectable_table(catalogue)
    if args.write:
        write_between_markers(args.write, text)
        print(f"wrote the matrix into {args.write}", file=sys.stderr)
    else:
        print(text)
    return 0 if all(run.caught for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
