"""The probes and the metrics every node serves (specs/ops.yaml), whatever APIs it mounts.

Liveness answers without the database; readiness names what is not ready (a database
that refuses or hangs, migrations behind, Redis away) and never waits longer than its
timeout; the metrics count requests by API and operationId with the refusals the
operators watch, and read the queues from the database.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

import tests.conftest as root
from core.config import Settings
from core.factory import create_app
from core.ops.readiness import NotReadyError, Part, Readiness, node_readiness
from core.unit_of_work import UnitOfWork
from handlers.idl.api import API as IDL
from tests.conftest import free_port

HEALTH = "application/health+json"


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of a scrape (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(key) == value for key, value in labels.items()):
                return float(found.value)
    return 0.0


def scrape(client: TestClient) -> str:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return answer.text


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a database that hangs)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    kept: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                kept.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    for connection in kept:
        connection.close()
    server.close()


class TestLiveness:
    def test_it_answers_pass_without_credentials(self, client: TestClient) -> None:
        answer = client.get("/healthz")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == HEALTH
        assert answer.json() == {"status": "pass"}
        assert answer.headers["cache-control"] == "no-store"

    def test_it_answers_while_the_database_is_down(self, tmp_path: Path) -> None:
        down = Settings.from_env(
            {"INSTANCE_DIR": str(tmp_path), "DATABASE_URL": f"postgresql+psycopg://x@127.0.0.1:{free_port()}/x"}
        )
        with TestClient(create_app(down, apis=[])) as client:
            assert client.get("/healthz").json() == {"status": "pass"}

    @pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
    def test_another_method_answers_405_naming_get(self, client: TestClient, path: str) -> None:
        answer = client.post(path)
        assert answer.status_code == 405
        assert answer.headers["allow"] == "GET"
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["status"] == 405


class TestReadiness:
    def test_a_migrated_database_is_ready(self, client: TestClient) -> None:
        answer = client.get("/readyz")
        assert answer.status_code == 200
        assert answer.headers["content-type"] == HEALTH
        body = answer.json()
        assert body["status"] == "pass"
        assert set(body["checks"]) == {"database:responseTime", "database:migrations"}
        for (check,) in body["checks"].values():
            assert check["status"] == "pass"
            assert check["observedUnit"] == "ms"

    def test_a_database_that_refuses_connections_answers_503_naming_it(self, tmp_path: Path) -> None:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
        settings = Settings.from_env({"INSTANCE_DIR": str(tmp_path), "DATABASE_URL": url})
        with TestClient(create_app(settings, apis=[])) as client:
            answer = client.get("/readyz")
        assert answer.status_code == 503
        body = answer.json()
        assert body["status"] == "fail"
        assert body["output"].startswith("database: the query failed (OperationalError")
        assert body["checks"]["database:responseTime"][0]["status"] == "fail"

    def test_a_database_that_hangs_answers_503_within_the_timeout(self, tmp_path: Path, silent_port: int) -> None:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{silent_port}/test"
        readiness = node_readiness(Settings.from_env({"INSTANCE_DIR": str(tmp_path), "DATABASE_URL": url}), [], 0.5)
        started = time.monotonic()
        ready, body = asyncio.run(readiness.report())
        assert time.monotonic() - started < 1.5
        assert not ready
        assert body["checks"]["database:responseTime"][0]["output"] == "no answer within 0.5 s"
        readiness.close()

    def test_a_check_still_waiting_is_not_started_again(self) -> None:
        release, calls = threading.Event(), []

        def stuck() -> None:
            calls.append(1)
            release.wait(5)

        readiness = Readiness([Part("thing:responseTime", "component", stuck)], timeout=0.2)
        first = asyncio.run(readiness.report())[1]
        second = asyncio.run(readiness.report())[1]
        release.set()
        assert first["output"] == "thing: no answer within 0.2 s"
        assert second["output"] == "thing: the previous check has had no answer for over 0.2 s"
        assert calls == [1]

    def test_an_unmigrated_database_answers_503_naming_the_migrations(self, tmp_path: Path) -> None:
        fresh = Settings.from_env({"INSTANCE_DIR": str(tmp_path)})
        with TestClient(create_app(fresh, apis=[IDL])) as client:
            answer = client.get("/readyz")
        assert answer.status_code == 503
        assert answer.json()["output"] == "database: no migration has been applied"
        assert answer.json()["checks"]["database:responseTime"][0]["status"] == "pass"

    def test_a_database_behind_the_newest_migration_answers_503_naming_what_is_missing(
        self, database: Settings
    ) -> None:
        readiness = node_readiness(database, ["0001_newer_than_any"])
        ready, body = asyncio.run(readiness.report())
        readiness.close()
        assert not ready
        assert body["output"] == (
            "database: not at head: 0001_newer_than_any not applied (run `partner-gateway migrate`)"
        )

    def test_redis_is_checked_when_the_node_shares_counters_there(self, database: Settings) -> None:
        away = dataclasses.replace(database, redis_url=f"redis://127.0.0.1:{free_port()}/0")
        readiness = node_readiness(away, [])
        ready, body = asyncio.run(readiness.report())
        readiness.close()
        assert not ready
        assert body["output"].startswith("redis: no answer (ConnectionError")
        assert body["checks"]["database:responseTime"][0]["status"] == "pass"

    def test_a_failing_check_reports_its_reason(self) -> None:
        def behind() -> None:
            raise NotReadyError("behind")

        ready, body = asyncio.run(Readiness([Part("thing:migrations", "component", behind)]).report())
        assert not ready
        assert body == {
            "status": "fail",
            "output": "thing: behind",
            "checks": {
                "thing:migrations": [{**body["checks"]["thing:migrations"][0], "status": "fail", "output": "behind"}]
            },
        }


class TestMetrics:
    def test_requests_are_counted_by_api_operation_id_and_status_and_timed(self, client: TestClient) -> None:
        before = scrape(client)
        labels = {"api": "order_accept", "operation": "listProducts", "method": "GET"}
        assert client.get("/order-accept/api/products").status_code == 401
        after = scrape(client)
        counted = "partner_gateway_http_requests_total"
        assert sample(after, counted, **labels, status="401") == sample(before, counted, **labels, status="401") + 1
        timed = "partner_gateway_http_request_duration_seconds_count"
        assert sample(after, timed, api="order_accept", operation="listProducts") == (
            sample(before, timed, api="order_accept", operation="listProducts") + 1
        )
        failures = "partner_gateway_auth_failures_total"
        assert sample(after, failures, api="order_accept") == sample(before, failures, api="order_accept") + 1

    def test_a_request_no_operation_serves_is_counted_as_unrouted(self, client: TestClient) -> None:
        before = scrape(client)
        assert client.get("/idl/api/v1/no-such-thing").status_code == 404
        name, labels = "partner_gateway_http_requests_total", {"api": "idl", "operation": "unrouted", "status": "404"}
        assert sample(scrape(client), name, **labels) == sample(before, name, **labels) + 1

    def test_validation_rejections_are_counted_by_operation(self, client: TestClient) -> None:
        name, labels = "partner_gateway_validation_rejections_total", {"api": "idl", "operation": "login"}
        before = sample(scrape(client), name, **labels)
        assert client.post("/idl/api/v1/auth/login", json={"email": 42}).status_code == 400
        assert sample(scrape(client), name, **labels) == before + 1

    def test_the_probes_are_not_counted_as_requests(self, client: TestClient) -> None:
        client.get("/healthz")
        assert 'api="none"' not in scrape(client)

    def test_the_database_pool_and_the_queues_are_reported(self, client: TestClient, database: Settings) -> None:
        text = scrape(client)
        assert sample(text, "partner_gateway_db_pool_connections", state="capacity") > 0
        assert sample(text, "partner_gateway_queues_readable") == 1
        for queue in ("outbox", "idl-scan", "mihwar-webhook-delivery", "scp-push", "scp-webhook-delivery"):
            assert f'partner_gateway_queue_items{{queue="{queue}",state="due"}}' in text
            assert f'partner_gateway_queue_oldest_age_seconds{{queue="{queue}"}}' in text

    def test_a_waiting_outbox_event_shows_as_due_with_its_age(self, client: TestClient, database: Settings) -> None:
        from core.database import Database
        from core.outbox import Outbox, OutboxEvent

        db = Database(database.database_url)
        try:
            with UnitOfWork(db, database) as unit:
                Outbox(unit, "ops-test").publish("thing.happened", {"a": 1})
                unit.commit()
            text = scrape(client)
            assert sample(text, "partner_gateway_queue_items", queue="outbox", state="due") >= 1
            assert sample(text, "partner_gateway_queue_oldest_age_seconds", queue="outbox") >= 0
        finally:
            with UnitOfWork(db, database) as unit:
                unit.session.query(OutboxEvent).filter(OutboxEvent.api == "ops-test").delete()
                unit.commit()
            db.dispose()

    def test_with_a_metrics_port_they_are_served_there_only(self, database: Settings) -> None:
        # The test client's requests arrive on port 80 of "testserver".
        elsewhere = create_app(dataclasses.replace(database, metrics_port=9464))
        with TestClient(elsewhere) as client:
            answer = client.get("/metrics")
            assert answer.status_code == 404
            assert answer.headers["content-type"] == "application/problem+json"
            assert client.get("/healthz").status_code == 200
        here = create_app(dataclasses.replace(database, metrics_port=80))
        with TestClient(here) as client:
            assert client.get("/metrics").status_code == 200
            assert client.get("/readyz").status_code == 200
            assert client.get("/order-accept/api/products").status_code == 404, "no partner API on the metrics port"


def test_a_worker_on_a_machine_of_its_own_serves_its_metrics(database: Settings, tmp_path: Path) -> None:
    """`partner-gateway worker --metrics-port` answers a scrape with the worker's own counts."""
    port = free_port()
    env = {**os.environ, **root.test_environment(database.instance_dir)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    gateway = str(Path(sys.executable).with_name("partner-gateway"))
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(  # noqa: S603 - our own command
            [gateway, "worker", "--interval", "0.2", "--metrics-port", str(port), "--metrics-host", "127.0.0.1"],
            env=env,
            stdout=log,
            stderr=log,
        )
    try:
        deadline, text = time.monotonic() + 30, ""
        # The port answers before the worker has built its database pool: until then, no sample.
        while not sample(text, "partner_gateway_db_pool_connections", state="capacity") and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as answer:
                    text = answer.read().decode()
            except OSError:
                time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    assert sample(text, "partner_gateway_db_pool_connections", state="capacity") > 0, (
        tmp_path / "worker.log"
    ).read_text()
    assert "partner_gateway_webhook_in_flight" in text
