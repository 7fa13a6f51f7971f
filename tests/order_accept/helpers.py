"""Assertions shared by the Order-Accept tests."""

from __future__ import annotations

from typing import Any

import httpx2

PROBLEM_JSON = "application/problem+json"


def assert_problem(response: httpx2.Response, status: int, **expected: Any) -> dict[str, Any]:
    """The response is a ProblemDetails with this status, whose traceId is the request id."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["type"] == f"https://httpstatuses.com/{status}"
    assert body["status"] == status
    assert body["traceId"] == response.headers["x-request-id"]
    for key, value in expected.items():
        assert body[key] == value, (key, body)
    return body


def order_lines(*lines: tuple[str, int]) -> dict[str, Any]:
    return {"items": [{"productId": product_id, "quantity": quantity} for product_id, quantity in lines]}
