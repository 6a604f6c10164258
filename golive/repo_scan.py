"""Find Stripe secrets in a git repository: the tracked tree and the whole history.

This is the library behind the "secrets out of version control" pre-deploy check. It
shells out to the `git` CLI and never stores a secret: every finding carries the key's
redacted form (`sk_live_…wxyz`, see `golive.redact.mask_key`) and nothing else of it.

What is scanned:

* every tracked file as it is in the working tree, plus the staged (index) version of
  files whose working copy differs from the index or is missing;
* every commit reachable from any ref (`git log --all`), as one streamed
  `git log -p -U0 --cc` process: the added lines of each diff, with their line numbers in
  that commit's version. Merge commits contribute only what they add themselves (a
  conflict resolution or an "evil merge"). Files that git refuses to diff as text
  (a NUL byte in the first 8000 bytes, or a `-diff`/`binary` attribute) are fetched
  whole with `git cat-file` (up to 4 MiB; larger ones are listed as unread).

Encodings (`golive.textsniff`): UTF-16 and UTF-32 text, with or without a byte-order
mark, is decoded before it is searched, and text with stray NUL bytes is searched as is.
What is left is binary: it is listed in the result (a gate says how many files were not
read as text) and still searched byte for byte for keys written in ASCII or UTF-16, so
a key in a database dump or an archive is found too.

Deduplication: one finding per (file, secret). A secret that is in history is reported
with the commit that introduced it into that file (the oldest non-merge commit that adds
it), so the same secret in the working tree is not reported again; a secret that exists
only in the working tree or index is reported with `commit=None`.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from golive.redact import KEY_PATTERN, mask_key
from golive.textsniff import ASCII_COMPATIBLE, text_encoding

__all__ = [
    "ALLOWLIST_FILE",
    "AllowlistError",
    "NotARepository",
    "RepoScanError",
    "ScanResult",
    "SecretFinding",
    "scan_repository",
    "tracked_env_files",
    "tracked_files",
]

ALLOWLIST_FILE = ".golive-allowlist"

# Stripe secret material. Publishable keys (pk_) are public by design and never match.
# Alphanumeric lookarounds rather than \b so that `STRIPE_sk_live_…` or a key followed
# by `_` is still caught, while `task_live_…` is not.
_SECRET_BYTES = re.compile(
    rb"(?<![A-Za-z0-9])(?P<prefix>(?:sk|rk)_(?:live|test)_|whsec_)"
    rb"(?P<body>[A-Za-z0-9]{10,255})(?![A-Za-z0-9])"
)
_SECRET_TEXT = re.compile(_SECRET_BYTES.pattern.decode())
# Cheap substring tests that every match contains, tried before the regex.
_NEEDLES = (b"k_live_", b"k_test_", b"whsec_")
_TEXT_NEEDLES = tuple(n.decode() for n in _NEEDLES)
# The same needles as UTF-16 code units. The trailing NUL is cut so that one needle
# matches both byte orders (`k\0_\0l` is in `\0k\0_\0l` too).
_UTF16_NEEDLES = tuple(n.decode("ascii").encode("utf-16-le")[:-1] for n in _NEEDLES)

_KINDS = {"sk": "secret-key", "rk": "restricted-key", "whsec": "webhook-secret"}

# Redacted key as written in an allowlist entry; `...` is accepted for `…`.
_REDACTED_ENTRY = re.compile(
    r"(?P<prefix>(?:sk|rk)_(?:live|test)_|whsec_)(?:…|\.\.\.)(?P<last4>[A-Za-z0-9]{4})"
)
_KEY_PREFIX = re.compile(r"(?:sk|rk|pk)_(?:live|test)_|whsec_")

# .env files meant to be committed: templates without real values.
_ENV_TEMPLATE_SUFFIXES = frozenset({"example", "sample", "template", "dist"})

# Blobs that git would not diff as text (a NUL byte near the start, or attributes) are
# fetched whole to be scanned; beyond this size they are listed as unread.
_MAX_FALLBACK_BLOB = 4 * 1024 * 1024

_COMMIT_MARK = b"\x1egolive-commit "
_NULL_SHA = re.compile(rb"^0+$")

# Environment variables through which a parent git process (a hook, say) would point our
# git commands at another repository, index or configuration.
_GIT_LOCAL_ENV = frozenset(
    {
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_CONFIG",
        "GIT_CONFIG_COUNT",
        "GIT_CONFIG_PARAMETERS",
        "GIT_DIR",
        "GIT_GRAFT_FILE",
        "GIT_IMPLICIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_INTERNAL_SUPER_PREFIX",
        "GIT_NAMESPACE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_PREFIX",
        "GIT_REPLACE_REF_BASE",
        "GIT_SHALLOW_FILE",
        "GIT_WORK_TREE",
    }
)
# Read-only, deterministic output whatever the user's or the repository's configuration:
# no fsmonitor hook, no colour, no signature output, no path prefixes other than a/ b/.
_GIT_CONFIG = (
    "core.fsmonitor=false",
    "core.quotePath=false",
    "color.ui=false",
    "log.showSignature=false",
    "diff.noprefix=false",
    "diff.mnemonicPrefix=false",
    "diff.relative=false",
    "diff.suppressBlankEmpty=false",
)


class RepoScanError(Exception):
    """The repository could not be scanned."""


class NotARepository(RepoScanError):
    """The configured path is not (the inside of) a git checkout."""


class AllowlistError(RepoScanError):
    """The allowlist file is missing or has an entry that cannot be understood."""


@dataclass(frozen=True)
class SecretFinding:
    """One Stripe secret found in the repository, with its value redacted."""

    file: str
    line: int
    commit: str | None
    kind: str
    match: str

    def __post_init__(self) -> None:
        # A guard against a future caller passing the raw key: the object must never
        # hold one. The message deliberately does not echo the value.
        if _SECRET_TEXT.search(self.match) or _SECRET_TEXT.search(self.file):
            raise ValueError("SecretFinding must hold a redacted match, not the secret")

    def to_evidence(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "commit": self.commit,
            "kind": self.kind,
            "match": self.match,
        }


@dataclass
class ScanResult:
    """What `scan_repository` found. `files_scanned == 0` means nothing was looked at."""

    findings: list[SecretFinding]
    files_scanned: int
    commits_scanned: int
    allowlisted: int
    # A shallow clone (CI checkouts often are) has only part of the history, so a key
    # committed earlier cannot be seen; the caller should say so.
    shallow: bool = False
    allowlist_file: str | None = field(default=None)
    # Files (any version) that are not text in any encoding: searched byte for byte for
    # keys only. Sorted paths, redacted.
    binary_files: list[str] = field(default_factory=list)
    # Files with a version in history over 4 MiB that git would not diff: not read.
    unread_files: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- git access


@dataclass(frozen=True)
class _Repo:
    root: Path
    shallow: bool


def _git_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _GIT_LOCAL_ENV
        and not k.startswith("GIT_CONFIG_KEY_")
        and not k.startswith("GIT_CONFIG_VALUE_")
    }
    env.update(
        LC_ALL="C",
        GIT_OPTIONAL_LOCKS="0",  # never rewrite the index while we look at it
        GIT_TERMINAL_PROMPT="0",
        GIT_PAGER="cat",
        GIT_NO_REPLACE_OBJECTS="1",  # report the real objects, not `git replace` stand-ins
    )
    return env


def _git_argv(*args: str) -> list[str]:
    argv = ["git", "--no-pager"]
    for setting in _GIT_CONFIG:
        argv += ["-c", setting]
    return argv + list(args)


def _run_git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    try:
        proc = subprocess.run(
            _git_argv(*args),
            cwd=cwd,
            env=_git_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError as exc:  # no git binary
        raise RepoScanError(f"cannot run git: {exc}") from exc
    if check and proc.returncode != 0:
        raise RepoScanError(f"git {args[0]} failed in {cwd}: {_stderr_text(proc.stderr)}")
    return proc


def _stderr_text(stderr: bytes) -> str:
    """git's own explanation, one line, redacted: the first fatal/error line if any."""
    lines = [ln.strip() for ln in _redact_text(stderr.decode("utf-8", "replace")).splitlines()]
    lines = [ln for ln in lines if ln]
    for ln in lines:
        if ln.startswith(("fatal:", "error:")):
            return ln
    return lines[0] if lines else "(no message)"


def _open_repo(repo: Path | str) -> _Repo:
    path = Path(repo).expanduser()
    hint = "Set repository.path in the target profile to the root of the app's git checkout."
    if not path.is_dir():
        raise NotARepository(f"{path} is not a directory, so not a git repository. {hint}")
    probe = _run_git(
        path, "rev-parse", "--is-bare-repository", "--is-shallow-repository", check=False
    )
    if probe.returncode != 0:
        raise NotARepository(
            f"{path} is not a git repository (git: {_stderr_text(probe.stderr)}). {hint}"
        )
    bare, shallow = (probe.stdout.decode().split() + ["false", "false"])[:2]
    if bare == "true":
        raise NotARepository(f"{path} is a bare git repository, not a checkout. {hint}")
    top = _run_git(path, "rev-parse", "--show-toplevel", check=False)
    if top.returncode != 0 or not top.stdout.strip():
        raise NotARepository(
            f"{path} is not inside a git working tree (git: {_stderr_text(top.stderr)}). {hint}"
        )
    root = Path(os.fsdecode(top.stdout.rstrip(b"\n")))
    return _Repo(root=root, shallow=shallow == "true")


def _read_blobs(
    root: Path, shas: Iterable[str], max_size: int | None = None
) -> Iterator[tuple[str, bytes]]:
    """Contents of blobs, one `git cat-file --batch` process for all of them.

    Blobs larger than `max_size` are skipped (checked first with `--batch-check`, so
    they are never transferred).
    """
    wanted = list(dict.fromkeys(shas))
    if not wanted:
        return
    if max_size is not None:
        sizes = _batch(root, "--batch-check", wanted, with_content=False)
        wanted = [sha for sha, size, _ in sizes if size is not None and size <= max_size]
        if not wanted:
            return
    for sha, size, data in _batch(root, "--batch", wanted, with_content=True):
        if size is not None and data is not None:
            yield sha, data


def _batch(
    root: Path, mode: str, shas: list[str], with_content: bool
) -> Iterator[tuple[str, int | None, bytes | None]]:
    try:
        proc = subprocess.Popen(
            _git_argv("cat-file", mode),
            cwd=root,
            env=_git_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise RepoScanError(f"cannot run git: {exc}") from exc
    assert proc.stdin is not None and proc.stdout is not None

    def feed(stdin: BinaryIO) -> None:
        try:
            for sha in shas:
                stdin.write(sha.encode() + b"\n")
            stdin.close()
        except (BrokenPipeError, OSError):
            pass

    writer = threading.Thread(target=feed, args=(proc.stdin,), daemon=True)
    writer.start()
    try:
        for sha in shas:
            header = proc.stdout.readline()
            if not header:
                raise RepoScanError("git cat-file ended early")
            parts = header.split()
            if len(parts) < 3:  # "<sha> missing"
                yield sha, None, None
                continue
            size = int(parts[2])
            if parts[1] != b"blob":
                if with_content:
                    proc.stdout.read(size + 1)  # keep the stream in step
                yield sha, None, None
                continue
            data = None
            if with_content:
                data = proc.stdout.read(size)
                proc.stdout.read(1)  # the newline after the contents
            yield sha, size, data
    finally:
        proc.stdout.close()
        writer.join(timeout=5)
        proc.wait()


# ------------------------------------------------------------------------------ matching


@dataclass(frozen=True)
class _Hit:
    line: int
    kind: str
    match: str  # redacted
    digest: bytes  # sha256 of the secret: identity for deduplication, not the secret


def _hit(prefix: bytes | str, body: bytes | str, line: int) -> _Hit:
    prefix_text = prefix if isinstance(prefix, str) else prefix.decode("ascii")
    body_text = body if isinstance(body, str) else body.decode("ascii")
    return _Hit(
        line=line,
        kind=_KINDS[prefix_text.split("_", 1)[0]],
        match=mask_key(prefix_text, body_text),
        digest=hashlib.sha256((prefix_text + body_text).encode("ascii")).digest(),
    )


def _has_needle(data: bytes) -> bool:
    return any(needle in data for needle in _NEEDLES)


def _scan_line(content: bytes, line: int) -> Iterator[_Hit]:
    if _has_needle(content):
        for m in _SECRET_BYTES.finditer(content):
            yield _hit(m["prefix"], m["body"], line)
    if b"\0" in content:  # a UTF-16 file that attributes make git diff as text
        for hit in _scan_wide(content):
            yield _Hit(line, hit.kind, hit.match, hit.digest)


def _scan_blob(data: bytes) -> Iterator[_Hit]:
    """Secrets in a whole file's contents, with 1-based line numbers."""
    if not _has_needle(data):
        return
    line, pos = 1, 0
    for m in _SECRET_BYTES.finditer(data):
        line += data.count(b"\n", pos, m.start())
        pos = m.start()
        yield _hit(m["prefix"], m["body"], line)


def _scan_text(text: str) -> Iterator[_Hit]:
    """`_scan_blob` for decoded text."""
    if not any(needle in text for needle in _TEXT_NEEDLES):
        return
    line, pos = 1, 0
    for m in _SECRET_TEXT.finditer(text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        yield _hit(m["prefix"], m["body"], line)


def _scan_wide(data: bytes) -> Iterator[_Hit]:
    """Keys written as UTF-16 code units anywhere in `data`, in either byte order.

    Decoding as little-endian at both offsets covers big-endian too (big-endian at
    offset 0 is little-endian at offset 1). UTF-32 is not searched for in binaries:
    UTF-32 text has a NUL high byte in every code unit, so `golive.textsniff` knows it.
    """
    if any(needle in data for needle in _UTF16_NEEDLES):
        for offset in (0, 1):
            yield from _scan_text(data[offset:].decode("utf-16-le", "replace"))


# What `_scan_contents` says of one version of a file: its hits, and whether it is binary.
_Contents = tuple[list[_Hit], bool]


def _scan_contents(data: bytes) -> _Contents:
    """Secrets in one version of a file, and whether that version is binary."""
    encoding = text_encoding(data)
    if encoding == ASCII_COMPATIBLE:
        return list(_scan_blob(data)), False
    if encoding is not None:
        return list(_scan_text(data.decode(encoding, "replace"))), False
    # Not text: still no place for a key. Line numbers count the bytes' newlines.
    return [*_scan_blob(data), *_scan_wide(data)], True


def _redact_text(text: str) -> str:
    text = _SECRET_TEXT.sub(lambda m: mask_key(m["prefix"], m["body"]), text)
    return KEY_PATTERN.sub(lambda m: mask_key(m["prefix"], m["body"]), text)


def _display_path(path: bytes) -> str:
    # A path is reported, so it is redacted too (a file could be named after a key).
    return _redact_text(path.decode("utf-8", "replace"))


_C_ESCAPES = {
    ord("a"): 7,
    ord("b"): 8,
    ord("t"): 9,
    ord("n"): 10,
    ord("v"): 11,
    ord("f"): 12,
    ord("r"): 13,
    ord('"'): 34,
    ord("\\"): 92,
}


def _unquote(path: bytes) -> bytes:
    """Undo git's C-style quoting of a path (`"a\\tb"`); other paths come back as is."""
    if not (len(path) >= 2 and path[:1] == b'"' and path[-1:] == b'"'):
        return path
    out, i, body = bytearray(), 0, path[1:-1]
    while i < len(body):
        c = body[i]
        if c == 92 and i + 1 < len(body):  # backslash
            nxt = body[i + 1]
            if 48 <= nxt <= 55 and i + 3 < len(body) + 1:  # octal \ooo
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
            out.append(_C_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out)


# ------------------------------------------------------------------------------- history

# Rank of a commit as the introducer of a secret: lower wins. Non-merge commits before
# merges, then older (commit time), then later in git's output (an ancestor, on a tie).
_Rank = tuple[int, int, int]


@dataclass
class _HistoryScan:
    commits: int = 0
    best: dict[tuple[str, bytes], tuple[_Rank, str, _Hit]] = field(default_factory=dict)
    # (rank, commit, path, blob) of files git showed only as "Binary files differ".
    fallback: list[tuple[_Rank, str, str, str]] = field(default_factory=list)
    binary_paths: set[str] = field(default_factory=set)
    unread_paths: set[str] = field(default_factory=set)
    # The fallback blobs' results by blob id: the tree scan reuses them for unchanged
    # files (mostly binaries, which cost a search of all their bytes).
    contents: dict[str, _Contents] = field(default_factory=dict)

    def add(self, rank: _Rank, commit: str, path: str, hit: _Hit) -> None:
        key = (path, hit.digest)
        current = self.best.get(key)
        if current is None or rank < current[0]:
            self.best[key] = (rank, commit, hit)


def _scan_history(repo: _Repo) -> _HistoryScan:
    scan = _HistoryScan()
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(
                _git_argv(
                    "log",
                    "--all",
                    "-p",
                    "--cc",  # merges: only the lines the merge itself adds
                    "-U0",
                    "--inter-hunk-context=0",
                    "--no-color",
                    "--no-ext-diff",
                    "--no-textconv",
                    "--no-renames",  # a renamed file's lines count as added at its new path
                    "--full-index",
                    "--src-prefix=a/",
                    "--dst-prefix=b/",
                    "--no-notes",
                    "--format=format:%x1egolive-commit %H %ct %P",
                ),
                cwd=repo.root,
                env=_git_env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
            )
        except FileNotFoundError as exc:
            raise RepoScanError(f"cannot run git: {exc}") from exc
        assert proc.stdout is not None
        try:
            _parse_log(proc.stdout, scan)
        finally:
            proc.stdout.close()
            returncode = proc.wait()
        if returncode != 0:
            errors.seek(0)
            raise RepoScanError(f"git log failed in {repo.root}: {_stderr_text(errors.read())}")

    if scan.fallback:
        blobs = {sha for _, _, _, sha in scan.fallback}
        contents = scan.contents
        for sha, data in _read_blobs(repo.root, blobs, max_size=_MAX_FALLBACK_BLOB):
            contents[sha] = _scan_contents(data)
        for rank, commit, path, sha in scan.fallback:
            if sha not in contents:  # too large (or gone): say so rather than pass
                scan.unread_paths.add(path)
                continue
            hits, binary = contents[sha]
            if binary:
                scan.binary_paths.add(path)
            for hit in hits:
                scan.add(rank, commit, path, hit)
    return scan


def _parse_log(stream: Iterable[bytes], scan: _HistoryScan) -> None:
    """Stream-parse `git log -p -U0 --cc` output into `scan`.

    Outside a hunk, lines are headers; inside one, every line starts with ` `, `+`, `-`
    or `\\`, and the first line that does not ends the hunk (the next header is a
    `diff`, `@@` or commit-marker line, none of which can start that way).
    """
    commit, rank = "", (0, 0, 0)
    seq = 0
    path: str | None = None  # current file's path, None once it is deleted
    new_blob: bytes | None = None
    in_hunk, columns, line_no = False, 1, 0

    for raw in stream:
        line = raw[:-1] if raw.endswith(b"\n") else raw
        if in_hunk:
            first = line[:1]
            if first and first in b" +-\\":
                if first == b"\\":  # "\ No newline at end of file"
                    continue
                marks = line[:columns]
                if b"-" in marks:  # only in a parent: not in this version
                    continue
                if b"+" in marks and path is not None:
                    for hit in _scan_line(line[columns:], line_no):
                        scan.add(rank, commit, path, hit)
                line_no += 1
                continue
            in_hunk = False

        if line.startswith(_COMMIT_MARK):
            fields = line[len(_COMMIT_MARK) :].split()
            commit = fields[0].decode("ascii")
            seq += 1
            is_merge = int(len(fields) > 3)  # sha, time, then one field per parent
            time = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 0
            rank = (is_merge, time, -seq)
            scan.commits += 1
            path, new_blob = None, None
        elif line.startswith(b"diff --git "):
            path, new_blob = _path_from_diff_git(line[len(b"diff --git ") :]), None
        elif line.startswith((b"diff --cc ", b"diff --combined ")):
            name = line.split(b" ", 2)[2]
            path, new_blob = _display_path(_unquote(name)), None
        elif line.startswith(b"index "):
            # "index <old>..<new> <mode>" or, for a merge, "index <p1>,<p2>..<new>"
            span = line[len(b"index ") :].split(b" ", 1)[0]
            new_blob = span.rpartition(b"..")[2] or None
        elif line.startswith(b"+++ "):
            # git ends the name with a tab when it contains a space (a raw tab in the
            # name itself would have been quoted as \t)
            target = _unquote(line[4:].removesuffix(b"\t"))
            path = _display_path(target[2:]) if target.startswith(b"b/") else None
        elif line.startswith(b"Binary files "):
            if path is not None and new_blob and not _NULL_SHA.match(new_blob):
                scan.fallback.append((rank, commit, path, new_blob.decode("ascii")))
        elif line.startswith(b"@@"):
            ats = len(line) - len(line.lstrip(b"@"))
            columns = max(ats - 1, 1)
            line_no = _new_start(line)
            in_hunk = True


def _path_from_diff_git(rest: bytes) -> str | None:
    """`a/<p> b/<p>` (same path twice, renames are off) -> <p>."""
    if rest.startswith(b'"'):
        # Quoted: `"a/x y" "b/x y"`; skip the first C string, the second is the new path.
        i = 1
        while i < len(rest) and rest[i] != 34:  # closing quote
            i += 2 if rest[i] == 92 else 1  # backslash escapes the next byte
        target = _unquote(rest[i + 1 :].strip())
    else:
        half = (len(rest) - 1) // 2
        target = rest[half + 1 :]
    if target.startswith(b"b/"):
        return _display_path(target[2:])
    return None


def _new_start(header: bytes) -> int:
    """First line number of the new version in `@@ -a,b +c,d @@` (or `@@@ ... @@@`)."""
    for token in header.split(b" ")[1:]:
        if token.startswith(b"+"):
            start = token[1:].split(b",", 1)[0]
            return int(start) if start.isdigit() else 1
        if token.startswith(b"@"):
            break
    return 1


# ---------------------------------------------------------------------------------- tree


def _tracked_entries(root: Path) -> dict[bytes, list[str]]:
    """Regular tracked files -> their index blob(s) (several while a merge is unresolved)."""
    out = _run_git(root, "ls-files", "--stage", "-z").stdout
    entries: dict[bytes, list[str]] = {}
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, sha, _stage = meta.split(b" ")
        if not mode.startswith(b"100"):  # symlinks (120000) and submodules (160000)
            continue
        entries.setdefault(path, []).append(sha.decode("ascii"))
    return entries


def _scan_tree(
    repo: _Repo, known: dict[str, _Contents]
) -> tuple[dict[tuple[str, bytes], _Hit], int, set[str]]:
    """Hits by (path, secret), the number of text files scanned, the binary files.

    `known` holds results by blob id already computed from history.
    """
    root = repo.root
    entries = _tracked_entries(root)
    changed = set(
        _run_git(
            root, "diff", "--name-only", "-z", "--no-ext-diff", "--ignore-submodules"
        ).stdout.split(b"\0")
    )
    real_root = os.path.realpath(root)
    hits: dict[tuple[str, bytes], _Hit] = {}
    scanned: set[bytes] = set()
    binary: set[str] = set()
    from_index: dict[str, list[bytes]] = {}

    def record(path: bytes, data: bytes, sha: str | None = None) -> None:
        shown = _display_path(path)
        if sha in known and _blob_id(data, sha) == sha:  # the very bytes of that blob
            found, is_binary = known[sha]
        else:
            found, is_binary = _scan_contents(data)
        if is_binary:
            binary.add(shown)
        else:
            scanned.add(path)
        for hit in found:
            hits.setdefault((shown, hit.digest), hit)

    for path, shas in entries.items():
        data = _read_worktree(os.path.join(os.fsencode(root), path), real_root)
        if data is not None:
            record(path, data, shas[0] if len(shas) == 1 else None)
        if data is None or path in changed or len(shas) > 1:
            for sha in shas:
                from_index.setdefault(sha, []).append(path)

    for sha, data in _read_blobs(root, from_index):
        for path in from_index[sha]:
            record(path, data)
    return hits, len(scanned), binary


def _blob_id(data: bytes, like: str) -> str:
    """git's object id of `data` as a blob, in the hash of `like` (SHA-1 or SHA-256)."""
    algorithm = hashlib.sha1 if len(like) == 40 else hashlib.sha256
    digest = algorithm(b"blob %d\0" % len(data), usedforsecurity=False)
    digest.update(data)
    return digest.hexdigest()


def _read_worktree(full: bytes, real_root: str) -> bytes | None:
    """A tracked file's working copy, or None if it is missing or not a plain file
    inside the repository (never follow a symlink out of it)."""
    try:
        if not os.path.isfile(full) or os.path.islink(full):
            return None
        real = os.path.realpath(full)
        if not os.fsdecode(real).startswith(real_root + os.sep):
            return None
        with open(full, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def tracked_files(repo: Path) -> list[str] | None:
    """The tracked regular files of the checkout whose root is `repo` (relative paths), or
    None when `repo` is not itself a checkout's root (a plain folder, or a folder inside
    another project's checkout, whose tracked files are not the app's)."""
    try:
        root = _open_repo(repo).root
    except NotARepository:
        return None
    if os.path.realpath(root) != os.path.realpath(repo):
        return None
    return [os.fsdecode(path) for path in _tracked_entries(root)]


def tracked_env_files(repo: Path) -> list[str]:
    """Tracked `.env` / `.env.*` files anywhere in the tree, templates excepted.

    `.env.example`, `.env.sample`, `.env.template` and `.env.dist` (and
    `.env.<anything>.example` etc.) exist to be committed and are not returned.
    """
    root = _open_repo(repo).root
    out = _run_git(root, "ls-files", "-z").stdout
    found = []
    for record in out.split(b"\0"):
        if not record:
            continue
        name = record.rsplit(b"/", 1)[-1].decode("utf-8", "replace").lower()
        if name != ".env" and not name.startswith(".env."):
            continue
        if name.rsplit(".", 1)[-1] in _ENV_TEMPLATE_SUFFIXES:
            continue
        found.append(_display_path(record))
    return sorted(set(found))


# ----------------------------------------------------------------------------- allowlist


@dataclass(frozen=True)
class _AllowRule:
    glob: str
    match: str | None  # redacted key, or None for any key in matching files

    def allows(self, finding: SecretFinding) -> bool:
        if self.match is not None and finding.match != self.match:
            return False
        return _glob_match(finding.file, self.glob)


def _glob_match(path: str, glob: str) -> bool:
    if fnmatch.fnmatchcase(path, glob):
        return True
    # `**/x` also matches `x` at the root; fnmatch's `*` already crosses `/`.
    return glob.startswith("**/") and fnmatch.fnmatchcase(path, glob[3:])


def _load_allowlist(path: Path) -> list[_AllowRule]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AllowlistError(f"cannot read allowlist {path}: {exc}") from exc
    rules = []
    for number, raw in enumerate(text.splitlines(), start=1):
        entry = re.split(r"(?:^|\s+)#", raw, maxsplit=1)[0].strip()
        if not entry:
            continue
        glob, match = entry, None
        head, sep, tail = entry.rpartition(":")
        if sep and _KEY_PREFIX.match(tail.strip()):
            redacted = _REDACTED_ENTRY.fullmatch(tail.strip())
            if redacted is None:
                raise AllowlistError(
                    f"{path}:{number}: after ':' put the redacted key as reports show it "
                    "(e.g. sk_test_…abcd), never the key itself"
                )
            glob = head.strip()
            match = mask_key(redacted["prefix"], redacted["last4"])
        glob = glob.removeprefix("./").lstrip("/")
        if glob.endswith("/"):
            glob += "**"
        if not glob:
            raise AllowlistError(f"{path}:{number}: entry has no path glob")
        rules.append(_AllowRule(glob=glob, match=match))
    return rules


# ---------------------------------------------------------------------------------- scan


def scan_repository(repo: Path, allowlist: Path | None = None) -> ScanResult:
    """Scan the tracked files and the whole history of the repository at `repo`.

    `allowlist` defaults to `.golive-allowlist` at the repository root when that file
    exists. Raises NotARepository when `repo` is not a git checkout, AllowlistError when
    an allowlist cannot be read or parsed, RepoScanError when git fails.
    """
    info = _open_repo(repo)
    if allowlist is None and (info.root / ALLOWLIST_FILE).is_file():
        allowlist = info.root / ALLOWLIST_FILE
    rules = _load_allowlist(Path(allowlist)) if allowlist is not None else []

    history = _scan_history(info)
    tree_hits, files_scanned, tree_binary = _scan_tree(info, history.contents)

    findings = [
        SecretFinding(file=path, line=hit.line, commit=commit, kind=hit.kind, match=hit.match)
        for (path, _), (_, commit, hit) in history.best.items()
    ]
    findings += [
        SecretFinding(file=path, line=hit.line, commit=None, kind=hit.kind, match=hit.match)
        for (path, digest), hit in tree_hits.items()
        if (path, digest) not in history.best
    ]
    kept = [f for f in findings if not any(rule.allows(f) for rule in rules)]
    kept.sort(key=lambda f: (f.file, f.line, f.kind, f.match, f.commit or ""))
    return ScanResult(
        findings=kept,
        files_scanned=files_scanned,
        commits_scanned=history.commits,
        allowlisted=len(findings) - len(kept),
        shallow=info.shallow,
        allowlist_file=str(allowlist) if allowlist is not None else None,
        binary_files=sorted(tree_binary | history.binary_paths),
        unread_files=sorted(history.unread_paths),
    )
