"""The schema (SQLAlchemy Core) and the engine, for SQLite and PostgreSQL alike.

Tables follow the checklist's naming: `orders`, `payments`, `webhook_events`, snake_case
columns (Order.stripePaymentIntentId is orders.stripe_payment_intent_id, and so on). The
six required indexes:

    ix_orders_stripe_payment_intent_id     UNIQUE … WHERE stripe_payment_intent_id IS NOT NULL
    ix_orders_idempotency_key              UNIQUE … WHERE idempotency_key IS NOT NULL
    ix_orders_payment_status
    ix_payments_stripe_payment_intent_id   UNIQUE … WHERE stripe_payment_intent_id IS NOT NULL
    ix_webhook_events_event_id             UNIQUE
    ix_webhook_events_processed

`missing-index-…` flaws leave one out; `double-order-on-race` makes the four unique ones
plain. At start the indexes of an existing database are brought in line (created when
missing, dropped when a flaw says so), so one file can be reused; a database that already
holds duplicates cannot get its unique indexes back, so give each flaw set a fresh one.

SQLite runs in WAL mode with a busy timeout, and write transactions start with
`BEGIN IMMEDIATE` so concurrent writers queue instead of failing on a lock upgrade.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

UNIQUE_KEYS = {
    # index name -> (table, column, partial)
    "ix_orders_stripe_payment_intent_id": ("orders", "stripe_payment_intent_id", True),
    "ix_orders_idempotency_key": ("orders", "idempotency_key", True),
    "ix_payments_stripe_payment_intent_id": ("payments", "stripe_payment_intent_id", True),
    "ix_webhook_events_event_id": ("webhook_events", "event_id", False),
}
PLAIN_KEYS = {
    "ix_orders_payment_status": ("orders", "payment_status"),
    "ix_webhook_events_processed": ("webhook_events", "processed"),
}
# missing-index-<suffix> -> the index it leaves out
INDEX_OF_FLAW = {
    "order-payment-intent-id": "ix_orders_stripe_payment_intent_id",
    "order-idempotency-key": "ix_orders_idempotency_key",
    "order-payment-status": "ix_orders_payment_status",
    "payment-payment-intent-id": "ix_payments_stripe_payment_intent_id",
    "webhook-event-id": "ix_webhook_events_event_id",
    "webhook-event-processed": "ix_webhook_events_processed",
}


@dataclass
class Tables:
    metadata: sa.MetaData
    meta: sa.Table
    users: sa.Table
    vendors: sa.Table
    food_items: sa.Table
    cart_items: sa.Table
    orders: sa.Table
    order_items: sa.Table
    payments: sa.Table
    webhook_events: sa.Table
    notifications: sa.Table
    indexes: dict[str, sa.Index]  # the managed indexes this run wants


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def _created() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def build_tables(*, missing: set[str] = frozenset(), unique_keys: bool = True) -> Tables:
    """The schema; `missing` names indexes to leave out, `unique_keys=False` makes the
    four unique keys plain indexes."""
    md = sa.MetaData()
    meta = sa.Table(
        "shop_meta",
        md,
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
    )
    users = sa.Table(
        "users",
        md,
        _id(),
        sa.Column("email", sa.String(255), nullable=False, unique=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("state", sa.String(2), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("cart_version", sa.Integer, nullable=False, server_default="0"),
    )
    vendors = sa.Table(
        "vendors",
        md,
        _id(),
        sa.Column("name", sa.String(255), nullable=False),
    )
    food_items = sa.Table(
        "food_items",
        md,
        _id(),
        sa.Column("vendor_id", sa.Integer, sa.ForeignKey("vendors.id"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("price_cents", sa.Integer, nullable=False),
        sa.Column("available", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    cart_items = sa.Table(
        "cart_items",
        md,
        _id(),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("food_item_id", sa.Integer, sa.ForeignKey("food_items.id"), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.UniqueConstraint("user_id", "food_item_id", name="uq_cart_items_user_item"),
    )
    orders = sa.Table(
        "orders",
        md,
        _id(),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("stripe_payment_intent_id", sa.String(255), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("payment_status", sa.String(32), nullable=False, server_default="pending"),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("subtotal", sa.Integer, nullable=False),
        sa.Column("platform_fee", sa.Integer, nullable=False),
        sa.Column("tax", sa.Integer, nullable=False),
        sa.Column("tax_rate_bps", sa.Integer, nullable=False),
        sa.Column("tax_state", sa.String(2), nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("vendor_amount", sa.Integer, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        _created(),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
    )
    order_items = sa.Table(
        "order_items",
        md,
        _id(),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False, index=True),
        sa.Column("food_item_id", sa.Integer, sa.ForeignKey("food_items.id"), nullable=False),
        sa.Column("vendor_id", sa.Integer, sa.ForeignKey("vendors.id"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("unit_price", sa.Integer, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("line_total", sa.Integer, nullable=False),
    )
    payments = sa.Table(
        "payments",
        md,
        _id(),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False, index=True),
        sa.Column("stripe_payment_intent_id", sa.String(255), nullable=True),
        sa.Column("stripe_charge_id", sa.String(255), nullable=True),
        sa.Column("amount", sa.Integer, nullable=False),
        sa.Column("amount_refunded", sa.Integer, nullable=False, server_default="0"),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("vendor_amount", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        _created(),
    )
    webhook_events = sa.Table(
        "webhook_events",
        md,
        _id(),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("type", sa.String(255), nullable=False),
        sa.Column("processed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
    )
    notifications = sa.Table(
        "notifications",
        md,
        _id(),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        _created(),
    )

    tables = {t.name: t for t in (orders, payments, webhook_events)}
    indexes: dict[str, sa.Index] = {}
    for name, (table_name, column_name, partial) in UNIQUE_KEYS.items():
        if name in missing:
            continue
        column = tables[table_name].c[column_name]
        if not unique_keys:
            indexes[name] = sa.Index(name, column)
            continue
        where = column.isnot(None) if partial else None
        indexes[name] = sa.Index(
            name, column, unique=True, sqlite_where=where, postgresql_where=where
        )
    for name, (table_name, column_name) in PLAIN_KEYS.items():
        if name not in missing:
            indexes[name] = sa.Index(name, tables[table_name].c[column_name])
    return Tables(
        md,
        meta,
        users,
        vendors,
        food_items,
        cart_items,
        orders,
        order_items,
        payments,
        webhook_events,
        notifications,
        indexes,
    )


# --- engine ---------------------------------------------------------------------------------


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=10,
            max_overflow=30,
        )

        @sa.event.listens_for(engine, "connect")
        def _connect(dbapi_connection, record) -> None:  # noqa: ANN001
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get("write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return sa.create_engine(
        url, pool_size=10, max_overflow=30, pool_pre_ping=True, connect_args={"connect_timeout": 10}
    )


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """One write transaction (BEGIN IMMEDIATE on SQLite): committed, or rolled back on error."""
    with engine.connect() as conn:
        conn = conn.execution_options(write=True)
        with conn.begin():
            yield conn


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn, conn.begin():
        yield conn


def create_schema(engine: Engine, tables: Tables) -> dict[str, list[str]]:
    """Create missing tables, then make the managed indexes match this run's wishes."""
    tables.metadata.create_all(engine)
    created, dropped = [], []
    with engine.begin() as conn:
        inspector = sa.inspect(conn)
        present = {
            ix["name"]
            for table in ("orders", "payments", "webhook_events")
            for ix in inspector.get_indexes(table)
        }
        for name in [*UNIQUE_KEYS, *PLAIN_KEYS]:
            wanted = tables.indexes.get(name)
            if wanted is None and name in present:
                conn.exec_driver_sql(f"DROP INDEX {name}")
                dropped.append(name)
            elif wanted is not None and name not in present:
                wanted.create(conn)
                created.append(name)
    return {"created": created, "dropped": dropped}
