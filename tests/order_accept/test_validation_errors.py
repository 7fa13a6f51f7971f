"""Invalid requests get every invalid field by path, in sentences; large bodies validate in milliseconds.

The field-by-field errors are pinned whole here for Order-Accept; the same reporter
(core.validation) serves every API. The timings use the largest body any spec allows
(5000 Mihwar ingestion lines), valid and broken.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from connexion.spec import Specification
from starlette.testclient import TestClient

from core.config import PROJECT_ROOT
from core.validation import MAX_ERRORS, SchemaValidator, to_json_schema

ORDERS = "/order-accept/api/orders"
PRODUCTS = "/order-accept/api/products"
INTEGER = "Must be of type integer."
INT64 = "Must be a valid int64."
PARAMETERS_INVALID = "One or more parameters are invalid."
BODY_INVALID = "The request body is invalid."


def lines(count: int, **overrides: Any) -> list[dict[str, Any]]:
    return [{"productId": "AZ-700", "quantity": 1, **overrides} for _ in range(count)]


INVALID_REQUESTS = [
    pytest.param(
        "GET",
        "/order-accept/api/products?offset=-1&size=1000&extra=1",
        None,
        PARAMETERS_INVALID,
        {
            "extra": ["Unknown query parameter."],
            "offset": ["Must be greater than or equal to 0."],
            "size": ["Must be less than or equal to 100."],
        },
        id="query",
    ),
    pytest.param(
        "GET",
        f"/order-accept/api/products/{'x' * 65}",
        None,
        PARAMETERS_INVALID,
        {"id": ["Must be at most 64 characters long."]},
        id="path",
    ),
    pytest.param(
        "DELETE", f"{ORDERS}/0", None, PARAMETERS_INVALID, {"id": ["Must be greater than or equal to 1."]}, id="minimum"
    ),
    pytest.param("DELETE", f"{ORDERS}/{2**63}", None, PARAMETERS_INVALID, {"id": [INT64]}, id="int64"),
    pytest.param("DELETE", f"{ORDERS}/%20%201", None, PARAMETERS_INVALID, {"id": [INTEGER]}, id="spaces"),
    pytest.param("DELETE", f"{ORDERS}/1_0", None, PARAMETERS_INVALID, {"id": [INTEGER]}, id="underscore"),
    pytest.param("DELETE", f"{ORDERS}/+1", None, PARAMETERS_INVALID, {"id": [INTEGER]}, id="plus-sign"),
    pytest.param("GET", f"{PRODUCTS}?size=nan", None, PARAMETERS_INVALID, {"size": [INTEGER]}, id="nan"),
    pytest.param("GET", f"{PRODUCTS}?size=1e3", None, PARAMETERS_INVALID, {"size": [INTEGER]}, id="exponent"),
    pytest.param(
        "POST", ORDERS, {"items": lines(101)}, BODY_INVALID, {"items": ["Must contain at most 100 item(s)."]},
        id="too-many-lines",
    ),
    pytest.param(
        "POST",
        ORDERS,
        {"items": lines(3, quantity=0)},
        BODY_INVALID,
        {f"items[{index}].quantity": ["Must be greater than or equal to 1."] for index in range(3)},
        id="every-bad-line",
    ),
    pytest.param(
        "POST",
        ORDERS,
        {"items": [{"productId": None, "quantity": 2**31}]},
        BODY_INVALID,
        {
            "items[0].productId": ["Must be of type string."],
            "items[0].quantity": ["Must be less than or equal to 1000."],
        },
        id="null-and-int32",
    ),
    pytest.param(
        "POST",
        ORDERS,
        {"items": [], "note": "x"},
        BODY_INVALID,
        {"items": ["Must contain at least 1 item(s)."], "note": ["Unknown property."]},
        id="empty-and-unknown",
    ),
    pytest.param("POST", ORDERS, [], BODY_INVALID, {"$": ["Must be of type object."]}, id="not-an-object"),
    pytest.param("POST", ORDERS, {}, BODY_INVALID, {"items": ["This field is required."]}, id="missing"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "detail", "errors"), INVALID_REQUESTS)
def test_each_invalid_field_is_named_with_what_is_wrong(
    client: TestClient,
    auth: dict[str, str],
    method: str,
    path: str,
    body: Any,
    detail: str,
    errors: dict[str, list[str]],
) -> None:
    response = client.request(method, path, json=body, headers=auth)

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == detail
    assert response.json()["errors"] == errors


def order_schema() -> dict[str, Any]:
    spec = Specification.load(PROJECT_ROOT / "specs" / "order_accept.yaml")
    schema: dict[str, Any] = spec["paths"]["/api/orders"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    return schema


def ingestion_schema() -> dict[str, Any]:
    spec = Specification.load(PROJECT_ROOT / "specs" / "mihwar.yaml")
    operation = spec["paths"]["/api/integrations/v1/ingestion/order-lines"]["post"]
    schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    return schema


def ingestion_body(count: int) -> dict[str, Any]:
    return {
        "lines": [
            {"sku": f"SKU-{i}", "itemName": f"Item {i}", "orderedQty": 1 + i % 7, "orderDate": "2026-01-15"}
            for i in range(count)
        ]
    }


def best_of(runs: int, action: Any) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def test_a_5000_line_body_validates_in_under_5_ms() -> None:
    validator, body = SchemaValidator(ingestion_schema()), ingestion_body(5000)

    best = best_of(5, lambda: validator.is_valid(body))

    assert validator.is_valid(body)
    assert best < 0.005, f"{best * 1000:.2f} ms"


def test_a_body_broken_everywhere_reports_a_bounded_number_of_errors_quickly() -> None:
    validator, body = SchemaValidator(ingestion_schema()), ingestion_body(5000)
    for line in body["lines"]:
        line["orderedQty"] = 0

    best = best_of(3, lambda: validator.errors(body))

    errors = validator.errors(body)
    assert len(errors) == MAX_ERRORS
    assert errors["lines[0].orderedQty"] == ["Must be greater than 0."]
    assert best < 0.05, f"{best * 1000:.2f} ms"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        pytest.param({"items": [{"x": 1}] * 120_000}, {"items": ["Must contain at most 100 item(s)."]}, id="too-long"),
        pytest.param(
            {"items": [{"productId": "AZ-700", "quantity": 1}] * 99 + [{"productId": 5, "quantity": 1}]},
            {"items[99].productId": ["Must be of type string."]},
            id="the-last-line",
        ),
        pytest.param({"items": [], "extra": [0] * 200_000}, {"items": ["Must contain at least 1 item(s)."],
                     "extra": ["Unknown property."]}, id="huge-unknown-member"),
        pytest.param([0] * 200_000, {"$": ["Must be of type object."]}, id="huge-array-for-an-object"),
    ],
)  # fmt: skip
def test_a_large_rejected_body_is_described_without_walking_all_of_it(body: Any, errors: dict[str, list[str]]) -> None:
    """jsonschema-rs lists every error at once, each quoting its value: a large body is walked instead."""
    validator = SchemaValidator(order_schema())

    started = time.perf_counter()
    found = validator.errors(body)
    elapsed = time.perf_counter() - started

    assert found == errors
    assert elapsed < 0.1, f"{elapsed * 1000:.1f} ms"


@pytest.mark.parametrize(
    ("breakage", "field", "message"),
    [
        pytest.param(lambda body: body["lines"][4321].update(orderedQty=0), "lines[4321].orderedQty",
                     "Must be greater than 0.", id="exclusive-minimum"),
        pytest.param(lambda body: body["lines"][17].pop("sku"), "lines[17].sku", "This field is required.",
                     id="missing"),
        pytest.param(lambda body: body["lines"][3].update(orderDate=5), "lines[3].orderDate",
                     "Must be of type string.", id="type"),
    ],
)  # fmt: skip
def test_a_broken_5000_line_body_names_the_broken_line(breakage: Any, field: str, message: str) -> None:
    validator, body = SchemaValidator(ingestion_schema()), ingestion_body(5000)
    breakage(body)

    assert validator.errors(body) == {field: [message]}


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
