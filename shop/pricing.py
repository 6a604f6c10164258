"""The price rules: every amount in integer cents, computed on the server from the
database's prices and the customer's state. Nothing the client sends takes part.

    line_total   = unit_price × quantity                      (exact)
    subtotal     = Σ line_total                               (exact)
    platform_fee = round_half_up(subtotal × 10 %)             (one rounding)
    tax          = round_half_up(subtotal × rate(state))      (one rounding; the fee is not taxed)
    total        = subtotal + platform_fee + tax              (exact)
    vendor_amount = subtotal                                  (the vendors' share; the platform
                                                               keeps the fee and remits the tax)

Rates are basis points (1 bp = 0.01 %): CA 725 (7.25 %); every other state 500 (5.00 %).
Rounding is half-up to the cent, applied separately to the fee and to the tax, each computed
from the exact subtotal: `(amount × bps + 5000) // 10000` in integers, never floats.

Examples: 2 × 1250 + 1 × 899 = 3399 → fee 339.9 → 340; CA tax 246.4275 → 246, total 3985;
NY tax 169.95 → 170, total 3909. A 50-cent item: fee 5, CA tax 3.625 → 4 (total 59),
NY tax 2.5 → 3 (total 58).
"""

from __future__ import annotations

from dataclasses import dataclass, field

PLATFORM_FEE_BPS = 1000  # 10 %
TAX_BPS = {"CA": 725}
DEFAULT_TAX_BPS = 500
CURRENCY = "usd"
PRICING_VERSION = "2026-11 half-up per step"


def round_half_up(amount: int, bps: int) -> int:
    """amount × bps / 10000, rounded half-up to an integer (amount, bps ≥ 0)."""
    return (amount * bps + 5000) // 10000


def tax_rate_bps(state: str) -> int:
    return TAX_BPS.get(state.upper(), DEFAULT_TAX_BPS)


@dataclass(frozen=True)
class Line:
    food_item_id: int
    name: str
    vendor_id: int
    unit_price: int
    quantity: int

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Quote:
    lines: tuple[Line, ...]
    state: str
    subtotal: int
    platform_fee: int
    platform_fee_bps: int
    tax: int
    tax_rate_bps: int
    total: int
    vendor_amount: int
    currency: str = CURRENCY
    overrides: dict[str, int] = field(default_factory=dict)  # flawed runs only

    def breakdown(self) -> dict:
        return {
            "currency": self.currency,
            "state": self.state,
            "items": [
                {
                    "food_item_id": line.food_item_id,
                    "name": line.name,
                    "vendor_id": line.vendor_id,
                    "unit_price": line.unit_price,
                    "quantity": line.quantity,
                    "line_total": line.line_total,
                }
                for line in self.lines
            ],
            "subtotal": self.subtotal,
            "platform_fee": self.platform_fee,
            "platform_fee_bps": self.platform_fee_bps,
            "tax": self.tax,
            "tax_rate_bps": self.tax_rate_bps,
            "total": self.total,
            "vendor_amount": self.vendor_amount,
            "rounding": "half-up per step (fee, tax)",
        }


def quote(
    lines: list[Line],
    state: str,
    *,
    fee_override: int | None = None,
    total_override: int | None = None,
    charge_tax: bool = True,
) -> Quote:
    """The price of `lines` for a customer in `state`. The overrides and `charge_tax=False`
    exist only for the flaw switches; the shop never passes them otherwise."""
    subtotal = sum(line.line_total for line in lines)
    fee = round_half_up(subtotal, PLATFORM_FEE_BPS) if fee_override is None else fee_override
    rate = tax_rate_bps(state) if charge_tax else 0
    tax = round_half_up(subtotal, rate)
    total = subtotal + fee + tax if total_override is None else total_override
    overrides = {}
    if fee_override is not None:
        overrides["platform_fee"] = fee_override
    if total_override is not None:
        overrides["total"] = total_override
    return Quote(
        lines=tuple(lines),
        state=state.upper(),
        subtotal=subtotal,
        platform_fee=fee,
        platform_fee_bps=PLATFORM_FEE_BPS,
        tax=tax,
        tax_rate_bps=rate,
        total=total,
        vendor_amount=subtotal,
        overrides=overrides,
    )
