"""The reconciliation items no shop flaw can show, proven against the shop all the same:
weekly-operations.platform-fee-collection fails when the rules the profile gives are not
the shop's, and week-1.order-creation-time fails on a target its orders cannot meet."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from golive.sandbox import Sandbox
from tests.gatekit import ROOT
from tests.shopkit import HANDLED_EVENTS, registered_webhook
from tests.test_reconcile_checks import gate, pay_orders, start, write_profile


@pytest.fixture
def own_sandbox() -> Iterator[Sandbox]:
    with Sandbox(retry_schedule_s=[0.2, 0.5]) as sandbox:
        yield sandbox


FEE = "weekly-operations.platform-fee-collection"
LATENCY = "week-1.order-creation-time"


def paid_shop_profile(sandbox: Sandbox, tmp_path: Path, **changes: object) -> Path:
    go_live = datetime.now(UTC) - timedelta(minutes=5)
    shop = start(sandbox, tmp_path, [])
    try:
        with registered_webhook(sandbox, shop, list(HANDLED_EVENTS)):
            pay_orders(shop, 3)
    finally:
        shop.stop()
    return write_profile(tmp_path, shop.database_url, sandbox.url, go_live, **changes)


def run(profile: Path, out: Path, item: str, checklist: Path | None = None):  # noqa: ANN201
    now = (datetime.now(UTC) + timedelta(seconds=5)).isoformat()
    extra = ["--checklist", str(checklist)] if checklist else []
    return gate(profile, out, "--phase", "post-deploy", "--item", item, *extra, now=now)


def test_a_fee_the_rules_do_not_give_fails_the_fee_review(own_sandbox, tmp_path) -> None:
    base = paid_shop_profile(own_sandbox, tmp_path)
    good = run(base, tmp_path / "good", FEE)
    assert good.outcomes() == {FEE: "pass"}, good.stdout + good.stderr
    data = yaml.safe_load(base.read_text())
    data["pricing"]["rules"]["platform_fee_bps"] = 500  # the shop charges 10 %, not 5 %
    base.write_text(yaml.safe_dump(data, sort_keys=False))
    bad = run(base, tmp_path / "bad", FEE)
    assert bad.outcomes() == {FEE: "fail"}, bad.stdout + bad.stderr
    assert "fee" in bad.item(FEE)["checks"][0]["message"]


def test_an_order_creation_target_no_order_meets_fails(own_sandbox, tmp_path) -> None:
    profile = paid_shop_profile(own_sandbox, tmp_path)
    data = yaml.safe_load((ROOT / "checklist.yaml").read_text())
    for section in data["sections"]:
        for item in section["items"]:
            if item["id"] == LATENCY:
                item["thresholds"]["order_creation_ms"] = "avg<1"
    strict = tmp_path / "checklist.yaml"
    strict.write_text(yaml.safe_dump(data, sort_keys=False))
    done = run(profile, tmp_path / "out", LATENCY, strict)
    assert done.outcomes() == {LATENCY: "fail"}, done.stdout + done.stderr
    assert "avg<1" in done.item(LATENCY)["checks"][0]["message"]
