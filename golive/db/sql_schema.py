"""Schema checks for SQL databases (SQLite, PostgreSQL, MySQL/MariaDB) via SQLAlchemy.

Only catalog reads: SQLite files are opened read-only, and nothing here issues DDL or DML.
"""

from __future__ import annotations

import re
import sqlite3
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection
from sqlalchemy.pool import NullPool

from golive.db import DatabaseUnreachable, FieldDecl, Finding, IndexDecl
from golive.db.naming import Naming

CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 30

# Apps hand us URLs written for their own stack; map them to the sync drivers we ship.
_SYNC_DRIVERS = {
    "postgresql": ("postgresql+psycopg", {"", "psycopg", "asyncpg", "psycopg_async"}),
    "mysql": ("mysql+pymysql", {"", "pymysql", "aiomysql", "asyncmy"}),
    "mariadb": ("mariadb+pymysql", {"", "pymysql", "aiomysql", "asyncmy"}),
    "sqlite": ("sqlite", {"", "pysqlite", "aiosqlite"}),
}
# Prisma-only query parameters that libpq would reject; `schema` picks the schema to inspect.
_PRISMA_PARAMS = ("schema", "connection_limit", "pool_timeout", "pgbouncer", "socket_timeout")


@dataclass
class Target:
    """A database URL made ready for SQLAlchemy, plus what we learned while preparing it."""

    url: URL
    original: str  # as given; only ever shown redacted
    schema: str | None = None  # None: the connection's default schema
    sqlite_path: Path | None = None

    @property
    def dialect(self) -> str:
        return self.url.get_backend_name()


def prepare_url(url: str) -> Target:
    """Rewrite driver-less/async URLs to psycopg/pymysql and pull out Prisma's `schema`."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url.split(':', 1)[0]}:…")
    backend, _, driver = scheme.partition("+")
    backend = "postgresql" if backend == "postgres" else backend
    if backend in _SYNC_DRIVERS and driver in _SYNC_DRIVERS[backend][1]:
        scheme = _SYNC_DRIVERS[backend][0]
    parsed = sa.make_url(f"{scheme}://{rest}")
    target = Target(url=parsed, original=url)
    if target.dialect == "postgresql":
        target.schema = parsed.query.get("schema") or None
        target.url = parsed.difference_update_query(_PRISMA_PARAMS)
    elif target.dialect == "sqlite" and parsed.database not in (None, "", ":memory:"):
        target.sqlite_path = Path(parsed.database)
    return target


def connect_engine(target: Target) -> sa.Engine:
    """An engine with a short connect timeout; SQLite files are opened read-only."""
    if target.sqlite_path is not None:
        path = target.sqlite_path
        if not path.is_file():
            raise DatabaseUnreachable(target.original, f"no SQLite file at {path}")
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        return sa.create_engine(
            "sqlite://",
            creator=lambda: sqlite3.connect(uri, uri=True, timeout=CONNECT_TIMEOUT_S),
            poolclass=NullPool,
        )
    connect_args: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S}
    if target.dialect in ("mysql", "mariadb"):
        # pymysql reads the server greeting with no timeout: a port that accepts but never
        # answers would hang the run. Catalog queries finish well within this.
        connect_args["read_timeout"] = connect_args["write_timeout"] = READ_TIMEOUT_S
    elif target.dialect != "postgresql":
        connect_args = {}  # a driver we do not know the timeout option of
    return sa.create_engine(target.url, connect_args=connect_args, poolclass=NullPool)


@contextmanager
def connect(url: str) -> Iterator[tuple[Target, Connection]]:
    """Connect or raise DatabaseUnreachable; the engine is disposed on exit."""
    target = prepare_url(url)
    engine = connect_engine(target)
    try:
        try:
            conn = engine.connect()
            # SQLite opens lazily: make it read the header so a non-database fails here.
            probe = "SELECT count(*) FROM sqlite_master" if _lite(target) else "SELECT 1"
            conn.exec_driver_sql(probe)
        except sa.exc.DBAPIError as exc:
            raise DatabaseUnreachable(url, str(exc.orig).strip()) from exc
        with conn:
            yield target, conn
    finally:
        engine.dispose()


def _lite(target: Target) -> bool:
    return target.dialect == "sqlite"


# --- public checks ----------------------------------------------------------------------


def check_fields(url: str, naming: Naming, fields: list[FieldDecl]) -> list[Finding]:
    """One Finding per declared field, in order: does the column exist?"""
    with connect(url) as (target, conn):
        catalog = Catalog(target, conn)
        return [_check_field(catalog, naming, decl) for decl in fields]


def check_indexes(url: str, naming: Naming, indexes: list[IndexDecl]) -> list[Finding]:
    """One Finding per declared index, in order, with every index on the table as evidence."""
    with connect(url) as (target, conn):
        catalog = Catalog(target, conn)
        return [_check_index(catalog, naming, decl) for decl in indexes]


# --- reflection -------------------------------------------------------------------------


@dataclass
class IndexInfo:
    """An index, unique constraint or primary key, as an auditor would want to see it."""

    name: str | None
    columns: list[str]  # expression text for expression elements
    unique: bool
    origin: str  # "index", "unique constraint" or "primary key"
    where: str | None = None
    nulls_not_distinct: bool = False
    definition: str | None = None  # the catalog's CREATE INDEX text, where there is one

    def evidence(self, table: str) -> dict[str, Any]:
        return {
            "table": table,
            "index": self.name,
            "origin": self.origin,
            "columns": self.columns,
            "unique": self.unique,
            "where": self.where,
            "nulls_not_distinct": self.nulls_not_distinct,
            "definition": self.definition,
        }


@dataclass
class Catalog:
    """Cached reflection of one connection: table names, columns, indexes."""

    target: Target
    conn: Connection
    _columns: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _indexes: dict[str, list[IndexInfo]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.inspector = sa.inspect(self.conn)
        self.schema = self.target.schema
        self.tables = sorted(self.inspector.get_table_names(schema=self.schema))

    @property
    def dialect(self) -> str:
        return self.target.dialect

    def find_table(self, name: str) -> str | None:
        # SQLite compares table names case-insensitively; the others as stored.
        return _resolve(name, self.tables, fold=self.dialect == "sqlite")

    def columns(self, table: str) -> list[dict[str, Any]]:
        if table not in self._columns:
            self._columns[table] = self.inspector.get_columns(table, schema=self.schema)
        return self._columns[table]

    def find_column(self, table: str, name: str) -> dict[str, Any] | None:
        # SQLite and MySQL column names are case-insensitive; PostgreSQL's quoted ones are not.
        columns = {c["name"]: c for c in self.columns(table)}
        found = _resolve(name, list(columns), fold=self.dialect != "postgresql")
        return columns.get(found) if found else None

    def indexes(self, table: str) -> list[IndexInfo]:
        if table not in self._indexes:
            with warnings.catch_warnings():
                # SQLite expression indexes are skipped with a warning; the catalog adds them.
                warnings.simplefilter("ignore", sa.exc.SAWarning)
                self._indexes[table] = self._reflect_indexes(table)
        return self._indexes[table]

    def _reflect_indexes(self, table: str) -> list[IndexInfo]:
        found: list[IndexInfo] = []
        definitions = self._catalog_definitions(table)
        pk = self.inspector.get_pk_constraint(table, schema=self.schema)
        if pk.get("constrained_columns"):
            name = pk.get("name")
            definition = definitions.pop(name, None) if name else None
            found.append(
                IndexInfo(
                    name,
                    list(pk["constrained_columns"]),
                    True,
                    "primary key",
                    definition=definition,
                )
            )

        for ix in self.inspector.get_indexes(table, schema=self.schema):
            options = ix.get("dialect_options", {})
            definition = definitions.pop(ix["name"], None)
            where = options.get(f"{self.dialect}_where")
            found.append(
                IndexInfo(
                    name=ix["name"],
                    columns=_index_columns(ix),
                    unique=bool(ix.get("unique")),
                    origin="unique constraint" if ix.get("duplicates_constraint") else "index",
                    where=str(where) if where is not None else _where_of(definition),
                    nulls_not_distinct=bool(options.get("postgresql_nulls_not_distinct"))
                    or _nulls_not_distinct(definition),
                    definition=definition,
                )
            )

        seen = {ix.name for ix in found if ix.name}
        for uc in self.inspector.get_unique_constraints(table, schema=self.schema):
            if uc.get("name") in seen or uc.get("duplicates_index"):
                continue  # PostgreSQL and MySQL back each unique constraint with an index
            nnd = uc.get("dialect_options", {}).get("postgresql_nulls_not_distinct", False)
            found.append(
                IndexInfo(
                    uc.get("name"),
                    list(uc["column_names"]),
                    True,
                    "unique constraint",
                    nulls_not_distinct=bool(nnd),
                )
            )

        # Whatever SQLAlchemy could not reflect (expression indexes) is still evidence.
        for name, definition in definitions.items():
            found.append(
                IndexInfo(
                    name,
                    [],
                    _is_unique_definition(definition),
                    "index",
                    where=_where_of(definition),
                    nulls_not_distinct=_nulls_not_distinct(definition),
                    definition=definition,
                )
            )
        return found

    def _catalog_definitions(self, table: str) -> dict[str, str]:
        """CREATE INDEX text by index name, where the catalog keeps it (SQLite, PostgreSQL)."""
        if self.dialect == "sqlite":
            rows = self.conn.execute(
                sa.text(
                    "SELECT name, sql FROM sqlite_master "
                    "WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL"
                ),
                {"t": table},
            )
        elif self.dialect == "postgresql":
            rows = self.conn.execute(
                sa.text(
                    "SELECT indexname, indexdef FROM pg_indexes "
                    "WHERE schemaname = :s AND tablename = :t"
                ),
                {"s": self.schema or self.inspector.default_schema_name, "t": table},
            )
        else:
            return {}
        return {name: sql for name, sql in rows}


def _index_columns(ix: dict[str, Any]) -> list[str]:
    # PostgreSQL reports expression elements as None in column_names, text in expressions.
    expressions = ix.get("expressions") or []
    return [
        col if col is not None else (expressions[i] if i < len(expressions) else "<expression>")
        for i, col in enumerate(ix.get("column_names") or [])
    ]


def _resolve(name: str, available: list[str], fold: bool) -> str | None:
    if name in available:
        return name
    if fold:
        matches = [a for a in available if a.lower() == name.lower()]
        if len(matches) == 1:
            return matches[0]
    return None


_WHERE = re.compile(r"\bWHERE\b(?P<pred>.*)$", re.IGNORECASE | re.DOTALL)
_NND = re.compile(r"\bNULLS\s+NOT\s+DISTINCT\b", re.IGNORECASE)
_UNIQUE_DEF = re.compile(r"^\s*CREATE\s+UNIQUE\b", re.IGNORECASE)


def _where_of(definition: str | None) -> str | None:
    match = _WHERE.search(definition or "")
    return match["pred"].strip().rstrip(";").strip() if match else None


def _nulls_not_distinct(definition: str | None) -> bool:
    return bool(_NND.search(definition or ""))


def _is_unique_definition(definition: str) -> bool:
    return bool(_UNIQUE_DEF.match(definition))


def is_not_null_predicate(where: str, column: str) -> bool:
    """True for `col IS NOT NULL` however quoted, parenthesized or cased."""
    text = re.sub(r'["`\[\]()]', " ", where)
    text = " ".join(text.split()).lower()
    return text in {f"{column.lower()} is not null", f"not {column.lower()} is null"}


# --- judging ----------------------------------------------------------------------------


def _missing_table(subject: str, catalog: Catalog, table: str) -> Finding:
    present = ", ".join(catalog.tables) or "none"
    return Finding(
        subject,
        False,
        f"Expected table {table}, but it does not exist (tables present: {present}).",
        [{"table": table, "exists": False, "tables_present": catalog.tables}],
    )


def _missing_column(subject: str, catalog: Catalog, table: str, column: str) -> Finding:
    present = [c["name"] for c in catalog.columns(table)]
    hint = ""
    near = [c for c in present if c.lower() == column.lower()]
    if near:
        hint = f" ({near[0]} differs only in letter case, which PostgreSQL treats as distinct)"
    return Finding(
        subject,
        False,
        f"Expected column {table}.{column}, but it does not exist{hint}; "
        f"columns present: {', '.join(present)}.",
        [{"table": table, "column": column, "exists": False, "columns_present": present}],
    )


def _locate(
    catalog: Catalog, naming: Naming, decl: FieldDecl | IndexDecl
) -> tuple[str, dict[str, Any]] | Finding:
    """The declaration's table and reflected column, or the failing finding saying which is missing."""
    wanted_table = naming.table(decl.model)
    table = catalog.find_table(wanted_table)
    if table is None:
        return _missing_table(decl.subject, catalog, wanted_table)
    wanted_column = naming.column(decl.model, decl.field)
    column = catalog.find_column(table, wanted_column)
    if column is None:
        return _missing_column(decl.subject, catalog, table, wanted_column)
    return table, column


def _check_field(catalog: Catalog, naming: Naming, decl: FieldDecl) -> Finding:
    located = _locate(catalog, naming, decl)
    if isinstance(located, Finding):
        return located
    table, column = located
    nullable = bool(column.get("nullable", True))
    kind = _type_name(column)
    null_text = "nullable" if nullable else "NOT NULL"
    return Finding(
        decl.subject,
        True,
        f"Column {table}.{column['name']} exists ({kind}, {null_text}).",
        [{"table": table, "column": column["name"], "type": kind, "nullable": nullable}],
    )


def _type_name(column: dict[str, Any]) -> str:
    try:
        return str(column["type"])
    except Exception:  # some reflected types cannot render without a dialect
        return type(column["type"]).__name__


def _check_index(catalog: Catalog, naming: Naming, decl: IndexDecl) -> Finding:
    located = _locate(catalog, naming, decl)
    if isinstance(located, Finding):
        return located
    table, column = located

    name = column["name"]
    nullable = bool(column.get("nullable", True))
    indexes = catalog.indexes(table)
    fold = catalog.dialect != "postgresql"
    if decl.unique:
        ok, message = _judge_unique(decl, table, name, nullable, indexes, fold)
    else:
        ok, message = _judge_plain(table, name, indexes, fold)
    evidence = [{"table": table, "column": name, "column_nullable": nullable}]
    evidence += [ix.evidence(table) for ix in indexes]
    return Finding(decl.subject, ok, message, evidence)


def _same(a: str, b: str, fold: bool) -> bool:
    return a.lower() == b.lower() if fold else a == b


def _describe(ix: IndexInfo) -> str:
    label = ix.origin if ix.origin != "index" else ("unique index" if ix.unique else "index")
    return f"{label} {ix.name or '(unnamed)'} ({', '.join(ix.columns)})"


def _judge_plain(table: str, column: str, indexes: list[IndexInfo], fold: bool) -> tuple[bool, str]:
    """Any index led by the column serves lookups by it."""
    leading = [ix for ix in indexes if ix.columns and _same(ix.columns[0], column, fold)]
    # Prefer a full index for the message; a partial one still serves matching lookups.
    leading.sort(key=lambda ix: ix.where is not None)
    if leading:
        ix = leading[0]
        partial = f" (partial: WHERE {ix.where})" if ix.where else ""
        return True, f"{table}.{column} is indexed by {_describe(ix)}{partial}."
    inside = [ix for ix in indexes if any(_same(c, column, fold) for c in ix.columns)]
    if inside:
        return False, (
            f"Expected an index on {table}.{column}; it only appears as a non-leading column of "
            f"{_describe(inside[0])}, which cannot serve lookups by {column} alone."
        )
    return False, f"Expected an index on {table}.{column}, but no index on {table} covers it."


def _judge_unique(
    decl: IndexDecl,
    table: str,
    column: str,
    nullable: bool,
    indexes: list[IndexInfo],
    fold: bool,
) -> tuple[bool, str]:
    expected = (
        f"Expected a unique index on {table}.{column} that admits many rows without a value"
        if decl.sparse
        else f"Expected a unique index on {table}.{column}"
    )
    exact = [
        ix
        for ix in indexes
        if ix.unique and len(ix.columns) == 1 and _same(ix.columns[0], column, fold)
    ]
    problems: list[str] = []
    for ix in exact:
        ok, note = _judge_unique_candidate(decl, column, nullable, ix)
        if ok:
            return True, f"{table}.{column} is unique via {_describe(ix)}{note}."
        problems.append(f"{_describe(ix)}, which {note}")
    if problems:
        return False, f"{expected}; found {'; '.join(problems)}."

    composite = [
        ix for ix in indexes if ix.unique and any(_same(c, column, fold) for c in ix.columns)
    ]
    if composite:
        return False, (
            f"{expected}; {column} is only part of composite {_describe(composite[0])}, "
            f"which does not make {column} unique on its own."
        )
    plain = [ix for ix in indexes if ix.columns and _same(ix.columns[0], column, fold)]
    if plain:
        return False, f"{expected}; found only {_describe(plain[0])}, which is not unique."
    return False, f"{expected}, but no index on {table} covers {column}."


def _judge_unique_candidate(
    decl: IndexDecl, column: str, nullable: bool, ix: IndexInfo
) -> tuple[bool, str]:
    """(ok, note): note completes a sentence about the index, for pass or fail."""
    if ix.where is not None:
        if not is_not_null_predicate(ix.where, column):
            return False, (
                f"is partial (WHERE {ix.where}), so rows outside that predicate are not constrained"
            )
        return True, f" (partial: WHERE {ix.where}, so rows without a value are not indexed)"
    if not decl.sparse:
        return True, ""
    if ix.origin == "primary key":
        return True, " (the primary key, so every row carries a value)"
    if not nullable:
        return True, f"; note {column} is NOT NULL, so every row must carry a value"
    if ix.nulls_not_distinct:
        return False, "is NULLS NOT DISTINCT, so only one row may lack a value"
    return True, " (NULLs are distinct, so many rows may lack a value)"
