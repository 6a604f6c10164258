"""`golive reconcile` as a user runs it: a profile naming a running sandbox and the app's
database; the reports it writes and its exit codes (0 clean, 1 findings, 2 bad input,
3 harness failure)."""

from __future__ import annotations

import csv
import json
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import stripe
import yaml

from golive.backends import SANDBOX_KEY, Backend
from golive.client import stripe_api
from golive.reconcile.report import FILES
from golive.sandbox import Sandbox
from tests.gatekit import golive
from tests.jsonhandler import JsonHandler, serving

QUERY = (
    "SELECT id AS order_id, pi AS payment_intent, total AS amount, currency, status, "
    "created_at FROM orders WHERE created_at >= :since AND created_at < :until"
)
FMT = "%Y-%m-%d %H:%M:%S.%f"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    # One per test: each window holds only its own test's payments.
    with Sandbox() as started:
        yield started


def pay(client: stripe.StripeClient, amount: int) -> str:
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "confirm": True,
            "payment_method": "pm_card_visa",
            "payment_method_types": ["card"],
        }
    ).id


def profile(folder: Path, sandbox: Sandbox, rows: list[tuple], **changes: object) -> Path:
    db = folder / "app.db"
    with sqlite3.connect(db) as con:
        con.execute(
            "CREATE TABLE orders (id TEXT, pi TEXT, total INTEGER, currency TEXT, status TEXT, "
            "created_at TEXT)"
        )
        now = datetime.now(UTC).strftime(FMT)
        con.executemany("INSERT INTO orders VALUES (?,?,?,?,?,?)", [(*r, now) for r in rows])
    # A canary secret: it must appear in no report.
    (folder / "app.env").write_text(
        f"STRIPE_SECRET_KEY={SANDBOX_KEY}\nAPP_SECRET_TOKEN=canary-s3cr3t-value\n"
    )
    data = {
        "name": "cli",
        "mode": "test",
        "env": {"file": "app.env"},
        "database": {"url": "sqlite:///app.db"},
        "stripe": {"backend": "sandbox", "api_base": sandbox.url},
        "reconcile": {
            "sql": {"query": QUERY},
            "status": {"paid": ["paid"], "pending": ["pending"]},
            "grace": "1s",
        },
        **changes,
    }
    path = folder / "target.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def window_args(start: datetime) -> list[str]:
    end = datetime.now(UTC) + timedelta(minutes=1)
    return ["--from", start.isoformat(), "--to", end.isoformat()]


def test_findings_are_reported_in_every_format_with_exit_code_1(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    start = datetime.now(UTC) - timedelta(seconds=2)
    client = stripe_api.client(Backend("sandbox", sandbox.url, SANDBOX_KEY))
    good, stuck, off = pay(client, 1000), pay(client, 1100), pay(client, 1200)
    target = profile(
        tmp_path, sandbox, [("o1", good, 1000, "usd", "paid"), ("o3", off, 1250, "usd", "paid")]
    )
    out = tmp_path / "report"
    done = golive("reconcile", "--target", str(target), *window_args(start), "--out", str(out))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "3 payments (3 succeeded) · 2 orders · 2 matched · findings" in done.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    rows = list(csv.DictReader((out / "findings.csv").open()))
    assert {(r["kind"], r["payment_intent"], r["order_id"]) for r in rows} == {
        ("stuck-order", stuck, "-"),
        ("amount-mismatch", off, "o3"),
    }
    results = json.loads((out / "results.json").read_text())
    assert results["summary"]["status"] == "findings"
    assert results["summary"]["by_kind"] == {"amount-mismatch": 1, "stuck-order": 1}
    assert len(results["findings"]) == 2
    junit = ET.parse(out / "junit.xml").getroot()
    failed = {c.get("name") for c in junit.iter("testcase") if c.find("failure") is not None}
    assert failed == {"stuck-order", "amount-mismatch"}
    assert stuck in (out / "summary.md").read_text()
    assert stuck in (out / "report.html").read_text()
    for path in out.iterdir():
        assert "canary-s3cr3t-value" not in path.read_text(), path.name


def test_a_clean_window_exits_0(sandbox: Sandbox, tmp_path: Path) -> None:
    start = datetime.now(UTC) - timedelta(seconds=2)
    client = stripe_api.client(Backend("sandbox", sandbox.url, SANDBOX_KEY))
    pi = pay(client, 2000)
    target = profile(tmp_path, sandbox, [("c1", pi, 2000, "usd", "paid")])
    done = golive(
        "reconcile", "--target", str(target), *window_args(start), "--out", str(tmp_path / "r")
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "clean" in done.stdout
    assert json.loads((tmp_path / "r" / "results.json").read_text())["findings"] == []


def test_bad_input_exits_2_naming_the_field(sandbox: Sandbox, tmp_path: Path) -> None:
    target = profile(tmp_path, sandbox, [], reconcile={"status": {"paid": ["paid"]}})
    done = golive("reconcile", "--target", str(target), "--out", str(tmp_path / "r"))
    assert done.returncode == 2
    assert "reconcile" in done.stderr and "exactly one of sql, mongo and http" in done.stderr
    (tmp_path / "x").mkdir()
    target = profile(tmp_path / "x", sandbox, [])
    done = golive("reconcile", "--target", str(target), "--since", "1d", "--from", "2026-12-01")
    assert done.returncode == 2 and "--since or --from" in done.stderr
    done = golive("reconcile", "--target", str(target), "--since", "soon")
    assert done.returncode == 2 and "not a duration" in done.stderr


def test_no_reconcile_block_exits_2(sandbox: Sandbox, tmp_path: Path) -> None:
    target = profile(tmp_path, sandbox, [], reconcile=None)
    data = yaml.safe_load(target.read_text())
    del data["reconcile"]
    target.write_text(yaml.safe_dump(data))
    done = golive("reconcile", "--target", str(target), "--out", str(tmp_path / "r"))
    assert done.returncode == 2 and "no `reconcile` block" in done.stderr


def test_an_unreadable_side_or_an_empty_window_exits_3(sandbox: Sandbox, tmp_path: Path) -> None:
    bad = {
        "sql": {"query": "SELECT * FROM nowhere WHERE t >= :since AND t < :until"},
        "status": {"paid": ["paid"]},
    }
    target = profile(tmp_path, sandbox, [], reconcile=bad)
    done = golive("reconcile", "--target", str(target), "--out", str(tmp_path / "r"))
    assert done.returncode == 3
    assert "reconcile.sql.query failed" in done.stderr and "nowhere" in done.stderr
    (tmp_path / "e").mkdir()
    target = profile(tmp_path / "e", sandbox, [])
    long_ago = ["--from", "2026-01-01T00:00:00Z", "--to", "2026-01-02T00:00:00Z"]
    done = golive(
        "reconcile", "--target", str(target), *long_ago, "--out", str(tmp_path / "e" / "r")
    )
    assert done.returncode == 3
    assert "nothing was examined" in done.stderr


class _OrdersApi(JsonHandler):
    """A deployed app's internal orders endpoint, for its ops user only."""

    orders: list[dict] = []

    def do_GET(self) -> None:  # noqa: N802 - the handler's API
        if self.headers.get("Authorization") != "Bearer tok_ops_1234567":
            self._answer(401, {"error": "unauthorized"})
            return
        self._answer(200, {"data": self.orders, "next": None})


def test_orders_read_from_a_deployed_app_as_its_user(sandbox: Sandbox, tmp_path: Path) -> None:
    start = datetime.now(UTC) - timedelta(seconds=2)
    client = stripe_api.client(Backend("sandbox", sandbox.url, SANDBOX_KEY))
    pi = pay(client, 3100)
    _OrdersApi.orders = [
        {
            "order_id": "D-1",
            "payment_intent": pi,
            "amount": 3100,
            "currency": "usd",
            "status": "paid",
            "created_at": datetime.now(UTC).isoformat(),
        }
    ]
    with serving(_OrdersApi) as base:
        target = profile(
            tmp_path,
            sandbox,
            [],
            app={"base_url": base},
            users={"ops": {"token": "tok_ops_1234567"}},
            auth={"header": {"name": "Authorization", "scheme": "Bearer", "value": "{user.token}"}},
            reconcile={
                "http": {"path": "/internal/orders?since={since}", "user": "ops"},
                "status": {"paid": ["paid"]},
                "grace": "1s",
            },
        )
        done = golive(
            "reconcile", "--target", str(target), *window_args(start), "--out", str(tmp_path / "r")
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 payments (1 succeeded) · 1 orders · 1 matched · clean" in done.stdout
    assert (
        "reconcile.http (GET /internal/orders?since={since})"
        in (tmp_path / "r" / "summary.md").read_text()
    )
