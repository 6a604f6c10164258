"""The reconciliation engine over a real sandbox and an app database of golive's tests'
own making (not the shop's schema): every kind of finding, each naming both records; a
clean window; the SQL, MongoDB (mongomock) and HTTP sources; a source that fails."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import dbservers
import httpx
import mongomock
import pytest
import sqlalchemy as sa
import stripe

from golive.backends import SANDBOX_KEY, Backend
from golive.client import stripe_api
from golive.reconcile.engine import ListSink, Result, reconcile
from golive.reconcile.match import Finding
from golive.reconcile.orders_side import Orders, SourceError
from golive.reconcile.profile import ReconcileModel
from golive.reconcile.stripe_side import StripeSideError
from golive.sandbox import Sandbox
from tests.jsonhandler import JsonHandler, serving

# An app of another shape: its own table and column names, statuses of its own.
SCHEMA = """CREATE TABLE purchases (
  ref TEXT PRIMARY KEY, pi_ref TEXT, cents INTEGER, cur TEXT, state TEXT,
  made TEXT, settled TEXT, refunded INTEGER, fee INTEGER, net INTEGER)"""
QUERY = (
    "SELECT ref AS order_id, pi_ref AS payment_intent, cents AS amount, cur AS currency, "
    "state AS status, made AS created_at, settled AS paid_at, refunded AS refunded_amount, "
    "fee AS platform_fee, net AS subtotal FROM purchases "
    "WHERE made >= :since AND made < :until"
)
STATUS = {
    "paid": ["COMPLETE"],
    "pending": ["AWAITING"],
    "failed": ["DECLINED"],
    "refunded": ["RETURNED"],
    "disputed": ["CHARGEBACK"],
}
FMT = "%Y-%m-%d %H:%M:%S.%f"
any_db_url, pg_url, mariadb_url, sqlite_url = (
    dbservers.any_db_url,
    dbservers.pg_url,
    dbservers.mariadb_url,
    dbservers.sqlite_url,
)


def model(**changes: Any) -> ReconcileModel:
    block = {"sql": {"query": QUERY}, "status": STATUS, "grace": "1s", **changes}
    return ReconcileModel.model_validate(block)


@dataclass
class World:
    sandbox: Sandbox
    client: stripe.StripeClient
    db: Path
    started: datetime

    @property
    def url(self) -> str:
        return f"sqlite:///{self.db}"

    def pay(
        self, amount: int, currency: str = "usd", card: str = "pm_card_visa", **extra: Any
    ) -> Any:
        return self.client.v1.payment_intents.create(
            params={
                "amount": amount,
                "currency": currency,
                "confirm": True,
                "payment_method": card,
                "payment_method_types": ["card"],
                **extra,
            }
        )

    def unpaid(self, amount: int) -> Any:
        return self.client.v1.payment_intents.create(
            params={"amount": amount, "currency": "usd", "payment_method_types": ["card"]}
        )

    def order(
        self,
        ref: str,
        pi: str | None,
        cents: int,
        state: str = "COMPLETE",
        *,
        cur: str = "usd",
        made: datetime | None = None,
        refunded: int | None = None,
        fee: int | None = None,
        net: int | None = None,
    ) -> None:
        made = made or datetime.now(UTC)
        with sqlite3.connect(self.db) as con:
            con.execute(
                "INSERT INTO purchases VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    ref,
                    pi,
                    cents,
                    cur,
                    state,
                    made.strftime(FMT),
                    made.strftime(FMT),
                    refunded,
                    fee,
                    net,
                ),
            )

    def run(
        self, the_model: ReconcileModel | None = None, **kwargs: Any
    ) -> tuple[Result, list[Finding]]:
        the_model = the_model or model()
        sink = ListSink()
        orders = kwargs.pop("orders", None) or Orders(the_model, database_url=self.url)
        result = reconcile(
            the_model,
            self.client,
            orders,
            self.started - timedelta(minutes=1),
            datetime.now(UTC) + timedelta(minutes=1),
            sink,
            **kwargs,
        )
        return result, sink.findings


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with Sandbox() as sandbox:
        db = tmp_path / "app.db"
        with sqlite3.connect(db) as con:
            con.execute(SCHEMA)
        client = stripe_api.client(Backend("sandbox", sandbox.url, SANDBOX_KEY))
        yield World(sandbox, client, db, datetime.now(UTC))


def kinds(findings: list[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for finding in findings:
        out.setdefault(finding.kind, []).append(finding)
    return out


def test_a_clean_window_has_no_findings_and_counts_what_it_examined(world: World) -> None:
    for n in range(3):
        pi = world.pay(1000 + n)
        world.order(f"A-{n}", pi.id, 1000 + n, fee=100, net=1000)
    disputed = world.pay(3000, card="pm_card_createDispute")
    world.order("A-D", disputed.id, 3000, "CHARGEBACK")
    refunded = world.pay(2500)
    world.client.v1.refunds.create(params={"payment_intent": refunded.id})
    world.order("A-R", refunded.id, 2500, "RETURNED", refunded=2500)
    result, findings = world.run(fee_bps=1000)
    assert findings == []
    assert (result.payments, result.succeeded, result.orders, result.matched) == (5, 5, 5, 5)
    assert result.disputes_listed == 1 and result.notes == []
    assert len(result.latencies_ms) == 5
    assert result.fee_collected == 300 and result.fee_expected == 300
    assert result.refunds_listed == 1
    assert [pi for _, pi in result.earliest][-1] == refunded.id


def test_every_kind_of_finding_names_both_records(world: World) -> None:
    stuck = world.pay(1100)  # no order at all
    pending = world.pay(1200)
    world.order("B-pending", pending.id, 1200, "AWAITING")  # the webhook never marked it
    unpaid = world.unpaid(1300)
    world.order("B-unpaid", unpaid.id, 1300)  # paid in the app, not in Stripe
    world.order("B-ghost", "pi_doesnotexist000000000", 1400)  # no such PaymentIntent
    amount = world.pay(1500)
    world.order("B-amount", amount.id, 1550)
    currency = world.pay(1600, "eur")
    world.order("B-currency", currency.id, 1600)
    dup = world.pay(1700)
    world.order("B-dup-1", dup.id, 1700)
    world.order("B-dup-2", dup.id, 1700)
    refund = world.pay(1800)
    world.client.v1.refunds.create(params={"payment_intent": refund.id, "amount": 800})
    world.order("B-refund", refund.id, 1800, refunded=0)  # still COMPLETE
    no_refund = world.pay(1900)
    world.order("B-no-refund", no_refund.id, 1900, "RETURNED", refunded=1900)
    fee = world.pay(2000, application_fee_amount=150)
    world.order("B-fee", fee.id, 2000, fee=200, net=1800)  # 10% of 1800 is 180, not 200
    old = world.unpaid(2100)
    world.order("B-old", old.id, 2100, "AWAITING", made=world.started - timedelta(seconds=30))
    world.order("B-odd", world.pay(2200).id, 2200, "ON_HOLD")
    disputed = world.pay(2300, card="pm_card_createDispute")  # Stripe opens a dispute
    world.order("B-disputed", disputed.id, 2300)  # the app never heard of it
    world.order("B-chargeback", world.pay(2400).id, 2400, "CHARGEBACK")  # no dispute in Stripe

    result, findings = world.run(model(pending_max="10s"), fee_bps=1000)
    found = kinds(findings)

    def one(kind: str) -> Finding:
        assert len(found.get(kind, [])) == 1, (kind, found.get(kind))
        return found[kind][0]

    # A payment without any order, and one whose order the webhook never marked paid.
    assert {(f.payment_intent, f.order_id, f.order) for f in found["stuck-order"]} == {
        (stuck.id, "-", "no order"),
        (pending.id, "B-pending", "order B-pending AWAITING 1200 usd"),
    }
    paid_without = {(f.payment_intent, f.order_id) for f in found["paid-without-payment"]}
    assert paid_without == {(unpaid.id, "B-unpaid"), ("pi_doesnotexist000000000", "B-ghost")}
    assert (one("amount-mismatch").payment_intent, one("amount-mismatch").order_id) == (
        amount.id,
        "B-amount",
    )
    assert "Stripe received 1500, the order says 1550" in one("amount-mismatch").detail
    assert one("currency-mismatch").order_id == "B-currency"
    assert one("duplicate-orders").order_id == "B-dup-1,B-dup-2"
    assert one("refund-not-reflected").order_id == "B-refund"
    assert "Stripe refunded 800" in one("refund-not-reflected").detail
    assert one("refund-not-in-stripe").order_id == "B-no-refund"
    assert one("fee-mismatch").payment_intent == fee.id
    assert "150" in one("fee-mismatch").detail and "200" in one("fee-mismatch").detail
    assert "pricing.rules give 180" in one("fee-rule-mismatch").detail
    assert one("pending-too-long").order_id == "B-old"
    assert one("status-unmapped").order_id == "B-odd"
    assert (one("dispute-not-reflected").payment_intent, one("dispute-not-reflected").order_id) == (
        disputed.id,
        "B-disputed",
    )
    assert one("dispute-not-reflected").stripe.startswith("dispute du_")
    assert one("dispute-not-in-stripe").order_id == "B-chargeback"
    assert result.disputes_listed == 1
    assert result.lookups == 1  # B-ghost's PaymentIntent, looked up by id


def test_a_young_payment_is_in_flight_not_stuck(world: World) -> None:
    world.pay(1000)
    _, findings = world.run(model(grace="1h"))
    assert findings == []
    _, findings = world.run(model(grace="1s"))
    assert [f.kind for f in findings] == ["stuck-order"]


def test_orders_from_mongodb(world: World) -> None:
    pi = world.pay(1234)
    other = world.pay(999)
    db = mongomock.MongoClient().shop
    now = datetime.now(UTC)
    db.orders.insert_many(
        [
            {
                "_id": "m1",
                "pi": pi.id,
                "total": {"cents": 1234},
                "currency": "USD",
                "state": "COMPLETE",
                "at": now,
            },
            {
                "_id": "m2",
                "pi": other.id,
                "total": {"cents": 999},
                "currency": "usd",
                "state": "AWAITING",
                "at": now,
            },
        ]
    )
    the_model = ReconcileModel.model_validate(
        {
            "mongo": {
                "collection": "orders",
                "filter": {"at": {"$gte": "{since}", "$lt": "{until}"}},
                "fields": {
                    "order_id": "_id",
                    "payment_intent": "pi",
                    "amount": "total.cents",
                    "status": "state",
                    "created_at": "at",
                },
            },
            "status": STATUS,
            "grace": "1s",
        }
    )
    orders = Orders(the_model, database_url=None, mongo_db=db)
    result, findings = world.run(the_model, orders=orders)
    assert result.orders == 2 and result.matched == 1
    assert [(f.kind, f.payment_intent, f.order_id) for f in findings] == [
        ("stuck-order", other.id, "m2")
    ]


class _Pages(JsonHandler):
    orders: list[dict[str, Any]] = []
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the handler's API
        url = urlsplit(self.path)
        type(self).seen.append(self.path)
        if url.path != "/internal/orders":
            self._answer(404, {"error": "no"})
            return
        page = int(parse_qs(url.query).get("page", ["0"])[0])
        chunk = self.orders[page * 2 : page * 2 + 2]
        more = (page + 1) * 2 < len(self.orders)
        self._answer(
            200,
            {"items": chunk, "next_page": f"/internal/orders?page={page + 1}" if more else None},
        )


def test_orders_from_pages_of_json(world: World) -> None:
    paid = [world.pay(500 + n) for n in range(4)]
    now = datetime.now(UTC).isoformat()
    _Pages.orders = [
        {
            "order_id": n,
            "payment_intent": p.id,
            "amount": p.amount,
            "currency": "usd",
            "status": "COMPLETE",
            "created_at": now,
        }
        for n, p in enumerate(paid)
    ]
    _Pages.orders[3]["amount"] = 1
    _Pages.seen = []
    the_model = ReconcileModel.model_validate(
        {
            "http": {
                "path": "/internal/orders?from={since}",
                "items": "items",
                "next": "next_page",
            },
            "status": STATUS,
            "grace": "1s",
        }
    )
    with serving(_Pages) as base:
        orders = Orders(the_model, database_url=None, app_base_url=base)
        result, findings = world.run(the_model, orders=orders)
        orders.close()
    assert len(_Pages.seen) == 2  # two pages of two
    assert result.orders == 4
    assert [(f.kind, f.payment_intent, f.order_id) for f in findings] == [
        ("amount-mismatch", paid[3].id, "3")
    ]


def test_a_query_that_fails_names_the_source(world: World) -> None:
    bad = model(sql={"query": "SELECT nope FROM purchases WHERE made >= :since AND made < :until"})
    with pytest.raises(SourceError, match="reconcile.sql.query failed"):
        world.run(bad)
    missing = model(sql={"query": "SELECT ref AS order_id FROM purchases WHERE made >= :since"})
    with pytest.raises(SourceError, match="returns no payment_intent, amount"):
        world.run(missing)


def test_a_row_golive_cannot_read_names_the_order_and_column(world: World) -> None:
    world.order("C-1", "pi_x", 100)
    with sqlite3.connect(world.db) as con:
        con.execute("UPDATE purchases SET cents = 'lots'")
    with pytest.raises(SourceError, match="order C-1: amount 'lots'"):
        world.run()


def test_the_block_is_validated() -> None:
    with pytest.raises(ValueError, match="exactly one of sql, mongo and http"):
        ReconcileModel.model_validate({"status": STATUS})
    with pytest.raises(ValueError, match=":since and :until"):
        ReconcileModel.model_validate({"sql": {"query": "SELECT 1"}, "status": STATUS})
    with pytest.raises(ValueError, match="under both paid and pending"):
        ReconcileModel.model_validate(
            {"sql": {"query": QUERY}, "status": {"paid": ["x"], "pending": ["x"]}}
        )
    with pytest.raises(ValueError, match="not a duration"):
        ReconcileModel.model_validate({"sql": {"query": QUERY}, "status": STATUS, "grace": "soon"})


def test_the_window_binds_on_every_sql_server(world: World, any_db_url: str) -> None:
    # Timestamps as each server stores them; the window's :since / :until bound to match.
    engine = sa.create_engine(any_db_url)
    metadata = sa.MetaData()
    sales = sa.Table(
        "sales",
        metadata,
        sa.Column("id", sa.String(20), primary_key=True),
        sa.Column("pi", sa.String(64)),
        sa.Column("cents", sa.Integer),
        sa.Column("cur", sa.String(3)),
        sa.Column("state", sa.String(20)),
        sa.Column("made", sa.DateTime(timezone=True)),
    )
    metadata.create_all(engine)
    paid = world.pay(4200)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(sales),
            [
                {
                    "id": "in",
                    "pi": paid.id,
                    "cents": 4200,
                    "cur": "usd",
                    "state": "COMPLETE",
                    "made": now,
                },
                # Two days old, long pending: outside the window, so judged by none.
                {
                    "id": "old",
                    "pi": None,
                    "cents": 1,
                    "cur": "usd",
                    "state": "AWAITING",
                    "made": now - timedelta(days=2),
                },
            ],
        )
    engine.dispose()
    query = (
        "SELECT id AS order_id, pi AS payment_intent, cents AS amount, cur AS currency, "
        "state AS status, made AS created_at FROM sales WHERE made >= :since AND made < :until"
    )
    the_model = model(sql={"url": any_db_url, "query": query})
    result, findings = world.run(the_model)
    assert findings == []
    assert (result.orders, result.matched, len(result.latencies_ms)) == (1, 1, 1)


def test_a_stripe_backend_that_fails_names_the_list(world: World) -> None:
    world.pay(1000)
    with httpx.Client(base_url=world.sandbox.url, trust_env=False) as admin:
        admin.post(
            "/_golive/faults",
            json={
                "routes": [{"route": "/v1/payment_intents", "methods": ["GET"], "error_rate": 1}]
            },
        ).raise_for_status()
    with pytest.raises(StripeSideError, match=r"listing PaymentIntents .* failed \(HTTP 500\)"):
        world.run()
