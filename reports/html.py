"""report.html: one self-contained page an auditor can read without running anything.

Jinja2 with autoescape on for every template (not `select_autoescape`, which would leave
`report.html.j2` unescaped: it goes by the last extension). Inline CSS and JS only, pinned
by a Content-Security-Policy with their SHA-256 hashes and `default-src 'none'`, so the
page loads nothing from anywhere even if something slipped past escaping.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined
from jinja2.bccache import Bucket

from golive import resources
from golive.history import render as history_view
from golive.reports import sparklines, svg
from golive.reports._common import (
    OUTCOME_LABELS,
    OUTCOME_MEANINGS,
    OUTCOME_ORDER,
    dumps_redacted,
    fmt_dt,
    fmt_duration,
    is_blocking,
    item_duration,
    not_accepted,
    section_rows,
    total_counts,
)
from golive.results import ACCEPTING, RunResult, Verdict

TEMPLATES = Path(__file__).with_name("templates")
TEMPLATE = "report.html.j2"
COMPACT_JSON_CHARS = 90  # nested evidence this short stays on one line
LONG_TEXT_CHARS = 160  # longer strings go in a <pre>

VERDICT_MEANINGS = {
    Verdict.GO: "Every blocking item passed, was attested by a named person, was waived "
    "with approval, or does not apply.",
    Verdict.NO_GO: "At least one blocking item is not accepted. Do not deploy until the "
    "items listed below are fixed, attested or waived.",
    Verdict.INCOMPLETE: "The run did not finish. The results below are partial and "
    "cannot support a release decision.",
}
VERDICT_CLASSES = {Verdict.GO: "go", Verdict.NO_GO: "nogo", Verdict.INCOMPLETE: "incomplete"}


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(str(text).encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _evidence_rows(entry: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(key, how to show it: "pre" | "code" | "text", text) for one evidence entry."""
    rows: list[tuple[str, str, str]] = []
    for key, value in entry.items():
        if isinstance(value, dict | list | tuple):
            text = dumps_redacted(value)
            if len(text) <= COMPACT_JSON_CHARS:
                rows.append((key, "code", text))
            else:
                rows.append((key, "pre", dumps_redacted(value, indent=2)))
        elif isinstance(value, str) and ("\n" in value or len(value) > LONG_TEXT_CHARS):
            rows.append((key, "pre", value))
        else:
            rows.append((key, "text", _scalar(value)))
    return rows


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _link(value: str) -> str | None:
    """The value itself when it is a web link safe to put in href (never javascript: etc.)."""
    text = value.strip()
    if text.lower().startswith(("https://", "http://")) and not any(c.isspace() for c in text):
        return text
    return None


class _TemplateCache(FileSystemBytecodeCache):
    """Compiled templates kept in golive's cache folder: compiling the report's templates
    costs about 150 ms of every run. A folder that cannot be written only costs that."""

    def load_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().load_bytecode(bucket)

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _template_cache() -> _TemplateCache | None:
    folder = resources.cache_dir() / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return _TemplateCache(str(folder))


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        bytecode_cache=_template_cache(),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        dt=fmt_dt,
        duration=fmt_duration,
        evidence_rows=_evidence_rows,
        csp_hash=_csp_hash,
        link=_link,
        load_charts=svg.charts_of,
    )
    env.globals["history_view"] = history_view  # the diff block's labels (_diff.html.j2)
    return env


def render(result: RunResult) -> str:
    """The page; deterministic (no render time in it), so one result gives the same bytes."""
    rows = section_rows(result)
    totals = total_counts(result, rows)
    blocking, other = not_accepted(result)
    item_ids = {item.id for item in result.items}
    template = _environment().get_template(TEMPLATE)
    return template.render(
        r=result,
        meta=result.meta,
        rows=rows,
        totals=totals,
        total_items=sum(totals.values()),
        blocking=blocking,
        other=other,
        item_ids=item_ids,
        outcomes=OUTCOME_ORDER,
        shown_outcomes=[o for o in OUTCOME_ORDER if totals.get(o.value)],
        labels={o.value: label for o, label in OUTCOME_LABELS.items()},
        meanings={o.value: text for o, text in OUTCOME_MEANINGS.items()},
        not_accepted_values=[o.value for o in OUTCOME_ORDER if o not in ACCEPTING],
        verdict_class=VERDICT_CLASSES[result.verdict],
        verdict_meaning=VERDICT_MEANINGS[result.verdict],
        is_blocking=is_blocking,
        item_duration=item_duration,
        trends=sparklines.trend_cells(result),
    )
