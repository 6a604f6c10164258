"""The traffic inside runs: a post-deploy gate on a demo copy plays the profile's
`traffic:` once after the app starts (in-process, so the sandbox's objects and the shop's
database can be read before the run stops them; and as `golive gate` in a process), a run
without post-deploy items plays nothing, and `golive traffic` plays, writes its ledger and
refuses live keys (exit 2)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import timedelta
from pathlib import Path

import stripe

from golive import gate, profile
from golive.profile.postdeploy import PostDeploy, window
from golive.timeutil import parse_utc
from golive.traffic import gate_hook
from tests import gatekit
from tests.gatekit import demo_copy, load_yaml

NOW = parse_utc(gatekit.NOW)  # a fixed run time, days before real time: the clock's case
PAYMENTS = 12


def small_demo(tmp_path: Path, **changes: object) -> Path:
    """A demo copy whose traffic is short (the demo's own plays 40)."""
    path = demo_copy(tmp_path)
    data = load_yaml(path)
    data["traffic"].update({"payments": PAYMENTS, "spread_s": 1, **changes})
    gatekit.edit_yaml(path, traffic=data["traffic"])
    return path


@contextmanager
def booted(request: gate.GateRequest) -> Iterator[gate.Prepared]:
    prepared = gate.prepare(request)
    try:
        gate.boot(prepared)
        yield prepared
    finally:
        gate.discard(prepared)


def sandbox_client(prepared: gate.Prepared) -> stripe.StripeClient:
    backend = prepared.target.stripe
    return stripe.StripeClient(
        backend.secret_key, base_addresses={"api": backend.api_base}, max_network_retries=0
    )


def test_a_post_deploy_run_plays_the_traffic_once_before_the_checks(tmp_path: Path) -> None:
    path = small_demo(tmp_path)
    request = gate.GateRequest(path, phases=["post-deploy"], now=NOW)
    with booted(request) as prepared:
        ledger = prepared.target.cache[gate_hook.LEDGER_KEY]
        written = json.loads((path.parent / ".build" / "traffic.json").read_text())
        assert written == ledger
        assert len(ledger["played"]) == PAYMENTS and not ledger["errors"]
        assert not any(p["error"] for p in ledger["played"]), ledger["played"]
        played = ledger["payment_intents"]["succeeded"] + ledger["payment_intents"]["failed"]
        client = sandbox_client(prepared)
        intents = client.v1.payment_intents.list(params={"limit": 100}).data
        # Every PaymentIntent is the traffic's: no check has run yet.
        assert sorted(i.id for i in intents) == sorted(played)
        # The demo went live 15 minutes before the run; what was played is in its windows.
        env = prepared.profile.env
        go_live = PostDeploy(go_live_env="GOLIVE_DEMO_GO_LIVE").anchor(env)
        assert go_live == NOW - timedelta(minutes=15)
        first_day = window("first-day", NOW, go_live)
        for intent in (i for i in intents if i.id in played):
            assert first_day.start.timestamp() <= intent.created < first_day.end.timestamp()
        # Each succeeded payment but the dropped one is a paid (or refunded) order.
        dropped = {d["payment_intent"] for d in ledger["dropped_webhooks"]}
        database = path.parent / ".build" / "shop.db"
        for intent_id in set(ledger["payment_intents"]["succeeded"]) - dropped:
            status = settled_order_status(database, intent_id)
            assert status in ("paid", "refunded", "disputed"), (intent_id, status)


def settled_order_status(database: Path, intent_id: str) -> str | None:
    from tests.shopkit import wait_for

    def status() -> str | None:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)) as conn:
            row = conn.execute(
                "SELECT payment_status FROM orders WHERE stripe_payment_intent_id = ?",
                (intent_id,),
            ).fetchone()
        return row[0] if row and row[0] != "pending" else None

    return wait_for(status, f"the order of {intent_id} settled")


def test_a_run_without_post_deploy_items_plays_nothing(tmp_path: Path) -> None:
    path = small_demo(tmp_path)
    # A staging item that starts the sandbox and the app: nothing is played all the same.
    request = gate.GateRequest(path, items=["webhook-security.signature-mandatory"], now=NOW)
    with booted(request) as prepared:
        assert prepared.target.app is not None
        assert gate_hook.LEDGER_KEY not in prepared.target.cache
        assert not (path.parent / ".build" / "traffic.json").exists()
        assert sandbox_client(prepared).v1.payment_intents.list().data == []


def test_a_gate_with_live_keys_goes_on_without_traffic(tmp_path: Path) -> None:
    path = small_demo(tmp_path)
    live = "sk_" + "live_" + "y" * 40
    gatekit.set_env(path, STRIPE_SECRET_KEY=live)
    gatekit.sandbox_key_apart(path)  # the shop carries the live key; the sandbox its own
    request = gate.GateRequest(path, phases=["post-deploy"], now=NOW)
    with booted(request) as prepared:
        assert prepared.target.app is not None  # the run goes on: its checks judge the keys
        assert gate_hook.LEDGER_KEY not in prepared.target.cache
        refused = prepared.target.cache[gate_hook.REFUSED_KEY]
        assert "refusing to play traffic with a live Stripe key" in refused
        assert live not in refused
        assert sandbox_client(prepared).v1.payment_intents.list().data == []


def test_golive_gate_post_deploy_plays_it_in_a_process(tmp_path: Path) -> None:
    path = small_demo(tmp_path)
    run = gatekit.gate(path, tmp_path / "out", "--phase", "post-deploy", timeout=300)
    assert run.returncode in (gate.EXIT_GO, gate.EXIT_NO_GO), run.stderr
    assert f"golive: traffic: {PAYMENTS} checkouts" in run.stderr
    ledger = json.loads((path.parent / ".build" / "traffic.json").read_text())
    assert len(ledger["played"]) == PAYMENTS and not ledger["errors"]
    # The production smoke ran after it, on the same shop.
    assert run.item("deployment.production-smoke")["outcome"] == "pass"


def test_golive_traffic_plays_the_mix_and_writes_the_ledger(tmp_path: Path) -> None:
    path = small_demo(tmp_path)
    out = tmp_path / "ledger.json"
    done = gatekit.golive(
        "traffic",
        "--target",
        str(path),
        "--payments",
        "6",
        "--mix",
        "success=5,decline=1",
        "--out",
        str(out),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    ledger = json.loads(out.read_text())
    assert ledger["planned"] == {"success": 5, "decline": 1}
    assert len(ledger["payment_intents"]["succeeded"]) == 5
    assert len(ledger["payment_intents"]["failed"]) == 1
    # The command's ledger is --out; the profile's traffic.ledger is the gate's.
    assert not (path.parent / ".build" / "traffic.json").exists()


def test_golive_traffic_refuses_live_keys(tmp_path: Path) -> None:
    path = small_demo(tmp_path)
    env_file = path.parent / "demo.env"
    live = "sk_live_" + "x" * 40
    env_file.write_text(
        env_file.read_text().replace(
            next(
                line
                for line in env_file.read_text().splitlines()
                if line.startswith("STRIPE_SECRET_KEY=")
            ),
            f"STRIPE_SECRET_KEY={live}",
        )
    )
    out = tmp_path / "ledger.json"
    done = gatekit.golive("traffic", "--target", str(path), "--out", str(out))
    assert done.returncode == gate.EXIT_USAGE, done.stderr
    assert "refusing to play traffic with a live Stripe key" in done.stderr
    assert live not in done.stderr + done.stdout
    assert not out.exists()


def test_bad_traffic_input_is_exit_2_naming_the_field(tmp_path: Path) -> None:
    path = small_demo(tmp_path, mix={"success": 1, "chargebacks": 2})
    done = gatekit.golive_here("validate", "--target", str(path))
    assert done.returncode == gate.EXIT_USAGE
    assert "traffic.mix" in done.stderr and "chargebacks" in done.stderr
    path = small_demo(tmp_path / "nobody", users="nobody")
    done = gatekit.golive_here("validate", "--target", str(path))
    assert done.returncode == gate.EXIT_USAGE
    assert "traffic.users" in done.stderr and "nobody" in done.stderr
    good = small_demo(tmp_path / "good")
    done = gatekit.golive("traffic", "--target", str(good), "--mix", "success=1,refunds=2")
    assert done.returncode == gate.EXIT_USAGE and "--mix" in done.stderr
    # (the profile module validates it the same way when the profile loads)
    assert profile.load(good).model.traffic is not None


def test_without_a_refund_job_refunds_go_through_stripes_api(tmp_path: Path) -> None:
    path = small_demo(tmp_path)
    data = load_yaml(path)
    del data["flows"]["refund"]
    data["api"]["endpoints"] = [e for e in data["api"]["endpoints"] if "refund" not in e["path"]]
    data["api"]["owned"]["probes"] = [
        p for p in data["api"]["owned"]["probes"] if "refund" not in p["path"]
    ]
    gatekit.edit_yaml(path, flows=data["flows"], api=data["api"])
    out = tmp_path / "ledger.json"
    done = gatekit.golive(
        "traffic",
        "--target",
        str(path),
        "--payments",
        "2",
        "--mix",
        "refund=1",
        "--out",
        str(out),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    refunds = json.loads(out.read_text())["refunds"]
    assert len(refunds) == 2
    assert all(r["via"] == "stripe" and r["refund"].startswith("re_") for r in refunds)
    assert "no `refund` job" in refunds[0]["why"]


def test_checkouts_the_app_refuses_are_exit_1_with_the_reason(tmp_path: Path) -> None:
    path = small_demo(tmp_path, carts=[[{"id": 999, "quantity": 1}]])
    out = tmp_path / "ledger.json"
    done = gatekit.golive(
        "traffic",
        "--target",
        str(path),
        "--payments",
        "2",
        "--mix",
        "success=1",
        "--out",
        str(out),
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    played = json.loads(out.read_text())["played"]
    assert [p["payment_intent"] for p in played] == [None, None]
    assert all("the checkout failed" in p["error"] for p in played)
