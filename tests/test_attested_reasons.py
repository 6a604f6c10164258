"""Every attested item says why golive cannot check it (`attested.why_not_automated`),
and that reason reaches `golive items`, results.json and report.html."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from gatekit import ROOT, demo_copy, gate, golive_here
from test_validation import assert_invalid, edited_checklist, line_of

from golive import checklist

CHECKLIST = ROOT / "checklist.yaml"
ATTESTED = "code-review.security-audit"  # the demo signs it off
PENDING = "internal-docs.code-comments"  # the demo leaves it unattested
AUTOMATED = "environment.api-version"
ITEM = "deployment.production-deployed"


def with_reason(tmp_path: Path, new: str | None) -> Path:
    """A copy of checklist.yaml whose ITEM has its reason replaced by the line `new`, or
    removed (None)."""
    lines = CHECKLIST.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"  - id: {ITEM}")
    while not lines[start].startswith("      why_not_automated: "):
        start += 1
    end = start + 1
    while lines[end].startswith("        "):  # the reason's continuation lines
        end += 1
    lines[start:end] = [new] if new is not None else []
    path = tmp_path / "checklist.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_every_attested_item_has_a_reason_and_no_automated_item_has_one() -> None:
    the_checklist = checklist.load(CHECKLIST)
    attested = [i for i in the_checklist.items.values() if i.attested]
    assert len(attested) >= 1
    reasons = [i.attested.why_not_automated for i in attested if i.attested]
    assert all(r.strip() for r in reasons), [i.id for i in attested]
    # Specific to each item, not one stock sentence pasted on all of them.
    assert len(set(reasons)) == len(reasons), len(set(reasons))
    # The raw file: the key sits only under `attested:`, never on an automated item.
    raw = yaml.safe_load(CHECKLIST.read_text(encoding="utf-8"))
    for section in raw["sections"]:
        for item in section["items"]:
            if "automated" in item:
                assert "why_not_automated" not in item, item["id"]
                assert "why_not_automated" not in item["automated"], item["id"]


def test_an_attested_item_without_a_reason_is_an_input_error(tmp_path: Path) -> None:
    path = with_reason(tmp_path, None)
    done = golive_here("validate", "--checklist", str(path))
    # The missing key has no line of its own: the error names its `attested:` block's.
    lines = path.read_text(encoding="utf-8").splitlines()
    block = lines.index("    attested:", lines.index(f"  - id: {ITEM}")) + 1
    assert_invalid(done, path, block, ITEM, "attested.why_not_automated: required key is missing")


def test_a_blank_reason_is_an_input_error(tmp_path: Path) -> None:
    path = with_reason(tmp_path, "      why_not_automated: '   '")
    done = golive_here("validate", "--checklist", str(path))
    line = line_of(path, "      why_not_automated: '   '")
    assert_invalid(done, path, line, ITEM, "why_not_automated: must not be blank")


def test_an_automated_item_cannot_carry_a_reason(tmp_path: Path) -> None:
    # The first `automated:` of the file is environment.stripe-keys-in-env's.
    path = edited_checklist(
        tmp_path, "    automated:", "    automated:\n      why_not_automated: x"
    )
    done = golive_here("validate", "--checklist", str(path))
    line = line_of(path, "      why_not_automated: x")
    assert_invalid(done, path, line, "environment.stripe-keys-in-env", "unknown key")


def test_items_lists_the_reason() -> None:
    the_checklist = checklist.load(CHECKLIST)
    done = golive_here("items", "--json")
    assert done.returncode == 0, done.stderr
    rows = {row["id"]: row for row in json.loads(done.stdout)}
    item = the_checklist.items[ATTESTED]
    assert item.attested is not None
    assert rows[ATTESTED]["why_not_automated"] == item.attested.why_not_automated
    assert rows[AUTOMATED]["why_not_automated"] is None
    text = golive_here("items")
    assert f"    why not automated: {item.attested.why_not_automated}" in text.stdout.splitlines()


def test_results_and_report_carry_the_reason(tmp_path: Path) -> None:
    the_checklist = checklist.load(CHECKLIST)
    profile = demo_copy(tmp_path)
    run = gate(
        profile, tmp_path / "out", "--item", ATTESTED, "--item", PENDING, "--item", AUTOMATED
    )
    assert run.returncode in (0, 1), (run.stdout, run.stderr)
    html = (run.out / "report.html").read_text(encoding="utf-8")
    assert run.item(ATTESTED)["outcome"] == "attested"
    assert run.item(PENDING)["outcome"] == "pending"
    for item_id in (ATTESTED, PENDING):
        attested = the_checklist.items[item_id].attested
        assert attested is not None
        assert run.item(item_id)["why_not_automated"] == attested.why_not_automated
        assert "Why not automated" in html
        assert attested.why_not_automated.replace("'", "&#39;") in html
    assert run.item(AUTOMATED)["why_not_automated"] is None
