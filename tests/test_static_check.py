"""static.webhook-handler through the gate, and findings.sarif.

Repositories are small real git repositories made in tmp_path (an Express handler that
skips verification when a header is set, and the same handler done right) or the demo's
own (the reference shop, built by its setup). findings.sarif is validated against the
SARIF 2.1.0 schema vendored in tests/static_fixtures/sarif/ (see SOURCE.md there).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import jsonschema
import pytest
from gatekit import GateRun, demo_copy, edit_yaml, gate, without_app
from test_checks_repo import make_repo

pytestmark = pytest.mark.slow

MANDATORY = "webhook-security.signature-mandatory"  # ... + static.webhook-handler
VERIFICATION = "api-security.webhook-signature-verification"  # live; static evidence
CHECK = "static.webhook-handler"
SCHEMA = Path(__file__).parent / "static_fixtures" / "sarif" / "sarif-2.1.0-rtm.5.json"

HANDLER = """\
const express = require('express');
const stripe = require('stripe')(process.env.STRIPE_SECRET_KEY);
const app = express();

app.post('/stripe/events', express.raw({ type: 'application/json' }), (req, res) => {
__GUARD__
  let event;
  try {
    event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], process.env.WHSEC);
  } catch (err) {
    return res.status(400).send('invalid signature');
  }
  if (event.type === 'payment_intent.succeeded') {
    markPaid(event.data.object.id);
  }
  res.json({ received: true });
});
"""
BYPASS = """\
  if (req.headers['x-stripe-test'] === '__VALUE__') {
    markPaid(JSON.parse(req.body).data.object.id);
    return res.json({ received: true });
  }"""


def _static(run: GateRun, item: str = MANDATORY) -> dict:
    [found] = [c for c in run.item(item)["checks"] if c["ref"] == CHECK]
    return found


def _profile(tmp_path: Path, files: dict[str, str]) -> Path:
    profile = demo_copy(tmp_path)
    without_app(profile)  # the live checks of the item are not-run; the static one judges
    repo = make_repo(tmp_path / "app", files)
    edit_yaml(profile, repository={"path": str(repo)})
    return profile


def test_a_header_bypass_fails_and_the_correct_handler_passes(tmp_path: Path) -> None:
    value = "sk_" + "live_" + secrets.token_hex(12)  # a key in the source: never shown
    bad = _profile(
        tmp_path / "bad",
        {"server.js": HANDLER.replace("__GUARD__", BYPASS.replace("__VALUE__", value))},
    )
    run = gate(bad, tmp_path / "out-bad", "--item", MANDATORY)
    static = _static(run)
    assert static["outcome"] == "fail", static
    assert "server.js:6 conditional-verification" in static["message"]
    findings = [e["static_finding"] for e in static["evidence"] if "static_finding" in e]
    assert [f["where"] for f in findings] == ["server.js:6"]
    assert findings[0]["rule"] == "golive.webhook.conditional-verification.js"

    # findings.sarif: golive's rule id, file:line, the redacted message; valid SARIF 2.1.0.
    sarif_text = (tmp_path / "out-bad" / "findings.sarif").read_text()
    assert value not in sarif_text and value not in json.dumps(run.results)
    assert f"{value[:8]}…{value[-4:]}" in sarif_text
    log = json.loads(sarif_text)
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    [result] = log["runs"][0]["results"]
    assert result["ruleId"] == "golive.webhook.conditional-verification.js"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "server.js"
    assert location["region"]["startLine"] == 6

    correct = HANDLER.replace("__GUARD__\n", "")
    good = _profile(tmp_path / "good", {"server.js": correct})
    run = gate(good, tmp_path / "out-good", "--item", MANDATORY)
    static = _static(run)
    assert static["outcome"] == "pass", static
    [summary] = [e for e in static["evidence"] if "files_scanned" in e]
    assert summary["files_scanned"] == 1 and summary["findings"] == 0
    dispatch = correct.splitlines().index("  if (event.type === 'payment_intent.succeeded') {")
    assert summary["handlers_seen"] == [f"server.js:{dispatch + 1}"]
    assert not (tmp_path / "out-good" / "findings.sarif").exists()


def test_a_handler_that_never_verifies_fails(tmp_path: Path) -> None:
    handler = """\
import json
from flask import Flask, request

app = Flask(__name__)


@app.post("/hooks")
def hooks():
    event = json.loads(request.data)
    if event["type"] == "checkout.session.completed":
        fulfil(event["data"]["object"])
    return {"ok": True}
"""
    run = gate(_profile(tmp_path, {"app.py": handler}), tmp_path / "out", "--item", MANDATORY)
    static = _static(run)
    assert static["outcome"] == "fail", static
    assert "app.py:10 never-verifies" in static["message"]


def test_no_repository_no_semgrep_and_nothing_to_scan_are_not_verdicts(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path / "none")
    without_app(profile)
    edit_yaml(profile, repository=None)
    static = _static(gate(profile, tmp_path / "o1", "--item", MANDATORY))
    assert static["outcome"] == "not-run" and "repository.path" in static["message"]

    handler = {"server.js": HANDLER.replace("__GUARD__\n", "")}
    missing = _profile(tmp_path / "missing", handler)
    run = gate(
        missing,
        tmp_path / "o2",
        "--item",
        MANDATORY,
        env={"GOLIVE_SEMGREP": str(tmp_path / "no-semgrep-here")},
    )
    static = _static(run)
    assert static["outcome"] == "error" and "golive[static]" in static["message"], static

    empty = _profile(tmp_path / "empty", {"README.md": "# nothing to scan\n"})
    static = _static(gate(empty, tmp_path / "o3", "--item", MANDATORY))
    assert static["outcome"] == "error" and "examined nothing" in static["message"], static


def test_the_demo_passes_and_its_silenced_flaw_lines_are_listed(tmp_path: Path) -> None:
    """The reference shop's catalogue flaws are in its source, switched at run time; the
    two lines a rule finds carry a nosemgrep comment: listed and in the SARIF as
    suppressed, never counted, and not shown on the live checks."""
    run = gate(demo_copy(tmp_path), tmp_path / "out", "--item", MANDATORY, "--item", VERIFICATION)
    assert run.outcomes() == {MANDATORY: "pass", VERIFICATION: "pass"}, run.stdout
    static = _static(run)
    [summary] = [e for e in static["evidence"] if "files_scanned" in e]
    assert summary["files_scanned"] >= 1 and summary["findings"] == 0
    assert summary["silenced"] == 2
    silenced = [e["static_finding"] for e in static["evidence"] if "static_finding" in e]
    assert all(f["suppressed"] for f in silenced) and len(silenced) == 2
    for check in run.item(VERIFICATION)["checks"]:
        assert not [e for e in check["evidence"] if "static_finding" in e]
    log = json.loads((tmp_path / "out" / "findings.sarif").read_text())
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    results = log["runs"][0]["results"]
    assert len(results) == 2 and all(r["suppressions"][0]["kind"] == "inSource" for r in results)


def test_a_finding_is_evidence_on_a_live_check_that_passed(tmp_path: Path) -> None:
    """The shop (correct) answers every delivery right while the repository golive reads
    holds a bypass: the live check keeps its pass, shows the finding with file:line, and
    the static check fails the blocker item."""
    profile = demo_copy(tmp_path)
    bypass = HANDLER.replace("__GUARD__", BYPASS.replace("__VALUE__", "1"))
    repo = make_repo(tmp_path / "app", {"server.js": bypass})
    edit_yaml(profile, repository={"path": str(repo)})
    run = gate(profile, tmp_path / "out", "--item", MANDATORY, "--item", VERIFICATION)
    assert run.outcomes() == {MANDATORY: "fail", VERIFICATION: "pass"}, run.stdout
    [forged] = [
        c for c in run.item(VERIFICATION)["checks"] if c["ref"] == "webhook.forged-rejected"
    ]
    assert forged["outcome"] == "pass"
    shown = [e for e in forged["evidence"] if "static_finding" in e]
    assert [e["static_finding"]["where"] for e in shown] == ["server.js:6"]
    assert shown[0]["variant"] == "static-analysis"
    assert _static(run)["outcome"] == "fail"
