"""The secret scan in files that are not plain UTF-8: UTF-16/32, stray NULs, binaries.

Real git repositories in tmp_path. Keys are built at runtime; none is in a committed file.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from gatekit import demo_copy, edit_yaml, gate

from golive.repo_scan import ScanResult, scan_repository
from golive.textsniff import ASCII_COMPATIBLE, text_encoding

GIT_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
}
NOT_IN_VCS = "environment.not-in-version-control"
NO_SECRETS = "code-review.no-hardcoded-secrets"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, env=GIT_ENV, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def new_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    (path / "app.py").write_text("print('shop')\n")
    commit(path, "init")
    return path


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def canary(prefix: str = "sk_" + "live_") -> str:
    return prefix + "CANARY" + secrets.token_hex(12)


def masked(key: str) -> str:
    prefix = "whsec_" if key.startswith("whsec_") else key[:8]
    return f"{prefix}…{key[-4:]}"


def assert_never_raw(result: ScanResult, *keys: str) -> None:
    text = repr(result)
    for key in keys:
        assert key.split("_")[-1][:-4] not in text


# How PowerShell 5 (`Out-File`, `>`), Notepad and friends write "text".
TEXT = "# settings\r\nSTRIPE_SECRET_KEY={key}\r\nDEBUG=0\r\n"
ENCODINGS: dict[str, Callable[[str], bytes]] = {
    "utf-16-le-bom": lambda t: b"\xff\xfe" + t.encode("utf-16-le"),
    "utf-16-be-bom": lambda t: b"\xfe\xff" + t.encode("utf-16-be"),
    "utf-16-le": lambda t: t.encode("utf-16-le"),
    "utf-16-be": lambda t: t.encode("utf-16-be"),
    "utf-32-le-bom": lambda t: b"\xff\xfe\x00\x00" + t.encode("utf-32-le"),
    "utf-32-be": lambda t: t.encode("utf-32-be"),
    "leading-nul": lambda t: b"\x00" + t.encode(),
    "stray-nuls": lambda t: t.replace("DEBUG", "DE\x00BUG\x00").encode(),
}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_key_in_history_in_another_encoding(tmp_path: Path, encoding: str) -> None:
    repo = new_repo(tmp_path / "app")
    key = canary()
    (repo / "settings.ps1").write_bytes(ENCODINGS[encoding](TEXT.format(key=key)))
    sha = commit(repo, "settings")
    git(repo, "rm", "-q", "settings.ps1")
    commit(repo, "remove")  # only history has it now

    result = scan_repository(repo)

    assert [(f.file, f.line, f.commit, f.match) for f in result.findings] == [
        ("settings.ps1", 2, sha, masked(key))
    ]
    assert result.binary_files == []  # read as text, not as a binary
    assert_never_raw(result, key)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_key_in_working_tree_in_another_encoding(tmp_path: Path, encoding: str) -> None:
    repo = new_repo(tmp_path / "app")
    (repo / "settings.ps1").write_bytes(ENCODINGS[encoding](TEXT.format(key="none")))
    commit(repo, "settings")
    key = canary("rk_" + "live_")
    (repo / "settings.ps1").write_bytes(ENCODINGS[encoding](TEXT.format(key=key)))  # not staged

    result = scan_repository(repo)

    assert [(f.file, f.line, f.commit, f.match) for f in result.findings] == [
        ("settings.ps1", 2, None, masked(key))
    ]
    assert result.files_scanned == 2
    assert result.binary_files == []
    assert_never_raw(result, key)


def png_like(payload: bytes = b"") -> bytes:
    """PNG signature and chunks around compressed noise: binary by any test."""
    noise = zlib.compress(secrets.token_bytes(3000))
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + noise + payload + noise


def test_key_inside_a_binary_file_is_found_in_its_bytes(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "app")
    ascii_key, le_key, be_key = canary(), canary("whsec_"), canary("sk_" + "test_")
    blob = png_like(
        b"\x00\x01"
        + ascii_key.encode()
        + b"\xff\x00"
        + le_key.encode("utf-16-le")
        + b"\x00\x07\x00"  # odd offset: the scan may not rely on alignment
        + be_key.encode("utf-16-be")
        + b"\x00\x00"
    )
    (repo / "logo.png").write_bytes(blob)
    sha = commit(repo, "logo")

    result = scan_repository(repo)

    assert sorted((f.file, f.commit, f.match) for f in result.findings) == sorted(
        ("logo.png", sha, masked(k)) for k in (ascii_key, le_key, be_key)
    )
    assert result.binary_files == ["logo.png"]
    assert_never_raw(result, ascii_key, le_key, be_key)


def test_key_inside_a_binary_file_only_in_history_is_found(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "app")
    key = canary()
    (repo / "dump.bin").write_bytes(png_like(key.encode("utf-16-le")))
    sha = commit(repo, "dump")
    git(repo, "rm", "-q", "dump.bin")
    commit(repo, "rm")

    result = scan_repository(repo)

    assert [(f.file, f.commit, f.match) for f in result.findings] == [
        ("dump.bin", sha, masked(key))
    ]
    assert result.binary_files == ["dump.bin"]


def test_binary_without_keys_is_counted_not_a_finding(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "app")
    for n in range(7):
        (repo / "img" / f"{n}.png").parent.mkdir(exist_ok=True)
        (repo / "img" / f"{n}.png").write_bytes(png_like())
    commit(repo, "images")

    result = scan_repository(repo)

    assert result.findings == []
    assert result.files_scanned == 1  # app.py: the images are not text
    assert result.binary_files == [f"img/{n}.png" for n in range(7)]


# ----------------------------------------------------------------- through the real gate


def use_repository(tmp_path: Path, repo: Path) -> Path:
    profile = demo_copy(tmp_path)
    edit_yaml(profile, repository={"path": str(repo)})
    return profile


@pytest.mark.slow
def test_utf16_key_fails_both_items_through_the_gate(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "app")
    (repo / ".gitignore").write_text(".env\n")
    key = canary()
    (repo / "deploy.ps1").write_bytes(ENCODINGS["utf-16-le-bom"](TEXT.format(key=key)))
    sha = commit(repo, "deploy script")

    out = tmp_path / "out"
    run = gate(use_repository(tmp_path, repo), out, "--item", NOT_IN_VCS, "--item", NO_SECRETS)

    assert run.returncode == 1, run.stdout + run.stderr
    assert run.outcomes() == {NOT_IN_VCS: "fail", NO_SECRETS: "fail"}
    [scan] = run.item(NO_SECRETS)["checks"]
    assert scan["message"].startswith(f"1 secret(s) in version control: deploy.ps1:2@{sha[:8]}")
    assert scan["evidence"][1]["match"] == masked(key)
    for name in ("results.json", "report.html", "junit.xml", "summary.md"):
        assert key.split("_")[-1][:-4] not in (out / name).read_text()
    assert key not in run.stdout + run.stderr


@pytest.mark.slow
def test_clean_repo_with_a_binary_passes_and_says_what_was_skipped(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "app")
    (repo / ".gitignore").write_text(".env\n")
    (repo / "static").mkdir()
    (repo / "static" / "logo.png").write_bytes(png_like())
    commit(repo, "logo")

    run = gate(use_repository(tmp_path, repo), tmp_path / "out", "--item", NO_SECRETS)

    assert run.returncode == 0, run.stdout + run.stderr
    [scan] = run.item(NO_SECRETS)["checks"]
    assert scan["outcome"] == "pass"
    [summary] = scan["evidence"]
    assert summary["findings"] == 0
    assert summary["files_scanned"] == 2  # app.py, .gitignore
    assert summary["binary_files"] == 1
    assert summary["binary_file_examples"] == ["static/logo.png"]


def test_utf16_file_that_attributes_make_git_diff_as_text(tmp_path: Path) -> None:
    # `diff` forces a text diff: the added lines then come with their NUL bytes.
    repo = new_repo(tmp_path / "app")
    (repo / ".gitattributes").write_text("*.ps1 diff\n")
    commit(repo, "attributes")
    key = canary()
    (repo / "deploy.ps1").write_bytes(ENCODINGS["utf-16-le"](TEXT.format(key=key)))
    sha = commit(repo, "deploy")
    git(repo, "rm", "-q", "deploy.ps1")
    commit(repo, "rm")

    result = scan_repository(repo)

    assert [(f.file, f.line, f.commit, f.match) for f in result.findings] == [
        ("deploy.ps1", 2, sha, masked(key))
    ]


def test_utf16_text_in_another_script_without_bom(tmp_path: Path) -> None:
    # Cyrillic code units have no NUL high byte, so this does not look like UTF-16; it
    # is read as a binary, and the key's own NULs give it away.
    repo = new_repo(tmp_path / "app")
    key = canary()
    text = "Ключ для оплаты в рабочем режиме\n" * 20 + f"КЛЮЧ={key}\n"
    (repo / "notes.txt").write_bytes(text.encode("utf-16-le"))
    sha = commit(repo, "notes")

    result = scan_repository(repo)

    assert [(f.file, f.commit, f.match) for f in result.findings] == [
        ("notes.txt", sha, masked(key))
    ]


def test_history_blob_too_large_to_read_is_listed(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "app")
    (repo / "big.bin").write_bytes(b"\x00\xff" * (5 * 1024 * 1024 // 2))
    commit(repo, "big")
    git(repo, "rm", "-q", "big.bin")
    commit(repo, "rm")

    result = scan_repository(repo)

    assert result.findings == []
    assert result.unread_files == ["big.bin"]
    assert result.binary_files == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", ASCII_COMPATIBLE),
        (b"plain = 'text'\n", ASCII_COMPATIBLE),
        ("caf\u00e9 na\u00efve\n".encode("latin-1"), ASCII_COMPATIBLE),
        (b"\xef\xbb\xbfutf-8 with a mark\n", ASCII_COMPATIBLE),
        (b"\x00" + b"text after a NUL\n" * 10, ASCII_COMPATIBLE),
        (b"\xff\xfe" + "x = 1\n".encode("utf-16-le"), "utf-16-le"),
        (b"\xfe\xff" + "x = 1\n".encode("utf-16-be"), "utf-16-be"),
        ("x = 1\n".encode("utf-16-le"), "utf-16-le"),
        ("x = 1\n".encode("utf-16-be"), "utf-16-be"),
        (b"\xff\xfe\x00\x00" + "x = 1\n".encode("utf-32-le"), "utf-32-le"),
        ("x = 1\n".encode("utf-32-le"), "utf-32-le"),
        ("x = 1\n".encode("utf-32-be"), "utf-32-be"),
        (b"\x00" * 100, None),
        (b"SQLite format 3\x00\x10\x00\x01\x01\x00@  \x00\x00\x00\x02" + b"\x00" * 80, None),
    ],
)
def test_text_encoding(data: bytes, expected: str | None) -> None:
    assert text_encoding(data) == expected


def test_text_encoding_calls_compressed_and_image_data_binary() -> None:
    for _ in range(20):
        assert text_encoding(png_like()) is None
        assert text_encoding(zlib.compress(secrets.token_bytes(4000))) is None


def test_working_copy_that_a_filter_changes_is_scanned_itself(tmp_path: Path) -> None:
    # Like git-crypt: the blob is ciphertext (here gzip, a binary), the working copy is
    # the plain text git's filter made of it. The scan reuses a blob's result for an
    # unchanged working copy only when the bytes are the blob's own.
    repo = new_repo(tmp_path / "app")
    git(repo, "config", "filter.gz.clean", "gzip -cn")
    git(repo, "config", "filter.gz.smudge", "gzip -dc")
    (repo / ".gitattributes").write_text("*.secret filter=gz\n")
    key = canary()
    (repo / "prod.secret").write_text(f"STRIPE_SECRET_KEY={key}\n")
    commit(repo, "encrypted config")
    assert git(repo, "status", "--porcelain") == ""  # git sees no change

    result = scan_repository(repo)

    assert [(f.file, f.line, f.commit, f.match) for f in result.findings] == [
        ("prod.secret", 1, None, masked(key))
    ]
    assert result.binary_files == ["prod.secret"]  # the committed (gzip) version
