"""The database checks through the gate: db.fields, db.indexes and db.backup-restore on
SQLite (the database the demo's shop creates, and a broken one built here), and on the real
PostgreSQL and MariaDB servers (scratch databases from tests/dbservers.py)."""

from __future__ import annotations

import secrets
import sqlite3
from contextlib import closing
from pathlib import Path

import dbservers
import pytest
import yaml
from dbservers import create_good_schema, drop_index, execute, insert_sample_rows
from gatekit import GateRun, checklist_items, demo_copy, gate

pytestmark = pytest.mark.slow

pg_url = dbservers.pg_url
mariadb_url = dbservers.mariadb_url

DATABASE_ITEMS = [i["id"] for i in checklist_items() if i["section"] == "database"]
FIELD_AND_INDEX_ITEMS = [i for i in DATABASE_ITEMS if i != "database.backup-restore-tested"]
# The three breaks every broken schema below carries, and the items that must catch them.
BROKEN_ITEMS = {
    "database.migrations-run",
    "database.field-payment-charge-id",  # payments.stripe_charge_id dropped
    "database.indexes-created",
    "database.index-order-idempotency-key",  # the unique index made non-unique
    "database.index-webhook-event-processed",  # the index dropped
}


def db_profile(tmp_path: Path, url: str, backup_restore: bool = True) -> Path:
    path = tmp_path / "target.yaml"
    database = {"url": url, "backup_restore": backup_restore}
    path.write_text(yaml.safe_dump({"name": "db-target", "mode": "test", "database": database}))
    return path


def check_of(run: GateRun, item_id: str) -> dict:
    [check] = run.item(item_id)["checks"]
    return check


def assert_broken_schema_caught(run: GateRun, plain_index_prefix: str = "") -> None:
    """The three breaks fail the right items with evidence; everything else passes."""
    assert run.returncode == 1, run.stdout + run.stderr
    outcomes = run.outcomes()
    assert {i for i in FIELD_AND_INDEX_ITEMS if outcomes[i] == "fail"} == BROKEN_ITEMS
    assert {outcomes[i] for i in FIELD_AND_INDEX_ITEMS if i not in BROKEN_ITEMS} == {"pass"}
    for item_id in BROKEN_ITEMS:
        assert f"fail {item_id}: " in run.stdout

    column = check_of(run, "database.field-payment-charge-id")
    assert column["message"] == (
        "Expected column payments.stripe_charge_id, but it does not exist; columns present: "
        "id, order_id, stripe_payment_intent_id, vendor_amount."
    )
    [finding] = column["evidence"]
    assert finding["subject"] == "Payment.stripeChargeId" and finding["ok"] is False
    assert finding["details"][0]["columns_present"] == [
        "id",
        "order_id",
        "stripe_payment_intent_id",
        "vendor_amount",
    ]

    missing = check_of(run, "database.index-webhook-event-processed")
    assert missing["message"] == (
        "Expected an index on webhook_events.processed, but no index on webhook_events covers it."
    )
    [finding] = missing["evidence"]
    found = [d for d in finding["details"] if "index" in d]
    # The evidence lists the indexes the table does have.
    assert [d["columns"] for d in found if d["origin"] != "primary key"] == [["event_id"]]
    assert any(d["origin"] == "primary key" for d in found)

    not_unique = check_of(run, "database.index-order-idempotency-key")
    assert "Expected a unique index on orders.idempotency_key" in not_unique["message"]
    assert "which is not unique" in not_unique["message"]
    [finding] = not_unique["evidence"]
    indexes = {d["index"]: d for d in finding["details"] if d.get("index")}
    assert indexes[f"{plain_index_prefix}idempotency_plain"]["unique"] is False
    assert indexes[f"{plain_index_prefix}idempotency_plain"]["columns"] == ["idempotency_key"]

    # The parent items carry every failure of their children.
    parent = check_of(run, "database.indexes-created")
    assert "orders.idempotency_key" in parent["message"]
    assert "webhook_events.processed" in parent["message"]


# --- SQLite: the demo ------------------------------------------------------------------


def test_sqlite_demo_passes_fields_indexes_and_backup(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    run = gate(profile, tmp_path / "out", "--section", "database")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outcomes() == dict.fromkeys(DATABASE_ITEMS, "pass")
    [fields] = check_of(run, "database.migrations-run")["evidence"][:1]
    assert fields["subject"] == "Order.stripePaymentIntentId" and fields["ok"] is True
    assert len(check_of(run, "database.migrations-run")["evidence"]) == 7
    assert len(check_of(run, "database.indexes-created")["evidence"]) == 6
    backup = check_of(run, "database.backup-restore-tested")["evidence"]
    # The database the shop created and seeded when the gate started it (no order yet).
    assert backup[0]["source"] == str(profile.parent.resolve() / ".build" / "shop.db")
    seeded = {"food_items": 10, "shop_meta": 1, "users": 57, "vendors": 3}  # 7 + 50 load
    empty = ["cart_items", "notifications", "order_items", "orders", "payments", "webhook_events"]
    assert backup[-1]["tables"] == {
        name: {"source_rows": rows, "restored_rows": rows}
        for name, rows in {**seeded, **dict.fromkeys(empty, 0)}.items()
    }


# The checklist's schema on SQLite with the three breaks: payments.stripe_charge_id left
# out, orders.idempotency_key indexed but not unique, webhook_events.processed unindexed.
# (The shop has a flaw for a missing index, none for a missing column or a non-unique one.)
BROKEN_SQLITE_SCHEMA = """
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  total_cents INTEGER NOT NULL,
  stripe_payment_intent_id TEXT,
  idempotency_key TEXT,
  payment_status TEXT NOT NULL DEFAULT 'pending',
  vendor_amount INTEGER
);
CREATE TABLE payments (
  id INTEGER PRIMARY KEY,
  order_id INTEGER NOT NULL REFERENCES orders(id),
  stripe_payment_intent_id TEXT,
  vendor_amount INTEGER NOT NULL
);
CREATE TABLE webhook_events (
  id INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL,
  type TEXT NOT NULL,
  processed INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX ix_orders_stripe_payment_intent_id ON orders (stripe_payment_intent_id)
  WHERE stripe_payment_intent_id IS NOT NULL;
CREATE INDEX ix_orders_idempotency_plain ON orders (idempotency_key);
CREATE INDEX ix_orders_payment_status ON orders (payment_status);
CREATE UNIQUE INDEX ix_payments_stripe_payment_intent_id ON payments (stripe_payment_intent_id)
  WHERE stripe_payment_intent_id IS NOT NULL;
CREATE UNIQUE INDEX ix_webhook_events_event_id ON webhook_events (event_id);

INSERT INTO users (id, email, state) VALUES (1, 'ada@example.com', 'CA'), (2, 'bob@example.com', 'NY');
INSERT INTO orders (id, user_id, total_cents, stripe_payment_intent_id, idempotency_key, payment_status, vendor_amount)
  VALUES (1, 1, 2712, 'pi_demo_0001', 'order-1-3f2a', 'paid', 2200),
         (2, 2, 1650, NULL, NULL, 'pending', NULL);
INSERT INTO payments (id, order_id, stripe_payment_intent_id, vendor_amount)
  VALUES (1, 1, 'pi_demo_0001', 2200);
INSERT INTO webhook_events (id, event_id, type, processed)
  VALUES (1, 'evt_demo_0001', 'payment_intent.succeeded', 1);
"""


def test_sqlite_broken_schema_fails_with_evidence(tmp_path: Path) -> None:
    database = tmp_path / "broken.db"
    with closing(sqlite3.connect(database)) as connection:
        connection.executescript(BROKEN_SQLITE_SCHEMA)
        connection.commit()
    profile = db_profile(tmp_path, f"sqlite:///{database}", backup_restore=False)
    run = gate(profile, tmp_path / "out", "--section", "database")
    assert_broken_schema_caught(run, plain_index_prefix="ix_orders_")
    backup = check_of(run, "database.backup-restore-tested")
    assert backup["outcome"] == "not-run"
    assert backup["message"].startswith("opt-in: set database.backup_restore: true")


def test_profile_without_database_is_not_run(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    data = yaml.safe_load(profile.read_text())
    del data["database"]
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    run = gate(
        profile,
        tmp_path / "out",
        "--item",
        "database.migrations-run",
        "--item",
        "database.indexes-created",
        "--item",
        "database.backup-restore-tested",
    )
    assert run.returncode == 1
    for item_id, outcome in run.outcomes().items():
        assert outcome == "not-run", item_id
        assert check_of(run, item_id)["message"].startswith("the target profile names no database")


# --- PostgreSQL and MariaDB ----------------------------------------------------------------


def break_schema(url: str) -> None:
    execute(url, "ALTER TABLE payments DROP COLUMN stripe_charge_id")
    drop_index(url, "webhook_events", "webhook_events_processed_idx")
    drop_index(url, "orders", "orders_idempotency_key_key")
    execute(url, "CREATE INDEX orders_idempotency_plain ON orders (idempotency_key)")


@pytest.mark.postgres
def test_postgresql_good_schema_passes_and_backs_up(tmp_path: Path, pg_url: str) -> None:
    create_good_schema(pg_url)
    counts = insert_sample_rows(pg_url)
    run = gate(db_profile(tmp_path, pg_url), tmp_path / "out", "--section", "database")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outcomes() == dict.fromkeys(DATABASE_ITEMS, "pass")
    backup = check_of(run, "database.backup-restore-tested")["evidence"]
    assert backup[-1]["tables"] == {
        name: {"source_rows": rows, "restored_rows": rows} for name, rows in counts.items()
    }


@pytest.mark.postgres
def test_postgresql_broken_schema_fails_with_evidence(tmp_path: Path, pg_url: str) -> None:
    create_good_schema(pg_url)
    break_schema(pg_url)
    profile = db_profile(tmp_path, pg_url, backup_restore=False)
    run = gate(profile, tmp_path / "out", "--section", "database")
    assert_broken_schema_caught(run, plain_index_prefix="orders_")
    assert check_of(run, "database.backup-restore-tested")["outcome"] == "not-run"


@pytest.mark.mariadb
def test_mariadb_good_schema_passes_backup_unsupported(tmp_path: Path, mariadb_url: str) -> None:
    create_good_schema(mariadb_url)
    insert_sample_rows(mariadb_url)
    run = gate(db_profile(tmp_path, mariadb_url), tmp_path / "out", "--section", "database")
    assert run.returncode == 0, run.stdout + run.stderr  # backup is major, not a blocker
    outcomes = run.outcomes()
    assert {i: outcomes[i] for i in FIELD_AND_INDEX_ITEMS} == dict.fromkeys(
        FIELD_AND_INDEX_ITEMS, "pass"
    )
    backup = check_of(run, "database.backup-restore-tested")
    assert backup["outcome"] == "not-run"
    assert "no backup procedure for mysql databases" in backup["message"]
    assert "attest the backup drill instead" in backup["message"]


@pytest.mark.mariadb
def test_mariadb_broken_schema_fails_with_evidence(tmp_path: Path, mariadb_url: str) -> None:
    create_good_schema(mariadb_url)
    break_schema(mariadb_url)
    run = gate(db_profile(tmp_path, mariadb_url), tmp_path / "out", "--section", "database")
    assert_broken_schema_caught(run, plain_index_prefix="orders_")


@pytest.mark.parametrize(
    "scheme", ["postgresql+psycopg", "mysql+pymysql"], ids=["postgresql", "mariadb"]
)
def test_unreachable_database_is_an_error_with_the_password_redacted(
    tmp_path: Path, scheme: str
) -> None:
    password = "pw" + secrets.token_hex(8)
    url = f"{scheme}://shop:{password}@127.0.0.1:1/shop"  # nothing listens on port 1
    profile = db_profile(tmp_path, url)
    run = gate(
        profile,
        tmp_path / "out",
        "--item",
        "database.migrations-run",
        "--item",
        "database.index-webhook-event-id",
        "--item",
        "database.backup-restore-tested",
    )
    assert run.returncode == 1, run.stdout + run.stderr
    outcomes = run.outcomes()
    assert outcomes["database.migrations-run"] == "error"
    assert outcomes["database.index-webhook-event-id"] == "error"
    for item_id in ("database.migrations-run", "database.index-webhook-event-id"):
        message = check_of(run, item_id)["message"]
        assert f"cannot connect to {scheme}://shop:***@127.0.0.1:1/shop" in message
    if scheme.startswith("postgresql"):
        assert outcomes["database.backup-restore-tested"] == "error"
    else:  # no backup procedure for MariaDB: decided before connecting
        assert outcomes["database.backup-restore-tested"] == "not-run"
    assert "error database.migrations-run: " in run.stdout
    texts = {"stdout": run.stdout, "stderr": run.stderr, **run.report_texts()}
    for name, text in texts.items():
        assert password not in text, name
