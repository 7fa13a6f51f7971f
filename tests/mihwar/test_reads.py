"""Reading inventory, purchase orders and predictions: filters, cursor pages, tenants kept apart."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.unit_of_work import UnitOfWork
from models.mihwar.tables import InventoryItem, Prediction, PurchaseOrder, PurchaseOrderLine, Supplier
from tests.mihwar.conftest import BASE, Tenant, problem

ITEMS = f"{BASE}/inventory/items"
ORDERS = f"{BASE}/orders"
PREDICTIONS = f"{BASE}/predictions"
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
CURSOR_REFUSED = "The cursor is not one this list gave out (keep the other parameters unchanged while paging)."


def add_items(unit: UnitOfWork, tenant: Tenant, count: int, start: datetime = T0, **fields: Any) -> list[str]:
    items = [
        InventoryItem(
            organization_id=tenant.id,
            sku=f"SKU-{start.timestamp():.0f}-{index:03d}",
            name=f"Item {index:03d}",
            created_at=start,
            updated_at=start + timedelta(minutes=index // 2),  # pairs share a moment: the id breaks the tie
            **fields,
        )
        for index in range(count)
    ]
    unit.session.add_all(items)
    unit.session.flush()
    unit.commit()
    return [item.id for item in items]


def add_order(unit: UnitOfWork, tenant: Tenant, status: str = "SUBMITTED", created: datetime = T0) -> str:
    item = InventoryItem(organization_id=tenant.id, sku=f"PO-{created.timestamp()}-{status}", name="Beans")
    supplier = Supplier(organization_id=tenant.id, name="Bean Traders Ltd")
    unit.session.add_all([item, supplier])
    unit.session.flush()
    order = PurchaseOrder(
        organization_id=tenant.id,
        reference="PO-2026-0042",
        status=status,
        supplier_id=supplier.id,
        currency="SAR",
        total_cost=Decimal("290.00"),
        expected_delivery_date=date(2026, 4, 2),
        created_at=created,
        updated_at=created,
    )
    unit.session.add(order)
    unit.session.flush()
    unit.session.add(
        PurchaseOrderLine(
            order_id=order.id, item_id=item.id, ordered_qty=20, received_qty=0, unit_cost=Decimal("14.50")
        )
    )
    unit.commit()
    return order.id


def add_predictions(unit: UnitOfWork, tenant: Tenant, count: int, generated: datetime = T0) -> tuple[str, list[str]]:
    item = InventoryItem(organization_id=tenant.id, sku=f"PRED-{generated.timestamp()}", name="Forecast item")
    unit.session.add(item)
    unit.session.flush()
    rows = [
        Prediction(
            organization_id=tenant.id,
            item_id=item.id,
            period_kind="WEEK",
            period_start=date(2026, 3, 2) + timedelta(weeks=index),
            period_end=date(2026, 3, 8) + timedelta(weeks=index),
            predicted_qty=10.0 + index,
            lower_bound=None,
            upper_bound=None,
            method="CROSTON",
            horizon=index + 1,
            generated_at=generated + timedelta(seconds=index // 2),
        )
        for index in range(count)
    ]
    unit.session.add_all(rows)
    unit.session.flush()
    unit.commit()
    return item.id, [row.id for row in rows]


def every_page(client: TestClient, tenant: Tenant, url: str, between: Callable[[], None] = lambda: None) -> list[str]:
    """The ids of every page of a list, calling `between` after each page."""
    ids: list[str] = []
    cursor = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        response = client.get(url, params=params, headers=tenant.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        ids += [row["id"] for row in body["data"]]
        cursor = body["nextCursor"]
        if cursor is None:
            return ids
        between()


class TestInventory:
    def test_items_come_by_update_time_then_id_over_pages(
        self, client: TestClient, unit: UnitOfWork, tenant: Tenant
    ) -> None:
        ids = add_items(unit, tenant, 8)

        listed = every_page(client, tenant, ITEMS)

        expected = sorted(ids, key=lambda item_id: (ids.index(item_id) // 2, item_id))
        assert listed == expected

    def test_rows_inserted_while_paging_are_neither_skipped_nor_repeated(
        self, client: TestClient, unit: UnitOfWork, tenant: Tenant
    ) -> None:
        before = add_items(unit, tenant, 7)
        added: list[str] = []
        moments = iter(range(1, 100))

        def insert_meanwhile() -> None:
            # Before every row already seen, and after every row: both must leave the pages intact.
            added.extend(add_items(unit, tenant, 1, start=T0 - timedelta(days=next(moments))))
            added.extend(add_items(unit, tenant, 1, start=T0 + timedelta(days=next(moments))))

        listed = every_page(client, tenant, ITEMS, between=insert_meanwhile)

        assert sorted(item for item in listed if item in before) == sorted(before)
        assert len(listed) == len(set(listed))

    def test_search_matches_name_or_sku_whatever_the_case(
        self, client: TestClient, unit: UnitOfWork, tenant: Tenant
    ) -> None:
        unit.session.add_all(
            [
                InventoryItem(organization_id=tenant.id, sku="COF-1KG", name="Arabica Beans"),
                InventoryItem(organization_id=tenant.id, sku="MLK-1L", name="Whole Milk"),
                InventoryItem(organization_id=tenant.id, sku="X_1", name="Coffee 100% pure"),
            ]
        )
        unit.commit()

        def skus(search: str) -> list[str]:
            response = client.get(ITEMS, params={"search": search}, headers=tenant.headers)
            return sorted(item["sku"] for item in response.json()["data"])

        assert skus("cof") == ["COF-1KG", "X_1"]
        assert skus("MILK") == ["MLK-1L"]
        assert skus("100%") == ["X_1"]
        assert skus("_") == ["X_1"]
        assert skus("") == ["COF-1KG", "MLK-1L", "X_1"]

    def test_archived_items_are_left_out_unless_asked_for(
        self, client: TestClient, unit: UnitOfWork, tenant: Tenant
    ) -> None:
        live = add_items(unit, tenant, 1)
        archived = add_items(unit, tenant, 1, start=T0 + timedelta(hours=1), archived=True)

        default = client.get(ITEMS, headers=tenant.headers).json()["data"]
        everything = client.get(ITEMS, params={"includeArchived": "true"}, headers=tenant.headers).json()["data"]

        assert [item["id"] for item in default] == live
        assert [item["id"] for item in everything] == live + archived
        assert client.get(f"{ITEMS}/{archived[0]}", headers=tenant.headers).json()["data"]["archived"] is True

    def test_updated_after_is_strict_and_reads_any_offset(
        self, client: TestClient, unit: UnitOfWork, tenant: Tenant
    ) -> None:
        ids = add_items(unit, tenant, 6)  # updated at T0, T0, T0+1min, T0+1min, T0+2min, T0+2min

        def after(moment: str) -> list[str]:
            return [
                item["id"]
                for item in client.get(ITEMS, params={"updatedAfter": moment}, headers=tenant.headers).json()["data"]
            ]

        assert sorted(after("2026-03-01T08:01:00Z")) == sorted(ids[4:])
        assert sorted(after("2026-03-01T11:00:30+03:00")) == sorted(ids[2:])  # 08:00:30 UTC

    def test_an_item_reads_with_every_member_of_the_spec(
        self, client: TestClient, unit: UnitOfWork, tenant: Tenant
    ) -> None:
        item = InventoryItem(
            organization_id=tenant.id,
            sku="COF-1KG",
            name="Arabica Coffee Beans",
            unit="kg",
            current_stock=8,
            low_stock_threshold=10,
            created_at=T0,
            updated_at=T0 + timedelta(days=1),
        )
        unit.session.add(item)
        unit.commit()

        response = client.get(f"{ITEMS}/{item.id}", headers=tenant.headers)

        assert response.json() == {
            "data": {
                "id": item.id,
                "sku": "COF-1KG",
                "name": "Arabica Coffee Beans",
                "unit": "kg",
                "currentStock": 8.0,
                "lowStockThreshold": 10.0,
                "archived": False,
                "createdAt": "2026-03-01T08:00:00Z",
                "updatedAt": "2026-03-02T08:00:00Z",
            }
        }


class TestOrders:
    def test_an_order_reads_with_its_lines(self, client: TestClient, unit: UnitOfWork, tenant: Tenant) -> None:
        order_id = add_order(unit, tenant)

        data = client.get(f"{ORDERS}/{order_id}", headers=tenant.headers).json()["data"]

        assert {key: data[key] for key in ("id", "reference", "status", "supplierName", "currency", "totalCost")} == {
            "id": order_id,
            "reference": "PO-2026-0042",
            "status": "SUBMITTED",
            "supplierName": "Bean Traders Ltd",
            "currency": "SAR",
            "totalCost": 290.0,
        }
        assert data["expectedDeliveryDate"] == "2026-04-02"
        assert [(line["sku"], line["itemName"], line["orderedQty"], line["unitCost"]) for line in data["lines"]] == [
            (data["lines"][0]["sku"], "Beans", 20.0, 14.5)
        ]

    def test_orders_filter_by_status_and_strictly_by_creation(
        self, client: TestClient, unit: UnitOfWork, tenant: Tenant
    ) -> None:
        first = add_order(unit, tenant, "DRAFT", T0)
        second = add_order(unit, tenant, "APPROVED", T0 + timedelta(hours=1))
        third = add_order(unit, tenant, "APPROVED", T0 + timedelta(hours=2))

        def ids(**params: str) -> list[str]:
            return [order["id"] for order in client.get(ORDERS, params=params, headers=tenant.headers).json()["data"]]

        assert ids() == [first, second, third]
        assert ids(status="APPROVED") == [second, third]
        assert ids(createdAfter="2026-03-01T09:00:00Z") == [third]
        assert every_page(client, tenant, ORDERS) == [first, second, third]

    def test_an_unknown_status_answers_400(self, client: TestClient, tenant: Tenant) -> None:
        response = client.get(ORDERS, params={"status": "LOST"}, headers=tenant.headers)

        assert response.status_code == 400
        assert problem(response)["errors"][0]["pointer"] == "status"


class TestPredictions:
    def test_predictions_come_newest_first_and_filter_by_item(
        self, client: TestClient, unit: UnitOfWork, tenant: Tenant
    ) -> None:
        older_item, older = add_predictions(unit, tenant, 2, T0)
        newer_item, newer = add_predictions(unit, tenant, 5, T0 + timedelta(hours=1))

        listed = every_page(client, tenant, PREDICTIONS)
        only_older = client.get(PREDICTIONS, params={"itemId": older_item}, headers=tenant.headers).json()["data"]

        assert set(listed[:5]) == set(newer)
        assert set(listed[5:]) == set(older)
        assert sorted(row["id"] for row in only_older) == sorted(older)
        assert client.get(PREDICTIONS, params={"itemId": "item_unknown"}, headers=tenant.headers).json() == {
            "data": [],
            "nextCursor": None,
        }
        assert {row["itemId"] for row in only_older} == {older_item} != {newer_item}


class TestTenants:
    def test_another_organizations_rows_answer_404_and_never_list(
        self, client: TestClient, unit: UnitOfWork, tenant: Tenant, new_tenant: Callable[..., Tenant]
    ) -> None:
        other = new_tenant()
        item = add_items(unit, other, 1)[0]
        order = add_order(unit, other)
        add_predictions(unit, other, 1)

        for url in (f"{ITEMS}/{item}", f"{ORDERS}/{order}"):
            response = client.get(url, headers=tenant.headers)
            assert response.status_code == 404, url
            assert problem(response)["title"] == "Not Found"
            assert client.get(url, headers=other.headers).status_code == 200
        for url in (ITEMS, ORDERS, PREDICTIONS):
            assert client.get(url, headers=tenant.headers).json()["data"] == [], url

    def test_an_id_that_does_not_exist_answers_404(self, client: TestClient, tenant: Tenant) -> None:
        assert client.get(f"{ITEMS}/item_nothing", headers=tenant.headers).status_code == 404
        assert client.get(f"{ORDERS}/po_nothing", headers=tenant.headers).status_code == 404

    def test_a_malformed_id_answers_400(self, client: TestClient, tenant: Tenant) -> None:
        response = client.get(f"{ITEMS}/not%20an%20id", headers=tenant.headers)

        assert response.status_code == 400
        assert problem(response)["errors"][0]["pointer"] == "id"


class TestCursors:
    @pytest.fixture
    def cursor(self, client: TestClient, unit: UnitOfWork, tenant: Tenant) -> str:
        add_items(unit, tenant, 3)
        cursor: str = client.get(ITEMS, params={"limit": "1"}, headers=tenant.headers).json()["nextCursor"]
        return cursor

    def assert_refused(self, response: Any) -> None:
        assert response.status_code == 400, response.text
        assert problem(response)["errors"] == [{"pointer": "cursor", "detail": CURSOR_REFUSED}]

    @pytest.mark.parametrize(
        "tamper",
        [
            pytest.param(lambda cursor: cursor[:-1] + ("A" if cursor[-1] != "A" else "B"), id="signature"),
            pytest.param(lambda cursor: "W" + cursor[1:] if cursor[0] != "W" else "X" + cursor[1:], id="payload"),
            pytest.param(lambda cursor: cursor.partition(".")[0], id="unsigned"),
            pytest.param(lambda cursor: "not a cursor", id="garbage"),
            pytest.param(lambda cursor: "%%%.%%%", id="not-base64"),
            pytest.param(lambda cursor: cursor.partition(".")[0] + ".é", id="not-ascii"),
        ],
    )
    def test_a_tampered_cursor_answers_400(
        self, client: TestClient, tenant: Tenant, cursor: str, tamper: Callable[[str], str]
    ) -> None:
        self.assert_refused(client.get(ITEMS, params={"cursor": tamper(cursor)}, headers=tenant.headers))

    def test_a_cursor_works_only_for_its_list_filters_and_organization(
        self, client: TestClient, tenant: Tenant, cursor: str, new_tenant: Callable[..., Tenant]
    ) -> None:
        assert client.get(ITEMS, params={"cursor": cursor}, headers=tenant.headers).status_code == 200
        self.assert_refused(client.get(ITEMS, params={"cursor": cursor, "search": "x"}, headers=tenant.headers))
        self.assert_refused(client.get(ORDERS, params={"cursor": cursor}, headers=tenant.headers))
        self.assert_refused(client.get(ITEMS, params={"cursor": cursor}, headers=new_tenant().headers))


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (ITEMS, {"search": "cof\u0000fee"}),
        (ITEMS, {"updatedAfter": "0001-01-01T00:00:00+05:00"}),
        (ITEMS, {"updatedAfter": "9999-12-31T23:59:59-05:00"}),
        (ORDERS, {"createdAfter": "not a date"}),
        (PREDICTIONS, {"itemId": "item\u0000"}),
    ],
    ids=["nul-in-search", "before-year-1", "after-year-9999", "not-a-date", "nul-in-id"],
)
def test_parameters_no_query_can_use_answer_400(
    client: TestClient, tenant: Tenant, url: str, params: dict[str, str]
) -> None:
    response = client.get(url, params=params, headers=tenant.headers)

    assert response.status_code == 400, response.text
    assert problem(response)["errors"][0]["pointer"] == next(iter(params))
