"""The detection matrix: the gate run against a target once per flaw.

    python -m golive.matrix [--subject shop|django-example] [--jobs N] [--flaw NAME …]
                            [--sections-only] [--write README.md] [--record FILE]

Each flaw of `shop/catalogue.yaml` switches off one protection; the gate runs on a private
copy of the demo target with that flaw on — the default gate (pre-deploy and staging), then
a post-deploy gate of its own on a fresh copy (it plays the demo's traffic and judges it,
as production's post-deploy run would, never golive's staging probes) — and the items that
fail are compared with the flaw's catalogued `fails`. The correct shop (no
flaw) must have no failing automated item.

By default every run is the whole default gate: the complete matrix, which also shows that
no flaw fails an item of another section (about 10 minutes on 2 cores). `--sections-only`
runs each flaw on the sections its catalogued items are in, and the correct shop on
everything: the shape golive's own tests use (tests/test_matrix.py).

`--write FILE` replaces the table between the subject's markers of FILE (the README) with
the results of this run, and `--record FILE` keeps the run itself (JSON: every flaw's failing
and erroring items, when and on which commit): the README's table is drawn from that record,
and tests/test_matrix.py holds the two together, so the table always shows a real run.

Two subjects: `shop` (the reference shop behind the demo, shop/catalogue.yaml, SHOP_FLAWS;
judged exactly: the catalogued items and nothing else fail) and `django-example` (the blind
detection set of targets/examples/django-shop/flaws.yaml, TEA_SHOP_FLAWS; flaws written
without reading golive's checks, judged by inclusion: the items each flaw breaks must fail,
other failures are shown).
Exit code 0 when every flaw is caught, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

from golive import resources

ROOT = resources.DATA_ROOT
DEMO = resources.DEMO_DIR
CATALOGUE = resources.SHOP_SOURCE / "catalogue.yaml"
CHECKLIST = resources.CHECKLIST
# The demo's sign-offs move with the run's time; a fixed one keeps the reports comparable.
NOW = "2026-11-26T12:00:00Z"
PHASES = ("pre-deploy", "staging")  # the default gate
POST_DEPLOY = ("post-deploy",)
# A subject's flaw runs one gate per group: the default gate, then (the shop) a post-deploy
# gate of its own, as production runs it — a post-deploy run judges the traffic it played,
# never golive's own staging probes (which leave odd orders on purpose).
PHASE_GROUPS: tuple[tuple[str, ...], ...] = (PHASES, POST_DEPLOY)
CORRECT = "(none: the correct shop)"
GATE_TIMEOUT_S = 600
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the checklist is 2,000 lines


@dataclass
class Catalogue:
    flaws: dict[str, dict]
    undetectable: dict[str, str]
    # exact: a flaw's catalogued items and nothing else fail (the shop, whose flaws were
    # written with the checks); includes: its items must fail, others may (a blind set).
    judge: str = "exact"

    @classmethod
    def load(cls, path: Path = CATALOGUE) -> Catalogue:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(data["flaws"], data.get("undetectable") or {}, data.get("judge", "exact"))

    def expected(self, flaw: str | None) -> set[str]:
        return set(self.flaws[flaw]["fails"]) if flaw else set()

    def gates(self, flaw: str | None) -> set[str] | None:
        """The phases a flaw is run in by a complete matrix (its `gates:`; None: every phase
        group of the subject). A flaw of production's traffic (a silent endpoint, the shop
        refunding by itself) runs in the post-deploy gate only."""
        gates = self.flaws[flaw].get("gates") if flaw else None
        return set(gates) if gates else None

    def phases(self, flaw: str) -> set[str]:
        """The phases of the flaw's catalogued items."""
        phase_of = _phase_of_items()
        return {phase_of[item] for item in self.flaws[flaw]["fails"] if item in phase_of}

    def sections(self, flaw: str) -> list[str]:
        """The checklist sections of the flaw's catalogued items (an item id starts with its
        section's id), in checklist order: what a sections-only run selects."""
        wanted = {item.split(".", 1)[0] for item in self.flaws[flaw]["fails"]}
        return [section for section in _section_order() if section in wanted]


@functools.cache
def _phase_of_items() -> dict[str, str]:
    data = yaml.load(CHECKLIST.read_text(encoding="utf-8"), Loader=_LOADER)
    return {item["id"]: item["phase"] for section in data["sections"] for item in section["items"]}


@functools.cache
def _section_order() -> list[str]:
    data = yaml.load(CHECKLIST.read_text(encoding="utf-8"), Loader=_LOADER)
    return [section["id"] for section in data["sections"]]


@dataclass(frozen=True)
class Subject:
    """A target the matrix runs: a folder copied fresh for every gate, the profile inside
    it, the flaw catalogue and the environment variable that switches flaws on."""

    name: str
    source: Path
    profile: str
    catalogue: Path
    flaws_env: str
    record: Path
    correct: str = CORRECT
    # Makes a copy private to one run (e.g. its own database, dropped afterwards), given the
    # copy and a tag: a context manager around the run.
    private: Callable[[Path, str], AbstractContextManager[None]] | None = None
    phase_groups: tuple[tuple[str, ...], ...] = PHASE_GROUPS

    @property
    def markers(self) -> tuple[str, str]:
        tag = "" if self.name == "shop" else f":{self.name}"
        return f"<!-- matrix{tag}:begin -->", f"<!-- matrix{tag}:end -->"


@contextlib.contextmanager
def _private_database(copy: Path, tag: str) -> Iterator[None]:
    """The copy's own PostgreSQL database (its setup creates it), dropped after the run."""
    env = copy / "golive" / "example.env"
    name = "golive_matrix_" + re.sub(r"\W", "_", tag)[:40]
    text = env.read_text(encoding="utf-8")
    env.write_text(re.sub(r"(DATABASE_URL=postgresql://[^/]+/)\w+", rf"\1{name}", text))
    try:
        yield
    finally:
        server = re.search(r"DATABASE_URL=(postgresql://[^/]+/)", text)
        if server:
            _drop_database(server[1] + "postgres", name)


def _drop_database(admin_url: str, name: str) -> None:
    import sqlalchemy  # only the Django subject needs it

    engine = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except sqlalchemy.exc.SQLAlchemyError as exc:  # a leftover database, not a failed run
        print(f"golive.matrix: could not drop database {name}: {exc}", file=sys.stderr)
    finally:
        engine.dispose()


DJANGO_EXAMPLE = resources.EXAMPLES_DIR / "django-shop"
SUBJECTS = {
    "shop": Subject(
        "shop",
        DEMO,
        "target.yaml",
        CATALOGUE,
        "SHOP_FLAWS",
        resources.SHOP_SOURCE / "matrix-record.json",
    ),
    "django-example": Subject(
        "django-example",
        DJANGO_EXAMPLE,
        "golive/target.yaml",
        DJANGO_EXAMPLE / "flaws.yaml",
        "TEA_SHOP_FLAWS",
        DJANGO_EXAMPLE / "matrix-record.json",
        correct="(none: the correct Django shop)",
        private=_private_database,
        phase_groups=(PHASES,),  # the example has no production traffic to judge
    ),
}
SHOP = SUBJECTS["shop"]
BEGIN, END = SHOP.markers


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
    out: Path | None = None  # the report folder (of the first phase group)
    outs: list[Path] = field(default_factory=list)  # every phase group's report folder
    profile: Path | None = None  # the demo copy's target.yaml
    judge: str = "exact"

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
        if self.judge == "includes":
            # A blind flaw is caught when its items fail (a major one may still be GO);
            # the correct build must be GO.
            if self.flaw is None:
                return self.returncode == 0
            finished = self.returncode in (0, 1)
            return finished and not self.missed and not (self.errors & self.expected)
        return self.returncode in (0, 1) and not (self.missed or self.extra or self.errors)

    def as_record(self) -> dict:
        return {
            "flaw": self.flaw,
            "returncode": self.returncode,
            "seconds": round(self.seconds, 1),
            "expected": sorted(self.expected),
            "failing": sorted(self.failing),
            "errors": sorted(self.errors),
            "caught": self.caught,
        }

    @classmethod
    def from_record(cls, entry: dict, judge: str = "exact") -> FlawRun:
        outcomes = {item: "fail" for item in entry["failing"]}
        outcomes.update({item: "error" for item in entry["errors"]})
        run = cls(entry["flaw"], entry["returncode"], outcomes, entry["seconds"], judge=judge)
        run.expected = set(entry["expected"])
        return run


def run_flaw(
    flaw: str | None,
    workdir: Path,
    *,
    sections: list[str] | None = None,
    phases: set[str] | None = None,
    now: str | None = NOW,
    extra_args: tuple[str, ...] = (),
    runner: Runner | None = None,
    subject: Subject = SHOP,
) -> FlawRun:
    """The gate on a fresh copy of the subject (the demo by default) with `flaw` on (None:
    the correct shop), on the given sections only (None: every section of the phases), one
    gate per phase group of the subject that holds one of `phases` (None: every group), each
    on a fresh copy; `now=None` judges as of the wall clock (a post-deploy gate always does). `runner(args, env)` runs `golive ARGS` (default:
    `python -m golive.cli` as a subprocess)."""
    groups = [g for g in subject.phase_groups if phases is None or set(g) & phases]
    runs = []
    for index, group in enumerate(groups):
        folder = workdir / (f"group-{index}" if index else "")
        folder.mkdir(parents=True, exist_ok=True)
        copy = folder / subject.source.name
        shutil.copytree(
            subject.source, copy, ignore=shutil.ignore_patterns(".build", "__pycache__")
        )
        tag = f"{flaw or 'correct'}_{index}_{os.getpid()}"
        private = subject.private(copy, tag) if subject.private else contextlib.nullcontext()
        with private:
            runs.append(_run_copy(flaw, folder, copy / subject.profile, group, sections, now,
                                  extra_args, runner, subject))  # fmt: skip
    return _merged(runs)


def _merged(runs: list[FlawRun]) -> FlawRun:
    """One FlawRun of a flaw's gates: every group's outcomes (an item is in one phase, so in
    one group), the worst exit code, the outputs one after the other."""
    first = runs[0]
    outcomes = {item: outcome for run in runs for item, outcome in run.outcomes.items()}
    codes = [run.returncode for run in runs]
    # A gate that did not finish (2, 3, a timeout) decides; otherwise NO-GO beats GO.
    worst = next((code for code in codes if code not in (0, 1)), max(codes))
    return FlawRun(
        first.flaw,
        worst,
        outcomes,
        sum(run.seconds for run in runs),
        "\n".join(run.output for run in runs),
        out=first.out,
        outs=[run.out for run in runs if run.out is not None],
        profile=first.profile,
    )


def _run_copy(
    flaw: str | None,
    workdir: Path,
    target: Path,
    group: tuple[str, ...],
    sections: list[str] | None,
    now: str | None,
    extra_args: tuple[str, ...],
    runner: Runner | None,
    subject: Subject,
) -> FlawRun:
    out = workdir / "out"
    phases = [arg for phase in group for arg in ("--phase", phase)]
    selection = [arg for section in sections or () for arg in ("--section", section)]
    args = [
        "gate",
        "--target",
        str(target),
        "--out",
        str(out),
        # A post-deploy gate judges as of the wall clock: what it reads (the target's
        # Prometheus scraping the shop as the traffic plays) happens now, not at `now`.
        *(["--now", now] if now and "post-deploy" not in group else []),
        *phases,
        *selection,
        *extra_args,
    ]
    env = {**os.environ, subject.flaws_env: flaw or ""}
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
        profile=target,
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
    flaws: list[str | None],
    jobs: int,
    catalogue: Catalogue,
    *,
    sections_only: bool = False,
    subject: Subject = SHOP,
) -> list[FlawRun]:
    def one(flaw: str | None) -> FlawRun:
        sections = catalogue.sections(flaw) if sections_only and flaw else None
        phases = catalogue.phases(flaw) if sections_only and flaw else catalogue.gates(flaw)
        with tempfile.TemporaryDirectory(prefix="golive-matrix-") as tmp:
            run = run_flaw(flaw, Path(tmp), sections=sections, phases=phases, subject=subject)
        run.expected = catalogue.expected(flaw)
        run.judge = catalogue.judge
        label = flaw or "correct target"
        status = "caught" if run.caught else "NOT CAUGHT"
        print(f"  {label:<40} {status:<10} {run.seconds:5.1f} s", file=sys.stderr, flush=True)
        return run

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, flaws))


# --- the table ----------------------------------------------------------------------------


def _items(ids: set[str]) -> str:
    return ", ".join(f"`{i}`" for i in sorted(ids)) or "—"


def table(runs: list[FlawRun], catalogue: Catalogue, correct: str = CORRECT) -> str:
    """Markdown: one row per flaw, what it is, which items failed in the run, and whether it
    is caught."""
    lines = [
        "| flaw | realized by | items that fail | caught |",
        "|---|---|---|---|",
    ]
    for run in runs:
        realized = catalogue.flaws[run.flaw]["realized_by"] if run.flaw else "—"
        failing = _items(run.failing) if run.failing else "none"
        mark = "✓" if run.caught else "✗ " + _problems(run)
        if run.caught and run.judge == "includes" and run.extra:
            mark += " (also failed: " + ", ".join(sorted(run.extra)) + ")"
        lines.append(f"| `{run.flaw or correct}` | {realized} | {failing} | {mark} |")
    return "\n".join(lines)


def score(runs: list[FlawRun]) -> str:
    flawed = [run for run in runs if run.flaw]
    return f"{sum(run.caught for run in flawed)} of {len(flawed)} flaws caught"


def record(runs: list[FlawRun], subject: Subject, path: Path) -> None:
    """Keeps the run the README's table is drawn from."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    data = {
        "subject": subject.name,
        "command": f"python -m golive.matrix --subject {subject.name}",
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "golive_commit": commit or "unknown",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "score": score(runs),
        "runs": [run.as_record() for run in runs],
    }
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def recorded_runs(subject: Subject, judge: str = "exact") -> list[FlawRun]:
    data = json.loads(subject.record.read_text(encoding="utf-8"))
    return [FlawRun.from_record(entry, judge) for entry in data["runs"]]


def render(runs: list[FlawRun], catalogue: Catalogue, subject: Subject) -> str:
    """The text between the subject's README markers."""
    text = table(runs, catalogue, subject.correct)
    if subject.name != "shop":
        text += f"\n\n{score(runs)}."
    if catalogue.undetectable:
        text += "\n\nAutomated items no flaw can show:\n\n" + undetectable_table(catalogue)
    return text


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


def write_between_markers(path: Path, text: str, markers: tuple[str, str] = (BEGIN, END)) -> None:
    begin, end = markers
    content = path.read_text(encoding="utf-8")
    if begin not in content or end not in content:
        raise SystemExit(f"{path}: no {begin} … {end} markers to write the matrix between")
    head, rest = content.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n{text}\n{end}{tail}", encoding="utf-8")


def shown(path: Path, markers: tuple[str, str] = (BEGIN, END)) -> str:
    """The text a README shows between the markers."""
    begin, end = markers
    return path.read_text(encoding="utf-8").split(begin, 1)[1].split(end, 1)[0].strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m golive.matrix", description=__doc__)
    parser.add_argument("--jobs", type=int, default=2, help="gates run at once (default 2)")
    parser.add_argument("--flaw", action="append", help="only this flaw (repeatable)")
    parser.add_argument("--subject", choices=sorted(SUBJECTS), default="shop")
    parser.add_argument("--write", type=Path, help="write the table into this markdown file")
    parser.add_argument(
        "--record",
        type=Path,
        help="keep the run as JSON (default with --write and every flaw: the subject's record)",
    )
    parser.add_argument(
        "--sections-only",
        action="store_true",
        help="run each flaw on its catalogued items' sections only (the tests' shape)",
    )
    args = parser.parse_args(argv)
    subject = SUBJECTS[args.subject]
    catalogue = Catalogue.load(subject.catalogue)
    unknown = sorted(set(args.flaw or ()) - catalogue.flaws.keys())
    if unknown:
        print(f"golive.matrix: unknown flaw(s) {', '.join(unknown)}", file=sys.stderr)
        return 2
    flaws: list[str | None] = list(args.flaw or [None, *catalogue.flaws])
    print(f"running the gate {len(flaws)} times, {args.jobs} at once …", file=sys.stderr)
    runs = run_all(
        flaws, max(1, args.jobs), catalogue, sections_only=args.sections_only, subject=subject
    )
    text = render(runs, catalogue, subject)
    complete = not args.flaw and not args.sections_only
    record_to = args.record or (subject.record if args.write and complete else None)
    if record_to:
        record(runs, subject, record_to)
        print(f"kept the run in {record_to}", file=sys.stderr)
    if args.write:
        write_between_markers(args.write, text, subject.markers)
        print(f"wrote the matrix into {args.write}", file=sys.stderr)
    else:
        print(text)
    return 0 if all(run.caught for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
