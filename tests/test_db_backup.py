"""Backup-and-restore proof: SQLite files in tmp_path, and the real PostgreSQL server."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import dbservers
import pytest
import sqlalchemy as sa
from dbservers import PG_ADMIN_URL, create_good_schema, execute, insert_sample_rows

from golive.db import DatabaseUnreachable
from golive.db import backup as backup_module
from golive.db.backup import (
    ABSENT,
    BackupToolMissing,
    BackupUnsupported,
    backup_and_restore,
)

# Fixtures from dbservers, bound here so pytest finds them by name.
pg_url = dbservers.pg_url
sqlite_url = dbservers.sqlite_url


def database_exists(name: str) -> bool:
    engine = sa.create_engine(PG_ADMIN_URL, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        return found.first() is not None


def fake_bin(tmp_path: Path, **scripts: str) -> Path:
    """A PATH directory: the real pg tools, except those given as shell script bodies."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for tool in ("pg_dump", "pg_restore"):
        if tool in scripts:
            (directory / tool).write_text("#!/bin/sh\n" + scripts[tool])
            (directory / tool).chmod(0o755)
        else:
            (directory / tool).symlink_to(shutil.which(tool))
    return directory


# --- verdict on counts ------------------------------------------------------------------


def test_compare_fails_on_differing_or_absent_tables() -> None:
    report = backup_module._compare({"orders": 5, "payments": 2}, {"orders": 4}, "shop", [])
    assert not report.ok
    assert report.tables == {"orders": (5, 4), "payments": (2, ABSENT)}
    assert "orders 5 -> 4" in report.message
    assert "payments 2 -> absent" in report.message


def test_compare_passes_on_matching_counts_and_never_on_nothing() -> None:
    assert backup_module._compare({"orders": 5}, {"orders": 5}, "shop", []).ok
    nothing = backup_module._compare({}, {}, "shop", [])
    assert not nothing.ok
    assert "nothing examined" in nothing.message


def test_other_dialects_are_unsupported(tmp_path: Path) -> None:
    with pytest.raises(BackupUnsupported, match="mysql"):
        backup_and_restore("mysql://root@127.0.0.1/shop", tmp_path)
    with pytest.raises(BackupUnsupported, match="in-memory"):
        backup_and_restore("sqlite://", tmp_path)


# --- SQLite -----------------------------------------------------------------------------


def test_sqlite_backup_restores_every_row(sqlite_url: str, tmp_path: Path) -> None:
    create_good_schema(sqlite_url)
    expected = insert_sample_rows(sqlite_url, orders=7)
    source = Path(sqlite_url.removeprefix("sqlite:///"))
    before = source.read_bytes()

    workdir = tmp_path / "work"
    report = backup_and_restore(sqlite_url, workdir)

    assert report.ok, report.message
    assert report.tables == {name: (rows, rows) for name, rows in expected.items()}
    assert "3 tables" in report.message
    assert source.read_bytes() == before  # the target is never written
    header = report.evidence[0]
    assert Path(header["backup_file"]).is_file()
    assert header["restored_quick_check"] == "ok"
    assert [p.name for p in workdir.iterdir()] == [Path(header["backup_file"]).name]
    json.dumps(report.evidence)


def test_sqlite_with_no_tables_examines_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    execute(f"sqlite:///{path}", "PRAGMA user_version = 1")
    report = backup_and_restore(f"sqlite:///{path}", tmp_path / "work")
    assert not report.ok
    assert "nothing examined" in report.message


def test_sqlite_mismatch_fails(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_good_schema(sqlite_url)
    insert_sample_rows(sqlite_url)
    real = backup_module._sqlite_counts
    calls = []

    def lossy(conn):  # type: ignore[no-untyped-def]
        counts = real(conn)
        calls.append(counts)
        if len(calls) == 2:  # the restored copy "lost" a row
            counts["orders"] -= 1
        return counts

    monkeypatch.setattr(backup_module, "_sqlite_counts", lossy)
    report = backup_and_restore(sqlite_url, tmp_path / "work")
    assert not report.ok
    assert "orders 5 -> 4" in report.message


def test_sqlite_missing_file_is_unreachable(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnreachable):
        backup_and_restore(f"sqlite:///{tmp_path / 'missing.sqlite3'}", tmp_path / "work")
    assert not (tmp_path / "missing.sqlite3").exists()


# --- PostgreSQL -------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_backup_restores_every_row(pg_url: str, tmp_path: Path) -> None:
    create_good_schema(pg_url)
    expected = insert_sample_rows(pg_url, orders=6)
    execute(pg_url, "CREATE SCHEMA audit; CREATE TABLE audit.log (id serial, line text)")
    execute(pg_url, "INSERT INTO audit.log (line) VALUES ('a'), ('b')")
    # trust auth ignores the password; it is here to prove it never reaches the report.
    url = pg_url.replace("postgres@", "postgres:hunter2secret@")

    report = backup_and_restore(url, tmp_path / "work")

    assert report.ok, report.message
    assert report.tables == {
        **{name: (rows, rows) for name, rows in expected.items()},
        "audit.log": (2, 2),
    }
    header = report.evidence[0]
    assert Path(header["dump_file"]).stat().st_size == header["dump_bytes"] > 0
    assert header["pg_restore"]["returncode"] == 0
    assert header["scratch_database"].startswith("golive_restore_")
    assert not database_exists(header["scratch_database"])
    assert "hunter2secret" not in json.dumps(report.evidence) + report.message
    assert ":***@" in header["source"]


@pytest.mark.postgres
def test_postgres_empty_database_examines_nothing(pg_url: str, tmp_path: Path) -> None:
    report = backup_and_restore(pg_url.replace("+psycopg", ""), tmp_path / "work")
    assert not report.ok
    assert "nothing examined" in report.message
    assert not database_exists(report.evidence[0]["scratch_database"])


@pytest.mark.postgres
def test_postgres_failed_restore_fails_and_drops_scratch(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_good_schema(pg_url)
    insert_sample_rows(pg_url)
    path = fake_bin(tmp_path, pg_restore="echo 'pg_restore: error: disk full' >&2; exit 1\n")
    monkeypatch.setenv("PATH", f"{path}{os.pathsep}{os.environ['PATH']}")

    report = backup_and_restore(pg_url, tmp_path / "work")

    assert not report.ok
    assert "disk full" in report.message
    assert report.tables["orders"] == (5, ABSENT)
    assert not database_exists(report.evidence[0]["scratch_database"])


@pytest.mark.postgres
def test_postgres_scratch_is_dropped_even_when_counting_fails(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_good_schema(pg_url)
    created: list[str] = []
    real_create, real_counts = backup_module._create_scratch, backup_module._pg_counts

    def remember(conn, name):  # type: ignore[no-untyped-def]
        created.append(name)
        real_create(conn, name)

    def explode_on_scratch(conn):  # type: ignore[no-untyped-def]
        if created and conn.engine.url.database == created[0]:
            raise RuntimeError("boom")
        return real_counts(conn)

    monkeypatch.setattr(backup_module, "_create_scratch", remember)
    monkeypatch.setattr(backup_module, "_pg_counts", explode_on_scratch)
    with pytest.raises(RuntimeError, match="boom"):
        backup_and_restore(pg_url, tmp_path / "work")
    assert created
    assert not database_exists(created[0])


@pytest.mark.postgres
def test_postgres_without_pg_dump_says_what_to_install(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackupToolMissing, match="pg_dump not found.*postgresql-client"):
        backup_and_restore(pg_url, tmp_path / "work")


@pytest.mark.postgres
def test_postgres_failed_dump_fails(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_good_schema(pg_url)
    path = fake_bin(tmp_path, pg_dump="echo 'pg_dump: error: permission denied' >&2; exit 1\n")
    monkeypatch.setenv("PATH", f"{path}{os.pathsep}{os.environ['PATH']}")
    report = backup_and_restore(pg_url, tmp_path / "work")
    assert not report.ok
    assert "permission denied" in report.message


@pytest.mark.postgres
def test_postgres_tool_timeout_fails(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_good_schema(pg_url)
    path = fake_bin(tmp_path, pg_dump="exec sleep 5\n")
    monkeypatch.setenv("PATH", f"{path}{os.pathsep}{os.environ['PATH']}")
    report = backup_and_restore(pg_url, tmp_path / "work", timeout_s=0.3)
    assert not report.ok
    assert "timed out" in report.message


def test_postgres_unreachable(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnreachable) as caught:
        backup_and_restore("postgresql://app:topsecret@127.0.0.1:1/shop", tmp_path / "work")
    assert "topsecret" not in str(caught.value)
