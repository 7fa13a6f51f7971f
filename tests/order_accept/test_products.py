"""GET /api/products and GET /api/products/{id}."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from models.order_accept.demo import catalogue
from tests.order_accept.helpers import assert_problem

PRODUCTS = "/order-accept/api/products"
INACTIVE = ["CKS", "DVA-C02", "GCP-CDL", "SSCP"]
SOFT_DELETED = ["2V0-21.23", "MLA-C01", "N10-009"]


def listed_catalogue() -> list[dict[str, Any]]:
    listed = [item for item in catalogue() if item["isActive"] and not item["isSoftDeleted"]]
    return sorted(listed, key=lambda item: (item["name"], item["externalProductId"]))


class TestListProducts:
    def test_first_page_uses_the_default_offset_and_size(self, client: TestClient, auth: dict[str, str]) -> None:
        response = client.get(PRODUCTS, headers=auth)

        assert response.status_code == 200
        body = response.json()
        expected = listed_catalogue()
        assert (body["offset"], body["size"], body["total"]) == (0, 12, len(expected))
        assert [item["externalProductId"] for item in body["items"]] == [
            item["externalProductId"] for item in expected[:12]
        ]

    def test_pages_walk_the_whole_active_catalogue_once(self, client: TestClient, auth: dict[str, str]) -> None:
        seen: list[str] = []
        offset = 0
        while True:
            body = client.get(PRODUCTS, params={"offset": offset, "size": 100}, headers=auth).json()
            seen += [item["externalProductId"] for item in body["items"]]
            offset += 100
            if offset >= body["total"]:
                break

        assert seen == [item["externalProductId"] for item in listed_catalogue()]
        assert not set(seen) & set(INACTIVE + SOFT_DELETED)
        assert len(catalogue()) >= 100

    def test_an_offset_past_the_end_is_an_empty_page(self, client: TestClient, auth: dict[str, str]) -> None:
        body = client.get(PRODUCTS, params={"offset": 5000, "size": 5}, headers=auth).json()

        assert body == {"offset": 5000, "size": 5, "total": len(listed_catalogue()), "items": []}

    def test_products_are_camel_case_dtos_without_internal_columns(
        self, client: TestClient, auth: dict[str, str]
    ) -> None:
        item = client.get(PRODUCTS, params={"size": 1}, headers=auth).json()["items"][0]

        assert set(item) == {
            "externalProductId",
            "name",
            "category",
            "vendor",
            "imageUrl",
            "discount",
            "billingPeriod",
            "isSubscription",
            "price",
        }

    @pytest.mark.parametrize(
        ("query", "errors"),
        [
            pytest.param("offset=-1", {"offset": ["Must be greater than or equal to 0."]}, id="negative-offset"),
            pytest.param("size=0", {"size": ["Must be greater than or equal to 1."]}, id="size-zero"),
            pytest.param("size=101", {"size": ["Must be less than or equal to 100."]}, id="size-too-large"),
            pytest.param("size=ten", {"size": ["Must be of type integer."]}, id="size-not-a-number"),
            pytest.param(
                "offset=-1&size=0",
                {"offset": ["Must be greater than or equal to 0."], "size": ["Must be greater than or equal to 1."]},
                id="both-invalid",
            ),
            pytest.param("page=2", {"page": ["Unknown query parameter."]}, id="unknown-parameter"),
        ],
    )
    def test_invalid_paging_is_a_validation_problem(
        self, client: TestClient, auth: dict[str, str], query: str, errors: dict[str, list[str]]
    ) -> None:
        response = client.get(f"{PRODUCTS}?{query}", headers=auth)

        body = assert_problem(response, 400, title="One or more validation errors occurred.", errors=errors)
        assert body["instance"] == PRODUCTS, "the path alone: a query may carry a secret"

    def test_needs_a_token_even_without_identity(self, client: TestClient, make_token: Any) -> None:
        assert client.get(PRODUCTS).status_code == 401
        anonymous = {"Authorization": f"Bearer {make_token()}"}
        assert client.get(PRODUCTS, headers=anonymous).status_code == 200


class TestGetProduct:
    def test_returns_the_product_as_in_the_contract_example(self, client: TestClient, auth: dict[str, str]) -> None:
        response = client.get(f"{PRODUCTS}/AZ-700", headers=auth)

        assert response.status_code == 200
        assert response.json() == {
            "externalProductId": "AZ-700",
            "name": "CertKit AZ-700: Designing and Implementing Microsoft Azure Networking Solutions",
            "category": "Cloud",
            "vendor": "Microsoft",
            "imageUrl": "https://cdn.example.com/certkit/az-700.png",
            "discount": 35,
            "billingPeriod": "Monthly",
            "isSubscription": True,
            "price": 191.1,
        }

    @pytest.mark.parametrize("product_id", [*INACTIVE, *SOFT_DELETED, "NO-SUCH-PRODUCT"])
    def test_inactive_deleted_and_unknown_products_are_not_found(
        self, client: TestClient, auth: dict[str, str], product_id: str
    ) -> None:
        response = client.get(f"{PRODUCTS}/{product_id}", headers=auth)

        assert_problem(response, 404, title="Not Found", detail=f"Product {product_id} was not found.")

    def test_a_malformed_id_is_a_validation_problem(self, client: TestClient, auth: dict[str, str]) -> None:
        response = client.get(f"{PRODUCTS}/{'x' * 65}", headers=auth)

        assert_problem(response, 400, errors={"id": ["Must be at most 64 characters long."]})
