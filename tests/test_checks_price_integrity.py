"""price.*: the amount charged is golive's total, whatever the client sends.

Through the gate on a demo copy: every price check passes on the correct shop, and each
price flaw fails exactly the price items the catalogue lists, with the request sent,
golive's computation and the PaymentIntent read back as evidence. The correct shop's and
the flaws' runs are the detection matrix's (gatekit.SharedRuns).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from gatekit import ROOT, GateRun, SharedRuns, demo_copy, gate, load_yaml

from golive.profile.pricing import CartLine, Pricing, quote

SECTION = "price-integrity"
AMOUNT_ITEM = "price-integrity.backend-recalculates"  # price.tampered-amount
MATCHES_ITEM = "price-integrity.intent-amount-verified"  # + the planned webhook.amount-mismatch
CATALOGUE_ITEM = "price-integrity.prices-from-database"
FEE_ITEM = "price-integrity.platform-fee-server-side"
TAX_ITEM = "price-integrity.state-tax-server-side"  # [0] state-tax, [1] snapshot-metadata
CATALOGUE = yaml.safe_load((ROOT / "shop" / "catalogue.yaml").read_text())["flaws"]
PRICE_FLAWS = [
    "trusts-client-amount",
    "prices-from-client",
    "fee-from-client",
    "no-state-tax",
    "no-price-snapshot",
]


def run_prices(tmp_path: Path, profile: Path) -> GateRun:
    return gate(profile, tmp_path / "out", "--section", SECTION)


def demo_pricing() -> Pricing:
    return Pricing.model_validate(load_yaml(ROOT / "targets" / "demo" / "target.yaml")["pricing"])


def test_the_demo_rules_give_the_shop_readmes_examples() -> None:
    pricing = demo_pricing()
    menu = {"1": 1250, "2": 899, "6": 50}
    multi = pricing.carts.multi
    assert quote(pricing.rules, menu, multi, "CA").total == 3985
    assert quote(pricing.rules, menu, multi, "NY").total == 3909
    one_spoon = [CartLine(id=6, quantity=1)]
    assert quote(pricing.rules, menu, one_spoon, "CA").tax == 4
    assert quote(pricing.rules, menu, one_spoon, "CA").total == 59
    assert quote(pricing.rules, menu, one_spoon, "NY").total == 58


def test_the_correct_shop_passes_every_price_check(shared_runs: SharedRuns) -> None:
    run = shared_runs.control()
    outcomes = {k: v for k, v in run.outcomes().items() if k.startswith(SECTION + ".")}
    assert set(outcomes.values()) == {"pass"}, (outcomes, run.stdout + run.stderr)
    matches = run.item(MATCHES_ITEM)["checks"]
    assert [c["ref"] for c in matches] == ["price.intent-amount-matches", "webhook.amount-mismatch"]
    assert [c["outcome"] for c in matches] == ["pass", "pass"]
    # The tampered checkout: the request carried amount/total 50, the intent is golive's.
    tampered, negative = run.evidence(AMOUNT_ITEM)
    assert tampered["checkout"] == "tampered-amount" and tampered["status"] == 200
    assert tampered["request"]["amount"] == 50 and tampered["request"]["total"] == 50
    assert tampered["payment_intent"].startswith("pi_")
    assert tampered["payment_intent_amount"] == tampered["expected_total"] == 1466
    assert tampered["golive_computation"] == [
        "1 x item 1 @ 1250 = 1250",
        "subtotal = 1250",
        "platform_fee = half_up(1250 x 1000 bp) = 125",
        "tax = half_up(1250 x 725 bp) = 91 (fee untaxed)",
        "total = 1250 + 125 + 91 = 1466",
    ]
    assert negative["checkout"] == "negative-quantity" and negative["status"] == 400
    assert negative["request"]["items"] == [{"food_item_id": 1, "quantity": -1}]
    in_state, out_of_state = run.evidence(MATCHES_ITEM)
    assert (in_state["customer_state"], in_state["payment_intent_amount"]) == ("CA", 3985)
    assert (out_of_state["customer_state"], out_of_state["payment_intent_amount"]) == ("NY", 3909)
    tax = run.evidence(TAX_ITEM, 0)[-1]
    assert tax["expected_difference"] == tax["charged_difference"] == 246 - 170
    snapshot = run.evidence(TAX_ITEM, 1)[-1]
    assert snapshot["snapshot"] == {
        "subtotal": "3399",
        "platform_fee": "340",
        "tax": "246",
        "total": "3985",
    }
    # The two customers' checkouts are shared by the checks: three each per run.
    ids = {
        e["payment_intent"]
        for item in run.results["items"]
        if item["id"].startswith(SECTION + ".")
        for c in item["checks"]
        if c["ref"].startswith("price.")  # webhook.amount-mismatch buys its own order
        for e in c["evidence"]
        if "payment_intent" in e
    }
    assert len(ids) == 5  # the negative quantity made none


@pytest.mark.parametrize("flaw", PRICE_FLAWS)
def test_a_price_flaw_fails_exactly_its_catalogued_price_items(
    shared_runs: SharedRuns, flaw: str
) -> None:
    run = shared_runs.flaw(flaw)
    assert run.returncode == 1
    failing = {i for i, outcome in run.outcomes().items() if outcome == "fail"}
    expected = {i for i in CATALOGUE[flaw]["fails"] if i.startswith(SECTION + ".")}
    assert {i for i in failing if i.startswith(SECTION + ".")} == expected, run.stdout
    for item in expected:
        assert f"fail {item}: " in run.stdout


def test_a_trusted_client_amount_fails_with_the_intent_and_the_computation(
    shared_runs: SharedRuns,
) -> None:
    run = shared_runs.flaw("trusts-client-amount")
    item = run.item(AMOUNT_ITEM)
    tampered = item["checks"][0]["evidence"][0]
    assert tampered["request"]["amount"] == 50
    assert tampered["payment_intent_amount"] == 50 and tampered["expected_total"] == 1466
    assert (
        f"PaymentIntent {tampered['payment_intent']} is for 50, golive's total is 1466"
        in (item["checks"][0]["message"])
    )


def test_client_prices_and_fees_fail_naming_the_amounts(shared_runs: SharedRuns) -> None:
    prices = shared_runs.flaw("prices-from-client").item(CATALOGUE_ITEM)["checks"][0]
    sent = prices["evidence"][0]
    assert sent["request"]["items"] == [
        {"food_item_id": 1, "quantity": 1, "unit_price": 100, "price": 100}
    ]
    # 100 + 10 fee + 5 NY tax charged; golive's total from the menu's 1250 is 1250+125+63.
    assert sent["payment_intent_amount"] == 115 and sent["expected_total"] == 1438
    assert "is for 115, golive's total is 1438" in prices["message"]
    fee = shared_runs.flaw("fee-from-client").item(FEE_ITEM)["checks"][0]
    assert fee["evidence"][0]["request"]["platform_fee"] == 0
    assert "is for 1341, golive's total is 1466" in fee["message"]


def test_no_tax_and_no_snapshot_fail_the_tax_item(shared_runs: SharedRuns) -> None:
    state_tax, _ = shared_runs.flaw("no-state-tax").item(TAX_ITEM)["checks"]
    _, snapshot = shared_runs.flaw("no-price-snapshot").item(TAX_ITEM)["checks"]
    assert state_tax["outcome"] == "fail"
    assert (
        "CA minus NY for the same cart is 0 (3739 - 3739); the rules say 76"
        in (state_tax["message"])
    )
    assert snapshot["outcome"] == "fail"
    assert (
        "lacks the price snapshot key(s) subtotal, platform_fee, tax, total"
        in (snapshot["message"])
    )


def test_a_profile_without_pricing_is_not_run(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    data = load_yaml(profile)
    del data["pricing"]
    profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    run = run_prices(tmp_path, profile)
    for item in run.results["items"]:
        if item["id"].startswith(SECTION + "."):
            assert item["outcome"] == "not-run", item["id"]
            for c in item["checks"]:
                if c["ref"].startswith("price."):
                    assert "no `pricing` block" in c["message"], c["message"]
