"""Money arithmetic for purchase orders: `Decimal` throughout, rounded half-up to cents per line.

A line's net is quantity x unit price and its tax quantity x unit price x the tax code's
rate, each rounded to cents; its total is the sum of the two. The order's amounts are the
sums of its lines', so they always add up: 50 x 12.50 = 625.00 net + 12 % = 75.00 tax,
700.00 line total.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
THOUSANDTH = Decimal("0.001")
HUNDRED = Decimal(100)
# The largest amount stored (Numeric(12, 2)); it is also exact as a JSON number.
MAX_AMOUNT = Decimal("9999999999.99")


def to_decimal(value: float | int | str | Decimal) -> Decimal:
    """A JSON number as the decimal it was written as (12.5 stays 12.5, not 12.4999…)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def thousandths(value: Decimal) -> Decimal:
    return value.quantize(THOUSANDTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineAmounts:
    quantity: Decimal
    unit_price: Decimal
    net: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.net + self.tax


@dataclass(frozen=True)
class OrderAmounts:
    subtotal: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax


def price_line(quantity: Decimal, unit_price: Decimal, tax_rate: Decimal) -> LineAmounts:
    """Quantity to 3 and unit price to 2 decimal places; then net and tax, each computed from
    the exact quantity x unit price and rounded to cents."""
    quantity, unit_price = thousandths(quantity), cents(unit_price)
    exact = quantity * unit_price
    return LineAmounts(quantity, unit_price, cents(exact), cents(exact * tax_rate / HUNDRED))


def total_of(lines: Iterable[LineAmounts]) -> OrderAmounts:
    lines = list(lines)
    return OrderAmounts(sum((line.net for line in lines), Decimal(0)), sum((line.tax for line in lines), Decimal(0)))
