"""The --history folder (golive/history/store.py) and the trends drawn from it
(trend.py, reports/sparklines.py), on hand-made runs written as real files."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from historykit import item, run
from sample_results import NOW

from golive.errors import InputError
from golive.history import store, trend
from golive.reports import html
from golive.results import RunResult, Verdict

LOAD = [{"metric": "http_ms", "threshold": "p(95)<2000", "observed": 37.0}]


def _run(n: int, outcome: str = "pass", verdict: Verdict = Verdict.GO) -> RunResult:
    evidence = [dict(LOAD[0], observed=30.0 + n)]
    result = run(
        item("a.one", outcome, evidence=evidence),
        item("a.two", "pass"),
        started=NOW + timedelta(hours=n),
    )
    return result.model_copy(update={"verdict": verdict})


def _keep(tmp_path: Path, result: RunResult, folder: Path, keep: int) -> Path | None:
    written = tmp_path / "out" / "results.json"
    written.parent.mkdir(exist_ok=True)
    written.write_text(result.model_dump_json(indent=2), encoding="utf-8")
    return store.keep(written, result, folder, keep)


def test_the_last_n_runs_are_kept_and_the_oldest_removed(tmp_path: Path) -> None:
    folder = tmp_path / "history"
    kept = [_keep(tmp_path, _run(n), folder, keep=3) for n in range(5)]
    names = [p.name for p in store.runs(folder)]
    assert names == [p.name for p in kept[2:]]
    assert names[0] == "results-20251126T063000.000000Z.json"  # named by start time
    assert not kept[0].exists() and not kept[1].exists()
    # A copy of the file as written, byte for byte.
    assert kept[-1].read_bytes() == (tmp_path / "out" / "results.json").read_bytes()
    # The most recent run is the one a gate without --baseline compares with.
    assert store.load_all(folder)[-1].result.meta.started_at == NOW + timedelta(hours=4)


def test_other_files_in_the_folder_are_left_alone(tmp_path: Path) -> None:
    folder = tmp_path / "history"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    (folder / "results.json").write_text("{}")
    for n in range(3):
        _keep(tmp_path, _run(n), folder, keep=1)
    assert sorted(p.name for p in folder.iterdir()) == [
        "notes.txt",
        "results-20251126T063000.000000Z.json",
        "results.json",
    ]


def test_two_runs_started_at_the_same_time_are_both_kept(tmp_path: Path) -> None:
    folder = tmp_path / "history"
    first = _keep(tmp_path, _run(0), folder, keep=5)
    second = _keep(tmp_path, _run(0, "fail"), folder, keep=5)
    assert first != second and second.name.endswith("-2.json")
    assert store.runs(folder) == [first, second]


def test_an_incomplete_run_is_not_kept(tmp_path: Path) -> None:
    folder = tmp_path / "history"
    assert _keep(tmp_path, _run(0, verdict=Verdict.INCOMPLETE), folder, keep=5) is None
    assert store.runs(folder) == []


def test_a_broken_file_in_the_history_names_itself(tmp_path: Path) -> None:
    folder = tmp_path / "history"
    _keep(tmp_path, _run(0), folder, keep=5)
    broken = folder / "results-20251127T000000.000000Z.json"
    broken.write_text('{"meta": ', encoding="utf-8")
    with pytest.raises(InputError) as caught:
        store.load_all(folder)
    assert str(broken) in str(caught.value) and "remove it from the history" in str(caught.value)


def test_a_history_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history"
    path.write_text("")
    with pytest.raises(InputError, match="--history names a file"):
        store.check_folder(path)


def test_trend_of_outcomes_and_measured_values(tmp_path: Path) -> None:
    previous = [_run(0), _run(1, "fail"), _run(2)]
    previous[1].items = previous[1].items[:1]  # a.two not selected in that run
    current = _run(3, "fail")
    history = trend.build(previous, current, tmp_path, keep=3)
    assert [r.started_at for r in history.runs] == [NOW + timedelta(hours=n) for n in (1, 2, 3)]
    by_item = {t.item: t for t in history.items}
    assert [o and o.value for o in by_item["a.one"].outcomes] == ["fail", "pass", "fail"]
    assert [o and o.value for o in by_item["a.two"].outcomes] == [None, "pass", "pass"]
    assert by_item["a.one"].measures == {"demo.check http_ms": [31.0, 32.0, 33.0]}
    assert trend.build([], current, tmp_path, keep=1).runs[0].started_at == current.meta.started_at


def test_the_report_draws_a_sparkline_per_item(tmp_path: Path) -> None:
    current = _run(3, "fail")
    current.history = trend.build([_run(0), _run(1), _run(2)], current, tmp_path, keep=20)
    page = html.render(current)
    body = page[page.index('id="item-a.one"') :]
    body = body[: body.index("</details>")]
    strip = re.search(r'<svg[^>]*aria-label="Outcome over the last 4 runs".*?</svg>', body)
    assert strip, "no outcome sparkline in the item"
    assert re.findall(r'data-outcome="([a-z-]+)"', strip.group()) == [
        "pass",
        "pass",
        "pass",
        "fail",
    ]
    assert "2025-11-26 07:30:00 UTC: Fail" in strip.group()  # each square says its run
    line = re.search(r'<svg[^>]*aria-label="demo.check http_ms: 30, 31, 32, 33".*?</svg>', body)
    assert line and line.group().count("<circle") == 4
    # No history: no trend row.
    current.history = None
    assert "Outcome over the last" not in html.render(current)
