"""P/O numbers, `<job number>-PO-<nnn>`, stay unique and sequential per project when creations race.

Each test numbers a project of its own, so it knows exactly which numbers must come out. The
races are real: threads released together by a barrier, each with its own client (or its own
unit of work), on SQLite and on PostgreSQL (CI sets DATABASE_URL).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from core.config import Settings
from core.database import Database
from core.factory import App
from core.unit_of_work import UnitOfWork
from models.idl.accounts import Accounts, Caller, Users
from models.idl.purchasing import PurchaseOrders
from models.idl.reference import import_rows
from models.idl.tables import Project, PurchaseOrder, User
from tests.idl.conftest import BASE, Headers, idl_of, line, order_body

ORDERS = f"{BASE}/purchase-orders"
WORKERS = 8
PER_WORKER = 5


def import_project(idl_db: Database, settings: Settings) -> tuple[str, str]:
    """A new active project with an active cost code CC-001: (id, job number)."""
    suffix = uuid.uuid4().hex[:10].upper()
    project_id, job_number = f"N{suffix}", f"N{suffix}"
    cost_code = {
        "project_id": project_id,
        "id": "CC-001",
        "code": "01-100",
        "description": "Site Preparation",
        "category": "Construction",
        "budget": "10000.00",
        "active": True,
    }
    with UnitOfWork(idl_db, settings) as work:
        project = {"id": project_id, "job_number": job_number, "name": f"Project {suffix}", "budget": "100000.00"}
        import_rows(work, "projects", [project])
        import_rows(work, "cost-codes", [cost_code])
        work.commit()
    return project_id, job_number


def new_foreman(idl_db: Database, settings: Settings, projects: tuple[str, ...]) -> User:
    with UnitOfWork(idl_db, settings) as work:
        user = Users(work).create(
            email=f"numbering-{uuid.uuid4().hex[:10]}@idl.test",
            name="Numbering Foreman",
            role="foreman",
            password="a-long-test-password",
            project_ids=projects,
        )
        work.commit()
    return user


def headers_of(idl_db: Database, settings: Settings, user: User) -> Headers:
    with UnitOfWork(idl_db, settings) as work:
        account = work.session.get(User, user.id)
        assert account is not None
        tokens = Accounts(work, idl_of(settings).jwt).issue_for(account)
        work.commit()
    return {"Authorization": f"Bearer {tokens.access_token}"}


def sequence(job_number: str, count: int) -> list[str]:
    return [f"{job_number}-PO-{k:03d}" for k in range(1, count + 1)]


def stored_numbers(idl_db: Database, settings: Settings, project_id: str) -> tuple[list[str], int]:
    """The project's P/O numbers as stored, and its counter."""
    with UnitOfWork(idl_db, settings) as work:
        numbers = work.session.scalars(
            select(PurchaseOrder.po_number).where(PurchaseOrder.project_id == project_id).order_by(PurchaseOrder.id)
        ).all()
        project = work.session.get(Project, project_id)
        assert project is not None
        return list(numbers), project.last_po_sequence


@pytest.fixture
def threads_db(database: Settings) -> Iterator[Database]:
    """An engine of the threads' own, as a second worker process would have."""
    db = Database(database.database_url)
    yield db
    db.dispose()


def test_concurrent_requests_on_one_project_get_distinct_contiguous_numbers(
    app: App, idl_db: Database, database: Settings
) -> None:
    project_id, job_number = import_project(idl_db, database)
    headers = headers_of(idl_db, database, new_foreman(idl_db, database, (project_id,)))
    # Build the app's middleware stack once, before the race.
    assert TestClient(app).get(f"{BASE}/users/me", headers=headers).status_code == 200
    start = threading.Barrier(WORKERS)

    def create_several(worker: int) -> list[tuple[int, Any]]:
        client = TestClient(app)
        start.wait(timeout=30)
        outcomes = []
        for number in range(PER_WORKER):
            body = order_body(line(description=f"worker {worker}, order {number}"), project_id=project_id)
            response = client.post(ORDERS, json=body, headers=headers)
            outcomes.append((response.status_code, response.json()))
        return outcomes

    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = [outcome for batch in pool.map(create_several, range(WORKERS)) for outcome in batch]

    assert [status for status, _ in outcomes] == [201] * WORKERS * PER_WORKER, outcomes
    numbers = [body["po_number"] for _, body in outcomes]
    assert len(set(numbers)) == len(numbers)
    assert sorted(numbers) == sequence(job_number, WORKERS * PER_WORKER)
    stored, counter = stored_numbers(idl_db, database, project_id)
    assert sorted(stored) == sorted(numbers)
    assert counter == WORKERS * PER_WORKER
    # each worker's own creations were numbered in the order it made them
    for worker in range(WORKERS):
        mine = numbers[worker * PER_WORKER : (worker + 1) * PER_WORKER]
        assert mine == sorted(mine)


def test_concurrent_creations_on_two_projects_number_each_project_on_its_own(
    threads_db: Database, idl_db: Database, database: Settings
) -> None:
    projects = [import_project(idl_db, database) for _ in range(2)]
    user = new_foreman(idl_db, database, tuple(project_id for project_id, _ in projects))
    start = threading.Barrier(WORKERS)

    def create_several(worker: int) -> list[tuple[str, str]]:
        project_id = projects[worker % 2][0]
        start.wait(timeout=30)
        made = []
        for _ in range(PER_WORKER):
            with UnitOfWork(threads_db, database) as work:
                account = work.session.get(User, user.id)
                assert account is not None
                principal = Caller.of(account, "127.0.0.1")
                order = PurchaseOrders(work).create(principal, order_body(project_id=project_id))
                work.commit()
                made.append((project_id, order.po_number))
        return made

    with ThreadPoolExecutor(WORKERS) as pool:
        made = [item for batch in pool.map(create_several, range(WORKERS)) for item in batch]

    per_project = WORKERS // 2 * PER_WORKER
    for project_id, job_number in projects:
        numbers = [number for project, number in made if project == project_id]
        assert sorted(numbers) == sequence(job_number, per_project)
        stored, counter = stored_numbers(idl_db, database, project_id)
        assert sorted(stored) == sequence(job_number, per_project)
        assert counter == per_project


def test_a_creation_rolled_back_in_the_race_gives_its_number_back(
    threads_db: Database, idl_db: Database, database: Settings
) -> None:
    project_id, job_number = import_project(idl_db, database)
    user = new_foreman(idl_db, database, (project_id,))
    start = threading.Barrier(WORKERS)

    def create_several(worker: int) -> list[str]:
        start.wait(timeout=30)
        kept = []
        for attempt in range(PER_WORKER):
            with UnitOfWork(threads_db, database) as work:
                account = work.session.get(User, user.id)
                assert account is not None
                principal = Caller.of(account, "127.0.0.1")
                order = PurchaseOrders(work).create(principal, order_body(project_id=project_id))
                if (worker + attempt) % 2:
                    continue  # leave without committing: the unit rolls back
                work.commit()
                kept.append(order.po_number)
        return kept

    with ThreadPoolExecutor(WORKERS) as pool:
        kept = [number for batch in pool.map(create_several, range(WORKERS)) for number in batch]

    committed = sum(1 for worker in range(WORKERS) for attempt in range(PER_WORKER) if not (worker + attempt) % 2)
    assert sorted(kept) == sequence(job_number, committed)
    stored, counter = stored_numbers(idl_db, database, project_id)
    assert sorted(stored) == sorted(kept)
    assert counter == committed


def test_a_refused_creation_takes_no_number(client: TestClient, idl_db: Database, database: Settings) -> None:
    project_id, job_number = import_project(idl_db, database)
    headers = headers_of(idl_db, database, new_foreman(idl_db, database, (project_id,)))

    first = client.post(ORDERS, json=order_body(project_id=project_id), headers=headers)
    refused = client.post(ORDERS, json=order_body(line(tax_code="ZZ"), project_id=project_id), headers=headers)
    second = client.post(ORDERS, json=order_body(project_id=project_id), headers=headers)

    assert refused.status_code == 422
    assert [first.json()["po_number"], second.json()["po_number"]] == sequence(job_number, 2)
    with UnitOfWork(idl_db, database) as work:
        count = work.session.scalar(
            select(func.count()).select_from(PurchaseOrder).where(PurchaseOrder.project_id == project_id)
        )
    assert count == 2
