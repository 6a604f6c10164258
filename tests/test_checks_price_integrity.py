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
    # The clean in-state order is the positive control, with golive's computation.
    evidence = run.evidence(AMOUNT_ITEM)
    clean = evidence[0]
    assert clean["checkout"] == "multi-in-state" and clean["status"] == 200
    assert clean["payment_intent"].startswith("pi_")
    assert clean["payment_intent_amount"] == clean["expected_total"] == 3985
    assert clean["golive_computation"][-1] == "total = 3399 + 340 + 246 = 3985"
    # The tampering: the names the shop's own answers carry went first, in one accepted
    # order that cost what the clean one did; the strict shop's refusals named the fields
    # it does not take; the budget bounded the orders.
    tampering = next(e for e in evidence if "tampering" in e)
    first = tampering["trials"][0]
    assert {"amount", "price"} <= set(first["fields"]) and first["result"] == "equal"
    assert first["request"]["amount"] == 50 and first["amount"] == 3985
    assert "tip" in tampering["refused"] and tampering["orders"] <= 10
    probes = {e["probe"]: e for e in evidence if "probe" in e}
    negative = probes["negative quantity -1 on every line"]
    assert (negative["result"], negative["status"]) == ("refused", 400)
    assert negative["request"]["items"][0]["quantity"] == -1
    assert probes["huge quantity 1000000000 on every line"]["status"] == 400
    assert probes["currency 'eur' sent"]["request"]["currency"] == "eur"
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


def test_a_trusted_client_amount_fails_naming_the_field_and_both_amounts(
    shared_runs: SharedRuns,
) -> None:
    check = shared_runs.flaw("trusts-client-amount").item(AMOUNT_ITEM)["checks"][0]
    assert check["outcome"] == "fail"
    # Bisected from the batch to each field that moved the charge.
    assert "field amount moved the charge: the clean order pi_" in check["message"]
    assert "field total moved the charge" in check["message"]
    assert "is 3985 usd, the tampered one pi_" in check["message"]
    assert check["message"].count(" 50 usd") == 2


def test_client_prices_and_fees_fail_naming_the_field_and_the_amounts(
    shared_runs: SharedRuns,
) -> None:
    prices = shared_runs.flaw("prices-from-client").item(CATALOGUE_ITEM)["checks"][0]
    # Each line's price sent as 50: 3 x 50 + 15 fee + 8 NY tax charged, not 3909.
    assert "field <each line>.price moved the charge" in prices["message"]
    assert "is 3909 usd" in prices["message"] and " 173 usd" in prices["message"]
    fee = shared_runs.flaw("fee-from-client").item(FEE_ITEM)["checks"][0]
    assert "field fee moved the charge" in fee["message"]
    assert "is 3985 usd" in fee["message"] and " 3695 usd" in fee["message"]


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
