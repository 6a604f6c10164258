"""golive.repo_scan against real git repositories built in tmp_path."""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path

import pytest

from golive.repo_scan import (
    AllowlistError,
    NotARepository,
    ScanResult,
    SecretFinding,
    scan_repository,
    tracked_env_files,
)


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    # Neither the host's git configuration nor an enclosing git process may leak in.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)


def canary(prefix: str = "sk_live_", length: int = 32) -> str:
    body = "CANARY" + secrets.token_hex(length)
    return prefix + body[:length]


def masked(key: str) -> str:
    prefix = key[: key.index("_", 3) + 1] if not key.startswith("whsec_") else "whsec_"
    return f"{prefix}…{key[-4:]}"


class Repo:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        out = subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=self.path,
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def write(self, name: str, text: str | bytes) -> None:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text)

    def commit(self, message: str = "change", **files: str) -> str:
        for name, text in files.items():
            self.write(name, text)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")


def assert_never_raw(result: ScanResult, *raw: str) -> None:
    dumps = [
        repr(result),
        str(result),
        json.dumps([f.to_evidence() for f in result.findings], ensure_ascii=False),
        *(repr(f) for f in result.findings),
    ]
    for key in raw:
        body = key.split("_")[-1]
        for text in dumps:
            assert key not in text
            assert body not in text
            assert body[:-4] not in text  # not even the part redaction drops


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "app")


def test_clean_repo_has_no_findings_and_counts(repo: Repo) -> None:
    repo.commit("init", **{"app.py": "print('hi')\n", "README.md": "# app\n"})
    repo.commit("more", **{"src/pay.py": "import stripe\nstripe.api_key = os.environ['K']\n"})

    result = scan_repository(repo.path)

    assert result.findings == []
    assert result.files_scanned == 3
    assert result.commits_scanned == 2
    assert result.allowlisted == 0
    assert result.shallow is False


def test_live_secret_key_in_tracked_file(repo: Repo) -> None:
    key = canary()
    repo.commit("init", **{"app.py": "x = 1\n"})
    sha = repo.commit("oops", **{"config/settings.py": f"A = 1\nB = 2\nSTRIPE = '{key}'\n"})

    result = scan_repository(repo.path)

    assert result.findings == [
        SecretFinding(
            file="config/settings.py",
            line=3,
            commit=sha,
            kind="secret-key",
            match=masked(key),
        )
    ]
    assert result.findings[0].match == f"sk_live_…{key[-4:]}"
    assert result.findings[0].to_evidence() == {
        "file": "config/settings.py",
        "line": 3,
        "commit": sha,
        "kind": "secret-key",
        "match": masked(key),
    }
    assert_never_raw(result, key)


def test_test_mode_secret_key_is_a_finding_too(repo: Repo) -> None:
    key = canary("sk_test_")
    repo.commit(**{"a.env.js": f"export const k = `{key}`\n"})
    (finding,) = scan_repository(repo.path).findings
    assert (finding.kind, finding.match) == ("secret-key", masked(key))


def test_key_committed_then_deleted_is_found_with_adding_commit(repo: Repo) -> None:
    key = canary()
    repo.commit("init", **{"app.py": "x = 1\n"})
    adding = repo.commit("add key", **{"app.py": f"x = 1\nKEY = '{key}'\n"})
    repo.commit("remove key", **{"app.py": "x = 1\n"})
    repo.commit("later", **{"other.py": "y = 2\n"})

    result = scan_repository(repo.path)

    (finding,) = result.findings
    assert (finding.file, finding.line, finding.commit) == ("app.py", 2, adding)
    assert result.commits_scanned == 4
    assert_never_raw(result, key)


def test_deleted_file_holding_a_key_is_found(repo: Repo) -> None:
    key = canary()
    adding = repo.commit("add", **{"secrets/prod.json": f'{{"stripe": "{key}"}}\n'})
    repo.git("rm", "-q", "secrets/prod.json")
    repo.commit("rm")
    (finding,) = scan_repository(repo.path).findings
    assert (finding.file, finding.line, finding.commit) == ("secrets/prod.json", 1, adding)


def test_restricted_key_and_webhook_secret_found(repo: Repo) -> None:
    rk_live, rk_test, whsec = canary("rk_live_"), canary("rk_test_"), canary("whsec_")
    sha = repo.commit(**{"keys.txt": f"{rk_live}\nfoo\nR={rk_test}\n\nWEBHOOK_SECRET={whsec}\n"})

    result = scan_repository(repo.path)

    assert [(f.line, f.kind, f.match, f.commit) for f in result.findings] == [
        (1, "restricted-key", masked(rk_live), sha),
        (3, "restricted-key", masked(rk_test), sha),
        (5, "webhook-secret", masked(whsec), sha),
    ]
    assert_never_raw(result, rk_live, rk_test, whsec)


def test_publishable_key_is_not_a_finding(repo: Repo) -> None:
    repo.commit(
        **{
            "web/index.html": f"<script>Stripe('{canary('pk_live_')}')</script>\n",
            "web/test.js": f"Stripe('{canary('pk_test_')}')\n",
        }
    )
    result = scan_repository(repo.path)
    assert result.findings == []
    assert result.files_scanned == 2


def test_lookalikes_are_not_findings(repo: Repo) -> None:
    repo.commit(
        **{
            "notes.md": (
                "sk_live_ then sk_live_short and sk_live_123456789 (9 chars)\n"
                f"task_live_{secrets.token_hex(12)} is not a key\n"
                "docs say sk_live_… or sk_live_xxxx\n"
            )
        }
    )
    assert scan_repository(repo.path).findings == []


def test_tracked_env_files(repo: Repo) -> None:
    repo.write(".gitignore", "/local/.env\n")
    repo.write("local/.env", "IGNORED=1\n")
    repo.write("untracked/.env", "UNTRACKED=1\n")
    repo.commit(
        **{
            ".env": "A=1\n",
            ".env.example": "A=\n",
            ".env.sample": "A=\n",
            ".env.template": "A=\n",
            "config/.env.production": "B=2\n",
            "config/.env.production.example": "B=\n",
            "api/.env.local": "C=3\n",
            ".envrc": "use nix\n",
            "docs/env.md": "about .env\n",
        }
    )
    repo.git("rm", "-q", "--cached", "untracked/.env", "--ignore-unmatch")

    assert tracked_env_files(repo.path) == [".env", "api/.env.local", "config/.env.production"]


def test_tracked_env_files_in_empty_repo_and_not_a_repo(repo: Repo, tmp_path: Path) -> None:
    assert tracked_env_files(repo.path) == []
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(NotARepository):
        tracked_env_files(plain)


def test_default_allowlist_glob_suppresses_and_counts(repo: Repo) -> None:
    fixture_a, fixture_b, real = canary("sk_test_"), canary("sk_test_"), canary()
    repo.commit(
        **{
            "tests/fixtures/a.json": f'{{"key": "{fixture_a}"}}\n',
            "tests/fixtures/deep/b.json": f'{{"key": "{fixture_b}"}}\n',
            "app/settings.py": f"KEY = '{real}'\n",
            ".golive-allowlist": "# known test fixtures\n\ntests/fixtures/**  # fake keys\n",
        }
    )

    result = scan_repository(repo.path)

    assert [f.file for f in result.findings] == ["app/settings.py"]
    assert result.allowlisted == 2
    assert result.allowlist_file is not None
    assert_never_raw(result, fixture_a, fixture_b, real)


def test_explicit_allowlist_and_double_star_prefix(repo: Repo, tmp_path: Path) -> None:
    key = canary("sk_test_")
    repo.commit(**{"fixture.json": f'"{key}"\n', "sub/fixture.json": f'"{key}"\n'})
    allow = tmp_path / "allow.txt"
    allow.write_text("**/fixture.json\n")

    result = scan_repository(repo.path, allowlist=allow)

    assert result.findings == []
    assert result.allowlisted == 2


def test_allowlist_with_redacted_match_suppresses_only_that_key(repo: Repo) -> None:
    fake, other = canary("sk_test_"), canary("sk_test_")
    assert fake[-4:] != other[-4:] or pytest.skip("canaries share their last four")
    repo.commit(
        **{
            "tests/fixtures/keys.json": f'["{fake}",\n "{other}"]\n',
            ".golive-allowlist": f"tests/fixtures/*.json:sk_test_…{fake[-4:]}\n",
        }
    )

    result = scan_repository(repo.path)

    (finding,) = result.findings
    assert (finding.file, finding.line, finding.match) == (
        "tests/fixtures/keys.json",
        2,
        masked(other),
    )
    assert result.allowlisted == 1
    assert_never_raw(result, fake, other)


def test_allowlist_accepts_ascii_ellipsis(repo: Repo) -> None:
    key = canary("whsec_")
    repo.commit(**{"t/hook.txt": key + "\n", ".golive-allowlist": f"t/*:whsec_...{key[-4:]}\n"})
    result = scan_repository(repo.path)
    assert (result.findings, result.allowlisted) == ([], 1)


def test_allowlist_with_a_full_key_is_rejected_without_echoing_it(repo: Repo) -> None:
    key = canary("sk_test_")
    repo.commit(**{"a.txt": "x\n", ".golive-allowlist": f"tests/*:{key}\n"})
    with pytest.raises(AllowlistError) as info:
        scan_repository(repo.path)
    assert ".golive-allowlist:1" in str(info.value)
    assert key[8:] not in str(info.value)


def test_missing_explicit_allowlist_is_an_error(repo: Repo, tmp_path: Path) -> None:
    repo.commit(**{"a.txt": "x\n"})
    with pytest.raises(AllowlistError):
        scan_repository(repo.path, allowlist=tmp_path / "nope")


def test_staged_but_uncommitted_secret_has_no_commit(repo: Repo) -> None:
    repo.commit("init", **{"app.py": "x = 1\n"})
    key = canary()
    repo.write("app.py", f"x = 1\ny = 2\nKEY = '{key}'\n")
    repo.git("add", "app.py")

    result = scan_repository(repo.path)

    assert result.findings == [
        SecretFinding(file="app.py", line=3, commit=None, kind="secret-key", match=masked(key))
    ]
    assert_never_raw(result, key)


def test_staged_secret_removed_from_working_copy_is_still_found(repo: Repo) -> None:
    repo.commit("init", **{"app.py": "x = 1\n"})
    key = canary("rk_live_")
    repo.write("app.py", f"KEY = '{key}'\n")
    repo.git("add", "app.py")
    repo.write("app.py", "x = 1\n")  # unstaged revert: the index still has the key

    (finding,) = scan_repository(repo.path).findings
    assert (finding.file, finding.line, finding.commit) == ("app.py", 1, None)


def test_unstaged_edit_to_tracked_file_is_found(repo: Repo) -> None:
    repo.commit("init", **{"app.py": "x = 1\n"})
    key = canary()
    repo.write("app.py", f"x = '{key}'\n")
    repo.write("untracked.py", f"y = '{canary()}'\n")  # untracked: not in version control

    (finding,) = scan_repository(repo.path).findings
    assert (finding.file, finding.commit) == ("app.py", None)


def test_committed_key_that_moved_down_keeps_its_commit(repo: Repo) -> None:
    key = canary()
    adding = repo.commit("add", **{"app.py": f"KEY = '{key}'\n"})
    repo.commit("prepend", **{"app.py": "import os\nimport sys\n" + f"KEY = '{key}'\n"})

    result = scan_repository(repo.path)

    assert [(f.file, f.line, f.commit) for f in result.findings] == [("app.py", 1, adding)]


def test_same_key_in_two_files_is_two_findings(repo: Repo) -> None:
    key = canary()
    repo.commit(**{"a.py": f"K = '{key}'\n", "b/c.py": f"\nK = '{key}'\n"})
    result = scan_repository(repo.path)
    assert [(f.file, f.line) for f in result.findings] == [("a.py", 1), ("b/c.py", 2)]


def test_not_a_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    probe = subprocess.run(["git", "rev-parse"], cwd=plain, capture_output=True)
    if probe.returncode == 0:
        pytest.skip("tmp_path is inside a git repository")

    with pytest.raises(NotARepository) as info:
        scan_repository(plain)
    assert str(plain) in str(info.value)
    assert "repository.path" in str(info.value)

    with pytest.raises(NotARepository) as info:
        scan_repository(tmp_path / "does-not-exist")
    assert "repository.path" in str(info.value)


def test_subdirectory_of_repository_scans_whole_repository(repo: Repo) -> None:
    key = canary()
    sha = repo.commit(**{"services/api/app.py": "x\n", "config/keys.py": f"K='{key}'\n"})
    (finding,) = scan_repository(repo.path / "services" / "api").findings
    assert (finding.file, finding.commit) == ("config/keys.py", sha)


def test_empty_repository_reports_zero_counts(repo: Repo) -> None:
    result = scan_repository(repo.path)
    assert (result.files_scanned, result.commits_scanned, result.findings) == (0, 0, [])


def test_long_keys_matched_whole(repo: Repo) -> None:
    key_255 = "sk_live_CANARY" + secrets.token_hex(128)[: 255 - 6]
    key_256 = "sk_live_CANARY" + secrets.token_hex(128)[: 256 - 6]
    whsec_255 = "whsec_CANARY" + secrets.token_hex(128)[: 255 - 6]
    assert len(key_255) == len("sk_live_") + 255
    sha = repo.commit(**{"long.txt": f"{key_255}\n{whsec_255}\n{key_256}\n"})

    result = scan_repository(repo.path)

    assert [(f.line, f.match, f.commit) for f in result.findings] == [
        (1, f"sk_live_…{key_255[-4:]}", sha),
        (2, f"whsec_…{whsec_255[-4:]}", sha),
    ]
    assert_never_raw(result, key_255, whsec_255, key_256)


def test_key_between_other_characters(repo: Repo) -> None:
    key = canary()
    repo.commit(**{"a.sh": f'export STRIPE_KEY="{key}";echo\nurl?key={key}&x=1\n'})
    (finding,) = scan_repository(repo.path).findings  # one secret, one file: one finding
    assert finding.line == 1


def test_binary_files_are_listed_and_searched_as_bytes(repo: Repo) -> None:
    # Not read as text, but a key in their bytes is still found (see
    # test_repo_scan_encodings.py for the encodings and binaries in detail).
    key = canary()
    sha = repo.commit(**{"logo.png": b"\x89PNG\x00\x00" + key.encode() + b"\n"})
    result = scan_repository(repo.path)
    assert [(f.file, f.commit, f.match) for f in result.findings] == [
        ("logo.png", sha, masked(key))
    ]
    assert result.files_scanned == 0
    assert result.binary_files == ["logo.png"]
    assert result.commits_scanned == 1


def test_key_only_on_another_branch_is_found(repo: Repo) -> None:
    repo.commit("init", **{"app.py": "x = 1\n"})
    repo.git("checkout", "-q", "-b", "feature")
    key = canary()
    sha = repo.commit("feature", **{"feature.py": f"K = '{key}'\n"})
    repo.git("checkout", "-q", "main")

    (finding,) = scan_repository(repo.path).findings
    assert (finding.file, finding.commit) == ("feature.py", sha)


def test_key_added_by_a_merge_itself_is_found(repo: Repo) -> None:
    repo.commit("init", **{"f.txt": "a\nb\nc\n"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("feature", **{"f.txt": "a\nb\nc\nfeature\n"})
    feature_key = canary()
    feature_sha = repo.commit("feature key", **{"g.txt": f"{feature_key}\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main", **{"f.txt": "main\na\nb\nc\n"})
    repo.git("merge", "-q", "--no-commit", "feature")
    evil = canary()
    repo.write("f.txt", f"main\na\n{evil}\nb\nc\nfeature\n")
    merge_sha = repo.commit("merge")

    result = scan_repository(repo.path)

    assert [(f.file, f.line, f.commit) for f in result.findings] == [
        ("f.txt", 3, merge_sha),
        ("g.txt", 1, feature_sha),  # the branch commit, not the merge that brought it in
    ]


def test_text_file_marked_binary_by_attributes_is_scanned(repo: Repo) -> None:
    # git log uses the working tree's attributes for all of history, so `-diff` would
    # hide every version of these files from a diff-only scan.
    key, other = canary(), canary("whsec_")
    repo.commit("attrs", **{".gitattributes": "*.cfg -diff\n"})
    sha = repo.commit("key", **{"prod.cfg": f"a=1\nkey={key}\n", "my conf.cfg": f"{other}\n"})
    repo.commit("rm", **{"prod.cfg": "a=1\n", "my conf.cfg": "gone\n"})

    result = scan_repository(repo.path)
    assert [(f.file, f.line, f.commit) for f in result.findings] == [
        ("my conf.cfg", 1, sha),
        ("prod.cfg", 2, sha),
    ]
    assert_never_raw(result, key, other)


def test_unusual_file_names(repo: Repo) -> None:
    key = canary()
    sha = repo.commit(**{'dir with space/caf\u00e9 "q".txt': f"{key}\n"})
    repo.commit("rm", **{'dir with space/caf\u00e9 "q".txt': "gone\n"})
    (finding,) = scan_repository(repo.path).findings
    assert (finding.file, finding.commit) == ('dir with space/caf\u00e9 "q".txt', sha)


def test_unresolved_merge_conflict_stages_are_scanned(repo: Repo) -> None:
    repo.commit("init", **{"f.txt": "base\n"})
    repo.git("checkout", "-q", "-b", "other")
    repo.commit("other", **{"f.txt": "theirs\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main", **{"f.txt": "ours\n"})
    subprocess.run(["git", "merge", "-q", "other"], cwd=repo.path, capture_output=True)
    key = canary()
    repo.write("f.txt", f"{key}\n")  # resolving, not yet staged or committed

    (finding,) = scan_repository(repo.path).findings
    assert (finding.file, finding.line, finding.commit) == ("f.txt", 1, None)


def test_symlink_out_of_the_repository_is_not_followed(repo: Repo, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text(canary() + "\n")
    (repo.path / "link.txt").symlink_to(outside)
    repo.commit(**{"a.txt": "x\n"})
    assert scan_repository(repo.path).findings == []


def test_shallow_clone_is_flagged(repo: Repo, tmp_path: Path) -> None:
    repo.commit("one", **{"a.txt": "1\n"})
    repo.commit("two", **{"a.txt": "2\n"})
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", repo.path.as_uri(), str(clone)],
        check=True,
        capture_output=True,
    )
    result = scan_repository(clone)
    assert result.shallow is True
    assert result.commits_scanned == 1


def test_finding_refuses_a_raw_secret() -> None:
    key = canary()
    with pytest.raises(ValueError) as info:
        SecretFinding(file="a", line=1, commit=None, kind="secret-key", match=key)
    assert key not in str(info.value)


def test_deep_history_finds_the_commit_that_added_the_key(repo: Repo) -> None:
    # Speed is measured in bench/, not here. 3000 commits through fast-import: one file changed per commit, one key among them.
    key = canary()
    chunks = []
    for n in range(1, 3001):
        text = f"version = {n}\n" + ("x = 1\n" * 20)
        if n == 1234:
            text += f"KEY = '{key}'\n"
        data = text.encode()
        message = f"commit {n}".encode()
        chunks.append(
            b"commit refs/heads/main\n"
            + f"committer t <t@t> {1_700_000_000 + n} +0000\n".encode()
            + f"data {len(message)}\n".encode()
            + message
            + b"\n"
            + f"M 100644 inline src/file{n % 50}.py\n".encode()
            + f"data {len(data)}\n".encode()
            + data
            + b"\n"
        )
    subprocess.run(
        ["git", "fast-import", "--quiet"],
        cwd=repo.path,
        input=b"".join(chunks),
        check=True,
        capture_output=True,
    )
    repo.git("reset", "-q", "--hard", "main")
    expected = repo.git("rev-list", "-n1", "--grep=^commit 1234$", "main")

    result = scan_repository(repo.path)

    assert result.commits_scanned == 3000
    assert result.files_scanned == 50
    assert [(f.file, f.line, f.commit) for f in result.findings] == [
        ("src/file34.py", 22, expected)
    ]
