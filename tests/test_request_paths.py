"""The fast request path validates exactly as the stock one: same statuses, same error bodies.

Every HTTP test already runs on both paths (tests/conftest.py); these compare the two
answers side by side for malformed input, and time the fast body validator on the
largest body any spec allows (5000 Mihwar ingestion lines).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from connexion.spec import Specification
from starlette.testclient import TestClient

from core.config import PROJECT_ROOT, Settings
from core.factory import create_app
from core.fast_path import RustJSONBodyValidator, to_json_schema
from core.problems import ValidationFailed
from core.validation import FieldJSONBodyValidator

ORDERS = "/order-accept/api/orders"


@pytest.fixture(scope="module")
def clients(database: Settings) -> Iterator[dict[str, TestClient]]:
    apps = {path: create_app(replace(database, request_path=path)) for path in ("fast", "stock")}
    with apps["fast"].test_client() as fast, apps["stock"].test_client() as stock:
        yield {"fast": fast, "stock": stock}


def lines(count: int, **overrides: Any) -> list[dict[str, Any]]:
    return [{"productId": "AZ-700", "quantity": 1, **overrides} for _ in range(count)]


INVALID_REQUESTS = [
    pytest.param("GET", "/order-accept/api/products?offset=-1&size=1000&extra=1", None, id="query"),
    pytest.param("GET", f"/order-accept/api/products/{'x' * 65}", None, id="path"),
    pytest.param("DELETE", f"{ORDERS}/0", None, id="path-minimum"),
    pytest.param("DELETE", f"{ORDERS}/{2**63}", None, id="path-int64"),
    pytest.param("POST", ORDERS, {"items": lines(101)}, id="too-many-lines"),
    pytest.param("POST", ORDERS, {"items": lines(3, quantity=0)}, id="every-bad-line"),
    pytest.param("POST", ORDERS, {"items": [{"productId": None, "quantity": 2**31}]}, id="null-and-int32"),
    pytest.param("POST", ORDERS, {"items": [], "note": "x"}, id="empty-and-unknown"),
    pytest.param("POST", ORDERS, [], id="not-an-object"),
]


@pytest.mark.parametrize(("method", "path", "body"), INVALID_REQUESTS)
def test_invalid_requests_get_the_same_answer_on_both_paths(
    clients: dict[str, TestClient], auth: dict[str, str], method: str, path: str, body: Any
) -> None:
    headers = {**auth, "X-Request-ID": "parity-check-0001"}
    answers = {name: client.request(method, path, json=body, headers=headers) for name, client in clients.items()}

    fast, stock = answers["fast"], answers["stock"]
    assert fast.status_code == stock.status_code == 400
    assert fast.headers["content-type"] == stock.headers["content-type"]
    assert fast.json() == stock.json()


def ingestion_schema() -> dict[str, Any]:
    spec = Specification.load(PROJECT_ROOT / "specs" / "mihwar.yaml")
    operation = spec["paths"]["/api/integrations/v1/ingestion/order-lines"]["post"]
    schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    return schema


def validators(schema: dict[str, Any]) -> tuple[RustJSONBodyValidator, FieldJSONBodyValidator]:
    options: dict[str, Any] = {"schema": schema, "required": True, "nullable": False, "encoding": "utf-8"}
    return RustJSONBodyValidator(**options, strict_validation=True), FieldJSONBodyValidator(
        **options, strict_validation=True
    )


def ingestion_body(count: int) -> dict[str, Any]:
    return {
        "lines": [
            {"sku": f"SKU-{i}", "itemName": f"Item {i}", "orderedQty": 1 + i % 7, "orderDate": "2026-01-15"}
            for i in range(count)
        ]
    }


def test_a_5000_line_body_validates_in_under_5_ms() -> None:
    fast, _ = validators(ingestion_schema())
    body = ingestion_body(5000)

    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        fast._validate(body)
        best = min(best, time.perf_counter() - started)

    assert best < 0.005, f"{best * 1000:.2f} ms"


@pytest.mark.parametrize(
    "breakage",
    [
        pytest.param(lambda body: body["lines"][4321].update(orderedQty=0), id="exclusive-minimum"),
        pytest.param(lambda body: body["lines"][17].pop("sku"), id="missing"),
        pytest.param(lambda body: body["lines"].append(body["lines"][0]), id="over-5000"),
        pytest.param(lambda body: body.update(unexpected=True), id="unknown-property"),
    ],
)
def test_a_broken_5000_line_body_gets_the_stock_errors(breakage: Any) -> None:
    fast, stock = validators(ingestion_schema())
    body = ingestion_body(5000)
    breakage(body)

    errors = []
    for validator in (fast, stock):
        with pytest.raises(ValidationFailed) as caught:
            validator._validate(body)
        errors.append(caught.value.errors)

    assert errors[0] == errors[1]
    assert errors[0]


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string", "nullable": True}, {"type": ["string", "null"]}),
        ({"type": "string", "enum": ["a"], "nullable": True}, {"type": ["string", "null"], "enum": ["a", None]}),
        (
            {"type": "integer", "format": "int32", "minimum": 1},
            {"type": "integer", "format": "int32", "minimum": 1, "maximum": 2**31 - 1},
        ),
        (
            {"type": "integer", "format": "int64"},
            {"type": "integer", "format": "int64", "minimum": -(2**63), "maximum": 2**63 - 1},
        ),
    ],
)
def test_openapi_schemas_translate_to_json_schema(schema: dict[str, Any], expected: dict[str, Any]) -> None:
    assert to_json_schema(schema) == expected
