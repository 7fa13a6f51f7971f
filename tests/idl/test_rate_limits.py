"""Rate limits of the IDL API: per user, per endpoint, per client address and for uploads.

Each test builds its own app with small limits (and so its own, empty counters).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.config import Settings
from core.factory import create_app
from core.jwt_bearer import issue_token
from handlers.order_accept.api import API as ORDER_ACCEPT
from models.idl.demo import quote_pdf
from tests.idl.conftest import BASE, Headers, assert_error, idl_of, order_body

RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")
LoginAs = Callable[[str], Headers]


class Limited:
    """Builds apps with the given limits, and opens test clients on them."""

    def __init__(self, database: Settings, stack: contextlib.ExitStack) -> None:
        self.database = database
        self.stack = stack

    def __call__(
        self, per_user: str = "5/minute", per_endpoint: str = "3/minute", uploads: str = "2/minute"
    ) -> TestClient:
        return self.clients(("testclient",), per_user, per_endpoint, uploads)[0]

    def clients(
        self,
        addresses: tuple[str, ...],
        per_user: str = "5/minute",
        per_endpoint: str = "3/minute",
        uploads: str = "2/minute",
    ) -> list[TestClient]:
        """Clients at these addresses, all on one app (so sharing its counters)."""
        idl = dataclasses.replace(
            idl_of(self.database), rate_per_user=per_user, rate_per_endpoint=per_endpoint, rate_uploads=uploads
        )
        app = create_app(dataclasses.replace(self.database, rate_limits_enabled=True).with_api("idl", idl))
        return [self.stack.enter_context(app.test_client(client=(address, 50000))) for address in addresses]


@pytest.fixture
def limited(database: Settings) -> Iterator[Limited]:
    """Apps with small limits of their own."""
    with contextlib.ExitStack() as stack:
        yield Limited(database, stack)


def quota(response: Any) -> tuple[int, int, int]:
    """(limit, remaining, reset) as the response reports them."""
    return (
        int(response.headers["x-ratelimit-limit"]),
        int(response.headers["x-ratelimit-remaining"]),
        int(response.headers["x-ratelimit-reset"]),
    )


def assert_rate_limited(response: Any, limit: int) -> dict[str, Any]:
    error = assert_error(response, 429, "RATE_LIMITED")
    retry_after = int(response.headers["retry-after"])
    assert error["retry_after"] == retry_after
    assert 1 <= retry_after <= 60
    assert error["message"]
    assert quota(response)[:2] == (limit, 0)
    return error


def test_every_idl_response_carries_the_rate_limit_headers(limited: Limited, login_as: LoginAs) -> None:
    client = limited(per_user="100/minute", per_endpoint="100/minute")
    admin = login_as("admin")
    responses = {
        200: client.get(f"{BASE}/users/me", headers=admin),
        400: client.get(f"{BASE}/users", params={"limit": 0}, headers=admin),
        401: client.get(f"{BASE}/users/me"),
        403: client.get(f"{BASE}/users", headers=login_as("foreman")),
        404: client.get(f"{BASE}/no-such-path", headers=admin),
        405: client.delete(f"{BASE}/users/me", headers=admin),
    }

    now = time.time()
    for status, response in responses.items():
        assert response.status_code == status, response.text
        for header in RATE_HEADERS:
            assert header in response.headers, (status, header)
        limit, remaining, reset = quota(response)
        assert limit == 100
        assert 0 <= remaining < limit
        assert now - 1 <= reset <= now + 61, (status, reset)
        assert "retry-after" not in response.headers


def test_order_accept_responses_carry_no_idl_rate_limit_headers(limited: Limited, settings: Settings) -> None:
    client = limited()
    auth = {"Authorization": "Bearer " + issue_token(ORDER_ACCEPT.config(settings).jwt, {"sub": "someone"})}

    responses = [
        client.get("/order-accept/api/products", headers=auth),
        client.get("/order-accept/api/products"),
        client.get("/order-accept/no-such-path"),
    ]

    assert [response.status_code for response in responses][:2] == [200, 401]
    for response in responses:
        for header in RATE_HEADERS:
            assert header not in response.headers


def test_remaining_counts_down_on_the_limit_nearest_to_exhaustion(limited: Limited, login_as: LoginAs) -> None:
    client = limited(per_user="5/minute", per_endpoint="3/minute")
    headers = login_as("pm")

    reports = [quota(client.get(f"{BASE}/users/me", headers=headers)) for _ in range(3)]

    assert [(limit, remaining) for limit, remaining, _ in reports] == [(3, 2), (3, 1), (3, 0)]
    other = client.get(f"{BASE}/vendors", headers=headers)
    assert quota(other)[:2] == (5, 1), "the per-user budget is now the nearest to exhaustion"


def test_the_per_endpoint_limit_answers_429_while_other_endpoints_still_answer(
    limited: Limited, login_as: LoginAs
) -> None:
    client = limited(per_user="10/minute", per_endpoint="3/minute")
    headers = login_as("foreman")
    for _ in range(3):
        assert client.get(f"{BASE}/users/me", headers=headers).status_code == 200

    refused = client.get(f"{BASE}/users/me", headers=headers)

    assert_rate_limited(refused, 3)
    other = client.get(f"{BASE}/vendors", headers=headers)
    assert other.status_code == 200, other.text
    assert quota(other)[:2] == (3, 2)


def test_the_per_endpoint_limit_counts_by_path_template(limited: Limited, login_as: LoginAs) -> None:
    client = limited(per_user="10/minute", per_endpoint="3/minute")
    headers = login_as("admin")
    for project in ("PRJ001", "PRJ002", "PRJ003"):
        assert client.get(f"{BASE}/projects/{project}/cost-codes", headers=headers).status_code == 200

    refused = client.get(f"{BASE}/projects/PRJ004/cost-codes", headers=headers)

    assert_rate_limited(refused, 3)


def test_a_refused_request_is_not_counted(limited: Limited, login_as: LoginAs) -> None:
    client = limited(per_user="6/minute", per_endpoint="2/minute")
    headers = login_as("admin")
    for _ in range(2):
        assert client.get(f"{BASE}/users/me", headers=headers).status_code == 200
    for _ in range(3):
        assert client.get(f"{BASE}/users/me", headers=headers).status_code == 429

    others = [client.get(f"{BASE}{path}", headers=headers) for path in ("/vendors", "/projects", "/purchase-orders")]
    last = client.get(f"{BASE}/audit-logs", headers=headers)

    assert [response.status_code for response in others] == [200, 200, 200]
    assert last.status_code == 200, "the three refused requests must not have used the per-user budget"
    assert quota(last)[:2] == (6, 0)
    assert_rate_limited(client.get(f"{BASE}/users", headers=headers), 6)


def test_the_per_user_limit_trips_across_endpoints(limited: Limited, login_as: LoginAs) -> None:
    client = limited(per_user="5/minute", per_endpoint="3/minute")
    headers = login_as("pm")
    for path in ("/users/me", "/users/me", "/vendors", "/vendors", "/projects"):
        assert client.get(f"{BASE}{path}", headers=headers).status_code == 200

    refused = client.get(f"{BASE}/purchase-orders", headers=headers)

    assert_rate_limited(refused, 5)
    assert_rate_limited(client.get(f"{BASE}/audit-logs", headers=login_as("pm")), 5)


def test_two_users_have_separate_buckets(limited: Limited, login_as: LoginAs) -> None:
    client = limited(per_user="5/minute", per_endpoint="3/minute")
    busy, other = login_as("foreman"), login_as("super")
    for _ in range(3):
        client.get(f"{BASE}/users/me", headers=busy)
    assert client.get(f"{BASE}/users/me", headers=busy).status_code == 429

    response = client.get(f"{BASE}/users/me", headers=other)

    assert response.status_code == 200, response.text
    assert quota(response)[:2] == (3, 2)


def test_two_sessions_of_one_user_share_a_bucket(limited: Limited, login_as: LoginAs) -> None:
    client = limited(per_user="5/minute", per_endpoint="3/minute")
    first, second = login_as("admin"), login_as("admin")
    for _ in range(3):
        client.get(f"{BASE}/users/me", headers=first)

    assert_rate_limited(client.get(f"{BASE}/users/me", headers=second), 3)


def test_unauthenticated_requests_are_counted_per_client_address(limited: Limited, login_as: LoginAs) -> None:
    client = limited(per_user="5/minute", per_endpoint="3/minute")
    for _ in range(3):
        response = client.post(f"{BASE}/auth/login", json={"email": "nobody@idl.example"})
        assert response.status_code == 400, response.text

    refused = client.post(f"{BASE}/auth/login", json={"email": "foreman@idl.example", "password": "foreman-demo-2026"})

    assert_rate_limited(refused, 3)
    assert "access_token" not in refused.text
    assert client.get(f"{BASE}/users/me", headers=login_as("foreman")).status_code == 200


def test_another_client_address_has_its_own_bucket(limited: Limited) -> None:
    first, second = limited.clients(("192.0.2.10", "192.0.2.20"), per_user="5/minute", per_endpoint="2/minute")
    for _ in range(2):
        assert first.post(f"{BASE}/auth/refresh", json={"refresh_token": "unknown"}).status_code == 401
    assert_rate_limited(first.post(f"{BASE}/auth/refresh", json={"refresh_token": "unknown"}), 2)

    response = second.post(f"{BASE}/auth/refresh", json={"refresh_token": "unknown"})

    assert_error(response, 401, "UNAUTHORIZED")
    assert quota(response)[:2] == (2, 1)


def test_requests_with_an_invalid_token_are_counted_against_the_address(limited: Limited) -> None:
    client = limited(per_user="3/minute", per_endpoint="10/minute")
    garbage = {"Authorization": "Bearer not-a-token"}
    for path in ("/users/me", "/vendors", "/projects"):
        assert client.get(f"{BASE}{path}", headers=garbage).status_code == 401

    refused = client.post(f"{BASE}/auth/login", json={})

    assert_rate_limited(refused, 3)


def test_the_uploads_limit_trips_on_the_upload_endpoint(
    limited: Limited, login_as: LoginAs, create_order: Callable[..., dict[str, Any]]
) -> None:
    headers = login_as("foreman")
    order = create_order(headers, order_body())
    client = limited(per_user="50/minute", per_endpoint="50/minute", uploads="2/minute")
    url = f"{BASE}/purchase-orders/{order['id']}/files"

    def send(number: int) -> Any:
        return client.post(
            url, files={"file": (f"q{number}.pdf", quote_pdf(f"q{number}"), "application/pdf")}, headers=headers
        )

    reports = [send(number) for number in (1, 2)]
    refused = send(3)

    assert [response.status_code for response in reports] == [201, 201]
    assert [quota(response)[:2] for response in reports] == [(2, 1), (2, 0)]
    assert_rate_limited(refused, 2)
    listing = client.get(url, headers=headers)
    assert listing.status_code == 200
    assert len(listing.json()["data"]) == 2
    assert quota(listing)[0] == 50, "other operations are not held to the uploads limit"


def test_uploads_of_one_user_do_not_use_up_anothers(
    limited: Limited, login_as: LoginAs, create_order: Callable[..., dict[str, Any]]
) -> None:
    foreman, pm = login_as("foreman"), login_as("pm")
    order = create_order(foreman)
    client = limited(per_user="50/minute", per_endpoint="50/minute", uploads="1/minute")
    url = f"{BASE}/purchase-orders/{order['id']}/files"
    files = {"file": ("note.txt", b"delivery on Monday\n", "text/plain")}
    assert client.post(url, files=files, headers=foreman).status_code == 201
    assert client.post(url, files=files, headers=foreman).status_code == 429

    response = client.post(url, files=files, headers=pm)

    assert response.status_code == 201, response.text


def test_the_rate_limit_headers_of_a_429_match_its_body(limited: Limited, login_as: LoginAs) -> None:
    client = limited(per_user="1/minute", per_endpoint="1/minute")
    headers = login_as("admin")
    client.get(f"{BASE}/users/me", headers=headers)

    refused = client.get(f"{BASE}/users/me", headers=headers)

    error = assert_rate_limited(refused, 1)
    assert quota(refused)[2] >= int(time.time())
    assert error["request_id"] == refused.headers["x-request-id"]
    assert set(error) >= {"code", "message", "retry_after", "timestamp", "request_id"}
