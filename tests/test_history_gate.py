"""`golive gate --baseline` / `--history` and `golive diff`, run as a user runs them: the
demo gated, then gated again with one of the shop's flaws switched on. The flaw's
catalogued items (shop/catalogue.yaml) must be exactly the newly failing ones, in
results.json, summary.md and report.html; a third run, with no --baseline, takes the
flawed run from the history and shows the same items newly passing.

Three gates of the flaw's sections (price-integrity: a few seconds each), shared by the
module's tests."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from gatekit import GateRun, demo_copy, gate, golive

from golive import matrix

FLAW = "trusts-client-amount"
pytestmark = pytest.mark.slow


@dataclass
class Runs:
    first: GateRun
    flawed: GateRun
    third: GateRun
    history: Path
    first_copy: bytes  # the first run's results.json as kept in the history


@pytest.fixture(scope="module")
def catalogue() -> matrix.Catalogue:
    return matrix.Catalogue.load()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, catalogue: matrix.Catalogue) -> Runs:
    tmp = tmp_path_factory.mktemp("history-gate")
    profile = demo_copy(tmp)
    history = tmp / "history"
    sections = [a for s in catalogue.sections(FLAW) for a in ("--section", s)]
    flaws_env = matrix.SHOP.flaws_env
    correct = {**os.environ, flaws_env: ""}
    flawed_env = {**os.environ, flaws_env: FLAW}

    first = gate(profile, tmp / "first", *sections, "--history", str(history), env=correct)
    assert first.returncode == 0, first.stdout + first.stderr
    (kept,) = sorted(history.iterdir())
    first_copy = kept.read_bytes()
    flawed = gate(
        profile,
        tmp / "flawed",
        *sections,
        "--baseline",
        str(tmp / "first" / "results.json"),
        "--history",
        str(history),
        env=flawed_env,
    )
    assert flawed.returncode == 1, flawed.stdout + flawed.stderr
    third = gate(
        profile, tmp / "third", *sections, "--history", str(history), "--history-keep", "2",
        env=correct,
    )  # fmt: skip
    assert third.returncode == 0, third.stdout + third.stderr
    return Runs(first, flawed, third, history, first_copy)


def _html_rows(page: str, change: str) -> set[str]:
    block = page[page.index('<section id="diff"') :]
    block = block[: block.index("</section>")]
    return set(re.findall(rf'<tr data-change="{change}" data-item="([^"]+)">', block))


def _md_rows(summary: str, heading: str) -> set[str]:
    return set(re.findall(rf"^\| {heading} \| `([^`]+)` \|", summary, re.MULTILINE))


def test_the_flaws_items_are_exactly_the_newly_failing(
    runs: Runs, catalogue: matrix.Catalogue
) -> None:
    expected = catalogue.expected(FLAW)
    assert expected and expected <= set(runs.first.outcomes())
    assert all(runs.first.outcomes()[i] == "pass" for i in expected)  # the baseline is fine

    diff = runs.flawed.results["diff"]
    newly = {c["item"] for c in diff["items"] if c["change"] == "newly-failing"}
    assert newly == expected
    assert {c["item"] for c in diff["items"]} == expected  # nothing else changed outcome
    assert diff["regressed"] is True
    assert all(c["before"] == "pass" and c["after"] == "fail" for c in diff["items"])

    summary = (runs.flawed.out / "summary.md").read_text(encoding="utf-8")
    assert summary.index("### Changes since the baseline") < summary.index("### Results by section")
    assert _md_rows(summary, "Newly failing") == expected

    page = (runs.flawed.out / "report.html").read_text(encoding="utf-8")
    assert "<h2>Changes since the baseline</h2>" in page
    assert page.index('<section id="diff"') < page.index('<section id="summary"')
    assert _html_rows(page, "newly-failing") == expected

    # The terminal says it too.
    assert f"{len(expected)} newly failing" in runs.flawed.stdout
    for item in expected:
        assert f"worse: {item} pass -> fail" in runs.flawed.stdout


def test_the_diff_names_the_baseline_run(runs: Runs) -> None:
    baseline_file = runs.first.out / "results.json"
    first = runs.first.results["meta"]
    ref = runs.flawed.results["diff"]["baseline"]
    assert ref["path"] == str(baseline_file)
    assert ref["sha256"] == hashlib.sha256(baseline_file.read_bytes()).hexdigest()
    assert ref["started_at"] == first["started_at"]
    assert ref["verdict"] == "GO"
    assert ref["target_git_sha"] == first["target_git_sha"] and ref["target_git_sha"]
    assert runs.flawed.results["diff"]["notes"] == []  # same target, checklist, selection
    assert runs.first.results["diff"] is None  # an empty history: nothing to compare with


def test_without_baseline_the_latest_history_run_is_the_baseline(
    runs: Runs, catalogue: matrix.Catalogue
) -> None:
    diff = runs.third.results["diff"]
    kept = sorted(runs.history.iterdir())
    assert diff["baseline"]["started_at"] == runs.flawed.results["meta"]["started_at"]
    assert Path(diff["baseline"]["path"]).parent == runs.history
    newly = {c["item"] for c in diff["items"] if c["change"] == "newly-passing"}
    assert newly == catalogue.expected(FLAW)
    assert diff["regressed"] is False
    # --history-keep 2: the flawed run and this one; the first run's copy removed.
    assert len(kept) == 2
    assert runs.first_copy not in [path.read_bytes() for path in kept]
    assert kept[-1].read_bytes() == (runs.third.out / "results.json").read_bytes()


def test_the_report_draws_each_items_trend(runs: Runs) -> None:
    history = runs.third.results["history"]
    assert len(history["runs"]) == 2 and history["keep"] == 2
    trends = {t["item"]: t["outcomes"] for t in history["items"]}
    for item in matrix.Catalogue.load().expected(FLAW):
        assert trends[item] == ["fail", "pass"]
    page = (runs.third.out / "report.html").read_text(encoding="utf-8")
    item = sorted(matrix.Catalogue.load().expected(FLAW))[0]
    body = page[page.index(f'id="item-{item}"') :]
    strip = re.search(r'aria-label="Outcome over the last 2 runs".*?</svg>', body)
    assert strip and re.findall(r'data-outcome="([a-z-]+)"', strip.group()) == ["fail", "pass"]
    items = page[page.index('<section id="items">') :]
    strips = re.findall(r'aria-label="Outcome over the last 2 runs"', items)
    assert len(strips) == len(runs.third.results["items"])  # one per item
    # …and one in the diff block beside each item that changed.
    diff_block = page[page.index('<section id="diff"') : page.index('<section id="summary"')]
    assert diff_block.count('aria-label="Outcome over the last 2 runs"') == len(
        runs.third.results["diff"]["items"]
    )


def test_golive_diff_of_the_two_runs(runs: Runs, catalogue: matrix.Catalogue) -> None:
    a, b = str(runs.first.out), str(runs.flawed.out / "results.json")
    done = golive("diff", a, b)
    assert done.returncode == 1, done.stderr
    assert f"Newly failing ({len(catalogue.expected(FLAW))})" in done.stdout
    for item in catalogue.expected(FLAW):
        assert re.search(rf"^  {re.escape(item)} +blocker +pass -> fail", done.stdout, re.M)
    assert golive("diff", a, b, "--exit-zero").returncode == 0
    as_json = golive("diff", a, b, "--json")
    parsed = json.loads(as_json.stdout)
    assert {c["item"] for c in parsed["items"] if c["worse"]} == catalogue.expected(FLAW)
    as_md = golive("diff", a, b, "--markdown")
    assert _md_rows(as_md.stdout, "Newly failing") == catalogue.expected(FLAW)
    # The other way round the items newly pass: nothing got worse.
    back = golive("diff", b, a)
    assert back.returncode == 0 and "nothing got worse" in back.stdout


def test_golive_diff_refuses_an_unreadable_file(runs: Runs, tmp_path: Path) -> None:
    broken = tmp_path / "results.json"
    broken.write_text('{"verdict": "GO", ', encoding="utf-8")
    done = golive("diff", str(runs.first.out), str(broken))
    assert done.returncode == 2
    assert str(broken) in done.stderr and "is not JSON" in done.stderr
    missing = golive("diff", str(tmp_path / "nowhere"), str(runs.first.out))
    assert missing.returncode == 2 and str(tmp_path / "nowhere") in missing.stderr


def test_a_malformed_baseline_stops_the_gate_before_anything_runs(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    broken = tmp_path / "previous.json"
    broken.write_text('{"meta": {}, "items": [{"id": 1}]}', encoding="utf-8")
    out = tmp_path / "out"
    done = gate(profile, out, "--baseline", str(broken))
    assert done.returncode == 2
    assert str(broken) in done.stderr and "is not a results.json golive can read" in done.stderr
    assert not out.exists() and not (profile.parent / ".build").exists()  # nothing ran

    history = tmp_path / "history"
    history.mkdir()
    bad = history / "results-20261126T120000.000000Z.json"
    bad.write_text("not json", encoding="utf-8")
    done = gate(profile, out, "--history", str(history))
    assert done.returncode == 2 and str(bad) in done.stderr
    assert not out.exists()

    done = gate(profile, out, "--history", str(history), "--history-keep", "0")
    assert done.returncode == 2 and "--history-keep" in done.stderr
