"""GET /api/orders, POST /api/orders and DELETE /api/orders/{id}."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.order_accept.helpers import assert_problem, order_lines
from tests.order_accept.test_products import INACTIVE, SOFT_DELETED

ORDERS = "/order-accept/api/orders"


def place(client: TestClient, auth: dict[str, str], *lines: tuple[str, int]) -> dict[str, Any]:
    response = client.post(ORDERS, json=order_lines(*lines), headers=auth)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


class TestCreateOrder:
    def test_returns_the_full_order_and_its_location(self, client: TestClient, auth: dict[str, str]) -> None:
        response = client.post(ORDERS, json=order_lines(("AZ-700", 1), ("AZ-104", 3)), headers=auth)

        assert response.status_code == 201
        order = response.json()
        assert response.headers["location"] == f"{ORDERS}/{order['id']}"
        assert uuid.UUID(order["correlationId"]).version == 4
        created = datetime.fromisoformat(order["createdAt"])
        assert order["createdAt"].endswith("Z")
        assert abs(datetime.now(UTC) - created) < timedelta(minutes=1)
        assert order["items"] == [
            {
                "productId": "AZ-700",
                "productName": "CertKit AZ-700: Designing and Implementing Microsoft Azure Networking Solutions",
                "imageUrl": "https://cdn.example.com/certkit/az-700.png",
                "unitPrice": 191.1,
                "quantity": 1,
            },
            {
                "productId": "AZ-104",
                "productName": "CertKit AZ-104: Microsoft Azure Administrator",
                "imageUrl": "https://cdn.example.com/certkit/az-104.png",
                "unitPrice": client.get("/order-accept/api/products/AZ-104", headers=auth).json()["price"],
                "quantity": 3,
            },
        ]

    def test_lines_naming_the_same_product_are_merged(self, client: TestClient, auth: dict[str, str]) -> None:
        order = place(client, auth, ("AZ-700", 2), ("CKA", 1), ("AZ-700", 3))

        assert [(item["productId"], item["quantity"]) for item in order["items"]] == [("AZ-700", 5), ("CKA", 1)]

    def test_each_order_gets_its_own_correlation_id(self, client: TestClient, auth: dict[str, str]) -> None:
        first, second = place(client, auth, ("CKA", 1)), place(client, auth, ("CKA", 1))

        assert first["correlationId"] != second["correlationId"]
        assert second["id"] > first["id"]

    def test_unknown_and_inactive_products_are_named_and_nothing_is_stored(
        self, client: TestClient, auth: dict[str, str]
    ) -> None:
        response = client.post(
            ORDERS, json=order_lines(("AZ-700", 1), ("NOPE-1", 1), (INACTIVE[0], 1), (SOFT_DELETED[0], 2)), headers=auth
        )

        assert_problem(
            response,
            404,
            detail=f"Products not found or not active: NOPE-1, {INACTIVE[0]}, {SOFT_DELETED[0]}.",
        )
        assert client.get(ORDERS, headers=auth).json()["total"] == 0

    @pytest.mark.parametrize(
        ("body", "errors"),
        [
            pytest.param({}, {"items": ["This field is required."]}, id="items-missing"),
            pytest.param({"items": []}, {"items": ["Must contain at least 1 item(s)."]}, id="items-empty"),
            pytest.param(
                order_lines(("AZ-700", 0)), {"items[0].quantity": ["Must be greater than or equal to 1."]}, id="zero"
            ),
            pytest.param(
                order_lines(("AZ-700", 1), ("CKA", -2)),
                {"items[1].quantity": ["Must be greater than or equal to 1."]},
                id="negative",
            ),
            pytest.param(
                {"items": [{"productId": "AZ-700"}]}, {"items[0].quantity": ["This field is required."]}, id="no-qty"
            ),
            pytest.param(
                {"items": [{"productId": "AZ-700", "quantity": "1"}]},
                {"items[0].quantity": ["Must be of type integer."]},
                id="quantity-string",
            ),
            pytest.param(
                {"items": [{"productId": "", "quantity": 1}]},
                {
                    "items[0].productId": [
                        "Must be at least 1 characters long.",
                        "Must match the pattern ^[A-Za-z0-9][A-Za-z0-9._-]*$.",
                    ]
                },
                id="empty-product-id",
            ),
            pytest.param(
                {"items": [{"productId": "AZ-700", "quantity": 1, "price": 0}]},
                {"items[0].price": ["Unknown property."]},
                id="unknown-property",
            ),
            pytest.param([1], {"$": ["Must be of type object."]}, id="not-an-object"),
        ],
    )
    def test_invalid_bodies_name_each_field(
        self, client: TestClient, auth: dict[str, str], body: Any, errors: dict[str, list[str]]
    ) -> None:
        response = client.post(ORDERS, json=body, headers=auth)

        assert_problem(response, 400, title="One or more validation errors occurred.", errors=errors)

    def test_malformed_json_is_a_validation_problem(self, client: TestClient, auth: dict[str, str]) -> None:
        response = client.post(ORDERS, content=b'{"items": [', headers={**auth, "Content-Type": "application/json"})

        body = assert_problem(response, 400)
        assert list(body["errors"]) == ["$"]

    def test_a_body_that_is_not_json_is_unsupported(self, client: TestClient, auth: dict[str, str]) -> None:
        response = client.post(ORDERS, content=b"items=1", headers={**auth, "Content-Type": "text/plain"})

        assert_problem(response, 415, title="Unsupported Media Type")


class TestIdempotentCreation:
    def test_a_retry_returns_the_first_order_and_creates_nothing(
        self, client: TestClient, auth: dict[str, str]
    ) -> None:
        headers = {**auth, "Idempotency-Key": "retry-1"}
        first = client.post(ORDERS, json=order_lines(("AZ-700", 1), ("CKA", 2)), headers=headers)

        retry = client.post(ORDERS, json=order_lines(("CKA", 2), ("AZ-700", 1)), headers=headers)

        assert (first.status_code, retry.status_code) == (201, 201)
        assert retry.json() == first.json()
        assert retry.headers["location"] == first.headers["location"]
        assert client.get(ORDERS, headers=auth).json()["total"] == 1

    def test_the_same_key_for_other_lines_is_a_conflict(self, client: TestClient, auth: dict[str, str]) -> None:
        headers = {**auth, "Idempotency-Key": "retry-2"}
        client.post(ORDERS, json=order_lines(("AZ-700", 1)), headers=headers)

        response = client.post(ORDERS, json=order_lines(("AZ-700", 2)), headers=headers)

        assert_problem(
            response, 409, title="Conflict", detail="The Idempotency-Key was already used for a different order."
        )

    def test_the_key_of_a_deleted_order_is_a_conflict(self, client: TestClient, auth: dict[str, str]) -> None:
        headers = {**auth, "Idempotency-Key": "retry-3"}
        order = client.post(ORDERS, json=order_lines(("AZ-700", 1)), headers=headers).json()
        client.delete(f"{ORDERS}/{order['id']}", headers=auth)

        assert_problem(client.post(ORDERS, json=order_lines(("AZ-700", 1)), headers=headers), 409)

    def test_keys_belong_to_one_customer(
        self, client: TestClient, auth: dict[str, str], other_auth: dict[str, str]
    ) -> None:
        mine = client.post(ORDERS, json=order_lines(("CKA", 1)), headers={**auth, "Idempotency-Key": "shared"})
        theirs = client.post(ORDERS, json=order_lines(("CKA", 1)), headers={**other_auth, "Idempotency-Key": "shared"})

        assert (mine.status_code, theirs.status_code) == (201, 201)
        assert mine.json()["id"] != theirs.json()["id"]

    @pytest.mark.parametrize("key", ["", "has space", "x" * 256])
    def test_a_malformed_key_is_a_validation_problem(self, client: TestClient, auth: dict[str, str], key: str) -> None:
        response = client.post(ORDERS, json=order_lines(("CKA", 1)), headers={**auth, "Idempotency-Key": key})

        body = assert_problem(response, 400)
        assert list(body["errors"]) == ["Idempotency-Key"]


class TestListOrders:
    def test_a_new_customer_has_no_orders(self, client: TestClient, auth: dict[str, str]) -> None:
        response = client.get(ORDERS, headers=auth)

        assert response.status_code == 200
        assert response.json() == {"offset": 0, "size": 12, "total": 0, "items": []}

    def test_lists_only_the_callers_orders_newest_first(
        self, client: TestClient, auth: dict[str, str], other_auth: dict[str, str]
    ) -> None:
        placed = [place(client, auth, ("AZ-700", n)) for n in (1, 2, 3)]
        place(client, other_auth, ("CKA", 1))

        body = client.get(ORDERS, headers=auth).json()

        assert body["total"] == 3
        assert body["items"] == list(reversed(placed))

    def test_pages_through_orders(self, client: TestClient, auth: dict[str, str]) -> None:
        ids = [place(client, auth, ("CKA", 1))["id"] for _ in range(3)]

        page = client.get(ORDERS, params={"offset": 1, "size": 1}, headers=auth).json()

        assert (page["offset"], page["size"], page["total"]) == (1, 1, 3)
        assert [order["id"] for order in page["items"]] == [ids[1]]

    def test_deleted_orders_are_not_listed(self, client: TestClient, auth: dict[str, str]) -> None:
        kept, deleted = place(client, auth, ("CKA", 1)), place(client, auth, ("AZ-700", 1))
        assert client.delete(f"{ORDERS}/{deleted['id']}", headers=auth).status_code == 204

        body = client.get(ORDERS, headers=auth).json()

        assert [order["id"] for order in body["items"]] == [kept["id"]]
        assert body["total"] == 1

    def test_invalid_paging_is_a_validation_problem(self, client: TestClient, auth: dict[str, str]) -> None:
        response = client.get(ORDERS, params={"size": 0}, headers=auth)

        assert_problem(response, 400, errors={"size": ["Must be greater than or equal to 1."]})


class TestDeleteOrder:
    def test_soft_deletes_the_callers_order(self, client: TestClient, auth: dict[str, str]) -> None:
        order = place(client, auth, ("AZ-700", 1))

        response = client.delete(f"{ORDERS}/{order['id']}", headers=auth)

        assert response.status_code == 204
        assert response.content == b""
        assert "content-type" not in response.headers

    def test_deleting_twice_is_not_found(self, client: TestClient, auth: dict[str, str]) -> None:
        order = place(client, auth, ("AZ-700", 1))
        client.delete(f"{ORDERS}/{order['id']}", headers=auth)

        response = client.delete(f"{ORDERS}/{order['id']}", headers=auth)

        assert_problem(response, 404, detail=f"Order {order['id']} was not found.")

    def test_another_customers_order_is_not_found_and_stays(
        self, client: TestClient, auth: dict[str, str], other_auth: dict[str, str]
    ) -> None:
        order = place(client, other_auth, ("AZ-700", 1))

        response = client.delete(f"{ORDERS}/{order['id']}", headers=auth)

        assert_problem(response, 404, detail=f"Order {order['id']} was not found.")
        assert client.get(ORDERS, headers=other_auth).json()["items"] == [order]

    def test_a_missing_order_is_not_found(self, client: TestClient, auth: dict[str, str]) -> None:
        assert_problem(client.delete(f"{ORDERS}/999999999", headers=auth), 404)

    @pytest.mark.parametrize(
        ("order_id", "message"),
        [
            pytest.param("abc", "Must be of type integer.", id="not-a-number"),
            pytest.param("0", "Must be greater than or equal to 1.", id="zero"),
            pytest.param("-5", "Must be greater than or equal to 1.", id="negative"),
        ],
    )
    def test_an_invalid_id_is_a_validation_problem(
        self, client: TestClient, auth: dict[str, str], order_id: str, message: str
    ) -> None:
        response = client.delete(f"{ORDERS}/{order_id}", headers=auth)

        assert_problem(response, 400, errors={"id": [message]})
