"""Rate limiting: the limiter's counting and the middleware around a tiny ASGI app."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from core.ratelimit import UNMATCHED, Quota, RateLimiter, RateLimitMiddleware, RateLimitSettings
from core.ratelimit import authorization as request_authorization

REDIS_URI = "redis://127.0.0.1:6379"
PREFIX = "/api"
PATHS: dict[str, dict[str, Any]] = {
    "/orders": {"get": {}, "post": {}},
    "/orders/{id}": {"get": {}, "parameters": []},
    "/orders/export": {"get": {}},
    "/orders/{id}/files": {"post": {}},
    "/orders/{id}/files/{name}.pdf": {"get": {}},
}
UPLOADS = ("POST /orders/{id}/files",)
HEADER_NAMES = ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset")


def settings(
    per_user: str = "1000/hour", per_endpoint: str = "100/minute", uploads: str = "10/minute", **kwargs: Any
) -> RateLimitSettings:
    return RateLimitSettings(per_user=per_user, per_endpoint=per_endpoint, uploads=uploads, **kwargs)


async def inner_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers 200 with a stale `X-RateLimit-Limit` header that the middleware must replace."""
    body = json.dumps({"path": scope["path"]}).encode()
    headers = [(b"content-type", b"application/json"), (b"X-RateLimit-Limit", b"999")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Rejections:
    """A `reject` callback rendering the API's own 429 and remembering the quotas it got."""

    def __init__(self) -> None:
        self.quotas: list[Quota] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send, quota: Quota) -> None:
        self.quotas.append(quota)
        body = json.dumps({"status": 429, "title": "Too Many Requests"}).encode()
        headers = [(b"content-type", b"application/problem+json")]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def identify_bearer(scope: Scope) -> str | None:
    """`Bearer <user>` identifies `user:<user>`; anything else is anonymous."""
    authorization = request_authorization(scope)
    if authorization and authorization.startswith("Bearer "):
        return "user:" + authorization.removeprefix("Bearer ")
    return None


def bearer(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {user}"}


class SpyLimiter(RateLimiter):
    """A limiter that records what the middleware asks it to count."""

    def __init__(self, settings: RateLimitSettings) -> None:
        super().__init__(settings)
        self.calls: list[tuple[str, str, bool]] = []

    def hit(self, caller: str, endpoint: str, upload: bool) -> Quota:
        self.calls.append((caller, endpoint, upload))
        return super().hit(caller, endpoint, upload)


def make_client(
    limiter: RateLimiter,
    rejections: Rejections | None = None,
    identify: Callable[[Scope], str | None] = identify_bearer,
    client: tuple[str, int] = ("203.0.113.7", 50000),
) -> TestClient:
    app = RateLimitMiddleware(
        inner_app,
        prefix=PREFIX,
        paths=PATHS,
        limiter=limiter,
        identify=identify,
        reject=rejections or Rejections(),
        upload_operations=UPLOADS,
    )
    return TestClient(app, client=client)


# --- Quota -------------------------------------------------------------------------------


def test_quota_headers_without_retry_after_when_not_exceeded() -> None:
    quota = Quota(limit=10, remaining=3, reset=1_700_000_060, retry_after=0, exceeded=False)

    assert quota.headers() == {
        "X-RateLimit-Limit": "10",
        "X-RateLimit-Remaining": "3",
        "X-RateLimit-Reset": "1700000060",
    }


def test_quota_headers_with_retry_after_when_exceeded() -> None:
    quota = Quota(limit=10, remaining=0, reset=1_700_000_060, retry_after=42, exceeded=True)

    assert quota.headers()["Retry-After"] == "42"
    assert quota.headers()["X-RateLimit-Remaining"] == "0"


# --- RateLimiter -------------------------------------------------------------------------


def test_first_hit_reports_the_limit_nearest_to_exhaustion() -> None:
    limiter = RateLimiter(settings(per_user="10/minute", per_endpoint="3/minute"))
    before = time.time()

    quota = limiter.hit("user:1", "GET /orders", upload=False)

    assert quota == Quota(limit=3, remaining=2, reset=quota.reset, retry_after=0, exceeded=False)
    assert before + 60 <= quota.reset <= time.time() + 61


def test_equal_remaining_reports_the_limit_resetting_soonest() -> None:
    limiter = RateLimiter(settings(per_user="5/hour", per_endpoint="5/minute"))

    quota = limiter.hit("user:1", "GET /orders", upload=False)

    assert (quota.limit, quota.remaining) == (5, 4)
    assert quota.reset <= time.time() + 61


def test_per_endpoint_limit_is_per_endpoint_and_per_caller() -> None:
    limiter = RateLimiter(settings(per_endpoint="2/minute"))

    assert not limiter.hit("user:1", "GET /orders", upload=False).exceeded
    assert not limiter.hit("user:1", "GET /orders", upload=False).exceeded
    refused = limiter.hit("user:1", "GET /orders", upload=False)

    assert refused.exceeded
    assert (refused.limit, refused.remaining) == (2, 0)
    assert not limiter.hit("user:1", "POST /orders", upload=False).exceeded
    assert not limiter.hit("user:2", "GET /orders", upload=False).exceeded


def test_per_user_limit_spans_endpoints() -> None:
    limiter = RateLimiter(settings(per_user="3/minute"))

    for endpoint in ("GET /orders", "POST /orders", "GET /orders/{id}"):
        assert not limiter.hit("user:1", endpoint, upload=False).exceeded
    refused = limiter.hit("user:1", "GET /orders/export", upload=False)

    assert refused.exceeded
    assert refused.limit == 3
    assert not limiter.hit("user:2", "GET /orders/export", upload=False).exceeded


def test_upload_limit_counts_only_uploads() -> None:
    limiter = RateLimiter(settings(uploads="2/minute"))

    assert limiter.hit("user:1", "POST /orders/{id}/files", upload=True).remaining == 1
    assert not limiter.hit("user:1", "POST /orders/{id}/files", upload=True).exceeded
    assert not limiter.hit("user:1", "GET /orders", upload=False).exceeded
    refused = limiter.hit("user:1", "POST /other-upload", upload=True)

    assert refused.exceeded
    assert refused.limit == 2
    assert not limiter.hit("user:2", "POST /orders/{id}/files", upload=True).exceeded


def test_exceeded_quota_reports_time_until_the_window_resets() -> None:
    limiter = RateLimiter(settings(per_endpoint="1/minute"))
    limiter.hit("user:1", "GET /orders", upload=False)

    refused = limiter.hit("user:1", "GET /orders", upload=False)

    assert refused.exceeded
    assert 58 <= refused.retry_after <= 60
    assert abs(refused.reset - (time.time() + refused.retry_after)) <= 2
    assert refused.headers()["Retry-After"] == str(refused.retry_after)


def test_several_exceeded_limits_report_the_one_resetting_last() -> None:
    limiter = RateLimiter(settings(per_user="1/hour", per_endpoint="1/minute"))
    limiter.hit("user:1", "GET /orders", upload=False)

    refused = limiter.hit("user:1", "GET /orders", upload=False)

    assert refused.exceeded
    assert refused.limit == 1
    assert 3598 <= refused.retry_after <= 3600


def test_refused_request_is_not_counted() -> None:
    limiter = RateLimiter(settings(per_user="3/minute", per_endpoint="2/minute", uploads="5/minute"))

    assert not limiter.hit("user:1", "POST /files", upload=True).exceeded
    assert not limiter.hit("user:1", "POST /files", upload=True).exceeded
    assert limiter.hit("user:1", "POST /files", upload=True).exceeded  # per endpoint
    assert limiter.hit("user:1", "POST /files", upload=True).exceeded

    # Had the refusals counted, the per-user budget (3) would be spent already.
    last = limiter.hit("user:1", "GET /orders", upload=False)
    assert not last.exceeded
    assert (last.limit, last.remaining) == (3, 0)
    assert limiter.hit("user:1", "GET /orders/export", upload=False).exceeded


def test_refused_request_does_not_count_against_uploads() -> None:
    limiter = RateLimiter(settings(per_user="1000/hour", per_endpoint="1/minute", uploads="2/minute"))

    assert not limiter.hit("user:1", "POST /a", upload=True).exceeded
    assert limiter.hit("user:1", "POST /a", upload=True).exceeded

    assert limiter.hit("user:1", "POST /b", upload=True).remaining == 0
    assert limiter.hit("user:1", "POST /c", upload=True).exceeded


def test_namespaces_keep_limiters_apart_in_one_storage() -> None:
    first = RateLimiter(settings(per_endpoint="1/minute"), namespace="one")
    second = RateLimiter(settings(per_endpoint="1/minute"), namespace="two")

    assert not first.hit("user:1", "GET /orders", upload=False).exceeded
    assert not second.hit("user:1", "GET /orders", upload=False).exceeded


def test_disabled_limiter_reports_a_full_per_user_budget() -> None:
    limiter = RateLimiter(settings(per_user="5/hour", per_endpoint="1/minute", enabled=False))

    for _ in range(10):
        quota = limiter.hit("user:1", "GET /orders", upload=True)
        assert quota == Quota(limit=5, remaining=5, reset=quota.reset, retry_after=0, exceeded=False)
        assert time.time() + 3599 <= quota.reset <= time.time() + 3601
    assert limiter.in_process


def test_invalid_limit_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="couldn't parse"):
        RateLimiter(settings(per_user="lots"))


def test_async_storage_is_refused() -> None:
    with pytest.raises(ValueError, match="synchronous"):
        RateLimiter(settings(storage_uri="async+memory://"))


# --- RateLimitMiddleware -----------------------------------------------------------------


def test_headers_on_every_response_under_the_prefix() -> None:
    client = make_client(RateLimiter(settings(per_endpoint="5/minute")))

    for path in ("/api", "/api/", "/api/orders", "/api/orders/7", "/api/nowhere/at/all"):
        response = client.get(path, headers=bearer("1"))
        assert response.status_code == 200
        assert all(name in response.headers for name in HEADER_NAMES), path
        assert "retry-after" not in response.headers
        assert response.json() == {"path": path}

    response = client.get("/api/orders", headers=bearer("1"))
    assert response.headers["x-ratelimit-limit"] == "5"
    assert response.headers["x-ratelimit-remaining"] == "3"
    assert abs(int(response.headers["x-ratelimit-reset"]) - (time.time() + 60)) <= 2


def test_rate_limit_headers_replace_the_apps_own() -> None:
    client = make_client(RateLimiter(settings(per_endpoint="5/minute")))

    response = client.get("/api/orders")

    assert response.headers.get_list("x-ratelimit-limit") == ["5"]
    assert response.headers["content-type"] == "application/json"


def test_paths_outside_the_prefix_pass_through_untouched() -> None:
    limiter = SpyLimiter(settings(per_user="1/minute"))
    client = make_client(limiter)

    for path in ("/", "/apis", "/apiary/orders", "/other/api/orders"):
        for _ in range(3):
            response = client.get(path)
            assert response.status_code == 200
            assert response.headers.get_list("x-ratelimit-limit") == ["999"]  # the app's own, untouched
            assert "x-ratelimit-remaining" not in response.headers
            assert "x-ratelimit-reset" not in response.headers
    assert limiter.calls == []


def test_non_http_scopes_pass_through_untouched() -> None:
    seen: list[tuple[Scope, Receive, Send]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope, receive, send))

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        raise AssertionError("nothing is sent")

    limiter = SpyLimiter(settings())
    middleware = RateLimitMiddleware(
        app, prefix=PREFIX, paths=PATHS, limiter=limiter, identify=identify_bearer, reject=Rejections()
    )
    scopes: list[Scope] = [
        {"type": "websocket", "path": "/api/orders", "headers": []},
        {"type": "lifespan"},
    ]
    for scope in scopes:
        asyncio.run(middleware(scope, receive, send))

    assert [entry[0] for entry in seen] == scopes
    assert all(entry[1] is receive and entry[2] is send for entry in seen)
    assert limiter.calls == []


@pytest.mark.parametrize(
    ("method", "path", "endpoint", "upload"),
    [
        ("GET", "/api/orders", "GET /orders", False),
        ("POST", "/api/orders", "POST /orders", False),
        ("GET", "/api/orders/42", "GET /orders/{id}", False),
        ("GET", "/api/orders/export", "GET /orders/export", False),
        ("DELETE", "/api/orders/42", "DELETE /orders/{id}", False),
        ("POST", "/api/orders/42/files", "POST /orders/{id}/files", True),
        ("GET", "/api/orders/42/files/invoice.pdf", "GET /orders/{id}/files/{name}.pdf", False),
        ("GET", "/api/orders/42/files/invoice.txt", f"GET {UNMATCHED}", False),
        ("GET", "/api/orders/", f"GET {UNMATCHED}", False),
        ("GET", "/api/orders/42/extra", f"GET {UNMATCHED}", False),
        ("GET", "/api", f"GET {UNMATCHED}", False),
    ],
)
def test_endpoint_is_method_and_matching_template(method: str, path: str, endpoint: str, upload: bool) -> None:
    limiter = SpyLimiter(settings())

    response = make_client(limiter).request(method, path, headers=bearer("9"))

    assert response.status_code == 200
    assert limiter.calls == [("user:9", endpoint, upload)]


def test_path_parameters_share_one_bucket() -> None:
    client = make_client(RateLimiter(settings(per_endpoint="2/minute")))

    assert client.get("/api/orders/1", headers=bearer("1")).status_code == 200
    assert client.get("/api/orders/2", headers=bearer("1")).status_code == 200
    assert client.get("/api/orders/3", headers=bearer("1")).status_code == 429
    assert client.get("/api/orders/export", headers=bearer("1")).status_code == 200


def test_unmatched_paths_share_one_bucket_per_method() -> None:
    client = make_client(RateLimiter(settings(per_endpoint="2/minute")))

    assert client.get("/api/a", headers=bearer("1")).status_code == 200
    assert client.get("/api/b/c", headers=bearer("1")).status_code == 200
    assert client.get("/api/d", headers=bearer("1")).status_code == 429
    assert client.post("/api/d", headers=bearer("1")).status_code == 200


def test_per_endpoint_limit_trips_per_endpoint_and_per_caller() -> None:
    client = make_client(RateLimiter(settings(per_endpoint="2/minute")))

    for _ in range(2):
        assert client.get("/api/orders", headers=bearer("1")).status_code == 200
    assert client.get("/api/orders", headers=bearer("1")).status_code == 429
    assert client.post("/api/orders", headers=bearer("1")).status_code == 200
    assert client.get("/api/orders/export", headers=bearer("1")).status_code == 200
    assert client.get("/api/orders", headers=bearer("2")).status_code == 200
    assert client.get("/api/orders").status_code == 200  # anonymous: by IP


def test_per_user_limit_across_endpoints() -> None:
    client = make_client(RateLimiter(settings(per_user="3/minute")))

    assert client.get("/api/orders", headers=bearer("1")).status_code == 200
    assert client.post("/api/orders", headers=bearer("1")).status_code == 200
    last = client.get("/api/orders/1", headers=bearer("1"))
    assert last.status_code == 200
    assert last.headers["x-ratelimit-remaining"] == "0"
    assert client.get("/api/orders/export", headers=bearer("1")).status_code == 429
    assert client.get("/api/orders/export", headers=bearer("2")).status_code == 200


def test_upload_limit() -> None:
    client = make_client(RateLimiter(settings(uploads="2/minute")))

    for _ in range(2):
        assert client.post("/api/orders/1/files", headers=bearer("1")).status_code == 200
    refused = client.post("/api/orders/2/files", headers=bearer("1"))
    assert refused.status_code == 429
    assert refused.headers["x-ratelimit-limit"] == "2"
    assert client.get("/api/orders/1/files/a.pdf", headers=bearer("1")).status_code == 200
    assert client.post("/api/orders/1/files", headers=bearer("2")).status_code == 200


def test_exceeded_quota_calls_reject_with_headers() -> None:
    rejections = Rejections()
    client = make_client(RateLimiter(settings(per_endpoint="1/minute")), rejections)
    assert client.get("/api/orders", headers=bearer("1")).status_code == 200

    response = client.get("/api/orders", headers=bearer("1"))

    assert response.status_code == 429
    assert response.json() == {"status": 429, "title": "Too Many Requests"}
    assert response.headers["content-type"] == "application/problem+json"
    [quota] = rejections.quotas
    assert quota.exceeded
    assert 58 <= quota.retry_after <= 60
    assert response.headers["retry-after"] == str(quota.retry_after)
    assert response.headers["x-ratelimit-limit"] == "1"
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert response.headers["x-ratelimit-reset"] == str(quota.reset)


def test_refused_request_does_not_reach_the_app_nor_count() -> None:
    calls: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append(scope["path"])
        await inner_app(scope, receive, send)

    middleware = RateLimitMiddleware(
        app,
        prefix=PREFIX,
        paths=PATHS,
        limiter=RateLimiter(settings(per_user="3/minute", per_endpoint="1/minute")),
        identify=identify_bearer,
        reject=Rejections(),
    )
    client = TestClient(middleware)

    assert client.get("/api/orders", headers=bearer("1")).status_code == 200
    for _ in range(5):
        assert client.get("/api/orders", headers=bearer("1")).status_code == 429
    assert client.post("/api/orders", headers=bearer("1")).status_code == 200
    last = client.get("/api/orders/export", headers=bearer("1"))

    assert last.status_code == 200
    assert last.headers["x-ratelimit-remaining"] == "0"
    assert calls == ["/api/orders", "/api/orders", "/api/orders/export"]


def test_unidentified_caller_is_limited_by_client_ip() -> None:
    authorizations: list[str | None] = []

    def identify(scope: Scope) -> str | None:
        authorizations.append(request_authorization(scope))
        return None

    limiter = SpyLimiter(settings(per_endpoint="1/minute"))
    client = make_client(limiter, identify=identify, client=("198.51.100.1", 1234))
    other = make_client(limiter, identify=identify, client=("198.51.100.2", 1234))

    assert client.get("/api/orders", headers=bearer("1")).status_code == 200
    assert client.get("/api/orders", headers=bearer("2")).status_code == 429
    assert other.get("/api/orders").status_code == 200

    assert authorizations == ["Bearer 1", "Bearer 2", None]
    assert [caller for caller, _, _ in limiter.calls] == ["ip:198.51.100.1", "ip:198.51.100.1", "ip:198.51.100.2"]


def test_scope_without_client_is_unknown() -> None:
    limiter = SpyLimiter(settings())
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    middleware = RateLimitMiddleware(
        inner_app, prefix=PREFIX, paths=PATHS, limiter=limiter, identify=identify_bearer, reject=Rejections()
    )
    scope: Scope = {"type": "http", "method": "GET", "path": "/api/orders", "headers": [], "client": None}
    asyncio.run(middleware(scope, receive, send))

    assert limiter.calls == [("ip:unknown", "GET /orders", False)]
    assert {name for name, _ in sent[0]["headers"]} >= {name.encode() for name in HEADER_NAMES}


def test_prefix_with_trailing_slash_is_normalised() -> None:
    limiter = SpyLimiter(settings())
    middleware = RateLimitMiddleware(
        inner_app, prefix="/api/", paths=PATHS, limiter=limiter, identify=identify_bearer, reject=Rejections()
    )

    TestClient(middleware).get("/api/orders/5")

    assert limiter.calls == [("ip:testclient", "GET /orders/{id}", False)]


def test_disabled_limiting_still_sends_headers() -> None:
    rejections = Rejections()
    client = make_client(RateLimiter(settings(per_user="7/hour", per_endpoint="1/minute", enabled=False)), rejections)

    for _ in range(5):
        response = client.post("/api/orders/1/files", headers=bearer("1"))
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit"] == "7"
        assert response.headers["x-ratelimit-remaining"] == "7"
        assert "retry-after" not in response.headers
    assert rejections.quotas == []


# --- Redis -------------------------------------------------------------------------------


@pytest.fixture
def redis_namespace() -> Iterator[str]:
    """A namespace of its own in the local Redis, deleted afterwards; skips without Redis."""
    connection = redis.Redis.from_url(REDIS_URI, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        connection.ping()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
        connection.close()
        pytest.skip(f"Redis is not reachable at {REDIS_URI}")
    namespace = f"test-{uuid.uuid4().hex}"
    try:
        yield namespace
    finally:
        keys = list(connection.scan_iter(match=f"*{namespace}*"))
        if keys:
            connection.delete(*keys)
        connection.close()


def test_redis_storage_shares_limits_across_limiters(redis_namespace: str) -> None:
    limits = settings(per_user="3/minute", per_endpoint="2/minute", storage_uri=REDIS_URI)
    worker_a = RateLimiter(limits, namespace=redis_namespace)
    worker_b = RateLimiter(limits, namespace=redis_namespace)
    assert not worker_a.in_process

    first = worker_a.hit("user:1", "GET /orders", upload=False)
    assert (first.limit, first.remaining, first.exceeded) == (2, 1, False)
    assert abs(first.reset - (time.time() + 60)) <= 2
    assert not worker_b.hit("user:1", "GET /orders", upload=False).exceeded
    refused = worker_a.hit("user:1", "GET /orders", upload=False)
    assert refused.exceeded
    assert 58 <= refused.retry_after <= 60

    last = worker_b.hit("user:1", "POST /orders", upload=False)
    assert (last.limit, last.remaining, last.exceeded) == (3, 0, False)  # the refusal was not counted
    assert worker_a.hit("user:1", "GET /orders/{id}", upload=False).exceeded


def test_redis_storage_through_the_middleware(redis_namespace: str) -> None:
    rejections = Rejections()
    limiter = RateLimiter(settings(per_endpoint="1/minute", storage_uri=REDIS_URI), namespace=redis_namespace)
    client = make_client(limiter, rejections)

    assert client.get("/api/orders/1", headers=bearer("1")).status_code == 200
    response = client.get("/api/orders/2", headers=bearer("1"))

    assert response.status_code == 429
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert int(response.headers["retry-after"]) >= 1
    assert len(rejections.quotas) == 1


def test_an_unreachable_shared_store_lets_requests_through_with_full_headers() -> None:
    limiter = RateLimiter(RateLimitSettings(per_user="5/minute", storage_uri="redis://127.0.0.1:1"))

    quota = limiter.hit("user:1", "GET /things", upload=False)

    assert not quota.exceeded
    assert quota.limit == quota.remaining == 5
