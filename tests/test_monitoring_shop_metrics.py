"""The reference shop's GET /metrics (shop/metrics.py): no auth, Prometheus's text format
(read back with prometheus-client's own parser), counters that move with what the shop
does, and never an id, an amount or a token in a label."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import shopkit
from prometheus_client.parser import text_string_to_metric_families
from shopkit import ShopProcess, event_for

sandbox = shopkit.sandbox

COUNTERS = [
    "shop_payment_intents_created_total",
    "shop_payment_intent_failures_total",
    "shop_orders_created_total",
    "shop_order_creation_failures_total",
    "shop_checkout_tamper_attempts_total",
    "shop_webhook_signature_failures_total",
    "shop_amount_mismatches_total",
    "shop_refunds_total",
]


@pytest.fixture(scope="module")
def shop(
    request: pytest.FixtureRequest, sandbox: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ShopProcess]:
    yield from shopkit.module_shop(request, sandbox, tmp_path_factory)


def scrape(shop: ShopProcess) -> dict[tuple[str, tuple], float]:
    response = shop.get("/metrics")  # no Authorization header: Prometheus holds no token
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_counters_move_with_checkouts_payments_mismatches_and_forged_webhooks(
    shop: ShopProcess,
) -> None:
    before = scrape(shop)
    for name in COUNTERS:  # every counter is there before anything happened
        assert (name, ()) in before, name
    assert value(before, "shop_payments_total", result="succeeded") == 0

    paid = shop.pending_order("alice", [(1, 1)])
    shopkit.pay_with_signed_event(shop, paid)
    tampered = shop.checkout("bob", [(2, 1)], amount=1).json()  # ignored: the server prices
    mismatch = event_for(shop.sandbox, tampered["payment_intent_id"], amount=7, amount_received=7)
    assert shop.send_signed(mismatch).status == 200
    shop.wait_processed(mismatch["id"])
    [forged] = shop.send("wrong-secret", mismatch)
    assert forged.status == 400
    assert shop.get("/api/v1/me").status_code == 401

    after = scrape(shop)
    moved = {name: value(after, name) - value(before, name) for name in COUNTERS}
    assert moved == {
        "shop_payment_intents_created_total": 2,
        "shop_payment_intent_failures_total": 0,
        "shop_orders_created_total": 2,
        "shop_order_creation_failures_total": 0,
        "shop_checkout_tamper_attempts_total": 1,
        "shop_webhook_signature_failures_total": 1,
        "shop_amount_mismatches_total": 1,
        "shop_refunds_total": 0,
    }
    succeeded = {"type": "payment_intent.succeeded"}
    assert value(after, "shop_payments_total", result="succeeded") == 1
    assert value(after, "shop_webhooks_processed_total", outcome="paid", **succeeded) == 1
    assert (
        value(after, "shop_webhooks_processed_total", outcome="amount_mismatch", **succeeded) == 1
    )
    assert value(after, "shop_webhook_processing_seconds_count", **succeeded) == 2
    assert value(after, "http_requests_total", method="GET", status="401") >= 1
    assert value(after, "http_requests_total", method="POST", status="400") >= 1
    # Labels carry kinds and codes only: no order, intent, user or token.
    text = shop.get("/metrics").text
    for secret in (tampered["payment_intent_id"], "tok_alice_ca", shop.webhook_secret):
        assert secret not in text
