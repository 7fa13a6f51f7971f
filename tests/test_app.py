"""The app factory, the mount table, and what every response gets: request ids, logs, error formats."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from core.config import Settings
from core.database import Database
from core.factory import create_app, mounted
from core.mounts import MOUNTS
from models.order_accept.tables import Customer
from tests.order_accept.helpers import assert_problem, order_lines


class TestFactory:
    def test_importing_builds_nothing(self) -> None:
        import core.factory

        assert not [name for name, value in vars(core.factory).items() if type(value).__name__ == "FlaskApp"]

    def test_mounts_only_apis_whose_spec_and_handlers_exist(self, settings: Settings) -> None:
        assert [mount.name for mount in mounted(settings)] == ["order_accept", "idl"]

    def test_without_specs_nothing_is_mounted(self, settings: Settings, tmp_path: Path) -> None:
        app = create_app(replace(settings, spec_dir=tmp_path))

        with app.test_client() as client:
            response = client.get("/order-accept/api/products")

        assert response.status_code == 404
        assert response.json()["type"] == "about:blank"

    def test_an_unknown_request_path_is_refused(self, settings: Settings) -> None:
        with pytest.raises(ValueError, match="REQUEST_PATH"):
            create_app(replace(settings, request_path="turbo"))

    def test_the_mount_prefixes_do_not_overlap(self) -> None:
        prefixes = [mount.prefix for mount in MOUNTS]
        for prefix in prefixes:
            others = [other for other in prefixes if other != prefix]
            assert not [other for other in others if other.startswith(prefix + "/") or other == prefix]
        assert prefixes == ["/order-accept", "/idl/api/v1", "/mihwar", "/cpras", "/scp"]

    def test_serves_the_spec_and_swagger_ui(self, client: TestClient) -> None:
        spec = client.get("/order-accept/openapi.json")
        assert spec.status_code == 200
        assert spec.json()["info"]["title"] == "Order-Accept API"
        ui = client.get("/order-accept/ui/")
        assert ui.status_code == 200
        assert "swagger-ui" in ui.text


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
