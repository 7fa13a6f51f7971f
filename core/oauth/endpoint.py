"""The token endpoint as an API's operation answers it: the core's token server, with a
budget of failed client authentications per client id (the client's address has its own,
`core.auth_failures.AuthFailureLimit`).

A client whose id has used up its budget is answered 429 `temporarily_unavailable` with
`Retry-After`, before its secret is checked, so guessing a client's secret is slow
whatever address the guesses come from.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from core.api import Middleware, Mounted
from core.auth_failures import AuthFailureLimit, FailureCounter
from core.oauth.errors import TOKEN_PATH
from core.oauth.server import NO_STORE, ClientLookup, TokenRequest, TokenResponse, TokenServer
from core.problems import Renderer, rejection


def answer(
    server: TokenServer,
    clients: ClientLookup,
    request: TokenRequest,
    failures: FailureCounter,
) -> TokenResponse:
    """The token response to `request`, counting a failed client authentication against the
    client id it claimed."""
    client_id = claimed_client(request.fields, request.headers.get("Authorization"))
    if client_id and (quota := failures.exhausted(client_id)) is not None:
        described = f"Too many failed client authentications; retry in {quota.retry_after} seconds."
        body = {"error": "temporarily_unavailable", "error_description": described}
        return TokenResponse(429, body, {**NO_STORE, "Retry-After": str(quota.retry_after)})
    response = server.respond(request, clients)
    if response.client_failed and client_id:
        failures.count(client_id)
    return response


def claimed_client(fields: Mapping[str, Any], authorization: str | None) -> str | None:
    """The client id a request claims, in HTTP Basic or in the body (to count its failures)."""
    scheme, _, credentials = (authorization or "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return unquote(decoded.partition(":")[0]) or None
    client_id = fields.get("client_id")
    return client_id if isinstance(client_id, str) and client_id else None


def failure_limit(mounted: Mounted[Any], render: Renderer, rate: str, enabled: bool) -> Middleware:
    """The limit on failed client authentications per client address, on the API's token
    endpoint, refusing in the API's own format (a middleware of `Api.middlewares`)."""
    settings = mounted.settings
    options = {
        "prefix": mounted.api.prefix + TOKEN_PATH,
        "rate": rate,
        "storage_uri": settings.redis_url or "memory://",
        "reject": rejection(
            render, lambda quota: f"Too many failed client authentications; retry in {quota.retry_after} seconds."
        ),
        "enabled": enabled and settings.rate_limits_enabled,
        "namespace": f"{mounted.api.name}-auth-failures",
    }
    return AuthFailureLimit, options


@functools.cache
def client_failures(rate: str, storage_uri: str, namespace: str, enabled: bool) -> FailureCounter:
    """The per-client-id counter of an API's token endpoint, one per worker."""
    return FailureCounter(rate=rate, storage_uri=storage_uri, namespace=f"{namespace}-client-failures", enabled=enabled)
