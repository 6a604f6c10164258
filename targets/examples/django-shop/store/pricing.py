"""The price rule, on the server only: the client sends SKUs and quantities, never amounts.

subtotal = sum(unit_amount * qty) from the products table
tax      = subtotal * 8.25 %, rounded half-up once on the subtotal (not per line)
total    = subtotal + tax; no platform fee. All integer cents.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Quote:
    subtotal_cents: int
    tax_cents: int
    total_cents: int


def tax_cents(subtotal_cents: int, basis_points: int | None = None) -> int:
    """subtotal * rate, half-up, in integers: 1000 cents at 8.25 % is 82.5 -> 83."""
    rate = settings.SHOP_TAX_RATE_BASIS_POINTS if basis_points is None else basis_points
    return (subtotal_cents * rate + 5_000) // 10_000


def quote(lines: list[tuple[int, int]]) -> Quote:
    """`lines` are (unit_amount, qty) pairs read from the database."""
    subtotal = sum(unit_amount * qty for unit_amount, qty in lines)
    tax = tax_cents(subtotal)
    return Quote(subtotal_cents=subtotal, tax_cents=tax, total_cents=subtotal + tax)
