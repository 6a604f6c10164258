"""The reference shop as a process: its environment contract, start-up errors (exit 2),
clean shutdown, restarts on the same database, the schema judged by golive's own database
checks (SQLite and PostgreSQL), and the flaw catalogue against the registry and checklist.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import yaml

from golive.sandbox import Sandbox
from golive.webhooks.signing import encode_event
from shop.flaws import FLAWS
from tests import dbservers, shopkit
from tests.receivers import Receiver, Reply
from tests.shopkit import ROOT, ShopProcess, judge_schema

sandbox = shopkit.sandbox
shop_factory = shopkit.shop_factory
pg_url = dbservers.pg_url

CATALOGUE = ROOT / "shop" / "catalogue.yaml"
README = ROOT / "shop" / "README.md"


def run_shop(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m shop` that must exit at once (a configuration error)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "SHOP_", "PORT"))}
    base.update(
        {
            "PORT": "1",
            "STRIPE_SECRET_KEY": shopkit.SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": "whsec_x",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}",
            "SHOP_LOG_FILE": str(tmp_path / "never.log"),
            "PYTHONPATH": str(ROOT),
        }
    )
    base.update(env)
    base = {k: v for k, v in base.items() if v is not None and v != "<unset>"}
    return subprocess.run(
        [sys.executable, "-m", "shop"],
        env=base,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )


# --- the environment contract -----------------------------------------------------------------


def test_an_unknown_flaw_exits_2_naming_it_and_the_valid_ones(tmp_path: Path) -> None:
    result = run_shop(tmp_path, SHOP_FLAWS="no-auth, no-such-flaw,idor,typo-flaw")
    assert result.returncode == 2
    assert "no-such-flaw" in result.stderr and "typo-flaw" in result.stderr
    assert "valid flaws:" in result.stderr
    assert all(name in result.stderr for name in FLAWS)
    assert not (tmp_path / "never.db").exists()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "<unset>"}, "PORT is required"),
        ({"PORT": "http"}, "PORT must be a port number"),
        ({"STRIPE_SECRET_KEY": "<unset>"}, "STRIPE_SECRET_KEY is required"),
        ({"STRIPE_WEBHOOK_SECRET": "<unset>"}, "STRIPE_WEBHOOK_SECRET is required"),
        ({"SHOP_RATE_LIMIT": "ten per minute"}, "SHOP_RATE_LIMIT"),
        ({"SHOP_RATE_LIMIT": "0/60"}, "SHOP_RATE_LIMIT"),
        ({"SHOP_CORS_ORIGINS": "*"}, "SHOP_CORS_ORIGINS"),
        ({"DATABASE_URL": "mysql://root@localhost/shop"}, "DATABASE_URL"),
    ],
)
def test_unusable_settings_exit_2_with_the_reason(tmp_path: Path, env: dict, message: str) -> None:
    result = run_shop(tmp_path, **env)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_shop_cleanly(
    shop_factory: Callable[..., ShopProcess], sig: int
) -> None:
    shop = shop_factory()
    assert shop.get("/healthz").status_code == 200
    assert shop.stop(sig) == 0
    assert [r["event"] for r in shop.log_records()][-1] == "stopped"
    assert "Traceback" not in shop.stderr()


def test_the_log_is_json_lines_with_the_configuration(
    shop_factory: Callable[..., ShopProcess],
) -> None:
    shop = shop_factory(env={"SHOP_RATE_LIMIT": "7/30"}, flaws=["test-keys-in-prod"])
    shop.get("/api/v1/menu", "alice")

    def menu_logged() -> bool:
        return any(r.get("path") == "/api/v1/menu" for r in shop.log_records())

    # The request's record is written as the answer goes out: under load it may trail it.
    shopkit.wait_for(menu_logged, "the request to be logged")
    records = shop.log_records()
    assert all({"ts", "level", "event"} <= set(r) for r in records)
    [config] = [r for r in records if r["event"] == "config"]
    assert config["rate_limit"] == "7/30"
    assert config["stripe_api_base"] == shop.sandbox.url
    assert config["stripe_api_version"] == shopkit.API_VERSION
    assert config["flaws"] == ["test-keys-in-prod"]  # a build flaw: accepted, inert here
    [request] = [r for r in records if r["event"] == "http_request" and r["path"] == "/api/v1/menu"]
    assert request["status"] == 200 and request["user_id"] == 1


def test_a_restart_keeps_the_data_and_finishes_accepted_events(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    shop = shopkit.start_shop(sandbox, tmp_path)
    order = shop.pending_order("alice", [(1, 1)])
    assert shop.stop() == 0
    # As if the process died between acknowledging an event and processing it.
    event = shopkit.event_for(sandbox, order["payment_intent_id"])
    with sqlite3.connect(shop.db_path) as conn:
        conn.execute(
            "INSERT INTO webhook_events (event_id, type, processed, payload, received_at) "
            "VALUES (?, ?, 0, ?, '2026-11-26 00:00:00')",
            (event["id"], event["type"], encode_event(event).decode()),
        )
    conn.close()
    shop.start()
    try:
        shop.wait_status(order["order_id"], "paid")
        assert shop.query("SELECT COUNT(*) FROM users") == [(57,)]  # seeded once: 7 + 50 load
        assert shop.query("SELECT COUNT(*) FROM shop_meta") == [(1,)]
        again = shop.checkout("alice", [(1, 1)], key=None).json()  # the shop still works
        assert again["order_id"] != order["order_id"]
    finally:
        shop.stop()


def test_stripe_is_called_at_stripe_api_base_with_the_pinned_version(
    shop_factory: Callable[..., ShopProcess],
) -> None:
    # A recording stand-in for Stripe: first a 500 (the library retries with the same
    # idempotency key), then a PaymentIntent; later a 400 (the order is refused, not a 5xx).
    intent = {
        "id": "pi_recorded",
        "object": "payment_intent",
        "amount": 59,
        "currency": "usd",
        "client_secret": "pi_recorded_secret_x",
        "status": "requires_payment_method",
    }
    error = {"error": {"type": "api_error", "message": "try again"}}
    with Receiver(
        [Reply(500, body=json.dumps(error).encode()), Reply(200, body=json.dumps(intent).encode())]
    ) as stripe_api:
        base = stripe_api.url.removesuffix("/webhooks")
        shop = shop_factory(env={"STRIPE_API_BASE": base})
        body = shop.checkout("alice", [(6, 1)], key="wire-1").json()
        assert (body["payment_intent_id"], body["amount"]) == ("pi_recorded", 59)
        first, retry = stripe_api.wait_for(2)
        for request in (first, retry):
            assert (request.method, request.path) == ("POST", "/v1/payment_intents")
            assert request.header("Stripe-Version") == shopkit.API_VERSION
            assert request.header("Authorization") == f"Bearer {shopkit.SECRET_KEY}"
        assert first.header("Idempotency-Key") == retry.header("Idempotency-Key")
        assert first.header("Idempotency-Key").endswith("u1:h:wire-1")
        form = parse_qs(first.body.decode())
        assert form["amount"] == ["59"] and form["currency"] == ["usd"]
        assert form["payment_method_types[0]"] == ["card"]
        assert form["metadata[total]"] == ["59"] and form["metadata[tax]"] == ["4"]
        refused = {"error": {"type": "invalid_request_error", "message": "no"}}
        stripe_api.set_script([Reply(400, body=json.dumps(refused).encode())])
        response = shop.checkout("alice", [(6, 2)])
        assert response.status_code == 400
        assert response.json()["error"] == "payment_rejected"
        assert shopkit.SECRET_KEY not in response.text


# --- the schema ----------------------------------------------------------------------------------


def test_the_schema_passes_golives_database_checks(
    shop_factory: Callable[..., ShopProcess],
) -> None:
    shop = shop_factory()
    verdicts = judge_schema(f"sqlite:///{shop.db_path}")
    assert len(verdicts) == 13 and all(verdicts.values()), verdicts


def test_a_missing_index_flaw_drops_only_its_index_from_an_existing_database(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    shop = shopkit.start_shop(sandbox, tmp_path)
    shop.stop()
    flawed = ShopProcess(sandbox, tmp_path, flaws=["missing-index-order-payment-status"]).start()
    flawed.stop()
    bad = [k for k, ok in judge_schema(f"sqlite:///{shop.db_path}").items() if not ok]
    assert bad == ["index Order.paymentStatus"]
    healed = ShopProcess(sandbox, tmp_path).start()
    healed.stop()
    assert all(judge_schema(f"sqlite:///{shop.db_path}").values())


@pytest.mark.postgres
def test_the_shop_runs_on_postgresql(
    shop_factory: Callable[..., ShopProcess], sandbox: Sandbox, pg_url: str
) -> None:
    plain = pg_url.replace("postgresql+psycopg://", "postgresql://")  # the shop adds the driver
    shop = shop_factory(database_url=plain)
    verdicts = judge_schema(pg_url)
    assert all(verdicts.values()), verdicts
    order = shop.pending_order("bob", [(1, 2), (2, 1)])
    assert order["amount"] == 3909
    event = shopkit.event_for(sandbox, order["payment_intent_id"])
    deliveries = shop.send("concurrent-duplicates", event, copies=8)
    assert {d.status for d in deliveries} == {200}
    paid = shop.wait_status(order["order_id"], "paid", "bob")
    assert len(paid["payments"]) == 1
    assert len(shop.notifications("bob", order["order_id"])) == 1
    assert shop.checkout("bob", [(3, 1)]).json()["order_id"] > order["order_id"]


@pytest.mark.postgres
def test_a_lost_database_is_a_generic_500_and_an_unhealthy_health_check(
    shop_factory: Callable[..., ShopProcess], pg_url: str
) -> None:
    shop = shop_factory(database_url=pg_url)
    assert shop.get("/api/v1/menu", "alice").status_code == 200
    name = pg_url.rsplit("/", 1)[1]
    dbservers._admin_execute(
        dbservers.PG_ADMIN_URL, f'DROP DATABASE "{name}" WITH (FORCE)', dbservers.PG_RESTART
    )
    response = shop.get("/api/v1/menu", "alice")
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "internal_error" and set(body) == {"error", "message", "reference"}
    assert not re.search(r"Traceback|psycopg|sqlalchemy|File \"", response.text)
    [logged] = [r for r in shop.log_records() if r["event"] == "unhandled_error"]
    assert logged["reference"] == body["reference"]
    assert shop.get("/healthz").status_code == 503


# --- the catalogue ------------------------------------------------------------------------------


def checklist_items() -> dict[str, dict]:
    data = yaml.safe_load((ROOT / "checklist.yaml").read_text())
    return {item["id"]: item for section in data["sections"] for item in section["items"]}


def test_the_catalogue_and_the_registry_list_the_same_flaws() -> None:
    catalogue = yaml.safe_load(CATALOGUE.read_text())["flaws"]
    assert list(catalogue) == list(FLAWS)
    items = checklist_items()
    for name, entry in catalogue.items():
        assert set(entry) - {"gates"} == {"description", "realized_by", "fails"}, name
        # `gates`: the phases a complete matrix runs the flaw in (production traffic's flaws)
        assert set(entry.get("gates", ["post-deploy"])) <= {"pre-deploy", "staging", "post-deploy"}
        assert entry["realized_by"] == FLAWS[name].realized_by, name
        assert entry["description"].strip(), name
        fails = entry["fails"]
        assert fails and len(fails) == len(set(fails)), name
        for item_id in fails:
            assert item_id in items, f"{name}: {item_id} is not a checklist item"
            assert "automated" in items[item_id], f"{name}: {item_id} is attested, no flaw moves it"


def test_each_missing_index_flaw_fails_its_index_and_the_parent() -> None:
    catalogue = yaml.safe_load(CATALOGUE.read_text())["flaws"]
    items = checklist_items()
    for name, entry in catalogue.items():
        if name.startswith("missing-index-"):
            item = "database.index-" + name.removeprefix("missing-index-")
            assert entry["fails"] == ["database.indexes-created", item]
            assert items[item]["parent"] == "database.indexes-created"


def test_the_readme_documents_every_flaw_and_the_test_users() -> None:
    text = README.read_text()
    for name in FLAWS:
        assert f"`{name}`" in text, name
    for token in shopkit.TOKENS.values():
        assert token in text
    assert json.dumps(shopkit.API_VERSION)[1:-1] in text
