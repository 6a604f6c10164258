"""Price tampering by difference and the data probe on an app golive was not tuned to
(tests/priceapp.py): its own field names, no pricing rules, real PaymentIntents on a
sandbox, a real SQLite database. Through a real `golive gate`: the correct app passes; a
money field with an unusual name in each cart line (`lineCostMinor`, named only in the
app's answers), a currency taken from the client and a card number typed into a free-text
field the profile's flow sends (`gift_message`), stored as text or as an integer, each fail
their item naming what they did; a probe whose path 404s is an error. Two fields golive
can only learn from the app itself: a free-text field the flow never sends that the
order's answer shows (mined from the answers: a second probe order carries the card), and
a nested money object only the source reads (mined from the repository folder, tampered
as an object, named with its file:line)."""

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


def test_a_short_429_is_waited_out_and_the_tampering_goes_on(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    # An app whose per-user quota is tighter than golive's burst of tampered orders: the
    # Retry-After is honoured, so the trusted field is still found (without waiting, the
    # first 429 would stop the search before a tampered order was judged).
    result = run(tmp_path, sandbox, {"line-cost", "tight-quota"}, (CATALOGUE,))
    failed = check(result, CATALOGUE)
    assert failed["outcome"] == "fail", result.stdout
    assert "field <each line>.lineCostMinor moved the charge" in failed["message"]
    waits = [e["rate_limited"] for e in failed["evidence"] if "rate_limited" in e]
    assert waits and all("Retry-After of 1 s" in w for w in waits), failed["evidence"]


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


def test_a_card_in_a_free_text_field_only_the_answers_show_is_found(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    result = run(tmp_path, sandbox, {"remark-as-typed"}, (CARD,))
    failed = check(result, CARD)
    assert failed["outcome"] == "fail", result.stdout
    assert "orders.remark" in failed["message"] and "424242******4242" in failed["message"]
    probe = failed["evidence"][0]
    # The profile's flow never sends porchRemark: the first order's answer showed it
    # (null), so a second order carried the card in it; the first stays the control.
    assert probe["status"] == 201 and "porchRemark" not in probe["card_fields"]
    second = probe["second_order"]
    assert second["revealed_by_answers"] == ["porchRemark"], second
    assert second["status"] == 201 and "porchRemark" in second["card_fields"]


def test_the_same_app_masking_the_field_passes(tmp_path: Path, sandbox: Sandbox) -> None:
    result = run(tmp_path, sandbox, set(), (CARD,))
    passed = check(result, CARD)
    assert passed["outcome"] == "pass", passed
    assert passed["evidence"][0]["second_order"]["status"] == 201


def test_a_nested_money_object_only_the_source_reads_fails_naming_it(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    repo = priceapp.repository(tmp_path)
    result = run(tmp_path, sandbox, {"nested-quote"}, (AMOUNT, CATALOGUE), **repo)
    failed = check(result, AMOUNT)
    assert failed["outcome"] == "fail", result.stdout
    line = priceapp.source_line('snapshot = body.get("basket_snapshot")')
    assert "field basket_snapshot{" in failed["message"], failed["message"]
    assert f"basket_snapshot app/orders.py:{line}" in failed["message"], failed["message"]
    assert "mined from the repository" in failed["message"]
    assert "2100 usd" in failed["message"] and "50 usd" in failed["message"]
    mined = next(e for e in failed["evidence"] if "mined_from_repository" in e)
    assert f"basket_snapshot (app/orders.py:{line})" in mined["mined_from_repository"]
    assert result.outcomes()[CATALOGUE] == "pass"  # the lines are not trusted


def test_the_same_source_with_the_switch_off_passes(tmp_path: Path, sandbox: Sandbox) -> None:
    repo = priceapp.repository(tmp_path)
    result = run(tmp_path, sandbox, set(), (AMOUNT, CATALOGUE, FEE), **repo)
    outcomes = result.outcomes()
    for item in (AMOUNT, CATALOGUE, FEE):
        assert outcomes[item] == "pass", (item, check(result, item), result.stdout)
    top = next(e for e in check(result, AMOUNT)["evidence"] if "tampering" in e)
    sent = [f for trial in top["trials"] for f in trial["fields"]]
    assert any(f.startswith("basket_snapshot{") for f in sent), sent


def test_without_a_repository_golive_tampers_black_box_as_before(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    # The field is in no answer and no dictionary: without the source golive cannot name
    # it, and says nothing was mined (no error).
    result = run(tmp_path, sandbox, {"nested-quote"}, (AMOUNT,))
    passed = check(result, AMOUNT)
    assert passed["outcome"] == "pass", passed
    assert not any("mined_from_repository" in e for e in passed["evidence"])
