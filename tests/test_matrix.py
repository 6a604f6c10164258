"""The detection matrix: every flaw of shop/catalogue.yaml, each on a fresh demo copy with
the gate's pre-deploy and staging phases on the sections of its catalogued items, fails
exactly those items; the correct shop, on the whole default gate (the control run), fails
none. Every automated item is caught by some flaw or says why none can show it. The
README's table is drawn from the record of a real complete run (shop/matrix-record.json,
written by `python3 dev.py matrix`, every flaw on every section), and the tests' own runs
must agree with that record on their sections.

The runs are shared (gatekit.SharedRuns): the check families' tests read their evidence
from the same runs, and pytest-xdist spreads them over the workers (`-n 2` in CI)."""

from __future__ import annotations

import functools
import json

import pytest
from gatekit import ROOT, SharedRuns, checklist_items

from golive import matrix

CATALOGUE = matrix.Catalogue.load()
ITEMS = matrix.automated_items()


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


@functools.cache
def recorded() -> list[matrix.FlawRun]:
    return matrix.recorded_runs(matrix.SHOP)


def test_the_readme_shows_the_recorded_complete_run() -> None:
    text = matrix.render(recorded(), CATALOGUE, matrix.SHOP)
    assert matrix.shown(ROOT / "README.md") == text, (
        "README matrix is stale: run `python3 dev.py matrix`"
    )


def test_the_record_is_a_complete_caught_run_of_todays_catalogue() -> None:
    # A catalogue change (a flaw added, an item moved) needs a new complete run.
    assert [run.flaw for run in recorded()] == [None, *CATALOGUE.flaws]
    for run in recorded():
        assert run.expected == CATALOGUE.expected(run.flaw), f"{run.flaw}: re-run the matrix"
        assert run.caught, f"{run.flaw}: {matrix._problems(run)}"


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
        run.expected = expected
        assert not run.caught, name
        assert "✗" in matrix.table([run], CATALOGUE), name
    crashed = matrix.FlawRun(flaw, 2, ok, 0.0)
    crashed.expected = expected
    assert not crashed.caught


def test_a_flaw_run_selects_the_sections_of_its_catalogued_items() -> None:
    assert CATALOGUE.sections("no-hsts") == ["api-security", "data-security"]
    assert CATALOGUE.sections("missing-index-webhook-event-id") == ["database"]
    for flaw in CATALOGUE.flaws:
        sections = CATALOGUE.sections(flaw)
        assert {item.split(".")[0] for item in CATALOGUE.expected(flaw)} == set(sections)


def _judge(gate_run, flaw: str | None) -> matrix.FlawRun:
    outcomes = {i["id"]: i["outcome"] for i in gate_run.results["items"]}
    run = matrix.FlawRun(flaw, gate_run.returncode, outcomes, 0.0, gate_run.stdout)
    run.expected = CATALOGUE.expected(flaw)
    detail = f"\n{matrix._problems(run)}\n{gate_run.stdout[-3000:]}{gate_run.stderr[-2000:]}"
    assert run.returncode in (0, 1), detail
    assert run.outcomes, detail
    assert run.errors == set(), detail
    assert run.failing == run.expected, detail
    assert run.caught
    return run


@pytest.mark.parametrize("flaw", list(CATALOGUE.flaws))
def test_the_gate_fails_exactly_the_catalogued_items(shared_runs: SharedRuns, flaw: str) -> None:
    gate_run = shared_runs.flaw(flaw)
    # Only the flaw's sections ran: every selected item belongs to one of them.
    sections = set(CATALOGUE.sections(flaw))
    assert {item.split(".")[0] for item in gate_run.outcomes()} == sections
    run = _judge(gate_run, flaw)
    # ... and it agrees with the recorded complete run on those sections.
    record = next(r for r in recorded() if r.flaw == flaw)
    assert {i for i in record.failing if i.split(".")[0] in sections} == run.failing


def test_the_correct_shop_fails_nothing_on_the_whole_default_gate(shared_runs: SharedRuns) -> None:
    run = _judge(shared_runs.control(), None)
    assert run.failing == set()
    default_phases = {
        item["id"]
        for item in checklist_items()
        if item.get("automated") and item["phase"] in matrix.PHASES
    }
    assert default_phases <= set(run.outcomes)  # every automated item of the two phases ran


def test_a_blind_set_is_judged_by_inclusion() -> None:
    # A blind flaw must fail its items; other failures are shown, not counted against it.
    run = matrix.FlawRun("blind", 1, {"a.x": "fail", "b.y": "fail"}, 0.0, judge="includes")
    run.expected = {"a.x"}
    assert run.caught
    catalogue = matrix.Catalogue({"blind": {"realized_by": "app", "fails": ["a.x"]}}, {})
    assert "(also failed: b.y)" in matrix.table([run], catalogue)
    missed = matrix.FlawRun("blind", 1, {"b.y": "fail"}, 0.0, judge="includes")
    missed.expected = {"a.x"}
    assert not missed.caught
    crashed = matrix.FlawRun("blind", 2, {"a.x": "fail"}, 0.0, judge="includes")
    crashed.expected = {"a.x"}
    assert not crashed.caught
    assert matrix.score([run, missed, crashed]) == "1 of 3 flaws caught"
    # The correct build must be GO; a major item failing under load noise is shown.
    assert matrix.FlawRun(None, 0, {"b.y": "fail"}, 0.0, judge="includes").caught
    assert not matrix.FlawRun(None, 1, {"b.y": "fail"}, 0.0, judge="includes").caught


# --- the blind detection set (targets/examples/django-shop/flaws.yaml) ----------------------

DJANGO = matrix.SUBJECTS["django-example"]
BLIND = matrix.Catalogue.load(DJANGO.catalogue)


def test_the_blind_set_is_judged_by_inclusion_and_mapped_to_checklist_items() -> None:
    assert BLIND.judge == "includes"
    items = matrix.automated_items()
    for name, flaw in BLIND.flaws.items():
        assert flaw["fails"] and set(flaw["fails"]) <= items.keys(), name
        assert flaw["violates"] and flaw["class"], name


def test_the_readme_shows_the_blind_sets_recorded_run_with_every_flaw_caught() -> None:
    runs = matrix.recorded_runs(DJANGO, BLIND.judge)
    assert [run.flaw for run in runs] == [None, *BLIND.flaws]
    for run in runs:
        assert run.expected == BLIND.expected(run.flaw), f"{run.flaw}: re-run the matrix"
        assert run.caught, f"{run.flaw}: {matrix._problems(run)}"
    text = matrix.render(runs, BLIND, DJANGO)
    assert matrix.shown(ROOT / "README.md", DJANGO.markers) == text


def test_the_blind_sets_score_before_any_check_changed_is_kept() -> None:
    before = json.loads((DJANGO.source / "matrix-before.json").read_text(encoding="utf-8"))
    assert [run["flaw"] for run in before["runs"]] == [None, *BLIND.flaws]
    assert before["score"] == "6 of 16 flaws caught"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "**Before**" in readme and before["score"] + "." in readme
