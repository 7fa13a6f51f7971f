"""The per-key rate limit: one budget per API key over everything under /api/integrations/v1,
with `X-RateLimit-*` on every response that spends it, errors included.

Each test builds its own app with a small limit (and so its own, empty counters).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator

import pytest
import redis
from starlette.testclient import TestClient

from core.config import Settings
from core.factory import create_app
from tests.mihwar.conftest import BASE, INGEST, Tenant, line, mihwar_of, problem

ITEMS = f"{BASE}/inventory/items"
RATE_HEADERS = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")
REDIS_URL = "redis://127.0.0.1:6379"


@pytest.fixture
def limited(database: Settings) -> Iterator[Callable[..., TestClient]]:
    """Clients of apps limited to `rate` per key (in Redis when `redis_url` is given)."""
    with contextlib.ExitStack() as stack:

        def make(rate: str = "3/minute", redis_url: str | None = None) -> TestClient:
            mihwar = dataclasses.replace(mihwar_of(database), rate_limit=rate)
            settings = dataclasses.replace(database, rate_limits_enabled=True, redis_url=redis_url)
            client: TestClient = stack.enter_context(create_app(settings.with_api("mihwar", mihwar)).test_client())
            return client

        yield make


def test_every_response_spends_the_keys_budget_and_says_so_until_429(
    limited: Callable[..., TestClient], tenant: Tenant
) -> None:
    client = limited("3/minute")

    ok = client.get(ITEMS, headers=tenant.headers)
    not_found = client.get(f"{ITEMS}/item_nothing", headers=tenant.headers)
    invalid = client.post(INGEST, json={"lines": []}, headers=tenant.headers)
    refused = client.get(ITEMS, headers=tenant.headers)

    assert [ok.status_code, not_found.status_code, invalid.status_code, refused.status_code] == [200, 404, 400, 429]
    for response, remaining in ((ok, "2"), (not_found, "1"), (invalid, "0"), (refused, "0")):
        assert all(name in response.headers for name in RATE_HEADERS), response.headers
        assert (response.headers["x-ratelimit-limit"], response.headers["x-ratelimit-remaining"]) == ("3", remaining)
    body = problem(refused)
    assert (body["title"], body["detail"]) == ("Too Many Requests", "Rate limit of 3 requests per minute exceeded.")
    assert 1 <= int(refused.headers["retry-after"]) <= 60


def test_each_key_has_a_budget_of_its_own(
    limited: Callable[..., TestClient], tenant: Tenant, new_tenant: Callable[..., Tenant]
) -> None:
    client = limited("2/minute")
    other = new_tenant()

    for _ in range(2):
        client.get(ITEMS, headers=tenant.headers)

    assert client.get(ITEMS, headers=tenant.headers).status_code == 429
    assert client.get(ITEMS, headers=other.headers).status_code == 200


def test_one_budget_covers_every_operation_of_a_key(limited: Callable[..., TestClient], tenant: Tenant) -> None:
    client = limited("3/minute")

    client.get(ITEMS, headers=tenant.headers)
    client.get(f"{BASE}/orders", headers=tenant.headers)
    client.post(INGEST, json={"lines": [line()]}, headers=tenant.headers)

    assert client.get(f"{BASE}/predictions", headers=tenant.headers).status_code == 429


def test_requests_without_a_well_formed_key_spend_their_addresss_budget(limited: Callable[..., TestClient]) -> None:
    client = limited("2/minute")

    statuses = [client.get(ITEMS, headers={"Authorization": "Bearer nonsense"}).status_code for _ in range(3)]

    assert statuses == [401, 401, 429]


@pytest.fixture
def redis_url() -> str:
    """The local Redis; skips without it."""
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        connection.ping()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    finally:
        connection.close()
    return REDIS_URL


def test_workers_share_the_budget_through_redis(
    limited: Callable[..., TestClient], tenant: Tenant, redis_url: str
) -> None:
    """Two apps stand for two workers (or machines): with Redis, a key has one budget across them.
    The tenant's key is new, so nothing counted by earlier runs is in its budget."""
    first, second = limited("3/minute", redis_url), limited("3/minute", redis_url)

    assert [first.get(ITEMS, headers=tenant.headers).status_code for _ in range(2)] == [200, 200]
    assert second.get(ITEMS, headers=tenant.headers).status_code == 200
    assert second.get(ITEMS, headers=tenant.headers).status_code == 429
    assert first.get(ITEMS, headers=tenant.headers).status_code == 429


def test_made_up_keys_buy_no_budget(limited: Callable[..., TestClient]) -> None:
    """Each well-formed key has a budget of its own, so failures are counted by address too."""
    client = limited("3/minute")

    statuses = [
        client.get(ITEMS, headers={"Authorization": f"Bearer rn_live_{str(index) * 43}"[:51]}).status_code
        for index in range(5)
    ]

    assert statuses == [401, 401, 401, 429, 429]
    refused = client.get(ITEMS, headers={"Authorization": "Bearer rn_live_" + "Z" * 43})
    assert problem(refused)["detail"] == "Rate limit of 3 failed authentications per minute exceeded."
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert 1 <= int(refused.headers["retry-after"]) <= 60


def test_failures_of_one_address_leave_other_addresses_alone(tenant: Tenant, database: Settings) -> None:
    mihwar = dataclasses.replace(mihwar_of(database), rate_limit="2/minute")
    app = create_app(dataclasses.replace(database, rate_limits_enabled=True).with_api("mihwar", mihwar))
    with (
        app.test_client(client=("203.0.113.9", 50000)) as guesser,
        app.test_client(client=("198.51.100.7", 50000)) as partner,
    ):
        statuses = [guesser.get(ITEMS, headers={"Authorization": "Bearer nonsense"}).status_code for _ in range(3)]

        assert statuses == [401, 401, 429]
        assert partner.get(ITEMS, headers=tenant.headers).status_code == 200
        assert guesser.get(ITEMS, headers=tenant.headers).status_code == 429  # until the window ends
