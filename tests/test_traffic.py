"""The traffic against a correct shop: what the ledger says was played is what the
sandbox holds and what the shop recorded.

The demo profile's users, auth and flows drive a real shop process (tests/shopkit.py) on
the real sandbox; the official stripe library reads the sandbox back, SQL the shop's
database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from golive.errors import InputError
from golive.sandbox import Sandbox
from golive.traffic import mix
from golive.traffic.ledger import Ledger
from tests import shopkit, traffickit
from tests.shopkit import ShopProcess, wait_for

sandbox = shopkit.sandbox


@pytest.fixture(scope="module")
def shop(
    request: pytest.FixtureRequest, sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ShopProcess]:
    yield from shopkit.module_shop(request, sandbox, tmp_path_factory)


@pytest.fixture(scope="module")
def played(shop: ShopProcess) -> Iterator[tuple[Ledger, datetime]]:
    as_of = datetime.now(UTC)
    with shopkit.registered_webhook(shop.sandbox, shop):
        ledger = traffickit.play_on(shop, traffickit.traffic(payments=24), as_of=as_of)
        yield ledger, as_of


def test_the_mix_is_shared_by_weight_and_every_kind_is_played() -> None:
    assert mix.apportion(40, traffickit.traffic().mix) == {
        "success": 33,
        "decline": 3,
        "refund": 2,
        "dispute": 1,
        "drop-webhook": 1,
    }
    assert mix.apportion(24, {"success": 85, "drop-webhook": 1}) == {
        "success": 23,
        "drop-webhook": 1,
    }
    assert mix.parse("success=9, decline=1") == {"success": 9, "decline": 1}
    for bad in ("success", "refunds=3", "decline=-1", "success=x", "success=0"):
        with pytest.raises(InputError):
            mix.parse(bad)


def test_everything_planned_was_played(played: tuple[Ledger, datetime]) -> None:
    ledger, _ = played
    data = ledger.to_dict()
    assert ledger.complete, ledger.summary()
    assert [p.n for p in ledger.played] == list(range(1, 25))
    assert sum(data["planned"].values()) == 24
    assert data["skipped"] == []
    assert len(data["payment_intents"]["succeeded"]) == 24 - data["planned"]["decline"]
    assert len(data["payment_intents"]["failed"]) == data["planned"]["decline"]
    assert len(ledger.refunds) == data["planned"]["refund"]
    assert len(ledger.disputes) == data["planned"]["dispute"]
    assert len(ledger.dropped_webhooks) == data["planned"]["drop-webhook"]
    # Every pool member bought at most within its quota: 24 checkouts, 50 shoppers.
    assert len({p.user for p in ledger.played}) == 24


def test_the_sandbox_holds_what_the_ledger_says(
    played: tuple[Ledger, datetime], shop: ShopProcess
) -> None:
    ledger, as_of = played
    stripe_client = traffickit.client(shop.sandbox)
    data = ledger.to_dict()
    for intent_id in data["payment_intents"]["succeeded"]:
        intent = stripe_client.v1.payment_intents.retrieve(intent_id)
        assert intent.status == "succeeded", intent_id
        # Dated before the run's time, on the sandbox's clock, inside the windows.
        assert intent.created <= as_of.timestamp(), intent_id
    for intent_id in data["payment_intents"]["failed"]:
        intent = stripe_client.v1.payment_intents.retrieve(intent_id)
        assert intent.status == "requires_payment_method", intent_id
        assert intent.last_payment_error.code == "card_declined", intent_id
    declined = {p.payment_method for p in ledger.played if p.kind == "decline"}
    assert declined <= {"pm_card_chargeDeclined", "pm_card_chargeDeclinedInsufficientFunds"}
    for refund in ledger.refunds:
        listed = stripe_client.v1.refunds.list(params={"payment_intent": refund["payment_intent"]})
        assert [r.id for r in listed.data] == [refund["refund"]]
        assert refund["via"] == "target"  # the demo profile has a `refund` job
    for dispute in ledger.disputes:
        found = stripe_client.v1.disputes.retrieve(dispute["dispute"])
        assert found.payment_intent == dispute["payment_intent"]


def test_each_paid_order_is_the_buyers_on_the_shop(
    played: tuple[Ledger, datetime], shop: ShopProcess
) -> None:
    ledger, _ = played
    dropped = {d["payment_intent"] for d in ledger.dropped_webhooks}
    refunded = {r["payment_intent"] for r in ledger.refunds}
    for p in ledger.played:
        if p.payment_intent in dropped or p.status != "succeeded":
            continue
        want = "refunded" if p.payment_intent in refunded else "paid"
        rows = wait_for(
            lambda p=p, want=want: (
                (r := traffickit.orders_of(shop, p.payment_intent)) and r[0][0] == want and r
            ),
            f"{p.payment_intent} {want} on the shop",
        )
        assert rows == [(want, traffickit.token_of(p.user))]


def test_the_dropped_webhook_never_reached_the_shop(
    played: tuple[Ledger, datetime], shop: ShopProcess
) -> None:
    ledger, _ = played
    [dropped] = ledger.dropped_webhooks
    assert [e["type"] for e in dropped["events"]] == ["payment_intent.succeeded"]
    with httpx.Client(base_url=shop.sandbox.url, trust_env=False) as web:
        for event in dropped["events"]:
            attempts = web.get("/_golive/deliveries", params={"event": event["id"]}).json()["data"]
            assert attempts and all(a["outcome"] == "failed" for a in attempts)
        # …and the fault was lifted afterwards: the sandbox delivers again.
        assert web.get("/_golive/faults").json()["webhooks"]["fail_first"] == 0
    assert traffickit.orders_of(shop, dropped["payment_intent"])[0][0] == "pending"


def test_the_ledger_is_written_as_json(played: tuple[Ledger, datetime], tmp_path: Any) -> None:
    import json

    ledger, _ = played
    data = json.loads(ledger.write(tmp_path / "t" / "ledger.json").read_text())
    assert data["payment_intents"] == ledger.to_dict()["payment_intents"]
    assert data["played"][0]["n"] == 1
    assert "objects dated from" in data["clock"]


def test_the_correct_shop_refunds_only_what_was_asked_and_takes_every_delivery(
    played: tuple[Ledger, datetime], shop: ShopProcess
) -> None:
    # The other side of tests/test_traffic_flaws.py.
    ledger, _ = played
    stripe_client = traffickit.client(shop.sandbox)
    data = ledger.to_dict()
    asked = {r["payment_intent"] for r in ledger.refunds}
    dropped = {d["payment_intent"] for d in ledger.dropped_webhooks}
    succeeded = set(data["payment_intents"]["succeeded"])
    for intent in succeeded - asked:
        assert not stripe_client.v1.refunds.list(params={"payment_intent": intent}).data
    events = stripe_client.v1.events.list(params={"type": "payment_intent.succeeded", "limit": 100})
    ours = [e for e in events.data if e.data.object["id"] in succeeded - dropped]
    assert len(ours) == len(succeeded - dropped)
    for event in ours:
        wait_for(
            lambda e=event: stripe_client.v1.events.retrieve(e.id).pending_webhooks == 0,
            f"{event.id} delivered",
        )
