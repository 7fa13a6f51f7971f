"""Every list is served by an index, in its order: shown by PostgreSQL's EXPLAIN of each query.

Sequential scans and sorts are switched off for the transaction, so a query no index can
serve, or serve in its order, still plans one (as a disabled, hugely expensive node) and
fails here, whatever the table's statistics say of its size today: no Sort node may appear,
since the index must give the page its order (that is what keeps a page deep into a
million rows as cheap as the first).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event

from core.unit_of_work import UnitOfWork
from models.mihwar.repositories import InventoryItems, ItemFilter, Predictions, PurchaseOrders
from tests.mihwar.conftest import Tenant

MOMENT = datetime(2026, 3, 1, tzinfo=UTC)
KEY = [MOMENT, "item_cursorKey0000"]


@pytest.fixture
def postgresql(unit: UnitOfWork) -> UnitOfWork:
    if unit.connection.dialect.name != "postgresql":
        pytest.skip("EXPLAIN is checked on PostgreSQL")
    unit.connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    unit.connection.exec_driver_sql("SET LOCAL enable_sort = off")
    return unit


def plan_of(unit: UnitOfWork, query: Callable[[], Any]) -> str:
    """The plan of the first statement `query` runs."""
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(unit.connection, "before_cursor_execute", capture)
    try:
        query()
    finally:
        event.remove(unit.connection, "before_cursor_execute", capture)
    statement, parameters = statements[0]
    return "\n".join(row[0] for row in unit.connection.exec_driver_sql("EXPLAIN " + statement, parameters))


def assert_served_by(plan: str, index: str, *, ordered: bool = True) -> None:
    assert index in plan, plan
    assert "Seq Scan" not in plan, plan
    if ordered:
        assert "Sort" not in plan, plan


@pytest.mark.parametrize(
    "where",
    [
        pytest.param(ItemFilter(), id="plain"),
        pytest.param(ItemFilter(include_archived=True), id="archived-too"),
        pytest.param(ItemFilter(updated_after=MOMENT), id="updated-after"),
        pytest.param(ItemFilter(search="coffee"), id="search"),
    ],
)
@pytest.mark.parametrize("key", [None, KEY], ids=["first-page", "next-page"])
def test_inventory_pages(postgresql: UnitOfWork, tenant: Tenant, where: ItemFilter, key: Any) -> None:
    plan = plan_of(postgresql, lambda: InventoryItems(postgresql).page(tenant.id, where, key, 50))

    assert_served_by(plan, "ix_mihwar_inventory_items_sync")


def test_one_item_and_one_order(postgresql: UnitOfWork, tenant: Tenant) -> None:
    for query in (
        lambda: InventoryItems(postgresql).get(tenant.id, "item_x"),
        lambda: PurchaseOrders(postgresql).get(tenant.id, "po_x"),
    ):
        assert_served_by(plan_of(postgresql, query), "Index Scan")


# By status, either index serves the order: which one is cheaper depends on the statistics.
@pytest.mark.parametrize("status", [None, "APPROVED"])
@pytest.mark.parametrize("key", [None, KEY], ids=["first-page", "next-page"])
@pytest.mark.parametrize("created_after", [None, MOMENT], ids=["any-time", "created-after"])
def test_order_pages(postgresql: UnitOfWork, tenant: Tenant, status: str | None, key: Any, created_after: Any) -> None:
    plan = plan_of(postgresql, lambda: PurchaseOrders(postgresql).page(tenant.id, status, created_after, key, 50))

    assert_served_by(plan, "Index Scan using ix_mihwar_purchase_orders_")


def test_the_lines_of_a_page_of_orders(postgresql: UnitOfWork, tenant: Tenant) -> None:
    orders = [type("Order", (), {"id": f"po_{index}"})() for index in range(50)]

    plan = plan_of(postgresql, lambda: PurchaseOrders(postgresql).with_lines(orders))

    assert_served_by(plan, "ix_mihwar_purchase_order_lines_order_id", ordered=False)


@pytest.mark.parametrize("item_id", [None, "item_x"])
@pytest.mark.parametrize("key", [None, KEY], ids=["first-page", "next-page"])
def test_prediction_pages(postgresql: UnitOfWork, tenant: Tenant, item_id: str | None, key: Any) -> None:
    plan = plan_of(postgresql, lambda: Predictions(postgresql).page(tenant.id, item_id, key, 50))

    assert_served_by(plan, "Index Scan Backward using ix_mihwar_predictions_")
