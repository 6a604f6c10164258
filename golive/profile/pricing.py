"""The profile's `pricing:` block: how golive prices a cart the way the target must.

The price checks (checks/test_price_integrity.py) place orders through the profile's
`checkout` flow (golive/profile/flows.py) and read the payment back from the Stripe
backend; this block says who the customers are, where unit prices come from and which
rules turn a cart into the total golive expects:

```yaml
pricing:
  customers: {in_state: alice, out_of_state: bob}  # users; their `state` variable is taxed
  menu_path: /api/v1/menu                          # or `prices: {1: 1250, …}`
  rules:                                           # optional: without them, by difference only
    platform_fee_bps: 1000
    tax_bps: {CA: 725, default: 500}
    fee_taxed: false
    rounding: half-up
  carts:
    single: [{id: 1, quantity: 1}]
    multi: [{id: 1, quantity: 2}, {id: 2, quantity: 1}]
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from golive.profile.names import UserName

PROFILE_KEY = "pricing"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Customers(_Strict):
    """Two users (names under `users:`) whose `state` variables have different tax rates."""

    in_state: UserName = Field(description="A user of the state with its own tax rate")
    out_of_state: UserName = Field(description="A user taxed at another rate")

    @model_validator(mode="after")
    def _differ(self) -> Customers:
        if self.in_state == self.out_of_state:
            raise ValueError("customers.in_state and customers.out_of_state need two users")
        return self


class Rules(_Strict):
    platform_fee_bps: int = Field(ge=0, le=10000, description="Fee in basis points of subtotal")
    tax_bps: dict[str, int] = Field(description="Tax rate per state in bp, with a `default`")
    fee_taxed: Literal[False] = Field(False, description="The fee is not taxed")
    rounding: Literal["half-up"] = Field("half-up", description="Per step, to the cent")

    @field_validator("tax_bps")
    @classmethod
    def _default(cls, value: dict[str, int]) -> dict[str, int]:
        if "default" not in value:
            raise ValueError("tax_bps needs a `default` rate")
        if any(not 0 <= bps <= 10000 for bps in value.values()):
            raise ValueError("tax_bps rates are 0-10000 basis points")
        return value

    def tax_rate(self, state: str) -> int:
        return self.tax_bps.get(state, self.tax_bps["default"])


class CartLine(_Strict):
    """One line of a cart: an item of the target's catalogue and how many."""

    id: int | str = Field(description="The item's id, as the target's API names it")
    quantity: int = Field(ge=1, description="How many of it")


class Carts(_Strict):
    single: list[CartLine] = Field(
        min_length=1,
        description="A cart of one line",
    )
    multi: list[CartLine] = Field(
        min_length=2,
        description="A cart of several lines",
    )


class Pricing(_Strict):
    """Who the price checks buy as, and what the total must be: unit prices (the app's
    menu or static `prices`, exactly one) and the rules."""

    customers: Customers = Field(description="Who checks out, by user name")
    state_var: str = Field(
        "state", description="The users' variable naming their state, as `rules.tax_bps` does"
    )
    menu_path: str | None = Field(None, description="GET path of the target's menu API")
    menu_id_field: str = Field("id", description="Item id field in the menu's items")
    menu_price_field: str = Field("price", description="Unit price (cents) in the menu")
    prices: dict[str, int] | None = Field(None, description="Static unit prices in cents")
    rules: Rules | None = Field(
        None,
        description="How the total must be computed from the unit prices; without rules the "
        "price checks judge by difference only (a tampered order costs what the clean one "
        "does) and the checks that need golive's total are not-run",
    )
    carts: Carts = Field(description="The carts the price checks buy (the app's own item ids)")
    currency: str = Field("usd", description="Currency of the totals")

    @model_validator(mode="after")
    def _price_source(self) -> Pricing:
        if self.menu_path is not None and self.prices is not None:
            raise ValueError("give one of menu_path and prices, not both")
        if self.rules is not None and self.menu_path is None and self.prices is None:
            raise ValueError("rules need unit prices: give menu_path or prices")
        return self


def round_half_up(amount: int, bps: int) -> int:
    """amount × bps / 10000, half-up to the cent, in integers."""
    return (amount * bps + 5000) // 10000


@dataclass
class Quote:
    lines: list[dict[str, Any]]
    subtotal: int
    platform_fee: int
    tax: int
    tax_rate_bps: int
    total: int
    fee_bps: int = 0

    def steps(self) -> list[str]:
        """golive's computation, step by step, for the evidence."""
        out = [
            f"{line['quantity']} x item {line['id']} @ {line['unit_price']} = {line['line_total']}"
            for line in self.lines
        ]
        out += [
            f"subtotal = {self.subtotal}",
            f"platform_fee = half_up({self.subtotal} x {self.fee_bps} bp) = {self.platform_fee}",
            f"tax = half_up({self.subtotal} x {self.tax_rate_bps} bp) = {self.tax} (fee untaxed)",
            f"total = {self.subtotal} + {self.platform_fee} + {self.tax} = {self.total}",
        ]
        return out


def quote(rules: Rules, prices: dict[str, int], cart: list[CartLine], state: str) -> Quote:
    lines = []
    for line in cart:
        unit = prices[str(line.id)]
        lines.append(
            {
                "id": line.id,
                "quantity": line.quantity,
                "unit_price": unit,
                "line_total": unit * line.quantity,
            }
        )
    subtotal = sum(line["line_total"] for line in lines)
    fee = round_half_up(subtotal, rules.platform_fee_bps)
    rate = rules.tax_rate(state)
    tax = round_half_up(subtotal, rate)
    return Quote(lines, subtotal, fee, tax, rate, subtotal + fee + tax, rules.platform_fee_bps)
