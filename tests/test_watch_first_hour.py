"""deployment.monitor-first-hour (watch.first-hour): the first hour after go-live replayed
tick by tick over the Stripe data the demo's traffic leaves — pass on the correct shop,
fail when its webhook endpoint went silent, not-run before go-live, error without data."""

from __future__ import annotations

import os
from pathlib import Path

from tests import gatekit
from tests.gatekit import demo_copy, load_yaml

ITEM = "deployment.monitor-first-hour"


def small_demo(tmp_path: Path, **traffic: object) -> Path:
    path = demo_copy(tmp_path)
    block = load_yaml(path)["traffic"]
    block.update({"payments": 12, "spread_s": 1, "mix": {"success": 11, "refund": 1}, **traffic})
    gatekit.edit_yaml(path, traffic=block)
    return path


def first_hour(profile: Path, out: Path, flaws: str = "") -> gatekit.GateRun:
    env = {**os.environ, "SHOP_FLAWS": flaws}
    return gatekit.gate(profile, out, "--item", ITEM, now=None, env=env, timeout=240)


def test_the_correct_shops_first_hour_holds(tmp_path: Path) -> None:
    run = first_hour(small_demo(tmp_path), tmp_path / "out")
    assert run.outcomes() == {ITEM: "pass"}, run.stdout + run.stderr
    evidence = run.evidence(ITEM)[0]
    assert evidence["verdict"] == "PROMOTE" and evidence["open"] is True
    judged = [m for m in evidence["measurements"] if m["phase"] == "successful"]
    assert {m["metric"] for m in judged} == {"payment_success_rate", "webhook_delivery_rate"}
    assert all(m["samples"] >= 12 for m in judged)


def test_a_silent_webhook_endpoint_fails_the_first_hour(tmp_path: Path) -> None:
    run = first_hour(small_demo(tmp_path), tmp_path / "out", flaws="silent-webhook-endpoint")
    assert run.outcomes() == {ITEM: "fail"}, run.stdout + run.stderr
    message = run.item(ITEM)["checks"][0]["message"]
    assert message.startswith("the first hour would have rolled back: webhook_delivery_rate")
    failed = [m for m in run.evidence(ITEM)[0]["measurements"] if m["phase"] == "failed"]
    assert failed and failed[0]["observed"] < 0.9


def test_a_go_live_after_the_run_is_not_run_and_no_traffic_is_an_error(tmp_path: Path) -> None:
    profile = small_demo(tmp_path)
    gatekit.edit_yaml(profile, post_deploy={"go_live": "2099-01-01T00:00:00Z"})
    run = first_hour(profile, tmp_path / "out")
    assert run.outcomes() == {ITEM: "not-run"}
    assert "the first hour has not started" in run.item(ITEM)["checks"][0]["message"]
    quiet = small_demo(tmp_path / "quiet")
    gatekit.edit_yaml(quiet, traffic=None)
    run = first_hour(quiet, tmp_path / "out2")
    assert run.outcomes() == {ITEM: "error"}
    assert "no tick of the first hour had enough samples" in run.item(ITEM)["checks"][0]["message"]
