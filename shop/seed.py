"""Seed data for an empty database: vendors, a priced menu, three customers with fixed
test tokens (documented in README.md), and this database's instance id.

The instance id namespaces the idempotency keys the shop sends to Stripe, so two shops (or
two fresh databases) behind one Stripe account never replay each other's PaymentIntents.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shop import db

VENDORS = [
    (1, "Taqueria del Sol"),
    (2, "Green Bowl Kitchen"),
    (3, "Night Owl Bakery"),
]
# (id, vendor_id, name, price in cents, available)
FOOD_ITEMS = [
    (1, 1, "Carne Asada Burrito", 1250, True),
    (2, 1, "Chips & Guacamole", 899, True),
    (3, 1, "Horchata", 350, True),
    (4, 2, "Falafel Bowl", 1399, True),
    (5, 2, "Seasonal Salad", 1099, True),
    (6, 2, "Tasting Spoon", 50, True),  # a total under $1: the smoke tests' small amount
    (7, 3, "Croissant", 425, True),
    (8, 3, "Cinnamon Roll", 575, True),
    (9, 3, "Sourdough Loaf", 1200, True),
    (10, 3, "Holiday Pie", 2400, False),  # not available: checkout refuses it
]
# (id, email, name, state, bearer token)
USERS = [
    (1, "alice@example.com", "Alice Example", "CA", "tok_alice_ca"),
    (2, "bob@example.com", "Bob Example", "NY", "tok_bob_ny"),
    (3, "carol@example.com", "Carol Example", "TX", "tok_carol_tx"),
    # dave: the orders golive's side-effect checks pay; erin: the smoke flows' customer.
    (4, "dave@example.com", "Dave Example", "WA", "tok_dave_wa"),
    (5, "erin@example.com", "Erin Example", "CA", "tok_erin_ca"),
    # frank and gina: the price checks' customers, whose tampered orders need their own
    # quota (the API checks buy and fuzz as alice and bob in the same minute).
    (6, "frank@example.com", "Frank Example", "CA", "tok_frank_ca"),
    (7, "gina@example.com", "Gina Example", "NY", "tok_gina_ny"),
]
# Load-test customers: each has its own rate-limit quota, so a storm of checkouts spread
# over them measures the shop, not the limiter. Tokens tok_load_01 … tok_load_50.
LOAD_USERS = [
    (
        100 + n,
        f"load{n:02d}@example.com",
        f"Load {n:02d}",
        "CA" if n % 2 else "NY",
        f"tok_load_{n:02d}",
    )
    for n in range(1, 51)
]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def seed_if_empty(engine: Engine, tables: db.Tables) -> str:
    """Seed an empty database; returns the instance id (new or stored)."""
    with db.write(engine) as conn:
        stored = conn.execute(
            sa.select(tables.meta.c.value).where(tables.meta.c.key == "instance_id")
        ).scalar()
        if stored:
            return stored
        instance = secrets.token_hex(6)
        conn.execute(sa.insert(tables.meta), [{"key": "instance_id", "value": instance}])
        if conn.execute(sa.select(sa.func.count()).select_from(tables.users)).scalar():
            return instance
        conn.execute(sa.insert(tables.vendors), [{"id": i, "name": n} for i, n in VENDORS])
        conn.execute(
            sa.insert(tables.food_items),
            [
                {"id": i, "vendor_id": v, "name": n, "price_cents": p, "available": a}
                for i, v, n, p, a in FOOD_ITEMS
            ],
        )
        conn.execute(
            sa.insert(tables.users),
            [
                {
                    "id": i,
                    "email": e,
                    "name": n,
                    "state": s,
                    "token_hash": token_hash(t),
                    "cart_version": 0,
                }
                for i, e, n, s, t in USERS + LOAD_USERS
            ],
        )
        _fix_sequences(conn)
    return instance


def _fix_sequences(conn: sa.Connection) -> None:
    # Explicit ids leave PostgreSQL's sequences at 1; move them past the seeded rows.
    if conn.dialect.name != "postgresql":
        return
    for table in ("vendors", "food_items", "users"):
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
        )


def now() -> datetime:
    return datetime.now(UTC)
