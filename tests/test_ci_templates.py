"""The CI templates of docs/ci.md: valid YAML, every golive command line accepted by golive's
own parser, and the paths they publish are the files `golive gate --out` writes."""

from __future__ import annotations

import argparse
import contextlib
import io
import shlex
from typing import Any

import pytest
import yaml
from gatekit import ROOT

from golive import cli
from golive.reports.writer import FORMATS

CI = ROOT / "docs" / "ci"
GITHUB = CI / "github-actions.yml"
GITLAB = CI / "gitlab-ci.yml"


def golive_commands(shell_lines: list[str]) -> list[list[str]]:
    """The argv of every `golive …` command in a list of shell snippets."""
    commands = []
    for snippet in shell_lines:
        for line in snippet.splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == "golive":
                commands.append(words[1:])
    return commands


def parse(argv: list[str]) -> argparse.Namespace:
    """golive's own argument parser; an unknown option fails the test with its message."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            return cli._parser().parse_args(argv)
    except SystemExit:
        pytest.fail(f"golive {' '.join(argv)}: {stderr.getvalue().strip()}")


def github_runs(workflow: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    return [step["run"] for step in steps if "run" in step], steps


def gitlab_runs(job: dict[str, Any]) -> list[str]:
    return [*job["before_script"], *job["script"], *job["after_script"]]


def report_folder(commands: list[list[str]]) -> str:
    [gate] = [parse(argv) for argv in commands if argv[0] == "gate"]
    return str(gate.out)


def bundle_folder(commands: list[list[str]]) -> str:
    """Where the gate writes its evidence bundle (`--bundle DIR`), signed with a CI secret."""
    [gate] = [parse(argv) for argv in commands if argv[0] == "gate"]
    assert gate.sign_key == "env:GOLIVE_SIGN_KEY"
    return str(gate.bundle)


def test_both_templates_are_valid_yaml_and_shown_verbatim_in_the_docs() -> None:
    docs = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    for template in (GITHUB, GITLAB):
        assert isinstance(yaml.safe_load(template.read_text(encoding="utf-8")), dict)
        assert template.read_text(encoding="utf-8").strip() in docs, template.name


def test_a_parser_that_refuses_a_made_up_option_fails_the_check() -> None:
    # The check below can fail: an option golive does not have is refused.
    with pytest.raises(pytest.fail.Exception, match="unrecognized arguments"):
        parse(["gate", "--no-such-option"])


def test_the_github_workflow_installs_validates_gates_and_publishes_the_report() -> None:
    workflow = yaml.safe_load(GITHUB.read_text(encoding="utf-8"))
    runs, steps = github_runs(workflow)
    assert any("pip install" in run and "golive" in run for run in runs)
    commands = golive_commands(runs)
    assert [argv[0] for argv in commands] == ["validate", "gate"]
    for argv in commands:
        parse(argv)
    out = report_folder(commands)
    uses = {step["uses"].split("@")[0]: step for step in steps if "uses" in step}
    assert uses["actions/checkout"]["with"]["fetch-depth"] == 0  # the secret scan's history
    assert uses["mikepenz/action-junit-report"]["with"]["report_paths"] == f"{out}/junit.xml"
    kept = uses["actions/upload-artifact"]["with"]["path"].split()
    assert kept == [f"{out}/", f"{bundle_folder(commands)}/"]  # the report, the evidence
    assert any(f"{out}/summary.md" in run and "$GITHUB_STEP_SUMMARY" in run for run in runs)
    # Publishing runs whatever the verdict: a NO-GO's report is the one people need.
    for name in ("mikepenz/action-junit-report", "actions/upload-artifact"):
        assert "cancelled()" in uses[name]["if"], name


def test_the_gitlab_job_installs_validates_gates_and_keeps_the_report() -> None:
    [job] = yaml.safe_load(GITLAB.read_text(encoding="utf-8")).values()
    runs = gitlab_runs(job)
    assert any("pip install" in run and "golive" in run for run in runs)
    commands = golive_commands(runs)
    assert [argv[0] for argv in commands] == ["validate", "gate"]
    for argv in commands:
        parse(argv)
    out = report_folder(commands)
    assert job["variables"]["GIT_DEPTH"] == "0"
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always"
    assert artifacts["reports"]["junit"] == f"{out}/junit.xml"
    assert artifacts["paths"] == [f"{out}/", f"{bundle_folder(commands)}/"]
    assert f"{out}/" in artifacts["paths"]
    assert any(f"{out}/summary.md" in run for run in job["after_script"])


def test_the_published_files_are_the_ones_the_gate_writes() -> None:
    written = {name for name, _, _ in FORMATS.values()}
    for template in (GITHUB, GITLAB):
        text = template.read_text(encoding="utf-8")
        for published in ("junit.xml", "summary.md"):
            assert published in written and published in text, (template.name, published)
