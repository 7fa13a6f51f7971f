"""Ingesting order-history lines: matching by SKU, the counters, chunks, limits, all or nothing."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select
from starlette.testclient import TestClient

from core.api import registered
from core.config import Settings
from core.outbox import OutboxEvent
from core.unit_of_work import UnitOfWork
from core.worker import Worker
from models.mihwar.ingestion import read_order_date
from models.mihwar.repositories import OrderHistory
from models.mihwar.tables import ImportBatch, InventoryItem, OrderHistoryLine
from tests.mihwar.conftest import BASE, INGEST, Tenant, ingest, line, problem


def seed_items(unit: UnitOfWork, tenant: Tenant, *skus: str) -> dict[str, str]:
    items = [InventoryItem(organization_id=tenant.id, sku=sku, name=f"Item {sku}") for sku in skus]
    unit.session.add_all(items)
    unit.session.flush()
    unit.commit()
    return {item.sku: item.id for item in items}


def history_of(unit: UnitOfWork, tenant: Tenant) -> list[OrderHistoryLine]:
    return list(
        unit.session.scalars(
            select(OrderHistoryLine).where(OrderHistoryLine.organization_id == tenant.id).order_by(OrderHistoryLine.id)
        )
    )


def count(unit: UnitOfWork, model: Any, *where: Any) -> int:
    return unit.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


class TestMatching:
    def test_lines_of_known_skus_are_inserted_under_one_batch(
        self, client: TestClient, unit: UnitOfWork, tenant: Tenant
    ) -> None:
        ids = seed_items(unit, tenant, "COF-1KG", "MLK-1L")
        ingested = {"api": "mihwar", "flow": "order-history"}
        before = REGISTRY.get_sample_value("partner_gateway_records_total", ingested) or 0.0

        response = ingest(
            client,
            tenant,
            [line("COF-1KG", 12, deliveredQty=10), line("MLK-1L", 3.5, "2026-03-16")],
            periodKind="DAY",
            externalSourceId="SAP-EXPORT-1",
        )

        assert response.status_code == 201, response.text
        result = response.json()["data"]
        assert result == {
            "inserted": 2,
            "importBatchId": result["importBatchId"],
            "autoCreatedItems": 0,
            "skippedUnknownSku": 0,
            "missingSkus": [],
            "skippedBadDate": 0,
            "batchedInserts": 1,
        }
        assert "location" not in response.headers
        assert REGISTRY.get_sample_value("partner_gateway_records_total", ingested) == before + 2
        batch = unit.session.get(ImportBatch, result["importBatchId"])
        assert batch is not None
        assert (batch.organization_id, batch.external_source_id, batch.period_kind) == (
            tenant.id,
            "SAP-EXPORT-1",
            "DAY",
        )
        assert (batch.api_key_id, batch.inserted, batch.latest_order_date) == (tenant.key_id, 2, date(2026, 3, 16))
        lines = history_of(unit, tenant)
        assert [(row.item_id, row.order_date, row.ordered_qty, row.delivered_qty) for row in lines] == [
            (ids["COF-1KG"], date(2026, 3, 15), 12.0, 10.0),
            (ids["MLK-1L"], date(2026, 3, 16), 3.5, 3.5),  # deliveredQty defaults to orderedQty
        ]
        assert {row.import_batch_id for row in lines} == {batch.id}

    def test_unknown_skus_are_skipped_and_listed_once_each(
        self, client: TestClient, unit: UnitOfWork, tenant: Tenant
    ) -> None:
        seed_items(unit, tenant, "COF-1KG")

        response = ingest(client, tenant, [line("NEW-2"), line("COF-1KG"), line("NEW-1"), line("NEW-2")])

        result = response.json()["data"]
        assert (result["inserted"], result["skippedUnknownSku"], result["missingSkus"]) == (1, 3, ["NEW-2", "NEW-1"])
        assert count(unit, InventoryItem, InventoryItem.organization_id == tenant.id) == 1

    def test_auto_create_items_creates_missing_skus_named_by_item_name_or_sku(
        self, client: TestClient, unit: UnitOfWork, tenant: Tenant
    ) -> None:
        seed_items(unit, tenant, "COF-1KG")

        response = ingest(
            client,
            tenant,
            [
                line("TEA-1", itemName="Earl Grey Tea"),
                line("TEA-1", itemName="Other name"),
                line("SUG-1"),
                line("COF-1KG"),
            ],
            autoCreateItems=True,
        )

        result = response.json()["data"]
        assert (result["inserted"], result["autoCreatedItems"], result["skippedUnknownSku"]) == (4, 2, 0)
        assert result["missingSkus"] == []
        names = dict(
            unit.session.execute(
                select(InventoryItem.sku, InventoryItem.name).where(InventoryItem.organization_id == tenant.id)
            ).all()
        )
        assert names == {"COF-1KG": "Item COF-1KG", "TEA-1": "Earl Grey Tea", "SUG-1": "SUG-1"}

    def test_skus_are_matched_within_the_organization_only(
        self, client: TestClient, unit: UnitOfWork, tenant: Tenant, new_tenant: Callable[..., Tenant]
    ) -> None:
        seed_items(unit, new_tenant(), "OTHER-ORG-SKU")

        result = ingest(client, tenant, [line("OTHER-ORG-SKU")]).json()["data"]

        assert (result["inserted"], result["missingSkus"]) == (0, ["OTHER-ORG-SKU"])

    def test_a_request_that_inserts_nothing_still_gets_its_empty_batch(
        self, client: TestClient, unit: UnitOfWork, tenant: Tenant
    ) -> None:
        response = ingest(client, tenant, [line("UNKNOWN")])

        assert response.status_code == 201
        result = response.json()["data"]
        assert (result["inserted"], result["batchedInserts"]) == (0, 0)
        assert unit.session.get(ImportBatch, result["importBatchId"]) is not None


class TestDates:
    @pytest.mark.parametrize(
        ("text", "day"),
        [
            ("2026-03-15", date(2026, 3, 15)),
            ("2026-03-15T10:00:00Z", date(2026, 3, 15)),
            ("2026-03-15T23:30:00-05:00", date(2026, 3, 15)),  # the day it names, in its own offset
            ("2026-03-15T00:30:00+03:00", date(2026, 3, 15)),
            ("2026-03-15 08:00:00", date(2026, 3, 15)),
            ("2026-03-15T08:00:00.123456+00:00", date(2026, 3, 15)),
            (" 2026-03-15 ", date(2026, 3, 15)),
            ("", None),
            ("15/03/2026", None),
            ("2026-02-30", None),
            ("2026-03-15T25:00:00Z", None),
            ("20260315", None),
            ("\u0662\u0660\u0662\u0666-\u0660\u0663-\u0661\u0665", None),  # 2026-03-15 in Arabic-Indic digits
            ("yesterday", None),
        ],
    )
    def test_order_dates_are_read_as_the_spec_says(self, text: str, day: date | None) -> None:
        assert read_order_date(text) == day

    def test_lines_with_unreadable_dates_are_skipped_and_counted(
        self, client: TestClient, unit: UnitOfWork, tenant: Tenant
    ) -> None:
        seed_items(unit, tenant, "COF-1KG")

        response = ingest(
            client,
            tenant,
            [line(day=""), line(day="not a date"), line(day="2026-03-15T09:00:00+03:00"), line("UNKNOWN", day="bad")],
        )

        result = response.json()["data"]
        # The date is checked first: the unknown SKU with a bad date counts as a bad date only.
        assert (result["inserted"], result["skippedBadDate"], result["skippedUnknownSku"]) == (1, 3, 0)
        assert result["missingSkus"] == []

    def test_a_date_longer_than_64_characters_answers_400(self, client: TestClient, tenant: Tenant) -> None:
        response = ingest(client, tenant, [line(day="2026-03-15" + " " * 60)])

        assert response.status_code == 400
        assert problem(response)["errors"] == [
            {"pointer": "/lines/0/orderDate", "detail": "Must be at most 64 characters long."}
        ]


class TestBody:
    def test_members_the_spec_does_not_name_are_ignored(
        self, client: TestClient, unit: UnitOfWork, tenant: Tenant
    ) -> None:
        seed_items(unit, tenant, "COF-1KG")

        response = ingest(client, tenant, [line(warehouse="RUH-1", erpLineNo=7)], exportedBy="SAP", version=2)

        assert response.status_code == 201, response.text
        assert response.json()["data"]["inserted"] == 1

    @pytest.mark.parametrize(
        ("lines", "pointer", "detail"),
        [
            ([line(quantity=0)], "/lines/0/orderedQty", "Must be greater than 0."),
            ([line(deliveredQty=-1)], "/lines/0/deliveredQty", "Must be greater than or equal to 0."),
            ([{"sku": "A", "orderedQty": 1}], "/lines/0/orderDate", "This field is required."),
            ([line(sku="")], "/lines/0/sku", "Must be at least 1 characters long."),
            ([], "/lines", "Must contain at least 1 item(s)."),
        ],
    )
    def test_invalid_lines_answer_400_with_a_pointer_to_each(
        self, client: TestClient, tenant: Tenant, lines: list[dict[str, Any]], pointer: str, detail: str
    ) -> None:
        response = ingest(client, tenant, lines)

        assert response.status_code == 400
        body = problem(response)
        assert body["title"] == "Bad Request"
        assert body["errors"] == [{"pointer": pointer, "detail": detail}]

    def test_more_than_5000_lines_answer_413_even_when_the_lines_are_invalid(
        self, client: TestClient, tenant: Tenant
    ) -> None:
        response = ingest(client, tenant, [{"sku": 1}] * 5001)

        assert response.status_code == 413
        body = problem(response)
        assert body["title"] == "Content Too Large"
        assert body["detail"] == "At most 5000 lines per request; split the import into several requests."

    def test_5000_lines_go_in_ten_chunks_of_500(self, client: TestClient, unit: UnitOfWork, tenant: Tenant) -> None:
        seed_items(unit, tenant, "COF-1KG")

        response = ingest(client, tenant, [line(day=f"2026-03-{1 + i % 28:02d}") for i in range(5000)])

        assert response.status_code == 201, response.text
        assert (response.json()["data"]["inserted"], response.json()["data"]["batchedInserts"]) == (5000, 10)
        assert count(unit, OrderHistoryLine, OrderHistoryLine.organization_id == tenant.id) == 5000

    def test_501_lines_take_two_chunks(self, client: TestClient, unit: UnitOfWork, tenant: Tenant) -> None:
        seed_items(unit, tenant, "COF-1KG")

        assert ingest(client, tenant, [line()] * 501).json()["data"]["batchedInserts"] == 2


class TestAllOrNothing:
    def test_a_failure_in_a_later_chunk_leaves_no_line_item_batch_or_event_behind(
        self,
        client: TestClient,
        unit: UnitOfWork,
        tenant: Tenant,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        seed_items(unit, tenant, "COF-1KG")
        real_insert = OrderHistory.insert
        calls: list[int] = []

        def fail_on_the_third_chunk(self: OrderHistory, rows: Any) -> None:
            calls.append(len(rows))
            if len(calls) == 3:
                raise RuntimeError("the database went away")
            real_insert(self, rows)

        monkeypatch.setattr(OrderHistory, "insert", fail_on_the_third_chunk)
        lines = [line()] * 1200 + [line("AUTO-NEW", itemName="Created then rolled back")]
        events_before = count(unit, OutboxEvent)

        with TestClient(client.app, raise_server_exceptions=False) as failing:
            response = ingest(failing, tenant, lines, key="retry-me", autoCreateItems=True)

        assert response.status_code == 500
        assert calls == [500, 500, 201]
        unit.session.expire_all()
        assert count(unit, OrderHistoryLine, OrderHistoryLine.organization_id == tenant.id) == 0
        assert count(unit, ImportBatch, ImportBatch.organization_id == tenant.id) == 0
        assert (
            count(unit, InventoryItem, InventoryItem.sku == "AUTO-NEW", InventoryItem.organization_id == tenant.id) == 0
        )
        assert count(unit, OutboxEvent) == events_before

        monkeypatch.setattr(OrderHistory, "insert", real_insert)
        retried = ingest(client, tenant, lines, key="retry-me", autoCreateItems=True)

        assert retried.status_code == 201, retried.text
        assert retried.json()["data"]["inserted"] == 1201
        assert count(unit, OrderHistoryLine, OrderHistoryLine.organization_id == tenant.id) == 1201


class TestImportCompleted:
    def test_each_import_writes_one_event_with_its_counters(
        self, client: TestClient, unit: UnitOfWork, tenant: Tenant
    ) -> None:
        seed_items(unit, tenant, "COF-1KG")

        result = ingest(client, tenant, [line(), line("NOPE"), line(day="")], externalSourceId="ERP-9").json()["data"]

        events = unit.session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.type == "import.completed", OutboxEvent.key == result["importBatchId"]
            )
        ).all()
        assert [(event.api, event.payload) for event in events] == [
            (
                "mihwar",
                {
                    "importBatchId": result["importBatchId"],
                    "externalSourceId": "ERP-9",
                    "inserted": 1,
                    "autoCreatedItems": 0,
                    "skippedUnknownSku": 1,
                    "skippedBadDate": 1,
                },
            )
        ]


def test_ingestion_is_refused_without_a_json_body(client: TestClient, tenant: Tenant) -> None:
    response = client.post(INGEST, content=b"sku,qty\nA,1\n", headers={**tenant.headers, "Content-Type": "text/csv"})

    assert response.status_code == 415
    assert problem(response)["title"] == "Unsupported Media Type"


class TestLimits:
    @pytest.mark.parametrize(
        ("lines", "body", "pointer"),
        [
            ([line(sku="COF\u00001KG")], {}, ""),
            ([line(itemName="Beans\u0000")], {}, ""),
            ([line()], {"externalSourceId": "ERP\u0000"}, ""),
            ([line(quantity=1e9 + 1)], {}, "/lines/0/orderedQty"),
            ([line(deliveredQty=1e10)], {}, "/lines/0/deliveredQty"),
        ],
        ids=["nul-in-sku", "nul-in-name", "nul-in-source", "ordered-too-large", "delivered-too-large"],
    )
    def test_values_no_column_can_hold_answer_400(
        self, client: TestClient, tenant: Tenant, lines: list[dict[str, Any]], body: dict[str, Any], pointer: str
    ) -> None:
        response = ingest(client, tenant, lines, **body)

        assert response.status_code == 400, response.text
        assert problem(response)["errors"][0]["pointer"] == pointer

    @pytest.mark.parametrize("day", ["1899-12-31", "2101-01-01", "9999-12-31", "0001-01-01T00:00:00Z"])
    def test_days_outside_1900_to_2100_are_unreadable(self, day: str) -> None:
        assert read_order_date(day) is None

    def test_the_largest_quantities_still_forecast(
        self, client: TestClient, unit: UnitOfWork, tenant: Tenant, database: Settings
    ) -> None:
        days = [f"2026-0{month}-0{day}" for month in range(1, 10) for day in range(1, 10)]
        response = ingest(client, tenant, [line("BIG", 1e9, day) for day in days] * 60, autoCreateItems=True)
        assert response.status_code == 201
        Worker(database, registered()).run(once=True)

        listed = client.get(f"{BASE}/predictions", headers=tenant.headers).json()["data"]

        assert listed
        assert all(math.isfinite(row["predictedQty"]) for row in listed)
        assert all(row["upperBound"] is None or math.isfinite(row["upperBound"]) for row in listed)
