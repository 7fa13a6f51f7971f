"""The token endpoint of the client-credentials grant (RFC 6749 §4.4), on authlib.

authlib does the protocol: client authentication in the body (`client_secret_post`) or by
HTTP Basic (`client_secret_basic`, which RFC 6749 §2.3.1 requires and most client
libraries send), `grant_type`, scopes and the §5.2 errors with `Cache-Control: no-store`.
This module adapts it to the service: the request is what the core already parsed (a form
or a JSON body alike), clients come from the API's own store, and the token is a JWT
signed by the API's key ring, with the API's claims.

Choices where the RFC leaves room: unknown parameters are ignored; an empty `scope` is
no scope given (§3.3), which grants the policy's default scopes the client holds; a scope
the client does not hold is `invalid_scope`; `invalid_client` is always 401 with a Basic
challenge naming the API's realm.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload

from core.oauth.keys import KeyRing

MAX_LIFETIME = 600  # seconds; short-lived tokens
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
# An error description holds only printable ASCII but `"` and `\` (RFC 6749 §5.2); a requested
# scope may hold anything, so what it cannot hold becomes `?`.
_NOT_IN_DESCRIPTIONS = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


class OAuthClient(Protocol):
    """A client of the API, as its store keeps it (disabled clients are not found)."""

    @property
    def client_id(self) -> str: ...

    @property
    def scopes(self) -> Collection[str]: ...

    def check_secret(self, secret: str) -> bool: ...


ClientLookup = Callable[[str], OAuthClient | None]


@dataclass(frozen=True)
class TokenPolicy:
    """What an API's tokens say: who issues them, for whom, for how long, with which scopes."""

    issuer: str
    audience: str
    realm: str  # of the Basic challenge of `invalid_client`
    scopes_supported: frozenset[str]
    default_scopes: frozenset[str]  # granted when `scope` is absent or empty
    lifetime: int = MAX_LIFETIME
    claims: Callable[[OAuthClient], Mapping[str, Any]] = field(default=lambda client: {})

    def __post_init__(self) -> None:
        if not 0 < self.lifetime <= MAX_LIFETIME:
            raise ValueError(f"a token lives at most {MAX_LIFETIME} seconds")


@dataclass(frozen=True)
class TokenRequest:
    """A token request as the core read it: the body's fields, whatever its media type."""

    url: str
    headers: Mapping[str, str]
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class TokenResponse:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def client_failed(self) -> bool:
        """Whether the client failed to authenticate (what a throttle counts)."""
        return self.body.get("error") == "invalid_client"


class TokenServer:
    def __init__(self, keys: Callable[[], KeyRing], policy: TokenPolicy) -> None:
        self.keys = keys
        self.policy = policy

    def respond(self, request: TokenRequest, clients: ClientLookup) -> TokenResponse:
        server = _Server(self, clients)
        status, body, headers = server.create_token_response(_Request(request))
        answer = {**dict(headers), **NO_STORE}
        if body.get("error") == "invalid_client":
            status = 401
            answer["WWW-Authenticate"] = f'Basic realm="{self.policy.realm}"'
        return TokenResponse(status, dict(body), answer)

    def token(self, client: OAuthClient, scopes: Collection[str]) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            **self.policy.claims(client),
            "iss": self.policy.issuer,
            "aud": self.policy.audience,
            "sub": client.client_id,
            "client_id": client.client_id,
            "scope": " ".join(sorted(scopes)),
            "iat": now,
            "exp": now + self.policy.lifetime,
            "jti": uuid.uuid4().hex,
        }
        return {
            "access_token": self.keys().sign(claims),
            "token_type": "Bearer",
            "expires_in": self.policy.lifetime,
            "scope": claims["scope"],
        }


class _Client(ClientMixin):
    def __init__(self, client: OAuthClient) -> None:
        self.client = client

    def get_client_id(self) -> str:
        return self.client.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        return bool(self.client.check_secret(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in _AUTH_METHODS

    def check_grant_type(self, grant_type: str) -> bool:
        return bool(grant_type == ClientCredentialsGrant.GRANT_TYPE)

    def get_allowed_scope(self, scope: str) -> str:
        return scope


class _Request(OAuth2Request):
    def __init__(self, request: TokenRequest) -> None:
        # Transport security is the deployment's (TLS ends in front of the service); authlib
        # refuses plain http URLs, so the URL it sees is the one the client used over TLS.
        super().__init__("POST", "https://" + request.url.split("://", 1)[-1], headers=request.headers)
        fields = {key: value for key, value in request.fields.items() if isinstance(value, str)}
        self.payload = BasicOAuth2Payload(fields)
        self._fields = fields

    @property
    def form(self) -> Mapping[str, str]:
        return self._fields


class _Server(AuthorizationServer):
    def __init__(self, owner: TokenServer, clients: ClientLookup) -> None:
        super().__init__(scopes_supported=sorted(owner.policy.scopes_supported))
        self.owner = owner
        self.clients = clients
        self.register_grant(_ClientCredentials)
        self.register_token_generator(ClientCredentialsGrant.GRANT_TYPE, self._generate)

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request  # built from what the core read (`_Request`)

    def query_client(self, client_id: str) -> _Client | None:
        found = self.clients(client_id)
        return _Client(found) if found is not None else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Nothing to keep: the token is a signed JWT, checked by its signature."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No listeners."""

    def handle_response(self, status: int, body: Any, headers: Any) -> tuple[int, Any, Any]:
        return status, body, headers

    def _generate(self, grant_type: str, client: _Client, scope: str | None = None, **_: Any) -> dict[str, Any]:
        return self.owner.token(client.client, (scope or "").split())


class _ClientCredentials(ClientCredentialsGrant):
    """The grant with the policy's scope rules: what the client asks for must be scopes it
    holds; nothing asked for is the default scopes it holds."""

    TOKEN_ENDPOINT_AUTH_METHODS = list(_AUTH_METHODS)

    def validate_requested_scope(self) -> None:
        server: _Server = self.server
        policy = server.owner.policy
        client: OAuthClient = self.request.client.client
        asked = set((self.request.payload.scope or "").split())
        held = set(client.scopes) & policy.scopes_supported
        if asked - held:
            refused = _NOT_IN_DESCRIPTIONS.sub("?", " ".join(sorted(asked - held)))
            raise InvalidScopeError(description=f"Not granted to this client: {refused[:200]}.")
        granted = asked or (policy.default_scopes & held)
        self.request.payload = BasicOAuth2Payload({**self.request.payload.data, "scope": " ".join(sorted(granted))})
