"""The four reports rendered from one RunResult: shape, escaping, redaction, atomic writes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest
from sample_results import CANARY_KEY, CANARY_STRINGS, make_result

from golive.history.diff import compare
from golive.reports import html, json_report, junit, markdown, writer
from golive.reports._common import redact_value
from golive.reports.writer import ReportError, render_report, write_reports
from golive.results import BaselineRun, Outcome, RunResult, Verdict

FILES = {"html": "report.html", "json": "results.json", "junit": "junit.xml", "md": "summary.md"}
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def result() -> RunResult:
    return make_result(24)


@pytest.fixture(scope="module")
def written(result: RunResult, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_reports(result, tmp_path_factory.mktemp("reports"))


@pytest.fixture(scope="module")
def secret_result() -> RunResult:
    return make_result(16, with_secrets=True)


@pytest.fixture(scope="module")
def secret_written(
    secret_result: RunResult, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    return write_reports(secret_result, tmp_path_factory.mktemp("secret-reports"))


# --- writer ----------------------------------------------------------------------------------


def test_write_reports_writes_every_format(written: dict[str, Path]) -> None:
    assert {fmt: path.name for fmt, path in written.items()} == FILES
    directory = next(iter(written.values())).parent
    assert sorted(p.name for p in directory.iterdir()) == sorted(FILES.values())  # no temp files
    for path in written.values():
        assert path.stat().st_size > 0
        assert path.read_text(encoding="utf-8").endswith("\n")


def test_write_reports_subset_and_unknown_format(result: RunResult, tmp_path: Path) -> None:
    assert write_reports(result, tmp_path / "a" / "b", formats=["md", "md"]) == {
        "md": tmp_path / "a" / "b" / "summary.md"
    }
    with pytest.raises(ValueError, match="pdf"):
        write_reports(result, tmp_path / "c", formats=["json", "pdf"])
    assert not (tmp_path / "c").exists()  # refused before writing anything


def test_a_failing_format_keeps_the_old_file_and_the_others_are_written(
    result: RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_reports(result, tmp_path)
    before = (tmp_path / "report.html").read_bytes()
    (tmp_path / "summary.md").unlink()

    def broken(_: RunResult) -> str:
        raise RuntimeError("template blew up")

    name, _, redact = writer.FORMATS["html"]
    monkeypatch.setitem(writer.FORMATS, "html", (name, broken, redact))
    with pytest.raises(ReportError) as caught:
        write_reports(result, tmp_path)
    assert set(caught.value.errors) == {"html"}
    assert set(caught.value.written) == {"json", "junit", "md"}
    assert (tmp_path / "summary.md").exists()
    assert (tmp_path / "report.html").read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_crash_mid_write_leaves_the_previous_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "results.json"
    writer.atomic_write_text(target, "old\n")

    def crash(_: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(writer.os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        writer.atomic_write_text(target, "new and much longer\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_written_files_follow_the_umask(written: dict[str, Path]) -> None:
    umask = os.umask(0)
    os.umask(umask)
    assert written["json"].stat().st_mode & 0o777 == 0o666 & ~umask


# --- results.json and its schema ------------------------------------------------------------


def test_results_json_round_trips(result: RunResult, written: dict[str, Path]) -> None:
    text = written["json"].read_text(encoding="utf-8")
    assert json.loads(text) == result.model_dump(mode="json")
    assert RunResult.model_validate_json(text) == result
    assert text.startswith('{\n  "schema_version": "1.3"')


def test_committed_schema_is_the_generated_one() -> None:
    committed = json.loads(json_report.SCHEMA_PATH.read_text(encoding="utf-8"))
    assert committed == json_report.generate_schema(), (
        "reports/results.schema.json is stale: run `.venv/bin/python -m reports.json_report`"
    )
    assert committed["$id"] == "urn:golive:schema:results:1.3"
    assert committed["title"] == "golive results.json"
    assert "Schema version 1.3" in committed["description"]
    assert committed["x-golive-schema-version"] == RunResult.model_fields["schema_version"].default
    jsonschema.Draft202012Validator.check_schema(committed)


def test_results_json_validates_against_the_committed_schema(
    written: dict[str, Path], secret_written: dict[str, Path]
) -> None:
    schema = json.loads(json_report.SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    for path in (written["json"], secret_written["json"]):
        validator.validate(json.loads(path.read_text(encoding="utf-8")))
    broken = json.loads(written["json"].read_text(encoding="utf-8"))
    broken["items"][0]["outcome"] = "maybe"
    del broken["meta"]["host"]
    assert len(list(validator.iter_errors(broken))) == 2


def test_json_redaction_keeps_numbers_and_validity() -> None:
    result = make_result(8, with_secrets=True)
    result.items[0].checks[0].duration_s = 0.4242424242424242  # fraction is Luhn-valid
    text = render_report(result, "json")
    data = json.loads(text)
    assert data["items"][0]["checks"][0]["duration_s"] == 0.4242424242424242
    card = data["items"][1]["checks"][0]["evidence"][0]["card"]
    assert card == {
        "number": "424242******4242",
        "number_int": "400005******5556",
        "after_newline": "line\n424242******4242",
    }
    raw = json_report.render(result)
    assert json.loads(json_report.redact_text(raw)) == redact_value(json.loads(raw))
    clean = json_report.render(make_result(8))
    assert json_report.redact_text(clean) == clean


# --- junit.xml ------------------------------------------------------------------------------


def test_junit_has_one_testcase_per_item_in_one_suite_per_section(
    result: RunResult, written: dict[str, Path]
) -> None:
    root = ET.parse(written["junit"]).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name", "").split(" — ")[0] for s in suites] == [s.id for s in result.sections]
    cases = root.findall("testsuite/testcase")
    assert len(cases) == len(result.items)
    by_name = {c.get("name"): c for c in cases}
    for item in result.items:
        case = by_name[f"{item.id} — {item.title}"]
        assert case.get("classname") == item.section
        assert float(case.get("time", "x")) >= 0
        children = {child.tag for child in case}
        if item.outcome is Outcome.FAIL:
            (failure,) = case.findall("failure")
            assert failure.get("type") == "fail"
            assert failure.get("message") == item.reason
            assert item.checks[0].message in (failure.text or "")
            assert '"request"' in (failure.text or "")  # evidence summary
        elif item.outcome is Outcome.ERROR:
            (error,) = case.findall("error")
            assert error.get("type") == "error" and error.get("message")
        elif item.outcome in (Outcome.NOT_RUN, Outcome.PENDING, Outcome.NOT_APPLICABLE):
            (skipped,) = case.findall("skipped")
            assert skipped.get("message", "").startswith(item.outcome.value)
            assert item.reason in skipped.get("message", "")
        else:
            assert not children & {"failure", "error", "skipped"}
        if item.outcome is Outcome.ATTESTED:
            assert "Attested by" in case.findtext("system-out", "")
        if item.outcome is Outcome.WAIVED:
            assert "Waiver (applied)" in case.findtext("system-out", "")


def test_junit_counts_and_properties(result: RunResult, written: dict[str, Path]) -> None:
    root = ET.parse(written["junit"]).getroot()
    total = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        counts = {
            "tests": len(cases),
            "failures": sum(len(c.findall("failure")) for c in cases),
            "errors": sum(len(c.findall("error")) for c in cases),
            "skipped": sum(len(c.findall("skipped")) for c in cases),
        }
        assert {k: int(suite.get(k, "-1")) for k in counts} == counts
        assert float(suite.get("time", "x")) >= 0
        for key, value in counts.items():
            total[key] += value
        props = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
        assert props["verdict"] == result.verdict.value
        assert props["profile"] == result.meta.profile_name
        assert props["checklist_sha256"] == result.meta.checklist_sha256
    assert {k: int(root.get(k, "-1")) for k in total} == total
    assert total["tests"] == len(result.items)


def test_junit_survives_control_characters() -> None:
    result = make_result(4)
    result.items[1].reason = "red \x1b[31mFAIL\x1b[0m and a NUL \x00"
    root = ET.fromstring(junit.render(result).encode("utf-8"))
    message = root.find(".//failure").get("message")
    assert message == "red \\x1b[31mFAIL\\x1b[0m and a NUL \\x00"


# --- summary.md -----------------------------------------------------------------------------


def _table_rows(text: str, heading: str) -> list[list[str]]:
    block = text.split(heading, 1)[1].split("\n\n", 2)[1]
    rows = [line for line in block.splitlines() if line.startswith("|")]
    return [re.split(r"(?<!\\)\|", row)[1:-1] for row in rows]


def test_markdown_summary(result: RunResult, written: dict[str, Path]) -> None:
    text = written["md"].read_text(encoding="utf-8")
    assert text.startswith("## ❌ NO-GO\n")
    for reason in result.verdict_reasons:
        assert markdown.cell(reason, 1000) in text

    rows = _table_rows(text, "### Results by section")
    assert all(len(row) == len(rows[0]) for row in rows)  # no stray `|` split a cell
    first_cells = "\n".join(row[0] for row in rows)
    for section in result.sections:
        assert f"(`{section.id}`)" in first_cells
    assert rows[-1][0].strip() == "**Total**"
    assert rows[-1][-1].strip() == f"**{len(result.items)}**"

    blockers = _table_rows(text, "### Blocking items not accepted")
    assert all(len(row) == len(blockers[0]) for row in blockers)
    listed = {row[0].strip().strip("`") for row in blockers[2:]}
    expected = {
        i.id
        for i in result.items
        if i.severity == "blocker"
        and i.outcome in (Outcome.FAIL, Outcome.ERROR, Outcome.NOT_RUN, Outcome.PENDING)
    }
    assert listed == expected
    for heading in ("### Waivers (", "### Attestations (", "### Run"):
        assert heading in text
    assert "**expired**" in text
    assert re.findall(r"<(?!br>)", text) == []  # no raw HTML from titles or reasons
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "\\| tracked in OPS-231" in text


def test_markdown_headline_per_verdict() -> None:
    assert markdown.render(make_result(8, verdict=Verdict.GO)).startswith("## ✅ GO\n")
    incomplete = markdown.render(make_result(8, verdict=Verdict.INCOMPLETE))
    assert incomplete.startswith("## ⚠️ INCOMPLETE\n")
    assert "**Harness errors:**" in incomplete


# --- report.html ----------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def test_html_has_every_item_and_the_verdict(result: RunResult, written: dict[str, Path]) -> None:
    text = written["html"].read_text(encoding="utf-8")
    for item in result.items:
        assert f'id="item-{item.id}"' in text
    assert 'class="verdict v-nogo"' in text
    assert '<div class="verdict-word" data-verdict="NO-GO">NO-GO</div>' in text
    for section in ("summary", "attention", "items", "attestations", "waivers", "diagnostics"):
        assert f'<section id="{section}">' in text
    expired = sum(w.expired for w in result.waivers) + sum(not a.valid for a in result.attestations)
    assert text.count('<tr class="expired">') == expired > 0
    assert "at risk" in text and "covered" in text


def test_html_escapes_everything_it_is_given(written: dict[str, Path]) -> None:
    assert html._environment().autoescape is True
    text = written["html"].read_text(encoding="utf-8")
    assert '<script>alert("x")</script>' not in text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "<b>not bold</b>" not in text
    assert text.count("<script>") == 1  # ours, at the end of the body
    parser = _Tags()
    parser.feed(text)
    hrefs = [attrs.get("href") or "" for tag, attrs in parser.tags if tag == "a"]
    assert not [h for h in hrefs if not h.startswith(("#", "https://", "http://"))], hrefs
    assert any(h.startswith("https://wiki.example.com/") for h in hrefs)  # evidence link kept


def test_html_loads_nothing_from_outside(written: dict[str, Path]) -> None:
    text = written["html"].read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(text)
    loading = {"src", "srcset", "poster", "data", "background", "xlink:href", "style"}
    for tag, attrs in parser.tags:
        assert not loading & set(attrs), (tag, attrs)
        assert tag not in {"link", "img", "iframe", "object", "embed", "base", "video", "audio"}
        if tag == "meta":
            assert (attrs.get("http-equiv") or "").lower() != "refresh"
    css = "\n".join(parser.styles)
    assert "@import" not in css and "url(" not in css
    for needle in ("<link", "@import", "url(", "<iframe"):
        assert needle not in text
    csp = next(
        a["content"] for t, a in parser.tags if a.get("http-equiv") == "Content-Security-Policy"
    )
    assert csp.startswith("default-src 'none'; style-src 'sha256-")


def test_html_per_verdict() -> None:
    go = html.render(make_result(8, verdict=Verdict.GO))
    assert 'class="verdict v-go"' in go and ">GO</div>" in go
    incomplete = html.render(make_result(8, verdict=Verdict.INCOMPLETE))
    assert 'class="verdict v-incomplete"' in incomplete
    assert "The harness itself reported 1 error" in incomplete


# --- redaction: the last line of defence ----------------------------------------------------

RENDERERS = {
    "html": html.render,
    "json": json_report.render,
    "junit": junit.render,
    "md": markdown.render,
}


@pytest.mark.parametrize("fmt", sorted(FILES))
def test_canary_secrets_are_redacted_in_every_file(
    fmt: str, secret_result: RunResult, secret_written: dict[str, Path]
) -> None:
    if fmt != "md":  # summary.md redacts each cell before escaping it (see markdown.cell)
        assert CANARY_KEY in RENDERERS[fmt](secret_result)  # so the final pass is what caught it
    text = secret_written[fmt].read_text(encoding="utf-8")
    leaked = [c for c in CANARY_STRINGS if c in text]
    assert not leaked, f"{FILES[fmt]} leaks {leaked}"
    assert "CANARY" not in text
    if fmt == "md":
        assert "sk\\_live\\_…p7dc" in text and "424242\\*\\*\\*\\*\\*\\*4242" in text
    else:
        assert "sk_live_…p7dc" in text and "424242******4242" in text


# --- in a real browser ----------------------------------------------------------------------


def _chromium(tmp_path: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "chromium-profile"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--enable-logging=stderr",
        f"--user-data-dir={profile}",
        *extra,
        url,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="/usr/bin/chromium is not installed (apt-get install -y chromium); "
    "the real-browser checks of report.html are skipped",
)


@needs_chromium
def test_report_renders_in_chromium(
    result: RunResult, written: dict[str, Path], tmp_path: Path
) -> None:
    run = _chromium(tmp_path, written["html"].resolve().as_uri(), "--dump-dom")
    dom = run.stdout
    assert 'data-verdict="NO-GO">NO-GO</div>' in dom
    for item in result.items:
        assert f'id="item-{item.id}"' in dom
    assert re.search(r'<html lang="en" class="js">', dom), "the inline script did not run"
    assert f"Showing {len(result.items)} of {len(result.items)} items" in dom
    assert "Refused to" not in run.stderr, run.stderr  # Content-Security-Policy blocked nothing
    assert '<div class="filters" id="filters">' in dom  # shown once JS runs


@needs_chromium
def test_report_screenshot(written: dict[str, Path], tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    _chromium(
        tmp_path,
        written["html"].resolve().as_uri(),
        "--window-size=1280,2000",
        "--hide-scrollbars",
        f"--screenshot={shot}",
    )
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 50_000  # not a blank page
    keep = os.environ.get("GOLIVE_SCREENSHOT_DIR")  # to look at it: set this and open the PNG
    if keep:
        shutil.copy(shot, Path(keep) / "report.png")


# --- on paper -------------------------------------------------------------------------------

PDFTOTEXT = shutil.which("pdftotext")
needs_printing = pytest.mark.skipif(
    not CHROMIUM.exists() or PDFTOTEXT is None,
    reason="printing report.html needs /usr/bin/chromium and pdftotext "
    "(apt-get install -y chromium poppler-utils; .ci/run installs both)",
)
# What a printed report must show on its first page, and anywhere in it. A block added to
# the report adds its heading here.
PRINTED_ON_PAGE_ONE = ["NO-GO", "At least one blocking item is not accepted", "exit code 1"]
PRINTED_HEADINGS = [
    "At a glance",
    "Blocking items not accepted",
    "All items",
    "Attestations",
    "Waivers",
    "Common production issues",
    "Run details",
    "Changes since the baseline",
]
# Text found only inside collapsed <details>: a passing check's evidence (item 0 passes; its
# request's Idempotency-Key) and an item's body (its facts list).
PRINTED_FROM_COLLAPSED = ["order-0-attempt-1", "ix_orders_payment_intent", "Check time"]
# Navigation chrome that must stay off paper: the skip link, the filters and their buttons.
NOT_PRINTED = ["Skip to all items", "Expand all", "Only not accepted", "Search items", "Showing "]


def print_to_pdf(tmp_path: Path, page: Path) -> Path:
    """Print a page as a person's Chromium does (`--print-to-pdf`, no header or footer)."""
    pdf = tmp_path / f"{page.stem}.pdf"
    _chromium(tmp_path, page.resolve().as_uri(), "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    assert pdf.read_bytes().startswith(b"%PDF"), "chromium wrote no PDF"
    return pdf


def pdf_text(pdf: Path, first: int | None = None, last: int | None = None) -> str:
    """The PDF's text (pages first..last), whitespace collapsed: a phrase may wrap."""
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    done = subprocess.run(
        [str(PDFTOTEXT), *pages, str(pdf), "-"], capture_output=True, text=True, check=True
    )
    return " ".join(done.stdout.split())


def _script_blocked(html_text: str) -> str:
    """The page as a reader whose browser runs no script sees it: the CSS alone."""
    return re.sub(r"<script>.*?</script>", "", html_text, flags=re.S)


def _no_details_content(html_text: str) -> str:
    """The page in a browser without ::details-content: the beforeprint handler alone (the
    edited CSS no longer matches its hash, so the policy goes too)."""
    rule = "details::details-content { content-visibility: visible; display: contents; }"
    assert rule in html_text
    html_text = html_text.replace(rule, "")
    return re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html_text)


@pytest.fixture(scope="module")
def compared(result: RunResult) -> RunResult:
    """The sample run with a baseline in which every item passed: its failures are new."""
    baseline = result.model_copy(
        update={"items": [i.model_copy(update={"outcome": Outcome.PASS}) for i in result.items]}
    )
    ref = BaselineRun(
        path="previous/results.json",
        sha256="0" * 64,
        started_at=result.meta.started_at,
        verdict=Verdict.GO,
        profile_name=result.meta.profile_name,
        checklist_sha256=result.meta.checklist_sha256,
    )
    return result.model_copy(update={"diff": compare(baseline, result, ref)})


@pytest.fixture(scope="module")
def compared_html(compared: RunResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_reports(compared, tmp_path_factory.mktemp("compared"), ["html"])["html"]


@needs_printing
@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(None, id="as-written"),
        pytest.param(_script_blocked, id="css-alone"),
        pytest.param(_no_details_content, id="beforeprint-alone"),
    ],
)
def test_report_prints_whole_with_the_verdict_first(
    compared: RunResult, compared_html: Path, tmp_path: Path, variant: object
) -> None:
    page = compared_html
    if variant is not None:
        page = tmp_path / "variant.html"
        page.write_text(variant(compared_html.read_text(encoding="utf-8")), encoding="utf-8")
    pdf = print_to_pdf(tmp_path, page)
    first, whole = pdf_text(pdf, 1, 1), pdf_text(pdf)
    assert [s for s in PRINTED_ON_PAGE_ONE if s not in first] == [], first[:600]
    sections = [s.title for s in compared.sections]
    missing = [s for s in PRINTED_HEADINGS + sections + PRINTED_FROM_COLLAPSED if s not in whole]
    assert missing == []
    # The diff prints too: every newly failing item is named in it.
    assert compared.diff is not None
    newly = [c.item for c in compared.diff.items if c.change == "newly-failing"]
    assert newly and [i for i in newly if i not in whole] == []
    assert [s for s in NOT_PRINTED if s in whole] == []


@needs_printing
def test_a_closed_report_prints_without_its_evidence(
    written: dict[str, Path], tmp_path: Path
) -> None:
    """The control of the test above: with neither the CSS rule nor the handler, Chromium
    prints closed <details> closed, and the evidence is not on paper."""
    page = tmp_path / "closed.html"
    page.write_text(
        _script_blocked(_no_details_content(written["html"].read_text(encoding="utf-8"))),
        encoding="utf-8",
    )
    whole = pdf_text(print_to_pdf(tmp_path, page))
    assert "NO-GO" in whole and "All items" in whole  # the page printed…
    assert [s for s in PRINTED_FROM_COLLAPSED if s in whole] == []  # …closed
