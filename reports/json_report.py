"""results.json, its JSON Schema, and the JSON-safe last redaction pass.

The schema file `reports/results.schema.json` is generated from `golive.results.RunResult`
and committed; a test fails when the two drift apart. Regenerate it with:

    .venv/bin/python -m reports.json_report
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from golive.redact import DEFAULT, Redactor
from golive.reports._common import redact_value
from golive.results import SCHEMA_VERSION, RunResult

SCHEMA_PATH = Path(__file__).with_name("results.schema.json")
SCHEMA_ID = f"urn:golive:schema:results:{SCHEMA_VERSION}"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def generate_schema() -> dict[str, Any]:
    """The JSON Schema of results.json, as committed in reports/results.schema.json."""
    generated = RunResult.model_json_schema()
    header = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "golive results.json",
        "description": (
            f"One golive run: verdict, per-item outcomes with checks and evidence, "
            f"attestations, waivers, diagnostics and run metadata. Schema version "
            f"{SCHEMA_VERSION}: a results.json states the version it follows in its "
            f"`schema_version` field. Generated from golive.results.RunResult; "
            f"do not edit by hand (python -m golive.reports.json_report)."
        ),
        "x-golive-schema-version": SCHEMA_VERSION,
    }
    generated.pop("title", None)
    generated.pop("description", None)
    return header | generated


def schema_text() -> str:
    return _dumps(generate_schema())


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    path.write_text(schema_text(), encoding="utf-8")
    return path


def render(result: RunResult) -> str:
    """results.json text: `result.model_dump(mode="json")`, pretty-printed.

    Serialized by pydantic-core (same data, about ten times faster than json.dumps of the
    dump). Not redacted here: see redact_text, which the writer applies.
    """
    return result.model_dump_json(indent=2) + "\n"


def _dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# --- the last line of defence, JSON-aware ---------------------------------------------------
#
# Redactor.text over JSON text as-is has two failure modes: it turns numbers into invalid
# JSON (a float whose 16-digit fraction is Luhn-valid, or an integer PAN, becomes
# `424242******4242`), and it misses a value right after a letter escape (`"\n4242…"` has
# no word boundary before the digits). So it runs on a probe, the text with every escape
# replaced by one non-word character, to find the lines that hold something; on those
# lines alone each string literal is decoded, redacted and encoded again, and an integer
# that is a card number becomes a masked string. Floats are left alone: a fraction is not
# a card number. Pretty JSON keeps every token on one line, so lines are a cheap unit.

_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|.)")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?')


def redact_text(text: str, redactor: Redactor = DEFAULT) -> str:
    """Redact results.json text (with golive.redact.DEFAULT unless given the run's redactor);
    the output is always valid JSON."""
    probe = _ESCAPE.sub("\x00", text)
    redacted = redactor.text(probe)
    if redacted == probe:
        return text  # nothing key-shaped, no Luhn-valid number
    lines = text.split("\n")
    probe_lines, redacted_lines = probe.split("\n"), redacted.split("\n")
    if not len(lines) == len(probe_lines) == len(redacted_lines):  # a secret spanning lines
        return _dumps(redact_value(json.loads(text), redactor))
    for index, (before, after) in enumerate(zip(probe_lines, redacted_lines, strict=True)):
        if before != after:
            lines[index] = _TOKEN.sub(lambda m: _redact_token(m, redactor), lines[index])
    return "\n".join(lines)


def _redact_token(match: re.Match[str], redactor: Redactor) -> str:
    token = match.group()
    if token.startswith('"'):
        value = json.loads(token)
        clean = redactor.text(value)
        return token if clean == value else json.dumps(clean, ensure_ascii=False)
    if token.lstrip("-").isdigit():  # an integer; floats are left alone
        masked = redact_value(int(token), redactor)
        if isinstance(masked, str):
            return json.dumps(masked)
    return token


if __name__ == "__main__":
    print(write_schema())
