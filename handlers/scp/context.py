"""What SCP handlers share: its settings, the token server with SCP's scopes and claims
(signing with the key ring of `SCP_TOKEN_KEYS_FILE`), and the idempotency keys of its POST
and PATCH operations."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any

from connexion import request
from starlette.responses import Response

from core.bodies import raw_body
from core.config import Settings
from core.idempotency import IdempotencyKeys, KeyInUse, KeyReused, key_from_header
from core.oauth import TokenPolicy, TokenServer
from core.oauth.keys import ring_at
from core.oauth.server import OAuthClient
from core.responses import to_response
from core.unit_of_work import current_unit
from models.scp import problems, scopes
from models.scp.access import Caller
from models.scp.settings import ScpSettings

API_NAME = REALM = "scp"  # its name, and the realm of its Basic challenge
PREFIX = "/scp"


def scp_settings(settings: Settings | None = None) -> ScpSettings:
    from handlers.scp.api import API  # the API declares these handlers: imported when first served

    return API.config(settings or current_unit().settings)


def _claims(client: OAuthClient) -> dict[str, object]:
    """A token's tenant and role: the client's (core.oauth.clients.Client.claims)."""
    return dict(getattr(client, "claims", {}))


@functools.cache
def token_server(scp: ScpSettings) -> TokenServer:
    policy = TokenPolicy(
        issuer=scp.token_issuer,
        audience=scp.token_audience,
        realm=REALM,
        scopes_supported=scopes.ALL,
        default_scopes=scopes.DEFAULT,
        lifetime=scp.token_lifetime,
        claims=_claims,
    )
    return TokenServer(lambda: ring_at(scp.token_keys_file), policy)


IDEMPOTENCY_HEADER = "Idempotency-Key"


@functools.cache
def _keys() -> IdempotencyKeys:
    return IdempotencyKeys(API_NAME, replayed_headers={"Idempotent-Replayed": "true"})


def key_scope(caller: Caller) -> str:
    """Whose keys: the caller's tenant and client."""
    return hashlib.sha256(f"{caller.tenant_id or ''}\n{caller.client_id}".encode()).hexdigest()[:64]


def request_described(method: str, path: str, query: str, body: bytes) -> bytes:
    """What a key's request is: the same method, path, query and body make the same request."""
    return b"\n".join([method.encode(), path.encode(), query.encode(), body])


def idempotent(
    caller: Caller,
    call: Callable[[], Any],
    recorded: Callable[[Response], Response] | None = None,
    *,
    key: str | None = None,
    body: bytes | None = None,
) -> Response:
    """Answer a POST or PATCH under its `Idempotency-Key`, when it has one: the key is the
    caller's (tenant and client), and the request it names is its method, path, query and
    body, so the same key with any other request answers 422."""
    header = key if key is not None else request.headers.get(IDEMPOTENCY_HEADER)
    if header is None:
        return to_response(call())
    if body is None:  # the exact bytes, unless the caller says what stands for them (an upload's)
        try:
            body = raw_body()
        except LookupError:
            body = b""
    scope = key_scope(caller)
    described = request_described(request.method, request.url.path, request.url.query, body)
    try:
        return _keys().run(current_unit(), scope, key_from_header(header), described, call, recorded)
    except KeyInUse as busy:
        raise problems.idempotency_key_in_use(busy.headers.get("Retry-After", "1")) from None
    except KeyReused:
        raise problems.idempotency_key_reused() from None
