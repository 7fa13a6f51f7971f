"""P/O money: Decimal arithmetic, half-up to cents per line, tax from the exact line amount."""

from __future__ import annotations

from decimal import Decimal

import pytest

from models.idl.money import price_line, total_of


def test_the_documents_example_line() -> None:
    line = price_line(Decimal("50.000"), Decimal("12.50"), Decimal("12.00"))

    assert (line.net, line.tax, line.total) == (Decimal("625.00"), Decimal("75.00"), Decimal("700.00"))


@pytest.mark.parametrize(
    ("quantity", "unit_price", "rate", "net", "tax"),
    [
        ("3", "0.125", "0", "0.39", "0.00"),  # the unit price rounds half up to 0.13 first
        ("0.1", "2.05", "12", "0.21", "0.02"),  # tax of the exact 0.205 (0.0246), not of 0.21
        ("1", "10.05", "12", "10.05", "1.21"),  # 1.206
        ("2.5", "0.10", "5", "0.25", "0.01"),  # 0.0125
        ("0.0005", "1000", "0", "1.00", "0.00"),  # the quantity rounds half up to 0.001
    ],
)
def test_rounding_is_half_up_per_line(quantity: str, unit_price: str, rate: str, net: str, tax: str) -> None:
    line = price_line(Decimal(quantity), Decimal(unit_price), Decimal(rate))

    assert (line.net, line.tax) == (Decimal(net), Decimal(tax))
    assert line.total == line.net + line.tax


def test_the_order_is_the_sum_of_its_rounded_lines() -> None:
    lines = [price_line(Decimal("0.1"), Decimal("2.05"), Decimal("12")) for _ in range(3)]

    totals = total_of(lines)

    assert (totals.subtotal, totals.tax, totals.total) == (Decimal("0.63"), Decimal("0.06"), Decimal("0.69"))
    assert totals.total == sum(line.total for line in lines)
