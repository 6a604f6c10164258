"""Opt-in proof that the database can be backed up and restored, table by table.

A backup nobody has restored is a hope, not a backup. This takes one the way an operator
would, restores it into a scratch copy, and compares row counts of every table. The
target database is only read: SQLite is opened read-only, PostgreSQL is read in a
read-only snapshot and restored into a separate scratch database that is always dropped.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import URL, Connection

from golive.db import DatabaseUnreachable, redact_url, scrub_text
from golive.db.sql_schema import CONNECT_TIMEOUT_S, Target, connect, prepare_url

ABSENT = -1  # restored row count of a table the restore did not recreate


@dataclass
class BackupReport:
    ok: bool
    message: str
    tables: dict[str, tuple[int, int]] = field(default_factory=dict)  # (source, restored)
    evidence: list[dict[str, Any]] = field(default_factory=list)


class BackupUnsupported(Exception):
    """The database kind has no backup procedure here (only SQLite and PostgreSQL do)."""


class BackupToolMissing(RuntimeError):
    """pg_dump/pg_restore are missing or too old for the server."""


def backup_and_restore(url: str, workdir: Path, *, timeout_s: float | None = None) -> BackupReport:
    """Back up `url` into workdir, restore it into a scratch copy, compare row counts."""
    target = prepare_url(url)
    workdir.mkdir(parents=True, exist_ok=True)
    if target.dialect == "sqlite":
        return _sqlite(target, workdir)
    if target.dialect == "postgresql":
        return _postgres(target, workdir, timeout_s)
    raise BackupUnsupported(
        f"no backup procedure for {target.dialect} databases; only SQLite and PostgreSQL"
    )


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def _compare(
    source: dict[str, int], restored: dict[str, int], label: str, evidence: list[dict[str, Any]]
) -> BackupReport:
    """Verdict on the row counts; the report evidence gains one entry per table."""
    tables = {name: (rows, restored.get(name, ABSENT)) for name, rows in sorted(source.items())}
    evidence += [
        {"table": name, "source_rows": a, "restored_rows": b} for name, (a, b) in tables.items()
    ]
    if not tables:
        return BackupReport(
            False,
            f"Backed up and restored {label}, but nothing examined: the database has no tables.",
            tables,
            evidence,
        )
    differ = [
        f"{name} {a} -> {'absent' if b == ABSENT else b}"
        for name, (a, b) in tables.items()
        if a != b
    ]
    if differ:
        return BackupReport(
            False,
            f"The restored copy of {label} differs from the source: {', '.join(differ)}.",
            tables,
            evidence,
        )
    total = sum(a for a, _ in tables.values())
    return BackupReport(
        True,
        f"Backed up and restored {label}: all {len(tables)} tables restored with matching row "
        f"counts ({total} rows).",
        tables,
        evidence,
    )


# --- SQLite -----------------------------------------------------------------------------


def _sqlite(target: Target, workdir: Path) -> BackupReport:
    path = target.sqlite_path
    if path is None:
        raise BackupUnsupported("an in-memory SQLite database cannot be backed up from outside")
    if not path.is_file():
        raise DatabaseUnreachable(target.original, f"no SQLite file at {path}")
    stamp = _stamp()
    backup_file = workdir / f"{path.stem}-backup-{stamp}.sqlite3"
    restored_file = workdir / f"{path.stem}-restored-{stamp}.sqlite3"

    source = _open_readonly(path, target.original)
    try:
        # One read transaction: the counts and the backup see the same snapshot.
        source.execute("BEGIN")
        source_counts = _sqlite_counts(source)
        with sqlite3.connect(backup_file) as dest:
            source.backup(dest)
        dest.close()
        source.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        raise DatabaseUnreachable(target.original, str(exc)) from exc
    finally:
        source.close()

    # Restore the way an operator would: from the backup file, into a fresh database.
    backup = _open_readonly(backup_file, str(backup_file))
    try:
        with sqlite3.connect(restored_file) as restored:
            backup.backup(restored)
            integrity = restored.execute("PRAGMA quick_check").fetchone()[0]
            restored_counts = _sqlite_counts(restored)
        restored.close()
    finally:
        backup.close()
        restored_file.unlink(missing_ok=True)  # a scratch copy of customer data: not kept

    evidence: list[dict[str, Any]] = [
        {
            "dialect": "sqlite",
            "source": str(path),
            "backup_file": str(backup_file),
            "backup_bytes": backup_file.stat().st_size,
            "restored_quick_check": integrity,
        }
    ]
    report = _compare(source_counts, restored_counts, path.name, evidence)
    if integrity != "ok":
        report.ok = False
        report.message = f"The restored copy of {path.name} fails PRAGMA quick_check: {integrity}."
    return report


def _open_readonly(path: Path, shown_as: str) -> sqlite3.Connection:
    try:
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        return sqlite3.connect(uri, uri=True, timeout=CONNECT_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise DatabaseUnreachable(shown_as, str(exc)) from exc


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    quoted = {name: '"' + name.replace('"', '""') + '"' for name in names}
    return {
        name: conn.execute(f"SELECT count(*) FROM {q}").fetchone()[0] for name, q in quoted.items()
    }


# --- PostgreSQL -------------------------------------------------------------------------

_USER_TABLES = sa.text(
    "SELECT schemaname, tablename FROM pg_tables "
    "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') "
    "AND schemaname NOT LIKE 'pg_toast%' ORDER BY 1, 2"
)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupToolMissing(
            f"{name} not found on PATH: install the PostgreSQL client tools, at least the "
            "server's major version (Debian/Ubuntu: apt-get install postgresql-client; "
            "macOS: brew install libpq; or the postgres Docker image)"
        )
    return found


def _postgres(target: Target, workdir: Path, timeout_s: float | None) -> BackupReport:
    tools = _tool("pg_dump"), _tool("pg_restore")
    database = target.url.database or "postgres"
    dump_file = workdir / f"{database}-{_stamp()}.dump"
    scratch = f"golive_restore_{uuid.uuid4().hex[:12]}"
    evidence: dict[str, Any] = {
        "dialect": "postgresql",
        "source": redact_url(target.original),
        "dump_file": str(dump_file),
        "scratch_database": scratch,
    }
    with connect(target.original) as (_, conn):
        source_counts, evidence["pg_dump"] = _dump(conn, target, tools[0], dump_file, timeout_s)
        if evidence["pg_dump"]["returncode"] != 0:
            failure = f"pg_dump of {database} failed: {evidence['pg_dump']['headline']}"
            return BackupReport(False, failure, evidence=[evidence])
        evidence["dump_bytes"] = dump_file.stat().st_size

        # CREATE/DROP DATABASE cannot run inside a transaction.
        conn.execution_options(isolation_level="AUTOCOMMIT")
        _create_scratch(conn, scratch)
        try:
            scratch_url = target.url.set(database=scratch)
            command = [
                tools[1],
                "--no-owner",
                "--no-privileges",
                "--no-password",
                f"--dbname={_conninfo(scratch_url)}",
                str(dump_file),
            ]
            evidence["pg_restore"] = restored_run = _run(command, target, timeout_s)
            with connect(scratch_url.render_as_string(hide_password=False)) as (_, restored):
                restored_counts = _pg_counts(restored)
        finally:
            _drop_scratch(conn, scratch)

    report = _compare(source_counts, restored_counts, database, [evidence])
    if restored_run["returncode"] != 0:
        report.ok = False
        report.message = (
            f"pg_restore of {database} reported errors ({restored_run['headline']}); "
            + report.message
        )
    return report


def _dump(
    conn: Connection, target: Target, pg_dump: str, dump_file: Path, timeout_s: float | None
) -> tuple[dict[str, int], dict[str, Any]]:
    """Row counts and a pg_dump run, both from one read-only snapshot."""
    conn.rollback()  # leave the connect probe's transaction so the isolation level can be set
    conn.execution_options(isolation_level="REPEATABLE READ")
    with conn.begin():
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        # pg_dump joins this snapshot, so its dump holds exactly the rows counted here.
        snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
        counts = _pg_counts(conn)
        command = [
            pg_dump,
            "--format=custom",
            f"--file={dump_file}",
            f"--snapshot={snapshot}",
            "--lock-wait-timeout=30s",
            "--no-password",
            f"--dbname={_conninfo(target.url)}",
        ]
        return counts, _run(command, target, timeout_s)


def _pg_counts(conn: Connection) -> dict[str, int]:
    quote_ident = conn.dialect.identifier_preparer.quote
    counts = {}
    for schema, table in conn.execute(_USER_TABLES):
        name = table if schema == "public" else f"{schema}.{table}"
        sql = f"SELECT count(*) FROM {quote_ident(schema)}.{quote_ident(table)}"
        counts[name] = conn.exec_driver_sql(sql).scalar_one()
    return counts


def _conninfo(url: URL) -> str:
    """libpq connection string without the password (that travels in PGPASSWORD)."""
    params = {k: (v[-1] if isinstance(v, tuple) else v) for k, v in url.query.items()}
    return make_conninfo(
        "",
        host=url.host,
        port=url.port,
        user=url.username,
        dbname=url.database,
        connect_timeout=CONNECT_TIMEOUT_S,
        **params,
    )


def _run(command: list[str], target: Target, timeout_s: float | None) -> dict[str, Any]:
    env = {**os.environ, "PGAPPNAME": "golive-backup-check"}
    if target.url.password:
        env["PGPASSWORD"] = str(target.url.password)
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        return {
            "command": Path(command[0]).name,
            "returncode": None,
            "stderr": "",
            "headline": f"timed out after {timeout_s} s",
        }
    stderr = scrub_text(done.stderr.strip(), target.original)
    if "server version mismatch" in stderr:
        raise BackupToolMissing(
            f"{Path(command[0]).name} is older than the server: {stderr.splitlines()[-1]}; "
            "install the PostgreSQL client tools of the server's major version or newer"
        )
    return {
        "command": Path(command[0]).name,
        "returncode": done.returncode,
        "stderr": stderr[-4000:],
        "headline": _headline(stderr),
    }


def _headline(stderr: str) -> str:
    """The line a person should read first: the first error, else the first line."""
    lines = stderr.splitlines()
    errors = [line for line in lines if "error" in line.lower()]
    return (errors or lines or [""])[0]


def _create_scratch(conn: Connection, name: str) -> None:
    try:
        # template0: what pg_restore expects, free of anything added to template1.
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE template0')
    except sa.exc.DBAPIError as exc:
        raise RuntimeError(
            f"cannot create the scratch database {name} to restore into ({exc.orig}); "
            "the backup check needs a role with CREATEDB on the same server"
        ) from exc


def _drop_scratch(conn: Connection, name: str) -> None:
    force = " WITH (FORCE)" if (conn.dialect.server_version_info or (0,)) >= (13,) else ""
    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"{force}')
