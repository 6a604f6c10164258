"""The request-field names a target's source reads: what a client may send that no answer
of the app ever shows.

Black-box tampering (golive/tamper.py) guesses money fields from the flow, the app's
answers and a dictionary. A field the app only *reads* — `body.get("x")`, `req.body.x`,
`params[:x]`, `$request->input('x')`, a Go struct's `json:"x"` tag — and never answers
cannot be guessed; the repository names it. This walks the profile's `repository.path`
(its tracked files when it is a git checkout, as golive/repo_scan.py lists them, else the
folder), skipping tests, vendored code, node_modules and migrations, at most MAX_FILES
files of at most MAX_BYTES each, and extracts those names with regular expressions:

* reads from the request itself (strong): `request.POST/GET/data/json/form/args[...]`,
  `.get("x")`/`["x"]` on names like body/data/payload/params, `req.body.x`, destructuring
  `const { x } = req.body`, `params[:x]`, `$_POST['x']`, `$request->input('x')`, json tags;
* the keys read on from those, on the same line (`body.get("q", {}).get("x")`) or off a
  local name assigned from the request (`q = body.get("q")` … `q["x"]`, `q.x` in
  JavaScript): the inner keys of a nested object the request carries, which no pattern on
  "request" would see. Keys read off anything else (a Stripe object's `["amount"]`) are not.

A name read as the container of a money-like key — on one line
(`body.get("q", {}).get("amount_minor")`, `req.body.q.amountMinor`, `params.dig(:q, :amount)`,
`input('q.amount')`) or through a local name assigned from the request (`q = body.get("q")`
… `q["amount_minor"]`) — is marked a container: price tampering sends it as an object.
It is regex-level on purpose: a name too many only costs a field in a tampering batch.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from golive import repo_scan
from golive.static.runner import LANGUAGES, TEST_CODE

MAX_FILES = 3000
MAX_BYTES = 512 * 1024
# Folders that are not the app's own request handling.
SKIP_DIRS = frozenset(
    {
        ".git",
        "node_modules",
        "vendor",
        "migrations",
        "migrate",
        "venv",
        ".venv",
        "site-packages",
        "dist",
        "build",
        "__pycache__",
        "fixtures",
        "testdata",
    }
)

_NAME = r"[A-Za-z_][A-Za-z0-9_\-]{0,63}"
_Q = r"""['"]"""
# Names that hold a request's payload in code (`body`, `json_data`, `payload`, `params`).
_HOLDER = r"\w*(?:body|data|payload|params|json|form|input|request|req)\w*"

# --- per language: the strong reads, and what marks a file as reading the request ------
_PY_STRONG = [
    re.compile(
        rf"request\.(?:POST|GET|data|json|form|args|values|query_params|FILES|get_json\(\))"
        rf"\s*(?:\.get\(\s*|\[\s*){_Q}({_NAME}){_Q}"
    ),
    re.compile(rf"\b{_HOLDER}\s*(?:\.get\(\s*|\.pop\(\s*|\[\s*){_Q}({_NAME}){_Q}", re.I),
]
_PY_KEYS = re.compile(rf"(?:\.get\(\s*|\.pop\(\s*|\[\s*){_Q}({_NAME}){_Q}")
_PY_REQUEST = re.compile(r"\brequest\b|json\.loads|get_json|\bbody\b|\bpayload\b")

_JS_REQ = r"\b(?:req|request|ctx\.request|event|c\.req)\.(?:body|query|params|json)"
_JS_STRONG = [
    re.compile(rf"{_JS_REQ}\s*(?:\??\.\s*([A-Za-z_$][\w$]*)|\[\s*{_Q}({_NAME}){_Q}\s*\])"),
    re.compile(
        rf"\b(?:body|payload|input)\s*(?:\??\.\s*([A-Za-z_$][\w$]*)\b(?!\s*\()|\[\s*{_Q}({_NAME}){_Q}\s*\])"
    ),
]
_JS_DESTRUCTURE = re.compile(
    r"(?:const|let|var)\s*\{(?P<names>[^{}]*(?:\{[^{}]*\}[^{}]*)*)\}\s*=\s*(?:await\s+)?"
    rf"(?:{_JS_REQ}|[\w.]*\b(?:body|payload|input|data)\b)"
)
_JS_KEYS = re.compile(
    rf"(?:\??\.\s*([A-Za-z_$][\w$]*)\b(?!\s*\()|\[\s*{_Q}({_NAME}){_Q}\s*\]|\.get\(\s*{_Q}({_NAME}){_Q})"
)
_JS_REQUEST = re.compile(r"\breq\b|\brequest\b|\.body\b|ctx\.request")

_RB_STRONG = [
    re.compile(rf"\bparams(?:\.require\([^)]*\))?\s*\[\s*(?::({_NAME})|{_Q}({_NAME}){_Q})\s*\]"),
    re.compile(r"(?:\bparams\.(?:fetch|dig|require)|\.permit)\((?P<args>[^)]*)\)"),
]
_RB_KEYS = re.compile(
    rf"\[\s*(?::({_NAME})|{_Q}({_NAME}){_Q})\s*\]|\b(?:fetch|dig)\((?P<args>[^)]*)\)"
)
_RB_REQUEST = re.compile(r"\bparams\b|request\.body|JSON\.parse")

_PHP_STRONG = [
    re.compile(rf"\$_(?:POST|GET|REQUEST)\s*\[\s*{_Q}({_NAME}){_Q}\s*\]"),
    re.compile(
        rf"\$request->(?:input|get|post|query|json|string|integer|float)\(\s*{_Q}([\w.\-]+){_Q}"
    ),
    re.compile(r"\$request->([A-Za-z_]\w*)\b(?!\s*\()"),
]
_PHP_KEYS = re.compile(rf"\[\s*{_Q}({_NAME}){_Q}\s*\]")
_PHP_REQUEST = re.compile(r"\$_(?:POST|GET|REQUEST)|\$request\b|php://input")

# A request schema in Python (pydantic, DRF serializers, Django forms, marshmallow) and
# TypeScript (zod): its fields are what the request may carry.
_PY_SCHEMA = re.compile(
    r"^(?P<indent>[ \t]*)class\s+\w+\((?P<bases>[^)]*)\)\s*:",
)
_PY_SCHEMA_BASES = re.compile(r"BaseModel|Schema\b|Serializer\b|\bForm\b|forms\.\w*Form|TypedDict")
_PY_SCHEMA_FIELD = re.compile(r"^[ \t]+([a-z_]\w*)\s*(?::\s*[^=\s]|=\s*[\w.]*Field\()")
_ZOD_FIELD = re.compile(rf"\b({_NAME})\s*:\s*z\.")
_GO_TAG = re.compile(rf"""\b(?:json|form|query|schema):"({_NAME})[,"]""")

_ASSIGN = re.compile(r"(?:\b(?:const|let|var|my)\s+)?\$?([A-Za-z_]\w*)\s*:?=\s*(?!=)(.*)")
_SYMBOL = re.compile(rf":({_NAME})|{_Q}({_NAME}){_Q}")
# The request's own parts: never a field of the body.
_HOLDERS = frozenset({"body", "query", "params", "json", "payload", "form", "request", "req"})
_PHP_ATTRS = frozenset({"input", "get", "post", "query", "json", "all", "only", "has"})


@dataclass(frozen=True)
class Field:
    """One name the source reads from a request: where (one occurrence), and whether it
    is read as an object holding a money-like key."""

    name: str
    where: str  # path:line, relative to the repository
    container: bool = False


@dataclass
class Mined:
    """What the walk found, and how much it read (for the evidence)."""

    root: str
    files: int = 0
    skipped: int = 0  # too large, unreadable, or past MAX_FILES
    fields: dict[str, Field] = field(default_factory=dict)

    def money(self, money_like: Callable[[str], bool]) -> list[Field]:
        """The money-like names and the containers of money-like keys."""
        return [f for f in self.fields.values() if f.container or money_like(f.name)]


@dataclass
class _Hit:
    name: str
    line: int
    strong: bool
    container: bool = False


# --- walking -----------------------------------------------------------------------------


def _skipped_path(relative: str) -> bool:
    parts = relative.replace(os.sep, "/").split("/")
    if any(p in SKIP_DIRS for p in parts[:-1]):
        return True
    return any(fnmatch.fnmatch(p, pattern) for p in parts for pattern in TEST_CODE)


def _candidates(root: Path) -> Iterator[str]:
    """Relative paths of the source files under `root`: git's tracked files when it is a
    checkout, else every file of the folder."""
    try:
        tracked = repo_scan.tracked_files(root)
    except repo_scan.RepoScanError:  # no git binary: the folder is walked
        tracked = None
    if tracked is not None:
        yield from tracked
        return
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            yield os.path.relpath(os.path.join(folder, name), root)


def source_files(root: Path) -> tuple[list[str], int]:
    """The source files the miner reads (relative paths) and how many it left out."""
    chosen: list[str] = []
    skipped = 0
    for relative in _candidates(root):
        if Path(relative).suffix.lower() not in LANGUAGES or _skipped_path(relative):
            continue
        full = root / relative
        try:
            if full.is_symlink() or not full.is_file() or full.stat().st_size > MAX_BYTES:
                skipped += 1
                continue
        except OSError:
            skipped += 1
            continue
        if len(chosen) >= MAX_FILES:
            skipped += 1
            continue
        chosen.append(relative)
    return chosen, skipped


# --- reading one file ----------------------------------------------------------------------


def _groups(match: re.Match[str]) -> list[str]:
    return [g for g in match.groups() if g]


def _symbols(args: str) -> list[str]:
    return [a or b for a, b in _SYMBOL.findall(args)]


_GAP = re.compile(r"[\s)?!]*(?:(?:or|\|\||\?\?)\s*(?:\{\s*\}|dict\(\))\s*\)?)?[\s)?!]*")


def _spans(pattern: re.Pattern[str], line: str) -> list[tuple[str, int, int]]:
    return [(k, m.start(), m.end()) for m in pattern.finditer(line) for k in _groups(m)[:1]]


def _chains(language: str, line: str) -> list[list[str]]:
    """The string keys the line reads, as chains of accesses made one on the other's
    result (`body.get("q", {}).get("amount")`, `req.body.q.amountMinor`, `dig(:q, :a)`)."""
    pattern = {
        "python": _PY_KEYS,
        "javascript": _JS_KEYS,
        "typescript": _JS_KEYS,
        "ruby": _RB_KEYS,
        "php": _PHP_KEYS,
    }.get(language)
    if pattern is None:
        return []
    chains: list[list[str]] = []
    end = -1
    for m in pattern.finditer(line):
        if language == "ruby" and m["args"] is not None:
            chains.append(_symbols(m["args"]))
            end = -1
            continue
        names = _groups(m)[:1]
        if not names:
            continue
        if end >= 0 and _GAP.fullmatch(line[end : m.start()]) and chains:
            chains[-1].append(names[0])
        else:
            chains.append([names[0]])
        end = m.end()
    if language == "php":
        for m in _PHP_STRONG[1].finditer(line):
            chains.append(m[1].split("."))
    return chains


def _strong(language: str, line: str) -> list[str]:
    """The names the line reads from the request itself."""
    found: list[str] = []
    if language == "python":
        for pattern in _PY_STRONG:
            found += [k for m in pattern.finditer(line) for k in _groups(m)]
    elif language in ("javascript", "typescript"):
        for pattern in _JS_STRONG:
            found += [k for m in pattern.finditer(line) for k in _groups(m)]
    elif language == "ruby":
        for m in _RB_STRONG[0].finditer(line):
            found += _groups(m)
        for m in _RB_STRONG[1].finditer(line):
            found += _symbols(m["args"])
    elif language == "php":
        for m in _PHP_STRONG[0].finditer(line):
            found.append(m[1])
        for m in _PHP_STRONG[1].finditer(line):
            found += m[1].split(".")  # input('quote.amount'): both levels
        for m in _PHP_STRONG[2].finditer(line):
            if m[1] not in _PHP_ATTRS:
                found.append(m[1])
    elif language == "go":
        found += _GO_TAG.findall(line)
    return found


def _destructured(text: str) -> list[tuple[str, int]]:
    """`const { a, b: { c }, d = 1 } = req.body`: a, b, c, d with their line numbers."""
    found = []
    for m in _JS_DESTRUCTURE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        for name in re.findall(r"([A-Za-z_$][\w$]*)\s*(?=[:,}=]|$)", m["names"]):
            found.append((name, line))
    return found


_REQUEST_MARK = {
    "python": _PY_REQUEST,
    "javascript": _JS_REQUEST,
    "typescript": _JS_REQUEST,
    "ruby": _RB_REQUEST,
    "php": _PHP_REQUEST,
}


def _reads_off(variable: str, key: str, line: str) -> bool:
    """The line reads `key` off the local name `variable` (`v.get("k")`, `v["k"]`, `v.k`,
    `v[:k]`, `$v->k`)."""
    pattern = (
        rf"(?<![\w.$]){re.escape(variable)}\s*(?:\??\.\s*|\[\s*|->|\.get\(\s*)"
        rf"['\":]?{re.escape(key)}\b"
    )
    return re.search(pattern, line) is not None


def _schema_fields(text: str) -> list[tuple[str, int]]:
    """The fields of the request schemas a Python file declares, with their lines."""
    found: list[tuple[str, int]] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        header = _PY_SCHEMA.match(line)
        if not header or not _PY_SCHEMA_BASES.search(header["bases"]):
            continue
        depth = len(header["indent"])
        body: int | None = None
        for number, inner in enumerate(lines[index + 1 :], index + 2):
            if not inner.strip() or inner.lstrip().startswith("#"):
                continue
            indent = len(inner) - len(inner.lstrip())
            if indent <= depth:
                break
            body = indent if body is None else body
            field_match = _PY_SCHEMA_FIELD.match(inner)
            if indent == body and field_match and field_match[1] != "model_config":
                found.append((field_match[1], number))
    return found


def mine_text(text: str, language: str, money_like: Callable[[str], bool]) -> list[_Hit]:
    """The request-field names one file reads (see the module's docstring)."""
    hits: list[_Hit] = []
    if language == "go":
        for number, line in enumerate(text.splitlines(), 1):
            hits += [_Hit(n, number, True) for n in _strong(language, line)]
        return hits
    mark = _REQUEST_MARK.get(language)
    if mark is None or not mark.search(text):
        return hits
    aliases: dict[str, str] = {}  # a local name -> the request key it was read from
    if language in ("javascript", "typescript"):
        for name, number in _destructured(text):
            hits.append(_Hit(name, number, True))
            aliases[name] = name
        for number, line in enumerate(text.splitlines(), 1):
            hits += [_Hit(name, number, True) for name in _ZOD_FIELD.findall(line)]
    if language == "python":
        hits += [_Hit(name, number, True) for name, number in _schema_fields(text)]
    for number, line in enumerate(text.splitlines(), 1):
        strong = _strong(language, line)
        hits += [_Hit(name, number, True) for name in strong]
        for chain in _chains(language, line):
            # Only a chain tied to the request: one of its keys is read from the request,
            # or it is read off a local name that was (a Stripe object's `["amount"]` is not).
            tied = any(name in strong for name in chain) or any(
                _reads_off(variable, chain[0], line) for variable in aliases
            )
            if not tied:
                continue
            hits += [_Hit(name, number, False) for name in chain if name not in strong]
            # The key read just before a money-like one holds it.
            for outer, inner in zip(chain, chain[1:], strict=False):
                if money_like(inner) and not money_like(outer) and outer not in _HOLDERS:
                    hits.append(_Hit(outer, number, True, container=True))
            # A local name read from the request, then read a money-like key off.
            for variable, origin in aliases.items():
                if money_like(chain[0]) and _reads_off(variable, chain[0], line):
                    hits.append(_Hit(origin, number, True, container=True))
        assigned = _ASSIGN.match(line.strip())
        if assigned and strong:
            aliases[assigned[1]] = strong[-1]
    return hits


def mine(root: Path, money_like: Callable[[str], bool]) -> Mined:
    """Every request-field name the repository's source reads, one occurrence each (a
    read from the request itself preferred, a container mark kept)."""
    result = Mined(str(root))
    files, result.skipped = source_files(root)
    best: dict[str, _Hit] = {}
    where: dict[str, str] = {}
    containers: set[str] = set()
    for relative in files:
        language = LANGUAGES[Path(relative).suffix.lower()]
        try:
            text = (root / relative).read_text(encoding="utf-8", errors="replace")
        except OSError:
            result.skipped += 1
            continue
        result.files += 1
        for hit in mine_text(text, language, money_like):
            if hit.container:
                containers.add(hit.name)
            known = best.get(hit.name)
            if known is None or (hit.strong and not known.strong):
                best[hit.name] = hit
                where[hit.name] = f"{relative.replace(os.sep, '/')}:{hit.line}"
    result.fields = {name: Field(name, where[name], name in containers) for name in sorted(best)}
    return result
