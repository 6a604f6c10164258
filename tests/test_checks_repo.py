"""The repository checks through the gate: repo.env-not-tracked and repo.no-secrets.

Repositories are the demo's (app-src/ committed by the demo's setup) or built here in
tmp_path with real git. Secrets are built at runtime; no key is in a committed file.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

import pytest
import yaml
from gatekit import GateRun, demo_copy, edit_yaml, gate, replace_in

pytestmark = pytest.mark.slow

NOT_IN_VCS = "environment.not-in-version-control"  # repo.env-not-tracked + repo.no-secrets
NO_SECRETS = "code-review.no-hardcoded-secrets"  # repo.no-secrets
SELECT = ("--item", NOT_IN_VCS, "--item", NO_SECRETS)

GIT_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, env=GIT_ENV, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def make_repo(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    return path


def live_key() -> str:
    return "sk_" + "live_" + secrets.token_hex(16)


def masked(key: str) -> str:
    return f"{key[:8]}…{key[-4:]}"


def assert_nowhere(run: GateRun, *values: str) -> None:
    texts = {"stdout": run.stdout, "stderr": run.stderr, **run.report_texts()}
    for value in values:
        for name, text in texts.items():
            assert value not in text, f"{value[:10]}… leaked into {name}"


def use_repository(profile: Path, path: Path | str, **extra: str) -> None:
    edit_yaml(profile, repository={"path": str(path), **extra})


def test_repo_checks_pass_on_the_demo(tmp_path: Path) -> None:
    run = gate(demo_copy(tmp_path), tmp_path / "out", *SELECT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outcomes() == {NOT_IN_VCS: "pass", NO_SECRETS: "pass"}
    env_check, scan = run.item(NOT_IN_VCS)["checks"]
    [seen] = env_check["evidence"]
    # The demo tracks .env.example, a template: that is allowed.
    assert seen["tracked_env_files"] == [] and seen["dotenv_ignored"] is True
    [summary] = scan["evidence"]
    assert summary["findings"] == 0 and summary["commits_scanned"] == 1
    assert summary["files_scanned"] >= 4


def test_tracked_env_file_fails(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "app", {".gitignore": ".env\n", "app.py": "print('shop')\n"})
    (repo / ".env").write_text("DEBUG=1\n")
    git(repo, "add", "-f", ".env")  # committed despite .gitignore
    git(repo, "commit", "-q", "-m", "add env")
    profile = demo_copy(tmp_path)
    use_repository(profile, repo)
    run = gate(profile, tmp_path / "out", "--item", NOT_IN_VCS)
    assert run.returncode == 1, run.stdout + run.stderr
    item = run.item(NOT_IN_VCS)
    assert item["outcome"] == "fail"
    env_check, scan = item["checks"]
    assert env_check["outcome"] == "fail" and scan["outcome"] == "pass"
    assert env_check["message"].startswith("tracked by git: .env — remove with `git rm --cached`")
    [seen] = env_check["evidence"]
    assert seen["tracked_env_files"] == [".env"]
    assert seen["dotenv_ignored"] is True
    assert f"fail {NOT_IN_VCS}: tracked by git: .env" in run.stdout


def test_env_not_ignored_fails(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    replace_in(profile.parent / "app-src" / "gitignore", ".env\n.env.*\n", "")
    run = gate(profile, tmp_path / "out", "--item", NOT_IN_VCS)
    assert run.returncode == 1, run.stdout + run.stderr
    env_check = run.item(NOT_IN_VCS)["checks"][0]
    assert env_check["outcome"] == "fail"
    assert env_check["message"].startswith(".env is not ignored: add it to .gitignore")
    assert env_check["evidence"][0] == {
        "repository": str(profile.parent.resolve() / ".build" / "app"),
        "tracked_env_files": [],
        "dotenv_ignored": False,
    }


def test_secret_committed_then_deleted_fails(tmp_path: Path) -> None:
    key = live_key()
    repo = make_repo(tmp_path / "app", {".gitignore": ".env\n", "README.md": "# shop\n"})
    settings = repo / "config" / "settings.py"
    settings.parent.mkdir()
    settings.write_text(f'import os\n\nSTRIPE_SECRET_KEY = "{key}"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "configure stripe")
    commit = git(repo, "rev-parse", "HEAD")
    git(repo, "rm", "-q", "config/settings.py")
    git(repo, "commit", "-q", "-m", "oops, remove key")
    assert not settings.exists()  # only history has it now

    profile = demo_copy(tmp_path)
    use_repository(profile, repo)
    run = gate(profile, tmp_path / "out", *SELECT)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.outcomes() == {NOT_IN_VCS: "fail", NO_SECRETS: "fail"}
    [scan] = run.item(NO_SECRETS)["checks"]
    assert scan["message"] == (
        f"1 secret(s) in version control: config/settings.py:3@{commit[:8]} — "
        "rotate them, then purge history"
    )
    summary, finding = scan["evidence"]
    assert summary["commits_scanned"] == 3 and summary["findings"] == 1
    assert finding == {
        "file": "config/settings.py",
        "line": 3,
        "commit": commit,
        "kind": "secret-key",
        "match": masked(key),
    }
    assert f"config/settings.py:3@{commit[:8]}" in run.stdout
    assert_nowhere(run, key, key.removeprefix("sk_live_"))


def test_allowlist_in_the_profile_suppresses_a_fixture_key(tmp_path: Path) -> None:
    fixture_key = "sk_" + "test_" + secrets.token_hex(12)
    profile = demo_copy(tmp_path)
    app = profile.parent / "app-src"
    (app / "tests").mkdir()
    (app / "tests" / "fixtures.py").write_text(f'FAKE_KEY = "{fixture_key}"  # for unit tests\n')
    # Not the default .golive-allowlist name: only the profile's setting can make it count.
    (app / "scan-allowlist.txt").write_text(
        f"# fixture keys of the unit tests\ntests/fixtures.py: {masked(fixture_key)}\n"
    )

    run = gate(profile, tmp_path / "without", "--item", NO_SECRETS)
    assert run.returncode == 1, run.stdout + run.stderr
    [scan] = run.item(NO_SECRETS)["checks"]
    assert scan["outcome"] == "fail"
    assert "tests/fixtures.py:1@" in scan["message"]
    assert scan["evidence"][1]["match"] == masked(fixture_key)

    use_repository(profile, ".build/app", allowlist="scan-allowlist.txt")
    run = gate(profile, tmp_path / "with", "--item", NO_SECRETS)
    assert run.returncode == 0, run.stdout + run.stderr
    [scan] = run.item(NO_SECRETS)["checks"]
    assert scan["outcome"] == "pass"
    assert scan["evidence"] == [
        {
            "repository": str(profile.parent.resolve() / ".build" / "app"),
            "files_scanned": scan["evidence"][0]["files_scanned"],
            "commits_scanned": 1,
            "allowlisted": 1,
            "findings": 0,
            "binary_files": 0,
            "binary_file_examples": [],
        }
    ]
    assert_nowhere(run, fixture_key)


def test_profile_without_repository_is_not_run(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    data = yaml.safe_load(profile.read_text())
    del data["repository"]
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    run = gate(profile, tmp_path / "out", *SELECT)
    assert run.returncode == 1, run.stdout + run.stderr  # blockers that did not run
    assert run.outcomes() == {NOT_IN_VCS: "not-run", NO_SECRETS: "not-run"}
    for item_id in (NOT_IN_VCS, NO_SECRETS):
        for check in run.item(item_id)["checks"]:
            assert check["outcome"] == "not-run"
            assert (
                check["message"] == "the target profile names no repository (set repository.path)"
            )
        assert any(
            r.startswith(f"blocker {item_id} is not-run") for r in run.results["verdict_reasons"]
        )


def test_repository_that_is_not_a_git_repository_is_an_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "app.py").write_text("print('no git here')\n")
    profile = demo_copy(tmp_path)
    use_repository(profile, plain)
    # Git must not find a repository above tmp_path either.
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path)}
    run = gate(profile, tmp_path / "out", *SELECT, env=env)
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.outcomes() == {NOT_IN_VCS: "error", NO_SECRETS: "error"}
    for item_id in (NOT_IN_VCS, NO_SECRETS):
        for check in run.item(item_id)["checks"]:
            assert check["outcome"] == "error"
            assert f"{plain} is not a git repository" in check["message"]
            assert "Set repository.path" in check["message"]
    assert f"error {NO_SECRETS}: RuntimeError while checking: {plain} is not a git" in run.stdout
