"""The diff of two runs on hand-made RunResults: each kind of change, the measured values
found in checks' evidence, the notes on runs hard to compare, and the renderings."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from historykit import attestation, item, run, waiver
from sample_results import NOW

from golive.history import diff, measures, render, store
from golive.reports import html, markdown
from golive.results import BaselineRun, RunResult

LATER = NOW + timedelta(days=1)


def ref(result: RunResult) -> BaselineRun:
    return BaselineRun(
        path="/runs/previous/results.json",
        sha256="ab" * 32,
        started_at=result.meta.started_at,
        verdict=result.verdict,
        target_git_sha=result.meta.target_git_sha,
        profile_name=result.meta.profile_name,
        checklist_sha256=result.meta.checklist_sha256,
    )


def compare(old: RunResult, new: RunResult):
    return diff.compare(old, new, ref(old))


def changes(d, kind: str) -> dict[str, tuple[str | None, str | None]]:
    return {
        c.item: (c.before.value if c.before else None, c.after.value if c.after else None)
        for c in d.items
        if c.change == kind
    }


def test_newly_failing_and_newly_passing() -> None:
    old = run(item("a.one", "pass"), item("a.two", "fail"), item("a.three", "not-run"))
    new = run(item("a.one", "fail"), item("a.two", "pass"), item("a.three", "fail"), started=LATER)
    d = compare(old, new)
    assert changes(d, "newly-failing") == {
        "a.one": ("pass", "fail"),
        "a.three": ("not-run", "fail"),
    }
    assert changes(d, "newly-passing") == {"a.two": ("fail", "pass")}
    assert {c.item for c in d.items if c.worse} == {"a.one", "a.three"}
    assert d.regressed


def test_other_outcome_changes_are_outcome_changed() -> None:
    old = run(
        item("a.err", "error"),
        item("a.run", "pass"),
        item("a.att", "attested", attestation=attestation("a.att", date=NOW)),
        item("a.fixed", "fail"),
    )
    new = run(
        item("a.err", "fail"),  # error -> fail: still not accepted, not newly failing
        item("a.run", "not-run"),
        item("a.att", "pending", attestation=attestation("a.att", date=NOW)),
        item("a.fixed", "waived"),
        started=LATER,
    )
    d = compare(old, new)
    assert changes(d, "outcome-changed") == {
        "a.err": ("error", "fail"),
        "a.run": ("pass", "not-run"),
        "a.att": ("attested", "pending"),
        "a.fixed": ("fail", "waived"),
    }
    assert changes(d, "newly-failing") == {}
    # Worse: accepted before, not accepted now. error -> fail and fail -> waived are not.
    assert {c.item for c in d.items if c.worse} == {"a.run", "a.att"}


def test_items_added_to_and_removed_from_the_selection() -> None:
    old = run(item("a.kept", "pass"), item("a.gone", "fail"))
    new = run(item("a.kept", "pass"), item("b.new", "fail", reason="no index"), started=LATER)
    d = compare(old, new)
    assert changes(d, "added") == {"b.new": (None, "fail")}
    assert changes(d, "removed") == {"a.gone": ("fail", None)}
    assert not d.regressed  # a failing item new to the selection did not get worse
    assert [c.reason for c in d.items if c.item == "b.new"] == ["no index"]


def test_identical_runs_have_no_changes() -> None:
    evidence = [{"metric": "http_ms", "threshold": "p(95)<2000", "observed": 37.0}]
    one = run(item("a.one", "pass", evidence=evidence), item("a.two", "fail"))
    d = compare(one, one.model_copy(deep=True))
    assert (d.items, d.signoffs, d.measures, d.notes, d.regressed) == ([], [], [], [], False)
    assert "No item, sign-off or measured value changed." in render.text(d, one)
    assert "No item, sign-off or measured value changed." in "\n".join(render.markdown(d))


def test_waiver_added_expired_renewed_removed() -> None:
    until = NOW + timedelta(days=30)
    old = run(
        item("w.expires", "waived", waiver=waiver("w.expires", expires=until)),
        item("w.renewed", "waived", waiver=waiver("w.renewed", expires=until)),
        item("w.removed", "waived", waiver=waiver("w.removed", expires=until)),
        item("w.added", "fail"),
        item("w.same", "waived", waiver=waiver("w.same", expires=until)),
    )
    new = run(
        item("w.expires", "fail", waiver=waiver("w.expires", expires=until, expired=True)),
        item("w.renewed", "waived", waiver=waiver("w.renewed", expires=until + timedelta(days=60))),
        item("w.removed", "fail"),
        item("w.added", "waived", waiver=waiver("w.added", expires=until)),
        item("w.same", "waived", waiver=waiver("w.same", expires=until)),
        started=LATER,
    )
    d = compare(old, new)
    kinds = {s.item: s.change for s in d.signoffs}
    assert kinds == {
        "w.expires": "waiver-expired",
        "w.renewed": "waiver-renewed",
        "w.removed": "waiver-removed",
        "w.added": "waiver-added",
    }
    added = next(s for s in d.signoffs if s.item == "w.added")
    assert "Ravi" in added.detail and "vendor fix" in added.detail
    # The expired waiver's item fails again: newly failing, worse.
    assert changes(d, "newly-failing") == {
        "w.expires": ("waived", "fail"),
        "w.removed": ("waived", "fail"),
    }


def test_attestation_renewed_stale_added_removed() -> None:
    old = run(
        item("s.renewed", "attested", attestation=attestation("s.renewed", date=NOW)),
        item("s.stale", "attested", attestation=attestation("s.stale", date=NOW)),
        item("s.removed", "attested", attestation=attestation("s.removed", date=NOW)),
        item("s.added", "pending"),
        item("s.same", "attested", attestation=attestation("s.same", date=NOW)),
    )
    stale = attestation("s.stale", date=NOW, valid=False, reason="older than 90 days")
    new = run(
        item("s.renewed", "attested", attestation=attestation("s.renewed", date=LATER)),
        item("s.stale", "pending", attestation=stale),
        item("s.removed", "pending"),
        item("s.added", "attested", attestation=attestation("s.added", date=LATER)),
        item("s.same", "attested", attestation=attestation("s.same", date=NOW)),
        started=LATER,
    )
    d = compare(old, new)
    kinds = {s.item: s.change for s in d.signoffs}
    assert kinds == {
        "s.renewed": "attestation-renewed",
        "s.stale": "attestation-invalid",
        "s.removed": "attestation-removed",
        "s.added": "attestation-added",
    }
    stale_change = next(s for s in d.signoffs if s.item == "s.stale")
    assert "older than 90 days" in stale_change.detail
    renewed = next(s for s in d.signoffs if s.item == "s.renewed")
    assert "2025-11-26" in renewed.detail and "2025-11-27" in renewed.detail


# The shapes in which checks record a measured number (golive/history/measures.py).
LOAD = [{"metric": "http_ms", "threshold": "p(95)<2000", "samples": 368, "observed": 37.0}]
MONITORING = [
    {"query": "rate(errors[5m])", "threshold": "error_rate: rate<0.05"},
    {"observed": 0.01, "samples": 12},
]
HSTS = [
    {"threshold": "hsts_max_age_days value>=180", "threshold_source": "the item's threshold"},
    {"request": "GET /", "status": 200},
    {"threshold": "value>=180", "observed_days": 365.0},
]
METRICS = [
    {
        "metric": "x",
        "thresholds": {"webhook_processing_ms": "p(95)<2000: 67.3", "samples": "count>=1: 7"},
    }
]
FAST_ACK = [
    {"variant": "signed", "metric": "ack_time_ms", "threshold": "p(95)<2000", "observed_ms": 4.1},
    {
        "variant": "real-order",
        "metric": "ack_time_ms",
        "threshold": "p(95)<2000",
        "samples_ms": [3.2],
    },
]


def test_measures_found_in_every_shape_checks_record() -> None:
    found = {
        label: (m.threshold, m.value)
        for evidence in (LOAD, MONITORING, HSTS, METRICS, FAST_ACK)
        for label, m in measures.of_item(item("m.x", "pass", evidence=evidence)).items()
    }
    assert found == {
        "demo.check http_ms": ("p(95)<2000", 37.0),
        "demo.check error_rate": ("rate<0.05", 0.01),
        "demo.check hsts_max_age_days": ("value>=180", 365.0),
        "demo.check webhook_processing_ms": ("p(95)<2000", 67.3),
        "demo.check samples": ("count>=1", 7.0),
        "demo.check ack_time_ms (signed)": ("p(95)<2000", 4.1),
    }


def test_a_series_of_values_or_text_is_no_measure() -> None:
    evidence = [
        {"threshold": "error_rate: value<0.05", "observed": [0.01, 0.02]},
        {"observed": "n/a"},
        {"observed_ms": True},
        {"thresholds": {"x": "not a judgement"}},
    ]
    assert measures.of_item(item("m.x", "pass", evidence=evidence)) == {}


def _scaled(evidence: list[dict], factor: float) -> list[dict]:
    text = json.dumps(evidence)
    for value in ("37.0", "0.01", "365.0", "67.3", "4.1"):
        text = text.replace(value, f"{float(value) * factor:.4g}")
    return json.loads(text)


def test_threshold_values_that_moved_old_to_new() -> None:
    evidence = LOAD + MONITORING + HSTS
    old = run(item("m.one", "pass", evidence=evidence), item("m.same", "pass", evidence=LOAD))
    new = run(
        item("m.one", "pass", evidence=_scaled(evidence, 2)),
        item("m.same", "pass", evidence=LOAD),
        started=LATER,
    )
    d = compare(old, new)
    moved = {(m.item, m.metric): (m.before, m.after, m.worse) for m in d.measures}
    assert moved == {
        ("m.one", "http_ms"): (37.0, 74.0, True),  # p(95)< : larger is worse
        ("m.one", "error_rate"): (0.01, 0.02, True),
        ("m.one", "hsts_max_age_days"): (365.0, 730.0, False),  # value>= : larger is better
    }
    assert not d.regressed  # moved numbers alone do not make a regression
    line = next(m for m in d.measures if m.metric == "http_ms")
    assert render.movement(line) == "37 -> 74 (+100.0%, worse)"


def test_a_measure_that_appears_or_vanishes_is_shown_with_no_direction() -> None:
    old = run(item("m.one", "error", evidence=[{"examined": 0}]))
    new = run(item("m.one", "pass", evidence=LOAD), started=LATER)
    (change,) = compare(old, new).measures
    assert (change.metric, change.before, change.after, change.worse) == (
        "http_ms",
        None,
        37.0,
        None,
    )


def test_a_baseline_of_another_profile_checklist_and_selection_is_still_diffed() -> None:
    old = run(
        item("a.one", "pass"),
        profile_name="shop-eu",
        checklist_sha256="0" * 64,
        phases=["pre-deploy"],
    )
    new = run(item("a.one", "fail"), started=LATER)
    d = compare(old, new)
    assert changes(d, "newly-failing") == {"a.one": ("pass", "fail")}
    text = " | ".join(d.notes)
    assert "another target profile: shop-eu" in text
    assert "another checklist" in text
    assert "phases pre-deploy;" in text
    assert compare(new, new.model_copy(deep=True)).notes == []


def test_a_baseline_newer_than_the_run_is_noted() -> None:
    old = run(item("a.one", "pass"), started=LATER)
    new = run(item("a.one", "pass"))
    assert any("started after this run" in note for note in compare(old, new).notes)


def _sample_diff() -> tuple[RunResult, RunResult]:
    until = NOW + timedelta(days=30)
    old = run(
        item("a.one", "pass", evidence=LOAD),
        item("a.two", "fail"),
        item("a.waived", "fail"),
    )
    new = run(
        item("a.one", "fail", evidence=_scaled(LOAD, 2), reason="p95 <script>x</script> | 74 ms"),
        item("a.two", "pass"),
        item("a.waived", "waived", waiver=waiver("a.waived", expires=until)),
        started=LATER,
    )
    new.diff = compare(old, new)
    return old, new


def test_text_and_markdown_show_every_kind() -> None:
    _, new = _sample_diff()
    text = render.text(new.diff, new)
    assert "Newly failing (1)\n  a.one" in text
    assert "Newly passing (1)\n  a.two" in text
    assert "waiver added" in text and "a.waived" in text
    assert "demo.check http_ms [p(95)<2000]: 37 -> 74 (+100.0%, worse)" in text
    assert text.rstrip().endswith("some item got worse.")
    md = markdown.render(new)
    top = md.index("### Changes since the baseline")
    assert top < md.index("### Results by section")  # at the top of summary.md
    assert "| Newly failing | `a.one` |" in md
    assert "&lt;script&gt;" in md and "\\|" in md  # cells escaped


def test_html_diff_block_rows_and_escaping() -> None:
    _, new = _sample_diff()
    page = html.render(new)
    assert '<section id="diff"' in page and "<h2>Changes since the baseline</h2>" in page
    assert page.index('id="diff"') < page.index('id="summary"')
    assert '<tr data-change="newly-failing" data-item="a.one">' in page
    assert '<tr data-change="newly-passing" data-item="a.two">' in page
    assert '<tr data-change="waiver-added" data-item="a.waived">' in page
    assert "<script>x</script>" not in page
    # Without a baseline there is no diff block.
    new.diff = None
    assert 'id="diff"' not in html.render(new)


def test_loading_results_files_and_report_folders(tmp_path: Path) -> None:
    _, new = _sample_diff()
    folder = tmp_path / "report"
    folder.mkdir()
    (folder / "results.json").write_text(new.model_dump_json(), encoding="utf-8")
    loaded = store.load(folder)
    assert loaded.path == folder / "results.json"
    assert loaded.result == new
    assert len(loaded.sha256) == 64 and loaded.notes == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON"),
        ('{"verdict": "GO"}', "is not a golive results.json"),
        ("[1, 2]", "is not a golive results.json"),
        ('{"meta": {}, "items": []}', "is not a results.json golive can read: verdict"),
        (b"\xff\xfe", "is not JSON"),
    ],
)
def test_a_broken_results_file_names_itself(tmp_path: Path, content, message: str) -> None:
    from golive.errors import InputError

    path = tmp_path / "broken.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        store.load(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)


def test_fields_of_a_newer_golive_are_left_out_with_a_note(tmp_path: Path) -> None:
    _, new = _sample_diff()
    data = json.loads(new.model_dump_json())
    data["schema_version"] = "9.0"
    data["signature"] = {"alg": "ed25519"}
    data["items"][0]["provenance"] = "x"
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    loaded = store.load(path)
    assert loaded.result.items[0].id == "a.one"
    (note,) = loaded.notes
    assert "items.provenance" in note and "signature" in note and "schema 9.0" in note
