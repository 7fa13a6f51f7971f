"""Predictions are recomputed by the worker after each import, never in the ingestion request."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from starlette.testclient import TestClient

from core.api import registered
from core.config import Settings
from core.unit_of_work import UnitOfWork
from core.worker import Worker
from models.mihwar import forecasting
from models.mihwar.tables import InventoryItem, Prediction
from tests.mihwar.conftest import BASE, Tenant, ingest, line

PREDICTIONS = f"{BASE}/predictions"


def run_worker(settings: Settings) -> None:
    Worker(settings, registered()).run(once=True)


def predictions_of(unit: UnitOfWork, item_id: str) -> list[Prediction]:
    unit.session.expire_all()
    return list(
        unit.session.scalars(select(Prediction).where(Prediction.item_id == item_id).order_by(Prediction.horizon))
    )


def test_the_worker_forecasts_the_items_an_import_touched(
    client: TestClient, unit: UnitOfWork, tenant: Tenant, database: Settings
) -> None:
    # Weekly demand of 10, 12, 8, 11 (Mondays of four consecutive weeks), plus a second item.
    weeks = [date(2026, 3, 2) + timedelta(weeks=index) for index in range(4)]
    lines = [line("STEADY", quantity, day.isoformat()) for day, quantity in zip(weeks, (10, 12, 8, 11), strict=True)]
    lines.append(line("OTHER", 1, "2026-03-03"))
    ingest(client, tenant, lines, autoCreateItems=True, periodKind="DAY")
    steady = unit.session.scalar(
        select(InventoryItem.id).where(InventoryItem.organization_id == tenant.id, InventoryItem.sku == "STEADY")
    )
    assert steady is not None

    assert predictions_of(unit, steady) == []  # not in the request: the worker makes them
    run_worker(database)

    made = predictions_of(unit, steady)
    expected = forecasting.forecast([10, 12, 8, 11], 4)
    assert [(row.method, row.horizon, row.period_kind) for row in made] == [("SES", h, "WEEK") for h in (1, 2, 3, 4)]
    assert [(row.period_start, row.period_end) for row in made] == [
        (date(2026, 3, 30), date(2026, 4, 5)),
        (date(2026, 4, 6), date(2026, 4, 12)),
        (date(2026, 4, 13), date(2026, 4, 19)),
        (date(2026, 4, 20), date(2026, 4, 26)),
    ]
    for row, step in zip(made, expected.steps, strict=True):
        assert row.predicted_qty == round(step.quantity, 4) == 10.174
        assert (row.lower_bound, row.upper_bound) == (round(step.lower or 0, 4), round(step.upper or 0, 4))
    listed = client.get(PREDICTIONS, params={"itemId": steady}, headers=tenant.headers).json()["data"]
    assert sorted(row["horizon"] for row in listed) == [1, 2, 3, 4]
    assert {row["method"] for row in listed} == {"SES"}


def test_another_import_replaces_the_items_predictions(
    client: TestClient, unit: UnitOfWork, tenant: Tenant, database: Settings
) -> None:
    ingest(client, tenant, [line("PART", 1, "2026-01-05"), line("PART", 2, "2026-03-02")], autoCreateItems=True)
    run_worker(database)
    part = unit.session.scalar(
        select(InventoryItem.id).where(InventoryItem.organization_id == tenant.id, InventoryItem.sku == "PART")
    )
    assert part is not None
    first = predictions_of(unit, part)
    assert {row.method for row in first} == {"CROSTON"}  # two orders in nine weeks: intermittent
    first_ids = {row.id for row in first}

    ingest(client, tenant, [line("PART", 3, "2026-03-09")])
    run_worker(database)

    second = predictions_of(unit, part)
    assert len(second) == 4
    assert not first_ids & {row.id for row in second}
    assert second[0].period_start == date(2026, 3, 16)


def test_monthly_history_is_forecast_by_month(
    client: TestClient, unit: UnitOfWork, tenant: Tenant, database: Settings
) -> None:
    months = ["2026-01-01", "2026-02-01", "2026-03-01"]
    ingest(client, tenant, [line("MONTHLY", 30, day) for day in months], autoCreateItems=True, periodKind="MONTH")
    run_worker(database)
    item = unit.session.scalar(
        select(InventoryItem.id).where(InventoryItem.organization_id == tenant.id, InventoryItem.sku == "MONTHLY")
    )
    assert item is not None

    made = predictions_of(unit, item)

    assert [(row.period_kind, row.period_start, row.period_end) for row in made[:2]] == [
        ("MONTH", date(2026, 4, 1), date(2026, 4, 30)),
        ("MONTH", date(2026, 5, 1), date(2026, 5, 31)),
    ]
    assert made[0].predicted_qty == 30.0
