"""Concurrent requests never corrupt state: first use of a customer, and orders placed at once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from core.config import Settings
from core.database import Database
from core.problems import Conflict
from core.unit_of_work import UnitOfWork
from models.order_accept.ordering import OrderService, RequestedLine
from models.order_accept.repositories import CustomerRepository
from models.order_accept.tables import Customer, Order

WORKERS = 8


@pytest.fixture
def db(database: Settings) -> Iterator[Database]:
    db = Database(database.database_url)
    yield db
    db.dispose()


def test_concurrent_first_use_creates_one_customer(db: Database) -> None:
    external_id = f"concurrent-{uuid.uuid4()}"

    def first_use(_: int) -> int:
        with UnitOfWork(db) as unit:
            customer_id = CustomerRepository(unit).get_or_create(external_id).id
            unit.commit()
            return customer_id

    with ThreadPoolExecutor(WORKERS) as pool:
        ids = set(pool.map(first_use, range(WORKERS * 2)))

    with db.sessions() as session:
        count = session.scalar(select(func.count()).where(Customer.external_customer_id == external_id))
    assert len(ids) == 1
    assert count == 1


def test_concurrent_orders_all_land_with_distinct_ids(db: Database) -> None:
    external_id = f"concurrent-{uuid.uuid4()}"

    def place(quantity: int) -> int:
        with UnitOfWork(db) as unit:
            order_id = OrderService(unit).place(external_id, [RequestedLine("CKA", quantity)]).id
            unit.commit()
            return order_id

    with ThreadPoolExecutor(WORKERS) as pool:
        ids = list(pool.map(place, range(1, WORKERS * 2 + 1)))

    with UnitOfWork(db) as unit:
        session = unit.session
        customer = CustomerRepository(unit).find(external_id)
        assert customer is not None
        stored = session.scalar(select(func.count()).where(Order.customer_id == customer.id))
    assert len(set(ids)) == len(ids) == stored


def test_concurrent_requests_with_one_idempotency_key_create_one_order(db: Database) -> None:
    external_id = f"concurrent-{uuid.uuid4()}"
    with UnitOfWork(db) as unit:
        CustomerRepository(unit).get_or_create(external_id)
        unit.commit()

    def place(_: int) -> int | str:
        try:
            with UnitOfWork(db) as unit:
                order_id = OrderService(unit).place(external_id, [RequestedLine("CKA", 1)], "same-key").id
                unit.commit()
                return order_id
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = list(pool.map(place, range(WORKERS * 2)))

    order_ids = {outcome for outcome in outcomes if outcome != "conflict"}
    with UnitOfWork(db) as unit:
        session = unit.session
        customer = CustomerRepository(unit).find(external_id)
        assert customer is not None
        stored = session.scalar(select(func.count()).where(Order.customer_id == customer.id))
    assert len(order_ids) == 1
    assert stored == 1
