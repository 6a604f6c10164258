"""What an app's answer may show of its insides: stack traces, SQL and driver errors,
settings and connection strings, environment dumps, secrets.

An error answer should tell the client what was wrong with its request, never how the
server is built. `find` looks at a body (as sent, and each string of it when it is JSON, so
an escaped trace `"Traceback …\\n  File \\"x.py\\""` is read as the app wrote it) and at
the answer's headers, and names each kind of leak it sees with an excerpt of where.

The patterns are shapes, not words: a frame of a stack trace in each runtime's own format
(`  File "…", line N`, `at fn (file.js:1:2)`, `#0 /x.php(12)`, `x.rb:12:in`,
`goroutine N [running]`, `at a.B(C.java:3)`), a driver's error class or a SQL statement in
capitals, a settings key in capitals followed by `=`/`:`, a URL with a database scheme.
Secrets are the run's own (the target's env values golive masks) and Stripe secret keys by
their prefixes (golive/redact.py); the excerpt of a leak is redacted by the caller.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from golive.redact import KEY_PATTERN, redact_key

CONTEXT = 60  # characters either side of a match in the excerpt
MAX_EXCERPT = 300
MAX_SCAN = 256 * 1024  # an error page is short; never scan an unbounded body

# (kind, pattern): the first match of each kind is reported.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # --- stack traces, by runtime -------------------------------------------------------
    ("python stack trace", re.compile(r"Traceback \(most recent call last\)")),
    ("python stack trace", re.compile(r"\bFile \"[^\"\n]{1,300}\", line \d+")),
    (
        "node stack trace",
        re.compile(
            r"\bat (?:[\w$.<>\[\] ]{1,120} \()?(?:file://)?[^\s()]{1,300}\.[cm]?[jt]sx?:\d+:\d+\)?"
        ),
    ),
    ("php stack trace", re.compile(r"#\d+ (?:[A-Za-z]:)?[/\\][^\s()]{1,300}\.php\(\d+\)")),
    ("php stack trace", re.compile(r"\b(?:PHP )?(?:Fatal|Parse) error:.{0,300}? on line \d+")),
    ("php stack trace", re.compile(r"Stack trace:\s*#0 ")),
    ("ruby stack trace", re.compile(r"\.rb:\d+:in [`'‘]")),
    ("java stack trace", re.compile(r"Exception in thread \"")),
    (
        "java stack trace",
        re.compile(r"\bat [\w$]+(?:\.[\w$<>]+)+\([\w$]+\.(?:java|kt|scala):\d+\)"),
    ),
    ("go stack trace", re.compile(r"goroutine \d+ \[[a-z ]+\]:")),
    ("go stack trace", re.compile(r"\.go:\d+ \+0x[0-9a-f]+")),
    ("dotnet stack trace", re.compile(r"\bat [\w.<>`]+\(.*?\) in [^\n]{1,300}\.cs:line \d+")),
    # --- debug pages of frameworks ------------------------------------------------------
    ("debug page", re.compile(r"Werkzeug Debugger|You're seeing this error because you have")),
    ("debug page", re.compile(r"\bDEBUG\s*=\s*True\b")),
    # --- SQL and database drivers -------------------------------------------------------
    (
        "database error",
        re.compile(
            r"\b(?:psycopg2?|pymysql|MySQLdb|sqlite3|asyncpg|sqlalchemy|django\.db)"
            r"(?:\.[\w]+)*\.(?:\w*Error|\w*Exception)\b"
            r"|\b(?:Operational|Integrity|Programming|Data|Database|Interface)Error:"
            r"|\bSQLSTATE\[\w+\]|\bORA-\d{5}\b|\bPG::\w+|\bActiveRecord::\w+"
            r"|\bSequelize\w*Error\b|\bMongo(?:Server)?Error\b|\bER_[A-Z_]{4,}\b"
            r"|You have an error in your SQL syntax|syntax error at or near \""
            r"|duplicate key value violates unique constraint|UNIQUE constraint failed:"
            r"|\bno such (?:table|column): |relation \"[^\"]{1,100}\" does not exist"
        ),
    ),
    (
        "sql statement",
        re.compile(
            r"\bSELECT\s+(?:DISTINCT\s+)?[\w\"`.*, ()]{1,300}?\s+FROM\s+[\w\"`.]+"
            r"|\bINSERT\s+INTO\s+[\w\"`.]+\s*\(|\bUPDATE\s+[\w\"`.]+\s+SET\s+[\w\"`.]+\s*="
            r"|\bDELETE\s+FROM\s+[\w\"`.]+\s+WHERE\b"
        ),
    ),
    # --- settings, connections, environment ---------------------------------------------
    (
        "connection string",
        re.compile(
            r"\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql"
            r"|sqlserver|oracle)(?:\+\w+)?://[^\s\"'<>]{3,}"
        ),
    ),
    (
        "settings dump",
        re.compile(
            r"['\"]?\b[A-Z0-9_]*(?:PASSWORD|PASSWD|_SECRET|SECRET_KEY|_DSN|DATABASE_URL)\b"
            r"['\"]?\s*[:=]|['\"]?\bDATABASES?['\"]?\s*[:=]\s*[{\[]|\bDSN\s*[:=]"
        ),
    ),
)
# Names every process environment has: three or more of them as keys is a dump.
_ENV_NAMES = (
    "PATH", "HOME", "PWD", "USER", "SHELL", "HOSTNAME", "LANG", "TERM", "VIRTUAL_ENV",
    "PYTHONPATH", "NODE_ENV", "LOGNAME", "TMPDIR", "OLDPWD", "SHLVL",
)  # fmt: skip
_ENV_KEY = re.compile(r"['\"]?\b(" + "|".join(_ENV_NAMES) + r")\b['\"]?\s*[:=]")
_ENV_MIN = 3
# A password in a URL (`scheme://user:password@host`) and a credential's assigned value.
_URL_CREDENTIAL = re.compile(r"(://[^\s:/@\"'<>]*:)[^\s@/\"'<>]+@")
_ASSIGNED_CREDENTIAL = re.compile(
    r"((?:PASSWORD|PASSWD|SECRET|TOKEN|_KEY|password|passwd|secret|token)\w*['\"]?\s*[:=]\s*['\"]?)"
    r"[^\s'\",}<]+"
)
# Stripe's secret material (publishable keys are public by design).
_SECRET_PREFIXES = ("sk_", "rk_", "whsec_")


@dataclass(frozen=True)
class Leak:
    """One kind of leak in one place of an answer (`where`: body or a header's name)."""

    kind: str
    where: str
    excerpt: str  # unredacted: the caller redacts it before it is shown

    def describe(self, redact: object = None) -> str:
        shown = redact(self.excerpt) if callable(redact) else self.excerpt
        return f"{self.kind} in the {self.where}: {shown!r}"


def find(
    body: str | bytes | None,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    secrets: Iterable[str] = (),
) -> list[Leak]:
    """Every kind of leak in the answer (body and headers), at most one of each kind per
    place. `secrets` are values of the run that must never appear (the env's secrets)."""
    known = sorted({s for s in secrets if s and len(s) >= 8}, key=len, reverse=True)
    found: list[Leak] = []
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body or ""
    for view in _views(text[:MAX_SCAN]):
        found += _scan(view, "body", known)
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in pairs:
        found += _scan(f"{name}: {value}", f"header {name}", known)
    unique: dict[tuple[str, str], Leak] = {}
    for leak in found:
        unique.setdefault((leak.kind, leak.where), leak)
    return list(unique.values())


def kinds(leaks: Iterable[Leak]) -> list[str]:
    return sorted({leak.kind for leak in leaks})


def _views(text: str) -> Iterator[str]:
    """The body as sent and, for JSON, its strings joined (escapes decoded)."""
    yield text
    if not text.lstrip().startswith(("{", "[", '"')):
        return
    try:
        data = json.loads(text)
    except ValueError:
        return
    strings = list(_strings(data))
    if strings:
        yield "\n".join(strings)


def _strings(node: object) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _scan(text: str, where: str, known: list[str]) -> list[Leak]:
    if not text:
        return []
    found: list[Leak] = []
    for kind, pattern in _PATTERNS:
        match = pattern.search(text)
        if match:
            found.append(Leak(kind, where, _around(text, match.start(), match.end())))
    envs = list(_ENV_KEY.finditer(text))
    if len({m.group(1) for m in envs}) >= _ENV_MIN:
        found.append(
            Leak("environment dump", where, _around(text, envs[0].start(), envs[-1].end()))
        )
    for match in KEY_PATTERN.finditer(text):
        if match["prefix"].startswith(_SECRET_PREFIXES):
            found.append(
                Leak("stripe secret key", where, _around(text, match.start(), match.end()))
            )
            break
    for secret in known:
        at = text.find(secret)
        if at != -1:
            shown = _around(text, at, at + len(secret)).replace(secret, redact_key(secret))
            found.append(Leak("secret of the run", where, shown))
            break
    return found


def _around(text: str, start: int, end: int) -> str:
    """The match with some context, the values of credentials in it masked: a leak is
    shown to say where it is, never to pass the password on."""
    left, right = max(0, start - CONTEXT), min(len(text), end + CONTEXT)
    snippet = " ".join(text[left:right].split())[:MAX_EXCERPT]
    snippet = _URL_CREDENTIAL.sub(r"\1…@", snippet)
    snippet = _ASSIGNED_CREDENTIAL.sub(r"\1…", snippet)
    return ("…" if left else "") + snippet + ("…" if right < len(text) else "")
