"""Naming and the SQL schema checks, against SQLite files and the real PostgreSQL/MariaDB."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import dbservers
import pytest
from dbservers import SEED_FIELDS, SEED_INDEXES, create_good_schema, drop_index, execute

from golive.db import DatabaseUnreachable, FieldDecl, Finding, IndexDecl, Naming, redact_url
from golive.db.naming import MONGO_NAMING, pluralize, snake_case
from golive.db.sql_schema import check_fields, check_indexes, is_not_null_predicate, prepare_url

# Fixtures from dbservers, bound here so pytest finds them by name.
any_db_url = dbservers.any_db_url
pg_url = dbservers.pg_url
mariadb_url = dbservers.mariadb_url
sqlite_url = dbservers.sqlite_url

NAMING = Naming()


def by_subject(findings: list[Finding]) -> dict[str, Finding]:
    return {f.subject: f for f in findings}


def failing(findings: list[Finding]) -> list[str]:
    return [f.subject for f in findings if not f.ok]


def one_index(url: str, decl: IndexDecl, naming: Naming = NAMING) -> Finding:
    [finding] = check_indexes(url, naming, [decl])
    return finding


# --- naming -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "model", "expected"),
    [
        ("snake_plural", "Order", "orders"),
        ("snake_plural", "WebhookEvent", "webhook_events"),
        ("snake_plural", "Category", "categories"),
        ("snake_plural", "Address", "addresses"),
        ("snake", "WebhookEvent", "webhook_event"),
        ("lower_plural", "WebhookEvent", "webhookevents"),
        ("lower_plural", "Payment", "payments"),
        ("exact", "WebhookEvent", "WebhookEvent"),
    ],
)
def test_table_styles(style: str, model: str, expected: str) -> None:
    assert Naming(table_style=style).table(model) == expected


def test_column_styles_and_overrides() -> None:
    naming = Naming(tables={"Order": "shop_orders"}, columns={"Order.paymentStatus": "status"})
    assert naming.table("Order") == "shop_orders"
    assert naming.table("Payment") == "payments"
    assert naming.column("Order", "stripePaymentIntentId") == "stripe_payment_intent_id"
    assert naming.column("Order", "paymentStatus") == "status"
    assert naming.column("Payment", "paymentStatus") == "payment_status"
    assert Naming(column_style="exact").column("Order", "idempotencyKey") == "idempotencyKey"
    assert MONGO_NAMING.table("WebhookEvent") == "webhookevents"
    assert MONGO_NAMING.column("WebhookEvent", "eventId") == "eventId"


def test_snake_case_acronyms_and_plural_rules() -> None:
    assert snake_case("eventID") == "event_id"
    assert snake_case("HTTPStatus") == "http_status"
    assert snake_case("already_snake") == "already_snake"
    assert pluralize("day") == "days"
    assert pluralize("batch") == "batches"


def test_unknown_naming_style_is_rejected() -> None:
    with pytest.raises(ValueError, match="table_style"):
        Naming(table_style="plural")
    with pytest.raises(ValueError, match="column_style"):
        Naming(column_style="camel")


def test_sparse_requires_unique() -> None:
    with pytest.raises(ValueError, match="sparse"):
        IndexDecl("Order", "paymentStatus", sparse=True)


# --- URLs and reachability --------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u:p@h/db", "postgresql+psycopg"),
        ("postgres://u:p@h/db", "postgresql+psycopg"),
        ("postgresql+asyncpg://u:p@h/db", "postgresql+psycopg"),
        ("mysql://u:p@h/db", "mysql+pymysql"),
        ("mariadb://u:p@h/db", "mariadb+pymysql"),
        ("mysql+pymysql://u:p@h/db", "mysql+pymysql"),
        ("sqlite:///x.db", "sqlite"),
    ],
)
def test_driverless_urls_are_rewritten(url: str, driver: str) -> None:
    assert prepare_url(url).url.drivername == driver


def test_prisma_schema_parameter_selects_the_schema() -> None:
    target = prepare_url("postgresql://u:p@h/db?schema=shop&sslmode=require")
    assert target.schema == "shop"
    assert dict(target.url.query) == {"sslmode": "require"}


def test_redact_url() -> None:
    assert redact_url("postgresql://app:s3cr%40t@db:5432/x") == "postgresql://app:***@db:5432/x"
    assert redact_url("mysql://root@db/x") == "mysql://root@db/x"
    assert "hunter2" not in redact_url("postgresql://db/x?user=a&password=hunter2")


def test_unreachable_server_fails_fast_with_redacted_url() -> None:
    started = time.monotonic()
    with pytest.raises(DatabaseUnreachable) as caught:
        check_fields("postgresql://app:topsecret@127.0.0.1:1/shop", NAMING, SEED_FIELDS)
    assert time.monotonic() - started < 6
    assert caught.value.url == "postgresql://app:***@127.0.0.1:1/shop"
    assert "topsecret" not in str(caught.value)
    assert caught.value.reason


def test_missing_sqlite_file_is_unreachable_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nope.sqlite3"
    with pytest.raises(DatabaseUnreachable, match="no SQLite file"):
        check_fields(f"sqlite:///{path}", NAMING, SEED_FIELDS)
    assert not path.exists()


def test_a_file_that_is_not_sqlite_is_unreachable(tmp_path: Path) -> None:
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatabaseUnreachable, match="not a database"):
        check_indexes(f"sqlite:///{path}", NAMING, SEED_INDEXES)


def test_sqlite_inspection_leaves_the_file_untouched(sqlite_url: str) -> None:
    create_good_schema(sqlite_url)
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    before = path.read_bytes()
    check_fields(sqlite_url, NAMING, SEED_FIELDS)
    check_indexes(sqlite_url, NAMING, SEED_INDEXES)
    assert path.read_bytes() == before


# --- fields -----------------------------------------------------------------------------


def test_good_schema_has_every_field(any_db_url: str) -> None:
    create_good_schema(any_db_url)
    findings = check_fields(any_db_url, NAMING, SEED_FIELDS)
    assert [f.subject for f in findings] == [d.subject for d in SEED_FIELDS]
    assert failing(findings) == []
    first = findings[0]
    assert first.evidence[0]["table"] == "orders"
    assert first.evidence[0]["column"] == "stripe_payment_intent_id"
    assert first.evidence[0]["nullable"] is True
    json.dumps([f.to_dict() for f in findings])


def test_missing_column_fails_and_lists_columns(any_db_url: str) -> None:
    create_good_schema(any_db_url)
    execute(any_db_url, "ALTER TABLE payments DROP COLUMN stripe_charge_id")
    findings = check_fields(any_db_url, NAMING, SEED_FIELDS)
    assert failing(findings) == ["Payment.stripeChargeId"]
    finding = by_subject(findings)["Payment.stripeChargeId"]
    assert "payments.stripe_charge_id" in finding.message
    assert "vendor_amount" in finding.message
    assert finding.evidence[0]["exists"] is False


def test_missing_table_fails_naming_it_and_listing_tables(any_db_url: str) -> None:
    create_good_schema(any_db_url)
    execute(any_db_url, "DROP TABLE payments")
    findings = check_fields(any_db_url, NAMING, SEED_FIELDS)
    assert failing(findings) == [
        "Payment.stripePaymentIntentId",
        "Payment.stripeChargeId",
        "Payment.vendorAmount",
    ]
    message = by_subject(findings)["Payment.vendorAmount"].message
    assert "table payments" in message
    assert "orders, webhook_events" in message


def test_empty_database_reports_no_tables(any_db_url: str) -> None:
    execute(any_db_url, "CREATE TABLE unrelated (id INTEGER PRIMARY KEY)")
    findings = check_fields(any_db_url, NAMING, [FieldDecl("Order", "paymentStatus")])
    assert not findings[0].ok
    assert "tables present: unrelated" in findings[0].message


def test_column_override_and_exact_naming(any_db_url: str) -> None:
    execute(any_db_url, "CREATE TABLE shop_orders (id INTEGER PRIMARY KEY, status INTEGER)")
    naming = Naming(tables={"Order": "shop_orders"}, columns={"Order.paymentStatus": "status"})
    [ok, missing] = check_fields(
        any_db_url, naming, [FieldDecl("Order", "paymentStatus"), FieldDecl("Order", "total")]
    )
    assert ok.ok
    assert not missing.ok


@pytest.mark.postgres
def test_postgres_quoted_camel_case_needs_exact_case(pg_url: str) -> None:
    # Prisma's default: quoted "Order" table with camelCase columns.
    execute(pg_url, 'CREATE TABLE "Order" (id serial PRIMARY KEY, "paymentStatus" text)')
    exact = Naming(table_style="exact", column_style="exact")
    assert check_fields(pg_url, exact, [FieldDecl("Order", "paymentStatus")])[0].ok
    sloppy = Naming(table_style="exact", column_style="exact", columns={"Order.x": "paymentstatus"})
    [finding] = check_fields(pg_url, sloppy, [FieldDecl("Order", "x")])
    assert not finding.ok
    assert "differs only in letter case" in finding.message


@pytest.mark.postgres
def test_plain_postgresql_url_and_prisma_schema(pg_url: str) -> None:
    execute(pg_url, "CREATE SCHEMA shop")
    execute(pg_url, "CREATE TABLE shop.orders (id serial PRIMARY KEY, payment_status text)")
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")
    decl = [FieldDecl("Order", "paymentStatus")]
    assert check_fields(plain + "?schema=shop", NAMING, decl)[0].ok
    assert not check_fields(plain, NAMING, decl)[0].ok  # public has no orders table


@pytest.mark.mariadb
def test_plain_mysql_url(mariadb_url: str) -> None:
    create_good_schema(mariadb_url)
    plain = mariadb_url.replace("mysql+pymysql://", "mysql://")
    assert failing(check_indexes(plain, NAMING, SEED_INDEXES)) == []


# --- indexes: every dialect -------------------------------------------------------------


def test_good_schema_has_every_index(any_db_url: str) -> None:
    create_good_schema(any_db_url)
    findings = check_indexes(any_db_url, NAMING, SEED_INDEXES)
    assert [f.subject for f in findings] == [d.subject for d in SEED_INDEXES]
    assert failing(findings) == [], [f.message for f in findings if not f.ok]
    sparse = by_subject(findings)["Order.stripePaymentIntentId"]
    assert "many rows may lack a value" in sparse.message
    json.dumps([f.to_dict() for f in findings])


def test_evidence_lists_every_index_on_the_table(any_db_url: str) -> None:
    create_good_schema(any_db_url)
    finding = one_index(any_db_url, IndexDecl("Order", "paymentStatus"))
    header, *indexes = finding.evidence
    assert header == {"table": "orders", "column": "payment_status", "column_nullable": False}
    named = {ix["index"] for ix in indexes if ix["origin"] != "primary key"}
    assert named == {
        "orders_stripe_payment_intent_id_key",
        "orders_idempotency_key_key",
        "orders_payment_status_idx",
    }
    assert {ix["origin"] for ix in indexes} == {"index", "primary key"}
    assert all({"columns", "unique", "where", "nulls_not_distinct"} <= ix.keys() for ix in indexes)


def test_missing_index_fails(any_db_url: str) -> None:
    create_good_schema(any_db_url)
    drop_index(any_db_url, "orders", "orders_payment_status_idx")
    findings = check_indexes(any_db_url, NAMING, SEED_INDEXES)
    assert failing(findings) == ["Order.paymentStatus"]
    assert "no index on orders covers it" in by_subject(findings)["Order.paymentStatus"].message


def test_missing_index_table_and_column(any_db_url: str) -> None:
    create_good_schema(any_db_url)
    execute(any_db_url, "DROP TABLE webhook_events")
    findings = check_indexes(any_db_url, NAMING, SEED_INDEXES)
    assert failing(findings) == ["WebhookEvent.eventId", "WebhookEvent.processed"]
    [finding] = check_indexes(any_db_url, NAMING, [IndexDecl("Order", "refundedAt")])
    assert not finding.ok
    assert "orders.refunded_at" in finding.message


def test_non_unique_index_where_unique_expected_fails(any_db_url: str) -> None:
    create_good_schema(any_db_url)
    drop_index(any_db_url, "orders", "orders_idempotency_key_key")
    execute(any_db_url, "CREATE INDEX orders_idem_idx ON orders (idempotency_key)")
    finding = one_index(any_db_url, IndexDecl("Order", "idempotencyKey", unique=True, sparse=True))
    assert not finding.ok
    assert "orders_idem_idx" in finding.message
    assert "not unique" in finding.message


def test_composite_unique_does_not_make_the_column_unique(any_db_url: str) -> None:
    create_good_schema(any_db_url)
    drop_index(any_db_url, "webhook_events", "webhook_events_event_id_key")
    execute(any_db_url, "CREATE UNIQUE INDEX we_event_type ON webhook_events (event_id, type)")
    finding = one_index(any_db_url, IndexDecl("WebhookEvent", "eventId", unique=True))
    assert not finding.ok
    assert "composite" in finding.message
    assert "we_event_type" in finding.message
    # ... though the composite still serves plain lookups by its leading column.
    assert one_index(any_db_url, IndexDecl("WebhookEvent", "eventId")).ok


def test_unique_constraint_satisfies_unique(any_db_url: str) -> None:
    create_good_schema(any_db_url)
    execute(
        any_db_url,
        "CREATE TABLE charges (id INTEGER PRIMARY KEY, charge_id VARCHAR(64) NULL,"
        " CONSTRAINT charges_charge_id_uq UNIQUE (charge_id))",
    )
    finding = one_index(any_db_url, IndexDecl("Charge", "chargeId", unique=True, sparse=True))
    assert finding.ok, finding.message
    assert "unique" in finding.message


def test_unique_index_satisfies_a_plain_declaration(any_db_url: str) -> None:
    create_good_schema(any_db_url)
    assert one_index(any_db_url, IndexDecl("Order", "idempotencyKey")).ok


def test_non_leading_column_does_not_satisfy_plain_index(any_db_url: str) -> None:
    create_good_schema(any_db_url)
    drop_index(any_db_url, "webhook_events", "webhook_events_processed_idx")
    execute(any_db_url, "CREATE INDEX we_type_processed ON webhook_events (type, processed)")
    finding = one_index(any_db_url, IndexDecl("WebhookEvent", "processed"))
    assert not finding.ok
    assert "non-leading" in finding.message
    execute(any_db_url, "CREATE INDEX we_processed_type ON webhook_events (processed, type)")
    assert one_index(any_db_url, IndexDecl("WebhookEvent", "processed")).ok


def test_unique_on_not_null_column_passes_sparse_with_a_note(any_db_url: str) -> None:
    create_good_schema(any_db_url)
    finding = one_index(any_db_url, IndexDecl("WebhookEvent", "eventId", unique=True, sparse=True))
    assert finding.ok
    assert "NOT NULL" in finding.message


def test_primary_key_counts_as_unique(any_db_url: str) -> None:
    execute(any_db_url, "CREATE TABLE webhook_events (event_id VARCHAR(64) PRIMARY KEY)")
    finding = one_index(any_db_url, IndexDecl("WebhookEvent", "eventId", unique=True))
    assert finding.ok
    assert "primary key" in finding.message


# --- indexes: partial and NULLS NOT DISTINCT (PostgreSQL, SQLite) --------------------------

partial_dialects = pytest.mark.parametrize(
    "url_fixture",
    [pytest.param("sqlite_url", id="sqlite"), pytest.param("pg_url", marks=pytest.mark.postgres)],
)


@partial_dialects
@pytest.mark.parametrize(
    "predicate",
    [
        "stripe_payment_intent_id IS NOT NULL",
        '("stripe_payment_intent_id" is not null)',
    ],
)
def test_partial_is_not_null_unique_passes_sparse(
    url_fixture: str, predicate: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(url_fixture)
    create_good_schema(url)
    drop_index(url, "orders", "orders_stripe_payment_intent_id_key")
    execute(
        url,
        f"CREATE UNIQUE INDEX orders_pi_partial ON orders (stripe_payment_intent_id)"
        f" WHERE {predicate}",
    )
    finding = one_index(url, IndexDecl("Order", "stripePaymentIntentId", unique=True, sparse=True))
    assert finding.ok, finding.message
    assert "orders_pi_partial" in finding.message
    [evidence] = [e for e in finding.evidence if e.get("index") == "orders_pi_partial"]
    assert "not null" in evidence["where"].lower()
    assert evidence["definition"].upper().startswith("CREATE UNIQUE INDEX")


@partial_dialects
def test_partial_unique_with_another_predicate_fails(
    url_fixture: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(url_fixture)
    create_good_schema(url)
    drop_index(url, "orders", "orders_stripe_payment_intent_id_key")
    execute(
        url,
        "CREATE UNIQUE INDEX orders_pi_paid ON orders (stripe_payment_intent_id)"
        " WHERE payment_status = 'paid'",
    )
    for sparse in (True, False):
        decl = IndexDecl("Order", "stripePaymentIntentId", unique=True, sparse=sparse)
        finding = one_index(url, decl)
        assert not finding.ok
        assert "partial" in finding.message
        assert "payment_status" in finding.message


@partial_dialects
def test_partial_plain_index_still_serves_lookups(
    url_fixture: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(url_fixture)
    create_good_schema(url)
    drop_index(url, "webhook_events", "webhook_events_processed_idx")
    execute(url, "CREATE INDEX we_unprocessed ON webhook_events (processed) WHERE NOT processed")
    finding = one_index(url, IndexDecl("WebhookEvent", "processed"))
    assert finding.ok
    assert "partial" in finding.message


@partial_dialects
def test_expression_indexes_are_in_the_evidence(
    url_fixture: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(url_fixture)
    create_good_schema(url)
    execute(url, "CREATE UNIQUE INDEX orders_key_lower ON orders (lower(idempotency_key))")
    finding = one_index(url, IndexDecl("Order", "idempotencyKey", unique=True))
    assert finding.ok  # the plain unique index still does it
    [evidence] = [e for e in finding.evidence if e.get("index") == "orders_key_lower"]
    assert evidence["unique"] is True
    assert "lower" in evidence["definition"]


@pytest.mark.postgres
def test_postgres_nulls_not_distinct_fails_sparse(pg_url: str) -> None:
    create_good_schema(pg_url)
    drop_index(pg_url, "orders", "orders_stripe_payment_intent_id_key")
    execute(
        pg_url,
        "CREATE UNIQUE INDEX orders_pi_nnd ON orders (stripe_payment_intent_id) NULLS NOT DISTINCT",
    )
    finding = one_index(
        pg_url, IndexDecl("Order", "stripePaymentIntentId", unique=True, sparse=True)
    )
    assert not finding.ok
    assert "NULLS NOT DISTINCT" in finding.message
    [evidence] = [e for e in finding.evidence if e.get("index") == "orders_pi_nnd"]
    assert evidence["nulls_not_distinct"] is True
    # Unique it still is: a non-sparse declaration passes.
    assert one_index(pg_url, IndexDecl("Order", "stripePaymentIntentId", unique=True)).ok


@pytest.mark.postgres
def test_postgres_nulls_not_distinct_constraint_fails_sparse(pg_url: str) -> None:
    create_good_schema(pg_url)
    drop_index(pg_url, "payments", "payments_stripe_payment_intent_id_key")
    execute(
        pg_url,
        "ALTER TABLE payments ADD CONSTRAINT payments_pi_uq"
        " UNIQUE NULLS NOT DISTINCT (stripe_payment_intent_id)",
    )
    decl = IndexDecl("Payment", "stripePaymentIntentId", unique=True, sparse=True)
    finding = one_index(pg_url, decl)
    assert not finding.ok
    assert "payments_pi_uq" in finding.message
    origins = {e.get("index"): e.get("origin") for e in finding.evidence[1:]}
    assert origins["payments_pi_uq"] == "unique constraint"


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("col IS NOT NULL", True),
        ('("col" IS NOT NULL)', True),
        ("`col` is   not\n null", True),
        ("[col] IS NOT NULL", True),
        ("(col IS NOT NULL) AND (deleted_at IS NULL)", False),
        ("other IS NOT NULL", False),
        ("col IS NULL", False),
        ("col <> ''", False),
    ],
)
def test_is_not_null_predicate(where: str, expected: bool) -> None:
    assert is_not_null_predicate(where, "col") is expected


def test_sqlite_catalog_fallback_when_dialect_gives_no_where(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_good_schema(sqlite_url)
    drop_index(sqlite_url, "orders", "orders_stripe_payment_intent_id_key")
    execute(
        sqlite_url,
        "CREATE UNIQUE INDEX orders_pi_paid ON orders (stripe_payment_intent_id)"
        " WHERE payment_status = 'paid'",
    )
    from sqlalchemy.engine.reflection import Inspector

    original = Inspector.get_indexes

    def without_where(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        found = original(self, *args, **kwargs)
        for ix in found:
            ix.get("dialect_options", {}).pop("sqlite_where", None)
        return found

    monkeypatch.setattr(Inspector, "get_indexes", without_where)
    finding = one_index(
        sqlite_url, IndexDecl("Order", "stripePaymentIntentId", unique=True, sparse=True)
    )
    assert not finding.ok
    assert "payment_status = 'paid'" in finding.message


def test_sqlite_keeps_working_with_sqlite3_module(tmp_path: Path) -> None:
    # A file written by another process (not SQLAlchemy) is inspected the same way.
    path = tmp_path / "raw.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE webhook_events (id INTEGER PRIMARY KEY, event_id TEXT UNIQUE)")
    assert one_index(f"sqlite:///{path}", IndexDecl("WebhookEvent", "eventId", unique=True)).ok
