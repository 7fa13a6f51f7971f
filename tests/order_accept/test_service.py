"""What every Order-Accept response gets from the core: request ids, access logs, its error format, one transaction."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from core.config import Settings
from core.database import Database
from models.order_accept.tables import Customer
from tests.order_accept.helpers import assert_problem, order_lines


class TestRequestId:
    def test_every_response_carries_one(self, client: TestClient, auth: dict[str, str]) -> None:
        ok = client.get("/order-accept/api/products/AZ-700", headers=auth)
        error = client.get("/order-accept/api/products/AZ-700")

        assert ok.headers["x-request-id"] != error.headers["x-request-id"]
        assert error.json()["traceId"] == error.headers["x-request-id"]

    def test_a_well_formed_incoming_id_is_kept(self, client: TestClient) -> None:
        response = client.get("/order-accept/api/products", headers={"X-Request-ID": "client-id-1234"})

        assert response.headers["x-request-id"] == "client-id-1234"
        assert response.json()["traceId"] == "client-id-1234"

    @pytest.mark.parametrize("incoming", ["short", "has spaces in it", "x" * 200])
    def test_a_malformed_incoming_id_is_replaced(self, client: TestClient, incoming: str) -> None:
        response = client.get("/order-accept/api/products", headers={"X-Request-ID": incoming})

        assert response.headers["x-request-id"] != incoming
        assert response.headers["x-request-id"].startswith("00-")

    def test_the_access_log_has_the_same_id(
        self, client: TestClient, auth: dict[str, str], caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.INFO, logger="access"):
            response = client.get("/order-accept/api/products?size=1", headers=auth)

        records = [json.loads(record.getMessage()) for record in caplog.records if record.name == "access"]
        assert records[-1]["request_id"] == response.headers["x-request-id"]
        assert records[-1]["status"] == 200
        assert records[-1]["method"] == "GET"
        assert records[-1]["path"] == "/order-accept/api/products"
        assert records[-1]["query"] == "size=1"


class TestErrorsInTheApisOwnFormat:
    def test_unknown_path_under_the_prefix(self, client: TestClient) -> None:
        assert_problem(client.get("/order-accept/api/nothing-here"), 404, title="Not Found")

    def test_method_not_allowed(self, client: TestClient, auth: dict[str, str]) -> None:
        assert_problem(client.put("/order-accept/api/products", headers=auth), 405, title="Method Not Allowed")

    def test_paths_outside_every_api_get_plain_problem_details(self, client: TestClient) -> None:
        response = client.get("/nowhere")

        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["requestId"] == response.headers["x-request-id"]

    def test_an_unexpected_error_is_a_500_without_internals(
        self, client: TestClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def explode(*_args: object) -> None:
            raise RuntimeError("secret internals")

        monkeypatch.setattr("models.order_accept.repositories.ProductRepository.get_active", explode)

        response = client.get("/order-accept/api/products/AZ-700", headers=auth)

        body = assert_problem(response, 500, title="Internal Server Error")
        assert "secret" not in response.text
        assert "detail" not in body


class TestOneTransactionPerRequest:
    def test_a_failing_request_writes_nothing(
        self,
        client: TestClient,
        settings: Settings,
        auth: dict[str, str],
        user_id: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        def fail(*_args: object) -> None:
            raise RuntimeError("storage failed after the customer was inserted")

        monkeypatch.setattr("models.order_accept.repositories.OrderRepository.add", fail)

        response = client.post("/order-accept/api/orders", json=order_lines(("CKA", 1)), headers=auth)

        assert response.status_code == 500
        database = Database(settings.database_url)
        with database.sessions() as session:
            assert session.scalar(select(Customer).where(Customer.external_customer_id == user_id)) is None
        database.dispose()


class TestRoutersAgree:
    def test_a_path_connexion_does_not_route_never_reaches_a_handler(
        self, client: TestClient, auth: dict[str, str]
    ) -> None:
        response = client.get("/order-accept/api/products/AZ-700%0A", headers=auth)

        assert_problem(response, 404, title="Not Found")
