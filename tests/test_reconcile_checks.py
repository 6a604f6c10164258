"""The reconciliation checks through `golive gate --phase post-deploy`, against the
reference shop (a real process) paid through a sandbox of its own, which delivers the
webhooks: the correct shop passes every item; each post-deploy flaw fails its items with
evidence naming the PaymentIntent and the order; and the error, nothing-examined and
not-run outcomes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from golive.backends import SANDBOX_KEY, Backend, pay_payment_intent
from golive.sandbox import Sandbox
from tests import shopkit
from tests.gatekit import GateRun, demo_copy, gate
from tests.shopkit import HANDLED_EVENTS, SECRET_KEY, ShopProcess, registered_webhook, wait_for

ROOT = Path(__file__).resolve().parent.parent
DEMO = yaml.safe_load((ROOT / "targets" / "demo" / "target.yaml").read_text())
ITEMS = {
    "daily-operations.stuck-orders": "reconcile.findings",
    "weekly-operations.reconcile-payments": "reconcile.findings",
    "monthly-operations.financial-reconciliation": "reconcile.findings",
    "weekly-operations.platform-fee-collection": "reconcile.platform-fee",
    "post-deployment.orders-created": "reconcile.orders-created",
    "post-deployment.first-ten-payments": "reconcile.first-payments",
    "week-1.order-creation-time": "reconcile.order-creation-time",
}
BASE_ENV = {"SHOP_RATE_LIMIT": "1000/60"}


def write_profile(
    folder: Path,
    database_url: str,
    api_base: str | None,
    go_live: datetime,
    **changes: Any,
) -> Path:
    """A profile of the shop's database and the sandbox, with the demo's reconcile block."""
    (folder / "app.env").write_text(f"STRIPE_SECRET_KEY={SECRET_KEY}\n")
    data: dict[str, Any] = {
        "name": "reconciled",
        "mode": "test",
        "env": {"file": "app.env"},
        "database": {"url": database_url},
        "stripe": {"backend": "sandbox", **({"api_base": api_base} if api_base else {})},
        "users": {
            "alice": {"token": "tok_alice_ca", "state": "CA"},
            "bob": {"token": "tok_bob_ny", "state": "NY"},
        },
        "pricing": {
            "customers": {"in_state": "alice", "out_of_state": "bob"},
            "prices": {"1": 1250, "2": 899},
            "rules": DEMO["pricing"]["rules"],
            "carts": {
                "single": [{"id": 1, "quantity": 1}],
                "multi": [{"id": 1, "quantity": 2}, {"id": 2, "quantity": 1}],
            },
        },
        "post_deploy": {"go_live": go_live.isoformat()},
        "reconcile": {**DEMO["reconcile"], "grace": "1s"},
        **changes,
    }
    path = folder / "target.yaml"
    path.write_text(
        yaml.safe_dump({k: v for k, v in data.items() if v is not None}, sort_keys=False)
    )
    return path


def run_items(profile: Path, out: Path, items: tuple[str, ...] = tuple(ITEMS)) -> GateRun:
    now = (datetime.now(UTC) + timedelta(seconds=5)).isoformat()
    args = ["--phase", "post-deploy"]
    for item in items:
        args += ["--item", item]
    return gate(profile, out, *args, now=now)


# --- the shop, paid through its own sandbox ------------------------------------------------


@pytest.fixture
def own_sandbox() -> Iterator[Sandbox]:
    with Sandbox(retry_schedule_s=[0.2, 0.5]) as sandbox:
        yield sandbox


def start(sandbox: Sandbox, tmp_path: Path, flaws: list[str]) -> ShopProcess:
    return shopkit.start_shop(sandbox, tmp_path / "shop", flaws=flaws, env=BASE_ENV)


def pay_orders(
    shop: ShopProcess, count: int, card: str = "pm_card_visa", *, large: set[int] = frozenset()
) -> list[dict]:
    """`count` orders bought and paid through the sandbox, which delivers the webhooks;
    each waited for until the shop has processed its payment. The orders numbered in
    `large` (from 0) cost $50 or more (four sourdough loaves), the others less."""
    backend = Backend("sandbox", shop.sandbox.url, SANDBOX_KEY)
    paid = []
    for n in range(count):
        order = shop.pending_order("alice", [(9, 4)] if n in large else [(1 + n % 3, 1)])
        pay_payment_intent(backend, order["payment_intent_id"], card)
        wait_for(
            lambda o=order: _processed_for(shop, o["payment_intent_id"]),
            f"the payment of order {order['order_id']} processed",
        )
        paid.append(order)
    return paid


def _processed_for(shop: ShopProcess, intent: str) -> bool:
    rows = shop.query(
        "SELECT count(*) FROM webhook_events WHERE processed = 1 AND type = "
        "'payment_intent.succeeded' AND payload LIKE ?",
        (f"%{intent}%",),
    )
    return rows[0][0] >= 1


def outcomes(run: GateRun) -> dict[str, str]:
    return {i: o for i, o in run.outcomes().items() if i in ITEMS}


def test_the_correct_shop_reconciles_cleanly_including_refunds_and_disputes(
    own_sandbox: Sandbox, tmp_path: Path
) -> None:
    go_live = datetime.now(UTC) - timedelta(minutes=5)
    shop = start(own_sandbox, tmp_path, [])
    try:
        with registered_webhook(own_sandbox, shop, [*HANDLED_EVENTS, "charge.dispute.created"]):
            paid = pay_orders(shop, 6)
            refunded = paid[1]
            assert (
                shop.post(f"/api/v1/orders/{refunded['order_id']}/refund", "alice").status_code
                == 202
            )
            shop.wait_status(refunded["order_id"], "refunded")
            # A dispute, opened by Stripe's dispute test card: the sandbox sends
            # charge.dispute.created and the shop marks the order disputed.
            [disputed] = pay_orders(shop, 1, "pm_card_createDispute")
            shop.wait_status(disputed["order_id"], "disputed")
            run = run_items(
                write_profile(tmp_path, shop.database_url, own_sandbox.url, go_live),
                tmp_path / "out",
            )
    finally:
        shop.stop()
    assert outcomes(run) == dict.fromkeys(ITEMS, "pass"), run.stdout + run.stderr
    [window, *_] = run.evidence("daily-operations.stuck-orders")
    summary = window["reconciliation"]
    assert (summary["payments"], summary["succeeded"], summary["matched"]) == (7, 7, 7)
    assert summary["disputes_listed"] == 1 and summary["refunds_listed"] == 1
    assert summary["platform_fee"]["collected"] == summary["platform_fee"]["expected"] > 0
    first = run.evidence("post-deployment.first-ten-payments")[1]
    assert first["judged"] == 7 and "only 7 succeeded payment(s)" in first["note"]
    latency = run.evidence("week-1.order-creation-time")[1]
    assert latency["samples"] == 7 and latency["threshold"] == "avg<5000"


def _finding_rows(run: GateRun, item: str) -> list[dict]:
    return [row for entry in run.evidence(item) for row in entry.get("findings", [])]


def test_a_shop_that_drops_some_orders_fails_the_stuck_order_items(
    own_sandbox: Sandbox, tmp_path: Path
) -> None:
    go_live = datetime.now(UTC) - timedelta(minutes=5)
    shop = start(own_sandbox, tmp_path, ["drops-some-orders"])
    try:
        with registered_webhook(own_sandbox, shop):
            paid = pay_orders(shop, 5, large={4})
            run = run_items(
                write_profile(tmp_path, shop.database_url, own_sandbox.url, go_live),
                tmp_path / "out",
            )
    finally:
        shop.stop()
    dropped = paid[4]  # the one order of $50 or more, held for review forever
    failing = {
        "daily-operations.stuck-orders",
        "weekly-operations.reconcile-payments",
        "monthly-operations.financial-reconciliation",
        "post-deployment.orders-created",
        "post-deployment.first-ten-payments",
    }
    assert outcomes(run) == {i: "fail" if i in failing else "pass" for i in ITEMS}, run.stdout
    for item in failing:
        rows = _finding_rows(run, item)
        assert [(r["kind"], r["payment_intent"], r["order_id"]) for r in rows] == [
            ("stuck-order", dropped["payment_intent_id"], str(dropped["order_id"]))
        ], item
        assert dropped["payment_intent_id"] in run.item(item)["reason"]


def test_a_shop_that_does_not_reflect_refunds_fails_the_financial_reconciliation(
    own_sandbox: Sandbox, tmp_path: Path
) -> None:
    go_live = datetime.now(UTC) - timedelta(minutes=5)
    shop = start(own_sandbox, tmp_path, ["refund-not-reflected"])
    try:
        with registered_webhook(own_sandbox, shop):
            paid = pay_orders(shop, 3)
            order = paid[0]
            assert (
                shop.post(f"/api/v1/orders/{order['order_id']}/refund", "alice").status_code == 202
            )
            wait_for(
                lambda: (
                    shop.query(
                        "SELECT amount_refunded FROM payments WHERE stripe_payment_intent_id = ?",
                        (order["payment_intent_id"],),
                    )[0][0]
                    > 0
                ),
                "the refund recorded on the payment",
            )
            run = run_items(
                write_profile(tmp_path, shop.database_url, own_sandbox.url, go_live),
                tmp_path / "out",
            )
    finally:
        shop.stop()
    # The refund is one of the first payments: their review fails on it too.
    failing = {
        "monthly-operations.financial-reconciliation",
        "post-deployment.first-ten-payments",
    }
    assert outcomes(run) == {i: "fail" if i in failing else "pass" for i in ITEMS}, run.stdout
    [row] = _finding_rows(run, "monthly-operations.financial-reconciliation")
    assert (row["kind"], row["payment_intent"], row["order_id"]) == (
        "refund-not-reflected",
        order["payment_intent_id"],
        str(order["order_id"]),
    )
    assert f"Stripe refunded {order['amount']}; the order has status 'paid'" in row["detail"]


# --- error, nothing examined, not-run -------------------------------------------------------


def _empty_database(folder: Path) -> str:
    path = folder / "empty.db"
    with sqlite3.connect(path) as con:
        con.execute(
            "CREATE TABLE orders (id INTEGER, stripe_payment_intent_id TEXT, total INTEGER, "
            "currency TEXT, payment_status TEXT, created_at TEXT, paid_at TEXT, "
            "platform_fee INTEGER, subtotal INTEGER)"
        )
        con.execute(
            "CREATE TABLE payments (stripe_payment_intent_id TEXT, amount_refunded INTEGER)"
        )
    return f"sqlite:///{path}"


STUCK = "daily-operations.stuck-orders"


def test_nothing_in_the_window_is_an_error_not_a_pass(tmp_path: Path) -> None:
    profile = write_profile(tmp_path, _empty_database(tmp_path), None, datetime.now(UTC))
    run = run_items(profile, tmp_path / "out", (STUCK,))
    [check] = run.item(STUCK)["checks"]
    assert check["outcome"] == "error", run.stdout + run.stderr
    assert "examined nothing: no payment and no order in the last-24h window" in check["message"]


def test_a_failing_query_is_an_error_naming_the_source(tmp_path: Path) -> None:
    block = {
        **DEMO["reconcile"],
        "sql": {"query": "SELECT * FROM no_such_table WHERE x >= :since AND x < :until"},
    }
    profile = write_profile(
        tmp_path, _empty_database(tmp_path), None, datetime.now(UTC), reconcile=block
    )
    run = run_items(profile, tmp_path / "out", (STUCK,))
    [check] = run.item(STUCK)["checks"]
    assert check["outcome"] == "error", run.stdout + run.stderr
    assert "reconcile.sql.query failed" in check["message"] and "no_such_table" in check["message"]


def test_without_a_reconcile_block_the_checks_do_not_run(tmp_path: Path) -> None:
    profile = write_profile(
        tmp_path, _empty_database(tmp_path), None, datetime.now(UTC), reconcile=None
    )
    run = run_items(profile, tmp_path / "out", (STUCK, "post-deployment.first-ten-payments"))
    for item in (STUCK, "post-deployment.first-ten-payments"):
        [check] = run.item(item)["checks"]
        assert check["outcome"] == "not-run", run.stdout + run.stderr
        assert "no `reconcile` block" in check["message"]


def test_no_succeeded_payment_leaves_the_first_payments_unjudged(tmp_path: Path) -> None:
    url = _empty_database(tmp_path)
    with sqlite3.connect(url.removeprefix("sqlite:///")) as con:  # one unpaid checkout
        con.execute(
            "INSERT INTO orders VALUES (1, NULL, 1000, 'usd', 'pending', ?, NULL, 100, 900)",
            (datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),),
        )
    profile = write_profile(tmp_path, url, None, datetime.now(UTC) - timedelta(hours=1))
    first = "post-deployment.first-ten-payments"
    run = run_items(profile, tmp_path / "out", (first, STUCK))
    [check] = run.item(first)["checks"]
    assert check["outcome"] == "error", run.stdout + run.stderr
    assert "examined nothing: no succeeded payment in the since-go-live window" in check["message"]
    assert run.item(STUCK)["outcome"] == "pass"  # one order examined, none stuck


def test_an_anchored_window_without_go_live_does_not_run(tmp_path: Path) -> None:
    profile = write_profile(
        tmp_path, _empty_database(tmp_path), None, datetime.now(UTC), post_deploy=None
    )
    week = "week-1.order-creation-time"
    run = run_items(profile, tmp_path / "out", (week,))
    [check] = run.item(week)["checks"]
    assert check["outcome"] == "not-run", run.stdout + run.stderr
    assert "needs post_deploy.go_live" in check["message"]


def test_the_demo_reconciles_its_own_traffic_dated_on_the_sandbox_clock(tmp_path: Path) -> None:
    # The demo plays a compressed day of payments (traffic:) dated on the sandbox's clock
    # before the run's time (here a past day): Stripe's times are not the shop's, and the
    # checks compare on Stripe's clock with the ledger's offset.
    profile = demo_copy(tmp_path)
    args = ["--phase", "post-deploy"]
    for item in ITEMS:
        args += ["--item", item]
    run = gate(profile, tmp_path / "out", *args)
    assert outcomes(run) == dict.fromkeys(ITEMS, "pass"), run.stdout + run.stderr
    evidence = run.evidence("week-1.order-creation-time")
    [offset] = [
        e["app_clock_ahead_of_stripe_s"] for e in evidence if "app_clock_ahead_of_stripe_s" in e
    ]
    assert offset > 86400  # the shop's clock is today's, the run's a past day
    [window] = [e for e in evidence if "reconciliation" in e]
    summary = window["reconciliation"]
    assert summary["succeeded"] == summary["matched"] > 90
    assert summary["refunds_listed"] >= 1 and summary["disputes_listed"] >= 1


def test_the_shop_keeps_a_dispute_delivered_before_its_payment(
    own_sandbox: Sandbox, tmp_path: Path
) -> None:
    # Stripe does not promise the order of deliveries; the sandbox sends them concurrently.
    shop = start(own_sandbox, tmp_path, [])
    try:
        order = shop.pending_order("alice", [(5, 1)])
        dispute = shopkit.make_event(
            "charge.dispute.created",
            {"id": "du_early", "object": "dispute", "payment_intent": order["payment_intent_id"]},
        )
        assert shop.send_signed(dispute).status == 200
        shop.wait_status(order["order_id"], "disputed")
        paid = shopkit.event_for(own_sandbox, order["payment_intent_id"])
        assert shop.send_signed(paid).status == 200
        shop.wait_processed(paid["id"])
        seen = shop.order(order["order_id"])
    finally:
        shop.stop()
    assert seen["payment_status"] == "disputed"
    assert len(seen["payments"]) == 1
