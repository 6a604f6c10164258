"""Scratch databases on the real servers, and the schemas the checks are proven against.

Bind the fixtures in a test module (`pg_url = dbservers.pg_url`) so pytest finds them.
Each fixture creates a uniquely named database and drops it afterwards, so tests can run
in parallel and leave nothing behind. A server that is down skips the test with the
command that restarts it, so `python3 dev.py test` works on a machine without the servers;
CI sets GOLIVE_REQUIRE_SERVICES=1, where a server that is down fails the test instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from golive.db import FieldDecl, IndexDecl

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432"
MARIADB_ADMIN_URL = "mysql+pymysql://root@127.0.0.1:3306/"
MARIADB_BASE = "mysql+pymysql://root@127.0.0.1:3306"

PG_RESTART = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
MARIADB_RESTART = "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd"

# The production checklist, in the app's own names.
SEED_FIELDS = [
    FieldDecl("Order", "stripePaymentIntentId"),
    FieldDecl("Order", "idempotencyKey"),
    FieldDecl("Order", "paymentStatus"),
    FieldDecl("Order", "vendorAmount"),
    FieldDecl("Payment", "stripePaymentIntentId"),
    FieldDecl("Payment", "stripeChargeId"),
    FieldDecl("Payment", "vendorAmount"),
]
SEED_INDEXES = [
    IndexDecl("Order", "stripePaymentIntentId", unique=True, sparse=True),
    IndexDecl("Order", "idempotencyKey", unique=True, sparse=True),
    IndexDecl("Order", "paymentStatus"),
    IndexDecl("Payment", "stripePaymentIntentId", unique=True, sparse=True),
    IndexDecl("WebhookEvent", "eventId", unique=True),
    IndexDecl("WebhookEvent", "processed"),
]


def scratch_name(prefix: str = "golive_test") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@cache
def _admin(url: str) -> sa.Engine:
    return sa.create_engine(
        url, isolation_level="AUTOCOMMIT", poolclass=NullPool, connect_args={"connect_timeout": 5}
    )


def _admin_execute(url: str, statement: str, restart_hint: str) -> None:
    try:
        with _admin(url).connect() as conn:
            conn.exec_driver_sql(statement)
    except sa.exc.OperationalError as exc:
        if "connect" in str(exc).lower() or "refused" in str(exc).lower():
            message = f"database server is down ({exc.orig}); start it with: {restart_hint}"
            if os.environ.get("GOLIVE_REQUIRE_SERVICES"):
                pytest.fail(message)
            pytest.skip(message)
        raise


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database; yields its postgresql+psycopg:// URL."""
    name = scratch_name()
    _admin_execute(PG_ADMIN_URL, f'CREATE DATABASE "{name}"', PG_RESTART)
    try:
        yield f"{PG_BASE}/{name}"
    finally:
        _admin_execute(PG_ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', PG_RESTART)


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """A fresh, empty MariaDB database; yields its mysql+pymysql:// URL."""
    name = scratch_name()
    _admin_execute(MARIADB_ADMIN_URL, f"CREATE DATABASE `{name}`", MARIADB_RESTART)
    try:
        yield f"{MARIADB_BASE}/{name}"
    finally:
        _admin_execute(MARIADB_ADMIN_URL, f"DROP DATABASE IF EXISTS `{name}`", MARIADB_RESTART)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file URL in tmp_path (the file is created on first write)."""
    return f"sqlite:///{tmp_path / 'app.sqlite3'}"


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", id="mariadb", marks=pytest.mark.mariadb),
    ]
)
def any_db_url(request: pytest.FixtureRequest) -> str:
    """The same test against SQLite, PostgreSQL and MariaDB."""
    fixture = {"sqlite": "sqlite_url", "postgresql": "pg_url", "mariadb": "mariadb_url"}
    return request.getfixturevalue(fixture[request.param])


# --- schemas ----------------------------------------------------------------------------

_TYPES = {
    "sqlite": {"pk": "INTEGER PRIMARY KEY", "text": "TEXT", "money": "INTEGER"},
    "postgresql": {"pk": "BIGSERIAL PRIMARY KEY", "text": "TEXT", "money": "BIGINT"},
    # MySQL cannot index TEXT without a prefix length, so identifiers are VARCHAR there.
    "mysql": {"pk": "BIGINT AUTO_INCREMENT PRIMARY KEY", "text": "VARCHAR(255)", "money": "BIGINT"},
}

_GOOD_SCHEMA = """
CREATE TABLE orders (
    id {pk},
    stripe_payment_intent_id {text} NULL,
    idempotency_key {text} NULL,
    payment_status {text} NOT NULL DEFAULT 'pending',
    amount {money} NOT NULL DEFAULT 0,
    vendor_amount {money} NULL
);
CREATE UNIQUE INDEX orders_stripe_payment_intent_id_key ON orders (stripe_payment_intent_id);
CREATE UNIQUE INDEX orders_idempotency_key_key ON orders (idempotency_key);
CREATE INDEX orders_payment_status_idx ON orders (payment_status);
CREATE TABLE payments (
    id {pk},
    order_id {money} NOT NULL,
    stripe_payment_intent_id {text} NULL,
    stripe_charge_id {text} NULL,
    vendor_amount {money} NULL
);
CREATE UNIQUE INDEX payments_stripe_payment_intent_id_key ON payments (stripe_payment_intent_id);
CREATE TABLE webhook_events (
    id {pk},
    event_id {text} NOT NULL,
    type {text} NOT NULL,
    processed BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX webhook_events_event_id_key ON webhook_events (event_id);
CREATE INDEX webhook_events_processed_idx ON webhook_events (processed);
"""


def engine_for(engine_or_url: sa.Engine | str) -> sa.Engine:
    if isinstance(engine_or_url, sa.Engine):
        return engine_or_url
    return sa.create_engine(engine_or_url, poolclass=NullPool)


def _type_family(engine: sa.Engine) -> str:
    name = engine.dialect.name
    return "mysql" if name in ("mysql", "mariadb") else name


def execute(engine_or_url: sa.Engine | str, *statements: str) -> None:
    """Run DDL/DML statements in one transaction (`;`-separated strings are split)."""
    engine = engine_for(engine_or_url)
    with engine.begin() as conn:
        for chunk in statements:
            for statement in chunk.split(";"):
                if statement.strip():
                    conn.exec_driver_sql(statement)


def create_good_schema(engine_or_url: sa.Engine | str) -> None:
    """orders, payments, webhook_events with every SEED_* field and index, default Naming."""
    engine = engine_for(engine_or_url)
    execute(engine, _GOOD_SCHEMA.format(**_TYPES[_type_family(engine)]))


def drop_index(engine_or_url: sa.Engine | str, table: str, index: str) -> None:
    engine = engine_for(engine_or_url)
    if _type_family(engine) == "mysql":
        execute(engine, f"DROP INDEX {index} ON {table}")
    else:
        execute(engine, f"DROP INDEX {index}")


def insert_sample_rows(engine_or_url: sa.Engine | str, orders: int = 5) -> dict[str, int]:
    """Rows in every table of the good schema, NULLs included; returns the counts."""
    engine = engine_for(engine_or_url)
    with engine.begin() as conn:
        for i in range(orders):
            intent = f"pi_{i:04d}" if i % 2 == 0 else None  # NULLs: sparse indexes must admit them
            conn.execute(
                sa.text(
                    "INSERT INTO orders (stripe_payment_intent_id, idempotency_key, payment_status,"
                    " amount, vendor_amount) VALUES (:pi, :key, :status, :amount, :vendor)"
                ),
                {"pi": intent, "key": None, "status": "paid", "amount": 1000 + i, "vendor": 900},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO payments (order_id, stripe_payment_intent_id, stripe_charge_id,"
                    " vendor_amount) VALUES (:order, :pi, :charge, :vendor)"
                ),
                {"order": i + 1, "pi": intent, "charge": None, "vendor": 900},
            )
        for i in range(orders * 2):
            conn.execute(
                sa.text("INSERT INTO webhook_events (event_id, type) VALUES (:id, :type)"),
                {"id": f"evt_{i:04d}", "type": "payment_intent.succeeded"},
            )
    return {"orders": orders, "payments": orders, "webhook_events": orders * 2}
