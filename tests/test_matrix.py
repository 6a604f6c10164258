"""The detection matrix: every flaw of shop/catalogue.yaml, each on a fresh demo copy with
the gate's pre-deploy and staging phases, fails exactly its catalogued items; the correct
shop fails none. Every automated item is caught by some flaw or says why none can show it.
The README's table is what `python3 dev.py matrix` writes for a fully caught run.

The runs are independent: pytest-xdist spreads them over the workers (`-n 2` in CI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from gatekit import ROOT

from golive import matrix

CATALOGUE = matrix.Catalogue.load()
ITEMS = matrix.automated_items()
PLANNED = matrix.planned_items(ITEMS)


def test_every_automated_item_is_caught_by_a_flaw_or_explained() -> None:
    caught = {item for flaw in CATALOGUE.flaws.values() for item in flaw["fails"]}
    explained = set(CATALOGUE.undetectable)
    assert caught <= ITEMS.keys(), caught - ITEMS.keys()
    assert explained <= ITEMS.keys(), explained - ITEMS.keys()
    assert not caught & explained, f"both caught and explained: {caught & explained}"
    assert ITEMS.keys() - caught - explained == set(), "neither caught nor explained"
    for item, reason in CATALOGUE.undetectable.items():
        assert "tests/" in reason, f"{item}: the reason names no test that proves the check"
        for test_file in (word.strip(".,()") for word in reason.split() if "tests/" in word):
            assert (ROOT / test_file).is_file(), f"{item}: {test_file} does not exist"


def test_the_readme_shows_the_matrix_of_a_fully_caught_run() -> None:
    runs = []
    for flaw in [None, *CATALOGUE.flaws]:
        expected = CATALOGUE.expected(flaw)
        outcomes = {item: "fail" for item in expected - PLANNED}
        run = matrix.FlawRun(flaw, 1 if flaw else 0, outcomes, 0.0)
        run.expected, run.planned = expected, PLANNED
        runs.append(run)
    text = matrix.table(runs, CATALOGUE)
    text += "\n\nAutomated items no flaw can show:\n\n" + matrix.undetectable_table(CATALOGUE)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme.split(matrix.BEGIN, 1)[1].split(matrix.END, 1)[0].strip()
    assert shown == text, "README matrix is stale: run `python3 dev.py matrix`"


def test_a_run_that_misses_or_adds_an_item_is_not_caught() -> None:
    # The judge itself can fail: a missed item, an extra one, an error, a crashed gate.
    flaw = "no-hsts"
    expected = CATALOGUE.expected(flaw)
    ok = {item: "fail" for item in expected}
    cases = {
        "missed": {**ok, sorted(expected)[0]: "pass"},
        "extra": {**ok, "api-security.cors": "fail"},
        "error": {**ok, "api-security.cors": "error"},
    }
    for name, outcomes in cases.items():
        run = matrix.FlawRun(flaw, 1, outcomes, 0.0)
        run.expected, run.planned = expected, set()
        assert not run.caught, name
        assert "✗" in matrix.table([run], CATALOGUE), name
    crashed = matrix.FlawRun(flaw, 2, ok, 0.0)
    crashed.expected = expected
    assert not crashed.caught


@pytest.mark.parametrize("flaw", [None, *CATALOGUE.flaws], ids=lambda f: f or "correct-shop")
def test_the_gate_fails_exactly_the_catalogued_items(tmp_path: Path, flaw: str | None) -> None:
    run = matrix.run_flaw(flaw, tmp_path)
    run.expected, run.planned = CATALOGUE.expected(flaw), PLANNED
    detail = f"\n{matrix._problems(run)}\n{run.output[-3000:]}"
    assert run.returncode in (0, 1), detail
    assert run.outcomes, detail
    assert run.errors == set(), detail
    assert run.failing == run.expected - run.planned, detail
    if flaw is None:
        assert run.failing == set()
