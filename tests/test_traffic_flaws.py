"""The post-deploy flaws show in the data the traffic leaves: a shop that refunds orders by
itself (refunds-too-many) has a refund rate far above the 5 % target, and a webhook route
that stops answering (silent-webhook-endpoint) leaves the payments' events undelivered,
still pending at the sandbox, and the orders unpaid. The correct shop of tests/test_traffic.py
is the other side of each."""

from __future__ import annotations

from pathlib import Path

import httpx

from golive.sandbox import Sandbox
from tests import shopkit, traffickit
from tests.shopkit import ShopProcess, wait_for

REFUND_RATE_TARGET = 0.05


def test_refunds_too_many_puts_the_refund_rate_above_target(tmp_path: Path) -> None:
    # A sandbox of its own, as below: on the session's shared one this test once saw the
    # shop's fresh PaymentIntent answer 404 to the client-side confirm (1 run in 4 of the
    # whole suite, never alone; cause not found), so it keeps no state another test left.
    with Sandbox(retry_schedule_s=[0.2, 0.5]) as own:
        shop = shopkit.start_shop(own, tmp_path / "shop", flaws=["refunds-too-many"])
        try:
            _refunds_too_many(shop)
        finally:
            shop.stop()


def _refunds_too_many(shop: ShopProcess) -> None:
    with shopkit.registered_webhook(shop.sandbox, shop):
        # Payments only: every refund the sandbox then holds, the shop made by itself.
        ledger = traffickit.play_on(shop, traffickit.traffic(payments=12, mix={"success": 1}))
        assert ledger.complete, ledger.summary()
        paid = ledger.to_dict()["payment_intents"]["succeeded"]
        assert len(paid) == 12 and ledger.refunds == []
        stripe_client = traffickit.client(shop.sandbox)

        def refunded() -> list[str]:
            return [
                i for i in paid if stripe_client.v1.refunds.list(params={"payment_intent": i}).data
            ]

        # Every fourth paid order: three of twelve, once the shop has processed them all.
        found = wait_for(lambda: len(r := refunded()) >= 3 and r, "the shop's own refunds")
    assert len(found) / len(paid) > REFUND_RATE_TARGET
    for intent in found:
        assert traffickit.orders_of(shop, intent)[0][0] in ("paid", "refunded")


def test_a_silent_webhook_endpoint_leaves_events_pending(tmp_path: object) -> None:
    # A sandbox of its own: deliveries time out after a second and the first retry comes
    # a minute later, so what was not delivered is still pending while the test looks.
    with Sandbox(retry_schedule_s=[60.0], delivery_timeout_s=1.0) as slow:
        shop = shopkit.start_shop(slow, tmp_path / "silent", flaws=["silent-webhook-endpoint"])
        try:
            with shopkit.registered_webhook(slow, shop):
                ledger = traffickit.play_on(
                    shop, traffickit.traffic(payments=4, mix={"success": 1})
                )
                assert ledger.complete, ledger.summary()
                paid = ledger.to_dict()["payment_intents"]["succeeded"]
                assert len(paid) == 4
                with httpx.Client(base_url=slow.url, trust_env=False) as web:
                    for intent in paid:
                        event = _succeeded_event(slow, intent)
                        attempts = wait_for(
                            lambda e=event: web.get(
                                "/_golive/deliveries", params={"event": e["id"]}
                            ).json()["data"],
                            "a delivery attempt",
                        )
                        assert all(a["outcome"] == "failed" for a in attempts), attempts
                        assert "timed out" in attempts[0]["error"]
                        assert _event(slow, event["id"])["pending_webhooks"] > 0
                        assert traffickit.orders_of(shop, intent)[0][0] == "pending"
        finally:
            shop.stop()


def _succeeded_event(sandbox: Sandbox, intent: str) -> dict:
    events = traffickit.client(sandbox).v1.events.list(
        params={"type": "payment_intent.succeeded", "limit": 100}
    )
    [event] = [e for e in events.data if e.data.object["id"] == intent]
    return event.to_dict()


def _event(sandbox: Sandbox, event_id: str) -> dict:
    return traffickit.client(sandbox).v1.events.retrieve(event_id).to_dict()
