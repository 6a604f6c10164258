"""golive's Semgrep rules, proven on positive and negative snippets in each language.

The fixtures in tests/static_fixtures/<language>/ say what must fire, Semgrep's own way: a
`ruleid: <rule>` comment means the rule matches the next code line, `ok: <rule>` that it
must not. The test runs golive's runner (the real semgrep CLI) and asserts the exact set of
(file, line, rule): a rule firing anywhere unannotated fails too.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from golive.static.runner import LANGUAGES, scan

FIXTURES = Path(__file__).parent / "static_fixtures"
LANGUAGE_DIRS = ("python", "javascript", "typescript", "ruby", "php", "go")
ANNOTATION = re.compile(r"^\s*(?:#|//)\s*(ruleid|ok):\s*(.+?)\s*$")


def _expected(root: Path) -> set[tuple[str, int, str]]:
    expected = set()
    for path in sorted(root.rglob("*")):
        if path.suffix not in LANGUAGES:
            continue
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines, start=1):
            match = ANNOTATION.match(line)
            if not match or match[1] != "ruleid":
                continue
            target = number + 1
            while target <= len(lines) and ANNOTATION.match(lines[target - 1]):
                target += 1
            for rule in match[2].split(","):
                expected.add((path.relative_to(root).as_posix(), target, rule.strip()))
    return expected


def _copy(tmp_path: Path, part: str) -> Path:
    """The fixtures of every language for one scan, outside tests/ (which semgrep's default
    ignore list skips)."""
    root = tmp_path / part
    for language in LANGUAGE_DIRS:
        source = FIXTURES / language / part
        if source.is_dir():
            shutil.copytree(source, root / language)
    return root


@pytest.fixture(scope="module")
def scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, object]]:
    tmp = tmp_path_factory.mktemp("static-rules")
    out = {}
    for part in ("handlers", "unverified"):
        root = _copy(tmp, part)
        out[part] = (root, scan(root))
    return out


@pytest.mark.parametrize("part", ["handlers", "unverified"])
@pytest.mark.parametrize("language", LANGUAGE_DIRS)
def test_rules_fire_exactly_where_annotated(scans, part: str, language: str) -> None:
    root, result = scans[part]
    assert not result.errors, result.errors
    prefix = f"{language}/"
    expected = {e for e in _expected(root) if e[0].startswith(prefix)}
    found = {
        (f.file, f.line, f.rule)
        for f in result.findings + result.markers
        if f.file.startswith(prefix)
    }
    assert expected, f"no annotated fixture for {language}/{part}"
    missing = sorted(expected - found)
    unexpected = sorted(found - expected)
    assert not missing and not unexpected, {"missing": missing, "unexpected": unexpected}


def test_every_finding_rule_has_a_positive_and_a_negative_in_its_language(scans) -> None:
    """Each finding rule is annotated `ruleid` somewhere and `ok` somewhere."""
    rules_dir = Path(__file__).parents[1] / "golive" / "static" / "rules"
    ids = set()
    for path in rules_dir.glob("*.yaml"):
        ids |= set(re.findall(r"^\s+- id: (\S+)", path.read_text(), re.M))
    text = "\n".join(p.read_text() for p in FIXTURES.rglob("*") if p.suffix in LANGUAGES)
    positives = {r.strip() for m in re.findall(r"ruleid:(.+)", text) for r in m.split(",")}
    negatives = {r.strip() for m in re.findall(r"\bok:(.+)", text) for r in m.split(",")}
    markers = {i for i in ids if i.split(".")[2] in ("event-dispatch", "verification-call")}
    assert ids - positives == set()
    assert (ids - markers) - negatives == set()
    assert "golive.webhook.never-verifies" in positives
