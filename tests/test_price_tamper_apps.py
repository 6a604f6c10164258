"""Price tampering by difference and the data probe on an app golive was not tuned to
(tests/priceapp.py): its own field names, no pricing rules, real PaymentIntents on a
sandbox, a real SQLite database. Through a real `golive gate`: the correct app passes; a
money field with an unusual name in each cart line (`lineCostMinor`, named only in the
app's answers), a currency taken from the client and a card number typed into a free-text
field the profile's flow sends (`gift_message`), stored as text or as an integer, each fail
their item naming what they did; a probe whose path 404s is an error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from gatekit import GateRun, gate

from golive.sandbox import Sandbox
from tests import priceapp

AMOUNT = "price-integrity.backend-recalculates"  # price.tampered-amount
CATALOGUE = "price-integrity.prices-from-database"  # price.from-catalogue
FEE = "price-integrity.platform-fee-server-side"
MATCHES = "price-integrity.intent-amount-verified"  # needs pricing.rules
CARD = "data-security.no-card-storage"
PRICE_ITEMS = (AMOUNT, CATALOGUE, FEE, MATCHES)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as started:
        yield started


def run(
    tmp_path: Path, sandbox: Sandbox, flaws: set[str], items: tuple[str, ...], **extra: Any
) -> GateRun:
    with priceapp.running(tmp_path, sandbox.url, flaws) as app:
        data = priceapp.profile(tmp_path, app, sandbox.url, **extra)
        profile = tmp_path / "target.yaml"
        profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        args = [arg for item in items for arg in ("--item", item)]
        return gate(profile, tmp_path / "out", *args)


def check(result: GateRun, item: str) -> dict[str, Any]:
    return result.item(item)["checks"][0]


def test_the_correct_app_passes_by_difference_without_rules(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    result = run(tmp_path, sandbox, set(), PRICE_ITEMS)
    outcomes = result.outcomes()
    for item in (AMOUNT, CATALOGUE, FEE):
        assert outcomes[item] == "pass", (item, check(result, item), result.stdout)
    # Without rules golive cannot compute a total: not-run, saying so.
    matches = check(result, MATCHES)
    assert matches["outcome"] == "not-run" and "no `rules`" in matches["message"]
    lines = next(e for e in check(result, CATALOGUE)["evidence"] if "tampering" in e)
    first = lines["trials"][0]
    # The app's own answers named the money fields golive tampered with first.
    assert "<each line>.lineCostMinor" in first["fields"], first
    assert "<each line>.unitCost" in first["fields"], first
    assert first["result"] == "equal"
    probes = {e["probe"]: e for e in check(result, AMOUNT)["evidence"] if "probe" in e}
    swapped = probes.pop("currency 'eur' sent")
    assert {p["result"] for p in probes.values()} == {"refused"}, probes  # odd qty: 400
    assert (swapped["result"], swapped["status"]) == ("equal", 201)  # still charged in usd


def test_a_trusted_line_cost_fails_naming_the_field_and_both_amounts(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    result = run(tmp_path, sandbox, {"line-cost"}, (AMOUNT, CATALOGUE))
    failed = check(result, CATALOGUE)
    assert failed["outcome"] == "fail", result.stdout
    # 2 TEA + 1 MUG = 2100; each line's lineCostMinor sent as 50: 100.
    assert "field <each line>.lineCostMinor moved the charge" in failed["message"]
    assert "2100 usd" in failed["message"] and "100 usd" in failed["message"]
    assert result.outcomes()[AMOUNT] == "pass"  # the top of the body is not trusted


def test_a_client_currency_fails(tmp_path: Path, sandbox: Sandbox) -> None:
    result = run(tmp_path, sandbox, {"client-currency"}, (AMOUNT,))
    failed = check(result, AMOUNT)
    assert failed["outcome"] == "fail", result.stdout
    assert "currency 'eur' sent: accepted and charged 2100 eur" in failed["message"]
    assert "the clean order is 2100 usd" in failed["message"]


@pytest.mark.parametrize("flaw", ["card-in-text", "card-in-int"])
def test_a_card_typed_into_the_flows_free_text_field_is_found(
    tmp_path: Path, sandbox: Sandbox, flaw: str
) -> None:
    result = run(tmp_path, sandbox, {flaw}, (CARD,))
    failed = check(result, CARD)
    assert failed["outcome"] == "fail", result.stdout
    assert "orders.gift_" in failed["message"] and "424242******4242" in failed["message"]
    probe = failed["evidence"][0]
    assert "gift_message" in probe["card_fields"] and probe["status"] == 201


def test_the_correct_app_stores_no_card(tmp_path: Path, sandbox: Sandbox) -> None:
    result = run(tmp_path, sandbox, set(), (CARD,))
    passed = check(result, CARD)
    assert passed["outcome"] == "pass", passed
    assert passed["evidence"][0]["probe"] == "sent"


def test_a_probe_whose_path_is_missing_is_an_error_not_a_pass(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    def missing(data: dict[str, Any]) -> None:
        data["flows"]["checkout"]["steps"][0]["request"]["path"] = "/no-such-orders"

    with priceapp.running(tmp_path, sandbox.url, {"card-in-text"}) as app:
        data = priceapp.profile(tmp_path, app, sandbox.url)
        missing(data)
        profile = tmp_path / "target.yaml"
        profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        result = gate(profile, tmp_path / "out", "--item", CARD)
    errored = check(result, CARD)
    assert errored["outcome"] == "error", errored
    assert "404" in errored["message"] and "/no-such-orders" in errored["message"]
