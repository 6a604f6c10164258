"""Database inspection for the pre-deploy checks: declarations in, findings out.

The declarations use the app's own model and field names; `Naming` turns them into the
table and column names the database actually has. Submodules do the inspecting:
`sql_schema` (SQLite, PostgreSQL, MySQL/MariaDB), `mongo_schema` and `backup`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from golive.db.naming import MONGO_NAMING, Naming
from golive.redact import DEFAULT as _REDACTOR

__all__ = [
    "MONGO_NAMING",
    "DatabaseUnreachable",
    "FieldDecl",
    "Finding",
    "IndexDecl",
    "Naming",
    "redact_url",
    "scrub_text",
]


@dataclass(frozen=True)
class FieldDecl:
    model: str
    field: str

    @property
    def subject(self) -> str:
        return f"{self.model}.{self.field}"


@dataclass(frozen=True)
class IndexDecl:
    model: str
    field: str
    unique: bool = False
    sparse: bool = False  # many rows may lack a value; only meaningful for unique indexes

    def __post_init__(self) -> None:
        if self.sparse and not self.unique:
            # A non-unique index never stops rows without a value, so "sparse" would be
            # a declaration nobody could fail; reject it where the checklist is written.
            raise ValueError(f"{self.model}.{self.field}: sparse only makes sense with unique")

    @property
    def subject(self) -> str:
        return f"{self.model}.{self.field}"


@dataclass
class Finding:
    subject: str  # "Order.stripePaymentIntentId"
    ok: bool
    message: str  # one sentence: what was expected, what was found
    evidence: list[dict[str, Any]] = field(default_factory=list)  # JSON-able

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "ok": self.ok,
            "message": self.message,
            "evidence": self.evidence,
        }


_PASSWORD_PARAM = re.compile(r"(?i)\b(password|passwd|pwd)=[^&;\s]*")


def redact_url(url: str) -> str:
    """Replace the password of a database URL (and any password= parameter) with ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _PASSWORD_PARAM.sub(r"\1=***", url)
    netloc = parts.netloc
    # rpartition: an unencoded "@" inside the password must not leak its tail.
    userinfo, at, hostport = netloc.rpartition("@")
    if at and ":" in userinfo:
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{hostport}"
    query = _PASSWORD_PARAM.sub(r"\1=***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


class DatabaseUnreachable(Exception):
    """The database could not be reached; `url` is redacted, `reason` is the driver's."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = redact_url(url)
        self.reason = scrub_text(reason, url)
        super().__init__(f"cannot connect to {self.url}: {self.reason}")


def scrub_text(text: str, url: str) -> str:
    """Driver and tool output, with the URL's password and any key or card number masked."""
    # Drivers sometimes echo the DSN back; never let the password through.
    password = _password_of(url)
    if password:
        text = text.replace(password, "***").replace(unquote(password), "***")
    return _REDACTOR.text(text)


def _password_of(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None
