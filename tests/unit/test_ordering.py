"""Order rules that need no database."""

from __future__ import annotations

from models.order_accept.ordering import RequestedLine, merge_lines


def test_merge_lines_sums_quantities_in_first_seen_order() -> None:
    lines = [RequestedLine("B", 1), RequestedLine("A", 2), RequestedLine("B", 3)]

    assert list(merge_lines(lines).items()) == [("B", 4), ("A", 2)]


def test_merge_lines_keeps_distinct_products() -> None:
    assert merge_lines([RequestedLine("A", 1)]) == {"A": 1}
