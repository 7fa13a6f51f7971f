"""Concurrent imports and forecasts never corrupt state (the real test is on PostgreSQL, where
they run in parallel; SQLite takes them one at a time)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

from sqlalchemy import func, select
from starlette.testclient import TestClient

from core.config import Settings
from core.database import Database
from core.unit_of_work import UnitOfWork
from handlers.mihwar.api import API
from models.mihwar.predictions import Forecaster
from models.mihwar.tables import InventoryItem, Prediction
from tests.mihwar.conftest import Tenant, ingest, line

ROUNDS = 5


def test_imports_creating_the_same_skus_in_opposite_orders_all_succeed(
    client: TestClient, unit: UnitOfWork, tenant: Tenant
) -> None:
    skus = [f"PART-{index:03d}" for index in range(200)]
    for round_ in range(ROUNDS):
        names = [f"{sku}-{round_}" for sku in skus]
        bodies = [[line(sku) for sku in names], [line(sku) for sku in reversed(names)]]
        start = Barrier(2)

        def send(lines: list[dict[str, Any]], start: Barrier = start) -> Any:
            start.wait()
            return ingest(client, tenant, lines, autoCreateItems=True)

        with ThreadPoolExecutor(2) as pool:
            responses = list(pool.map(send, bodies))

        assert [response.status_code for response in responses] == [201, 201], [r.text for r in responses]
        assert sum(response.json()["data"]["autoCreatedItems"] for response in responses) == len(names)
    created = unit.session.scalar(select(func.count()).where(InventoryItem.organization_id == tenant.id))
    assert created == len(skus) * ROUNDS


def test_two_workers_forecasting_one_item_leave_one_set_of_predictions(
    client: TestClient, unit: UnitOfWork, tenant: Tenant, mihwar_db: Database, database: Settings
) -> None:
    ingest(
        client,
        tenant,
        [line("STEADY", 10 + week % 3, f"2026-0{1 + week // 4}-{1 + 7 * (week % 4):02d}") for week in range(16)],
        autoCreateItems=True,
    )
    item = unit.session.scalar(select(InventoryItem.id).where(InventoryItem.organization_id == tenant.id))
    assert item is not None
    start = Barrier(4)

    def recompute(_: int) -> int:
        start.wait()
        with UnitOfWork(mihwar_db, database) as work:
            made = Forecaster(work, API.config(database)).recompute(item)
            work.commit()
        return made

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(recompute, range(4))) == [4] * 4

    unit.session.expire_all()
    assert unit.session.scalar(select(func.count()).where(Prediction.item_id == item)) == 4
