"""The demo target: the reference shop behind the sandbox, as `golive gate` runs it.

The flaw catalogue's detection matrix (every flaw, exactly its items) is tests/test_matrix.py.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from gatekit import ROOT, SharedRuns, demo_copy, gate


def test_default_run_is_go_today_shows_the_outcome_kinds_and_cleans_up(
    shared_runs: SharedRuns,
) -> None:
    # No --now: the README's first command on whatever day the tests run (the detection
    # matrix's control run).
    run = shared_runs.control()
    assert run.returncode == 0, run.stdout + run.stderr
    results = run.results
    kinds = set(run.outcomes().values())
    assert {"pass", "attested", "pending", "waived", "not-run"} <= kinds  # not-run: restricted keys
    assert "fail" not in kinds and "error" not in kinds  # the correct shop fails nothing
    # The one failure, the account's missing logo, is accepted by the demo's waiver.
    [waiver] = results["waivers"]
    assert waiver["item"] == "business-settings.logo" and waiver["applied"] is True
    assert run.outcomes()["business-settings.logo"] == "waived"
    # The account check needs the sandbox, the live checks (webhook security) the running
    # shop; both are stopped when the run ends.
    backend = results["meta"]["stripe_backend"]
    assert backend["backend"] == "sandbox"
    app = results["meta"]["target_app"]
    assert app is not None
    with pytest.raises(httpx.ConnectError):  # stopped when the run ended
        httpx.get(backend["api_base"] + "/_golive/health", timeout=2)
    with pytest.raises(httpx.ConnectError):
        httpx.get(app["base_url"] + "/healthz", timeout=2)


@pytest.mark.parametrize(
    ("now", "signed", "waiver_expires"),
    [
        ("2026-11-26T12:00:00Z", "2026-11-20", "2027-03-31"),  # the day they are written as of
        ("2031-05-05T08:00:00Z", "2031-04-29", "2031-09-07"),  # years later: moved along
    ],
)
def test_the_demo_dates_its_signoffs_and_waiver_relative_to_the_run(
    tmp_path: Path, now: str, signed: str, waiver_expires: str
) -> None:
    # Attested sections only, so no server starts: the sign-offs stay fresh on any day.
    run = gate(
        demo_copy(tmp_path),
        tmp_path / "out",
        "--section",
        "final-checks",
        "--section",
        "support-scripts",
        now=now,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    final = run.item("final-checks.security-audit")
    assert final["outcome"] == "attested"
    assert final["attestation"]["date"].startswith(signed)
    built = yaml.safe_load((tmp_path / "demo" / ".build" / "waivers.yaml").read_text())
    assert str(built["waivers"][0]["expires"]).startswith(waiver_expires)
    # The deliberately stale sign-off stays stale, however the dates move.
    assert run.item("support-scripts.team-trained")["outcome"] == "pending"


PAY_CHECK = """
import time, httpx, stripe
from golive.registry import check

@check("custom.demo-pays", needs={"app"})
def test_demo_pays(ctx):
    shop, backend = ctx.target.app, ctx.target.stripe
    auth = {"Authorization": "Bearer tok_alice_ca"}
    with httpx.Client(base_url=shop.base_url, headers=auth, trust_env=False, timeout=10) as web:
        order = web.post("/api/v1/stripe/create-payment-intent",
                         json={"items": [{"food_item_id": 1, "quantity": 2}]}).json()
        client = stripe.StripeClient(backend.secret_key, base_addresses={"api": backend.api_base})
        client.v1.payment_intents.confirm(order["payment_intent_id"],
                                          params={"payment_method": "pm_card_visa"})
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            status = web.get(f"/api/v1/orders/{order['order_id']}").json()["payment_status"]
            if status == "paid":
                break
            time.sleep(0.1)
    ctx.record(order=order["order_id"], amount=order["amount"], status=status)
    assert status == "paid", f"order {order['order_id']} is {status}"
"""
PAY_SECTION = (
    "\n- id: custom\n  title: Custom\n  group: Pre-Deployment\n  items:\n"
    "  - id: custom.demo-pays\n    title: pays\n    severity: blocker\n    phase: staging\n"
    "    automated:\n      checks:\n      - {ref: custom.demo-pays}\n\n- id: database\n"
)


def test_the_demo_shop_is_wired_to_the_sandbox(tmp_path: Path) -> None:
    # A check that needs the app brings the shop up: a card payment made through the
    # sandbox reaches the shop's webhook, signed with the env's secret, and the order is paid.
    profile = demo_copy(tmp_path)
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "test_pays.py").write_text(PAY_CHECK)
    data = yaml.safe_load(profile.read_text())
    data["check_paths"] = [str(checks)]
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    the_checklist = tmp_path / "checklist.yaml"
    text = (ROOT / "checklist.yaml").read_text()
    the_checklist.write_text(text.replace("\n- id: database\n", PAY_SECTION, 1))
    run = gate(
        profile, tmp_path / "out", "--item", "custom.demo-pays", "--checklist", str(the_checklist)
    )
    assert run.returncode == 0, run.stdout + run.stderr
    [evidence] = run.evidence("custom.demo-pays")
    assert evidence["status"] == "paid"
    assert evidence["amount"] == 2500 + 250 + 181  # CA: 10 % fee, 7.25 % tax, half-up
    app = run.results["meta"]["target_app"]
    assert app["webhook_url"].endswith("/api/v1/stripe/webhook")
    with pytest.raises(httpx.ConnectError):  # the shop was stopped with the run
        httpx.get(app["base_url"] + "/healthz", timeout=2)


def test_the_demo_build_reuses_a_migrated_database_for_the_same_shop_and_flaws(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    target = demo_copy(tmp_path).parent

    def build(flaws: str) -> set[str]:
        env = {**os.environ, "GOLIVE_HOME": str(home), "SHOP_FLAWS": flaws}
        done = subprocess.run(
            [sys.executable, "-m", "golive.demo", "build", str(target)],
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        with sqlite3.connect(target / ".build" / "shop.db") as db:
            return {
                row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='index'")
            }

    first = build("")
    [cached] = (home / "demo-db").glob("*.db")
    again = build("")
    assert again == first and list((home / "demo-db").glob("*.db")) == [cached]
    # Another flaw set is another migration: its missing index is missing.
    flawed = build("missing-index-order-payment-intent-id")
    assert len(list((home / "demo-db").glob("*.db"))) == 2
    assert len(flawed) == len(first) - 1
