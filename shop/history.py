"""Past orders in bulk, in the shop's own schema: the app side of a history made in the
sandbox (`POST /_golive/history`), for benchmarks of what looks back over time.

    python -m shop.history DATABASE_URL PAYMENTS.jsonl

Each line of PAYMENTS.jsonl is one payment as the sandbox made it: {"payment_intent",
"amount", "currency", "created", "status", "refunded", "subtotal", "platform_fee"}
(created in Unix seconds; status the order's: paid, refunded, disputed, pending). One order (and, once paid, one
payment row) per line, for customer 1, inserted in batches in one transaction each; the
database is created and seeded as the shop would at start.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import sqlalchemy as sa

from shop import db
from shop.seed import seed_if_empty

BATCH = 5000


def _batches(rows: Iterable[dict], size: int = BATCH) -> Iterator[list[dict]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def write_orders(url: str, payments: Iterable[dict]) -> int:
    """Insert one order per payment (and its payment row when paid); the count written."""
    engine = db.make_engine(url)
    tables = db.build_tables()
    db.create_schema(engine, tables)
    seed_if_empty(engine, tables)
    written = 0
    try:
        for batch in _batches(payments):
            with db.write(engine) as conn:
                first_id = conn.execute(
                    sa.select(sa.func.coalesce(sa.func.max(tables.orders.c.id), 0))
                ).scalar_one()
                orders, rows = [], []
                for n, payment in enumerate(batch, start=first_id + 1):
                    at = datetime.fromtimestamp(payment["created"], UTC)
                    total = int(payment["amount"])
                    fee = int(payment.get("platform_fee", 0))
                    subtotal = int(payment.get("subtotal", total - fee))  # no tax here
                    status = payment.get("status", "paid")
                    orders.append(
                        {
                            "id": n,
                            "user_id": 1,
                            "stripe_payment_intent_id": payment["payment_intent"],
                            "payment_status": status,
                            "currency": payment.get("currency", "usd"),
                            "subtotal": subtotal,
                            "platform_fee": fee,
                            "tax": 0,
                            "tax_rate_bps": 0,
                            "tax_state": "CA",
                            "total": total,
                            "created_at": at,
                            "updated_at": at,
                            "paid_at": at if status != "pending" else None,
                        }
                    )
                    if status != "pending":
                        rows.append(
                            {
                                "order_id": n,
                                "stripe_payment_intent_id": payment["payment_intent"],
                                "amount": total,
                                "amount_refunded": int(payment.get("refunded", 0)),
                                "currency": payment.get("currency", "usd"),
                                "vendor_amount": subtotal,
                                "status": status,
                                "created_at": at,
                            }
                        )
                conn.execute(sa.insert(tables.orders), orders)
                if rows:
                    conn.execute(sa.insert(tables.payments), rows)
                written += len(orders)
    finally:
        engine.dispose()
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with Path(argv[1]).open(encoding="utf-8") as lines:
        count = write_orders(argv[0], (json.loads(line) for line in lines if line.strip()))
    print(f"{count} orders written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
