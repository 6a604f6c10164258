"""golive/tamper.py: which fields a tampered checkout carries, and the batched search that
names the field that moved the amount within a budget. The `attempt` here is a tiny app's
pricing in-process (the real apps are tests/test_price_tamper_apps.py and the shop)."""

from __future__ import annotations

from golive import tamper
from golive.profile.flows import Flow
from golive.tamper import Tamper, Trial

CLEAN = 2100


def app(trusted: set[str], known: set[str] | None = None, named: bool = True):
    """An app charging CLEAN unless a trusted field is sent; with `known`, it refuses an
    unknown field (naming it, or not)."""

    def attempt(batch: list[Tamper]) -> Trial:
        names = [t.name for t in batch]
        unknown = [n for n in names if known is not None and n not in known]
        if unknown:
            return Trial("refused", 400, text=f"unknown field: {unknown[0]}" if named else "bad")
        moved = any(n in trusted for n in names)
        return Trial("differs" if moved else "equal", 200, 50 if moved else CLEAN, "usd")

    return attempt


def fields(*names: str) -> list[Tamper]:
    return [Tamper("top", n, "dictionary") for n in names]


def test_money_like_names_in_any_spelling() -> None:
    assert [
        k
        for k in ("lineCostMinor", "unit_price", "amountCents", "tax-rate")
        if tamper.money_like(k)
    ] == [
        "lineCostMinor",
        "unit_price",
        "amountCents",
        "tax-rate",
    ]
    assert not any(tamper.money_like(k) for k in ("description", "multiple", "currency", "sku"))
    assert tamper.mined(['{"order": {"lines": [{"lineCostMinor": 900, "sk']) == ["lineCostMinor"]


def test_the_battery_keeps_the_orders_identity_and_spells_the_dictionary() -> None:
    flow = Flow.model_validate(
        {
            "item": {"sku": "{item.id}", "qty": "{item.quantity}", "lineCost": 100},
            "steps": [{"request": {"method": "POST", "path": "/o", "json": {"lines": "{lines}"}}}],
        }
    )
    own = tamper.flow_fields(flow, {"lines": [], "tip": 0})
    assert own.top == ["tip"] and own.line == ["lineCost"]
    line = [t.name for batch in tamper.battery("line", own, ["qty", "unitCost"]) for t in batch]
    assert line[:2] == ["lineCost", "unitCost"]
    assert {"sku", "qty", "currency"}.isdisjoint(line)
    assert {"amount", "unitPrice", "amount_cents", "amountCents", "unitPriceCents"} <= set(line)


def test_one_batch_clears_a_lenient_app() -> None:
    found = tamper.search([fields("a", "b", "c", "d")], app(set()), budget=5)
    assert found.orders == 1 and len(found.cleared) == 4 and not found.moved


def test_bisection_names_each_field_that_moved_the_amount() -> None:
    names = [f"f{i}" for i in range(16)]
    found = tamper.search([fields(*names)], app({"f5", "f12"}), budget=20)
    assert sorted(g[0].name for g, _ in found.moved) == ["f12", "f5"]
    assert all(len(g) == 1 for g, _ in found.moved)
    assert found.orders <= 12


def test_a_strict_app_that_names_what_it_refuses_is_narrowed() -> None:
    attempt = app({"amount"}, known={"amount", "total"})
    found = tamper.search([fields("tip", "amount", "coupon", "total")], attempt, budget=10)
    assert [t.name for t in found.refused] == ["tip", "coupon"]
    assert [g[0].name for g, _ in found.moved] == ["amount"]


def test_a_strict_app_that_names_nothing_is_split() -> None:
    attempt = app({"amount"}, known={"amount"}, named=False)
    found = tamper.search([fields("tip", "amount", "coupon", "total")], attempt, budget=10)
    assert [g[0].name for g, _ in found.moved] == ["amount"]
    assert {t.name for t in found.refused} == {"tip", "coupon", "total"}


def test_the_budget_bounds_the_orders_and_says_what_it_left() -> None:
    attempt = app(set(), known=set())
    found = tamper.search([fields(*[f"f{i}" for i in range(10)])], attempt, budget=3)
    assert found.orders == 3 and len(found.untried) == 7


def test_a_stop_ends_the_search() -> None:
    found = tamper.search(
        [fields("a"), fields("b")], lambda batch: Trial("stop", 429, text="rate limited"), 5
    )
    assert found.orders == 1 and found.stopped is not None
    assert [t.name for t in found.untried] == ["a", "b"]


def test_a_budget_spent_while_bisecting_blames_only_what_moved_the_amount() -> None:
    names = [f"f{i}" for i in range(8)]
    found = tamper.search([fields(*names)], app({"f0"}), budget=4)
    assert [[t.name for t in g] for g, _ in found.moved] == [["f0"]]
    assert {t.name for t in found.untried} == {"f1", "f2", "f3", "f4", "f5", "f6", "f7"} - {
        t.name for t in found.cleared
    }
