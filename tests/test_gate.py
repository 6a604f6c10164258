"""`golive gate` end to end: the CLI as a subprocess against private copies of the demo."""

from __future__ import annotations

import os
import queue
import secrets
import signal
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from gatekit import (
    NOW,
    REPORT_FILES,
    ROOT,
    GateRun,
    SharedRuns,
    checklist_items,
    custom_section,
    demo_copy,
    edit_yaml,
    gate,
    golive_process,
    load_yaml,
    set_env,
    with_custom_checks,
)

pytestmark = pytest.mark.slow

ITEMS = checklist_items()
PRE_DEPLOY = [i for i in ITEMS if i["phase"] == "pre-deploy"]
STAGING = [i for i in ITEMS if i["phase"] == "staging"]


def progress_lines(run: GateRun) -> list[str]:
    """The per-section lines printed while the run goes (before the summary table)."""
    head = run.stdout.split("Outcomes per section", 1)[0]
    return [line for line in head.splitlines()[1:] if line.startswith("  ") and line[2] in "✓✗…"]


def assert_reports(out: Path, verdict: str) -> None:
    for name in REPORT_FILES:
        assert (out / name).is_file(), name
    assert GateRun(0, "", "", out).results["verdict"] == verdict
    assert verdict in (out / "summary.md").read_text(encoding="utf-8")
    assert verdict in (out / "report.html").read_text(encoding="utf-8")
    ET.parse(out / "junit.xml")  # well-formed


def clean_env() -> dict[str, str]:
    """This process's environment without pytest's own variables (for a nested pytest)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}


# --- GO and NO-GO on the demo ------------------------------------------------------------


DEMO_PENDING = {"internal-docs.code-comments", "support-scripts.team-trained"}
# The monitoring items pass too: the demo starts its Prometheus (services.prometheus).


def test_pre_deploy_on_the_demo_is_go(tmp_path: Path) -> None:
    out = tmp_path / "reports" / "pre-deploy"  # created, parents included
    run = gate(demo_copy(tmp_path), out, "--phase", "pre-deploy")
    assert run.returncode == 0, run.stdout + run.stderr
    results = run.results
    assert results["verdict"] == "GO"
    assert results["verdict_reasons"] == []
    assert results["errors"] == []
    outcomes = run.outcomes()
    assert list(outcomes) == [i["id"] for i in PRE_DEPLOY]
    for item in PRE_DEPLOY:
        expected = "pass" if "automated" in item else "attested"
        if item["id"] in DEMO_PENDING:
            expected = "pending"
        assert outcomes[item["id"]] == expected, (item["id"], run.item(item["id"])["reason"])
    # The demo shows pending sign-offs too: one never given, one stale (both minor).
    assert "no attestation on file" in run.item("internal-docs.code-comments")["reason"]
    assert "stale: signed 2025-06-01" in run.item("support-scripts.team-trained")["reason"]
    # Every automated check recorded what it saw.
    for item in results["items"]:
        for check in item["checks"]:
            assert check["evidence"], (item["id"], check["ref"])
    assert results["meta"]["phases"] == ["pre-deploy"]
    assert_reports(out, "GO")
    assert "GO" in run.stdout and "exit code 0" in run.stdout

    # Progress: one line per section, in checklist order, printed before the summary.
    sections = list(dict.fromkeys(i["section"] for i in PRE_DEPLOY))
    titles = {s["id"]: s["title"] for s in load_yaml(ROOT / "checklist.yaml")["sections"]}
    lines = progress_lines(run)
    assert len(lines) == len(sections)
    for line, section in zip(lines, sections, strict=True):
        assert titles[section] in line
    assert "✓ Environment Configuration" in lines[0] and "6 pass" in lines[0]


def test_default_phases_on_the_demo_are_go(shared_runs: SharedRuns) -> None:
    # The correct shop's whole default gate, the detection matrix's control run.
    control = shared_runs.control()
    run = GateRun(
        control.returncode, control.stdout, control.stderr, control.out
    )  # its default gate
    assert run.returncode == 0, run.stdout + run.stderr
    results = run.results
    assert results["verdict"] == "GO"
    assert results["meta"]["phases"] == ["pre-deploy", "staging"]
    outcomes = run.outcomes()
    assert list(outcomes) == [i["id"] for i in ITEMS if i["phase"] in ("pre-deploy", "staging")]
    for item in PRE_DEPLOY:
        expected = ("pending",) if item["id"] in DEMO_PENDING else ("pass", "attested")
        assert outcomes[item["id"]] in expected, item["id"]
    # Every staging check is written and judges the correct shop: pass, or fail under a
    # waiver (the demo's missing logo), or not-run (restricted keys are a Dashboard feature
    # the sandbox does not model; a minor item, so it does not block).
    not_run = {"api-keys.restricted-permissions"}
    for item in (i for i in STAGING if "automated" in i):
        result = run.item(item["id"])
        if item["id"] in not_run:
            assert result["outcome"] == "not-run", (item["id"], result["reason"])
            assert "backend sandbox cannot issue restricted keys" in result["reason"]
            continue
        assert result["outcome"] in ("pass", "waived"), (item["id"], result["reason"])
        if result["outcome"] == "waived":
            assert result["waiver"]["applied"] is True
    waived = {i for i, outcome in outcomes.items() if outcome == "waived"}
    assert waived == {w["item"] for w in results["waivers"] if w["applied"]}
    assert "GO" in run.stdout and "exit code 0" in run.stdout


def test_broken_demo_is_no_go_naming_each_failing_item(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    demo = profile.parent
    # 1. a publishable key where the secret key belongs
    set_env(profile, STRIPE_SECRET_KEY="pk_test_51DemoOnlyNotARealKey000000000000000000wrong")
    # 2. an index missing from the schema: the shop leaves it out of the database it creates
    flaws = {**os.environ, "SHOP_FLAWS": "missing-index-webhook-event-processed"}
    # 3. a secret committed to the app (built at runtime: no key is in any committed file);
    # app-src/ is copied into the root of the shop's repository by the build
    key = "sk_" + "live_" + secrets.token_hex(16)
    (demo / "app-src" / "app").mkdir()
    (demo / "app-src" / "app" / "settings.py").write_text(f'STRIPE_KEY = "{key}"\n')

    run = gate(profile, tmp_path / "out", "--phase", "pre-deploy", env=flaws)
    assert run.returncode == 1, run.stdout + run.stderr
    failing = {
        "environment.secret-key",
        "api-keys.live-keys-generated",
        "database.indexes-created",
        "database.index-webhook-event-processed",
        "environment.not-in-version-control",
        "code-review.no-hardcoded-secrets",
    }
    assert {i for i, o in run.outcomes().items() if o == "fail"} == failing
    others = {i for i, o in run.outcomes().items() if o not in ("pass", "attested", "fail")}
    assert others == DEMO_PENDING
    for item_id in failing:
        assert f"fail {item_id}: " in run.stdout, item_id
        assert any(
            r.startswith(f"blocker {item_id} is fail") for r in run.results["verdict_reasons"]
        )
    assert "secret-key: STRIPE_SECRET_KEY is pk_test_…rong" in run.stdout
    assert "app/settings.py:1@" in run.stdout
    assert key not in run.stdout + run.stderr
    assert_reports(tmp_path / "out", "NO-GO")


def test_invalid_input_exits_2_and_writes_no_report(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    out = tmp_path / "out"
    # The entry point exactly as a shell starts it (the other tests fork a warm golive).
    run = golive_process(
        "gate", "--target", str(profile), "--out", str(out), "--item", "environment.secret-kee"
    )
    assert run.returncode == 2
    assert "item environment.secret-kee: unknown item" in run.stderr
    assert not out.exists()
    assert not (profile.parent / ".build").exists()  # the setup did not even run


def test_failing_setup_is_invalid_input(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    edit_yaml(profile, setup=["{python} -c 'import sys; sys.exit(7)'"])
    out = tmp_path / "out"
    run = gate(profile, out, "--phase", "pre-deploy")
    assert run.returncode == 2
    assert str(profile) in run.stderr and "failed with exit code 7" in run.stderr
    assert not out.exists()


# --- harness failure and interruption ----------------------------------------------------


def test_a_check_module_that_cannot_be_collected_is_a_harness_failure(tmp_path: Path) -> None:
    extra = tmp_path / "extra_checks"
    extra.mkdir()
    (extra / "test_crash.py").write_text(
        "from golive.registry import check\n\n"
        "raise RuntimeError('crash while importing the check module')\n"
    )
    profile = demo_copy(tmp_path)
    edit_yaml(profile, check_paths=[str(extra)])
    out = tmp_path / "out"
    run = gate(profile, out, "--phase", "pre-deploy")
    assert run.returncode == 3, run.stdout + run.stderr
    assert_reports(out, "INCOMPLETE")
    results = run.results
    assert results["exit_code"] == 3
    assert any("test_crash.py" in e and "crash while importing" in e for e in results["errors"])
    assert not any("interrupted" in e for e in results["errors"])  # not a Ctrl-C
    assert "harness: could not collect test_crash.py" in run.stdout
    # Nothing pretends to have passed; attested items are still judged.
    for item in results["items"]:
        if item["kind"] == "automated":
            assert item["outcome"] == "not-run", item["id"]
            assert "could not collect test_crash.py" in item["reason"]
        else:
            expected = "pending" if item["id"] in DEMO_PENDING else "attested"
            assert item["outcome"] == expected, item["id"]


SLOW_CHECK = '''
import time

from golive.registry import check


@check("custom.slow")
def test_slow(ctx):
    """Takes its time; the test interrupts it."""
    ctx.record(started=True)
    time.sleep(60)
'''

SLOW_SECTION = custom_section("custom.slow")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_writes_the_partial_report_and_exits_3(tmp_path: Path, signum: int) -> None:
    profile, the_checklist = with_custom_checks(tmp_path, SLOW_CHECK, SLOW_SECTION)
    out = tmp_path / "out"

    proc = subprocess.Popen(
        [sys.executable, "-m", "golive.cli", "gate", "--target", str(profile)]
        + ["--checklist", str(the_checklist), "--out", str(out), "--now", NOW]
        + ["--phase", "pre-deploy"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        # The environment section finishes first and is reported at once; the slow
        # check runs next. That line is the signal that the run is under way.
        while True:
            line = lines.get(timeout=60)
            assert line is not None, "the gate ended before its first progress line: " + "".join(
                seen
            )
            seen.append(line)
            if "Environment Configuration" in line:
                break
        proc.send_signal(signum)
        returncode = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=10)
    while (line := lines.get_nowait() if not lines.empty() else None) is not None:
        seen.append(line)
    stdout = "".join(seen)
    assert proc.stderr is not None
    stderr = proc.stderr.read()

    assert returncode == 3, stdout + stderr
    assert "Traceback" not in stderr
    assert "the run was interrupted (Ctrl-C or SIGTERM)" in stdout
    assert_reports(out, "INCOMPLETE")
    results = GateRun(returncode, stdout, stderr, out).results
    assert results["errors"] == ["the run was interrupted (Ctrl-C or SIGTERM) before it finished"]
    by_id = {i["id"]: i for i in results["items"]}
    ids = list(by_id)
    # What finished before the interruption is kept ...
    for item_id in ids[: ids.index("custom.slow")]:
        assert by_id[item_id]["outcome"] in ("pass", "attested"), item_id
    # ... the interrupted check and every automated item after it did not run.
    after = ids[ids.index("custom.slow") :]
    assert len(after) > 20
    for item_id in after:
        item = by_id[item_id]
        if item["kind"] == "automated":
            assert item["outcome"] == "not-run", item_id
            assert "interrupted" in item["reason"], item_id


BRACKETS_CHECK = '''
from golive.registry import check


@check("custom.brackets")
def test_brackets(ctx):
    """Fails with text that looks like terminal markup."""
    ctx.record(columns=["id", "name"])
    ctx.fail("expected [id, name] in [bold]; got [/] instead")
'''

BRACKETS_SECTION = custom_section("custom.brackets")


def test_check_messages_are_printed_verbatim(tmp_path: Path) -> None:
    # A check's message is its own text: brackets in it are not terminal markup, and a
    # stray closing tag must not crash the run.
    profile, the_checklist = with_custom_checks(tmp_path, BRACKETS_CHECK, BRACKETS_SECTION)
    run = gate(
        profile, tmp_path / "out", "--checklist", str(the_checklist), "--item", "custom.brackets"
    )
    assert run.returncode == 1, run.stdout + run.stderr
    message = "expected [id, name] in [bold]; got [/] instead"
    assert run.item("custom.brackets")["reason"] == message
    assert f"fail custom.brackets: {message}" in run.stdout


# --- selection and output --------------------------------------------------------------------


def test_item_selection_ignores_phase_and_accepts_commas(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = gate(
        demo_copy(tmp_path),
        out,
        "--item",
        "radar.enabled,environment.api-version",
        "--item",
        "business-settings.logo",
    )
    assert run.returncode == 0  # the staging item fails under the demo's waiver
    # Checklist order, whatever the order on the command line.
    assert run.outcomes() == {
        "environment.api-version": "pass",
        "business-settings.logo": "waived",
        "radar.enabled": "attested",
    }
    assert run.results["meta"]["selection"] == {
        "items": ["radar.enabled", "environment.api-version", "business-settings.logo"]
    }
    assert_reports(out, "GO")


def test_section_and_tag_selection(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    run = gate(profile, tmp_path / "a", "--section", "environment", "--tag", "secrets")
    assert run.returncode == 0, run.stdout
    assert run.outcomes() == {
        "environment.not-in-version-control": "pass",
        "environment.secrets-in-vault": "attested",
    }
    run = gate(profile, tmp_path / "b", "--tag", "keys", "--phase", "pre-deploy")
    assert run.returncode == 0, run.stdout
    expected = [i["id"] for i in PRE_DEPLOY if "keys" in i.get("tags", [])]
    assert len(expected) >= 7
    assert list(run.outcomes()) == expected
    assert run.results["meta"]["selection"] == {"tags": ["keys"]}


def test_section_selection_runs_only_that_section(tmp_path: Path) -> None:
    run = gate(demo_copy(tmp_path), tmp_path / "out", "--section", "database")
    assert run.returncode == 0, run.stdout
    database = [i["id"] for i in ITEMS if i["section"] == "database"]
    assert run.outcomes() == {item_id: "pass" for item_id in database}
    assert [s["id"] for s in run.results["sections"]] == ["database"]


# --- plain pytest ----------------------------------------------------------------------------


def plain_pytest(profile: Path, scratch: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "checks/", "--golive-target", str(profile)]
        + ["--golive-phase", "pre-deploy", "-p", "no:cacheprovider", "-p", "no:randomly", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean_env(), "TMPDIR": str(scratch)},
    )


def test_plain_pytest_runs_the_checks_both_ways(tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    good = demo_copy(tmp_path / "good")
    done = plain_pytest(good, scratch)
    judged = [i for i in PRE_DEPLOY if "automated" in i]
    automated = sum(len(i["automated"]["checks"]) for i in judged)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{automated} passed" in done.stdout
    assert "skipped" not in done.stdout  # a not-run check is a skip
    assert "failed" not in done.stdout
    # The backup check's copy of the database went into a scratch folder that is gone.
    assert list(scratch.iterdir()) == []

    broken = demo_copy(tmp_path / "broken")
    set_env(broken, STRIPE_API_VERSION="2023-10-16")
    done = plain_pytest(broken, scratch)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed" in done.stdout
    assert "test_equals[environment.api-version]" in done.stdout
    assert "STRIPE_API_VERSION is '2023-10-16', expected '2024-11-20.acacia'" in done.stdout
