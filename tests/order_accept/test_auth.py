"""Bearer JWT authentication as every Order-Accept operation sees it."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey
from starlette.testclient import TestClient

from core.jwt_bearer import NAMEIDENTIFIER_CLAIMS
from tests.order_accept.conftest import TokenFactory
from tests.order_accept.helpers import assert_problem, order_lines

ORDERS = "/order-accept/api/orders"
OPERATIONS = [
    pytest.param("GET", "/order-accept/api/products", None, id="listProducts"),
    pytest.param("GET", "/order-accept/api/products/AZ-700", None, id="getProduct"),
    pytest.param("GET", ORDERS, None, id="listOrders"),
    pytest.param("POST", ORDERS, order_lines(("AZ-700", 1)), id="createOrder"),
    pytest.param("DELETE", f"{ORDERS}/1", None, id="deleteOrder"),
]


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned_token(claims: dict[str, Any]) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def signed(claims: dict[str, Any], secret: str, alg: str = "HS256") -> str:
    return jwt.encode({"alg": alg}, claims, OctKey.import_key(secret), algorithms=[alg])


def future() -> int:
    return int(time.time()) + 600


class TestEveryOperationNeedsAValidToken:
    @pytest.mark.parametrize(("method", "path", "body"), OPERATIONS)
    @pytest.mark.parametrize(
        ("authorization", "detail"),
        [
            pytest.param(lambda key: None, "No authorization token provided", id="missing"),
            pytest.param(lambda key: "Bearer not-a-jwt", "The token is not valid.", id="garbage"),
            pytest.param(lambda key: f"Bearer {signed({'sub': 'u', 'exp': future()}, 'another-secret-' * 4)}",
                         "The token is not valid.", id="wrong-signature"),
            pytest.param(lambda key: f"Bearer {unsigned_token({'sub': 'u', 'exp': future()})}",
                         "The token is not valid.", id="alg-none"),
            pytest.param(lambda key: f"Bearer {signed({'sub': 'u', 'exp': future()}, key, alg='HS512')}",
                         "The token is not valid.", id="other-algorithm"),
            pytest.param(lambda key: f"Bearer {signed({'sub': 'u'}, key)}", "The token is not valid.", id="no-exp"),
            pytest.param(lambda key: f"Bearer {signed({'sub': 'u', 'exp': int(time.time()) - 3600}, key)}",
                         "The token has expired.", id="expired"),
        ],
    )  # fmt: skip
    def test_is_refused_with_401(
        self,
        client: TestClient,
        secret: str,
        method: str,
        path: str,
        body: Any,
        authorization: Callable[[str], str | None],
        detail: str,
    ) -> None:
        value = authorization(secret)
        headers = {"Authorization": value} if value else {}

        response = client.request(method, path, json=body, headers=headers)

        assert_problem(response, 401, title="Unauthorized", detail=detail)
        assert response.headers["www-authenticate"].startswith("Bearer")

    def test_a_token_within_the_clock_leeway_is_accepted(self, client: TestClient, secret: str) -> None:
        token = signed({"sub": "u", "exp": int(time.time()) - 5}, secret)

        assert client.get("/order-accept/api/products", headers={"Authorization": f"Bearer {token}"}).status_code == 200


class TestIdentity:
    @pytest.mark.parametrize(("method", "path", "body"), [p for p in OPERATIONS if "orders" in str(p.values[1])])
    def test_orders_need_an_identity_claim(
        self, client: TestClient, make_token: TokenFactory, method: str, path: str, body: Any
    ) -> None:
        headers = {"Authorization": f"Bearer {make_token(name='no identity')}"}

        response = client.request(method, path, json=body, headers=headers)

        assert_problem(response, 403, detail="The token carries no user identity claim (sub or nameidentifier).")

    @pytest.mark.parametrize("claim", NAMEIDENTIFIER_CLAIMS)
    def test_the_nameidentifier_claim_identifies_the_customer(
        self, client: TestClient, make_token: TokenFactory, claim: str, user_id: str
    ) -> None:
        by_nameidentifier = {"Authorization": f"Bearer {make_token(**{claim: user_id})}"}
        by_sub = {"Authorization": f"Bearer {make_token(sub=user_id)}"}

        created = client.post(ORDERS, json=order_lines(("CKA", 1)), headers=by_nameidentifier).json()

        assert client.get(ORDERS, headers=by_sub).json()["items"] == [created]

    def test_sub_wins_over_nameidentifier(self, client: TestClient, make_token: TokenFactory, user_id: str) -> None:
        both = {"Authorization": f"Bearer {make_token(sub=user_id, nameidentifier='someone-else')}"}
        by_sub = {"Authorization": f"Bearer {make_token(sub=user_id)}"}

        created = client.post(ORDERS, json=order_lines(("CKA", 1)), headers=both).json()

        assert client.get(ORDERS, headers=by_sub).json()["items"] == [created]
