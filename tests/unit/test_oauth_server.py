"""The core's client-credentials token server, with a client store of the test's own: client
authentication in the body and by HTTP Basic, scopes (least privilege, `invalid_scope`,
empty means none given), RFC 6749 §5.2 errors with no-store, unknown parameters ignored,
and tokens that a rotated key ring still verifies."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.oauth import InvalidTokenError, KeyRing, TokenPolicy, TokenRequest, TokenServer

POLICY = TokenPolicy(
    issuer="https://service.test/api",
    audience="api",
    realm="api",
    scopes_supported=frozenset({"read", "write", "admin"}),
    default_scopes=frozenset({"write"}),
    lifetime=600,
    claims=lambda client: {"tenant": "t1"},
)


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str
    scopes: Collection[str]

    def check_secret(self, secret: str) -> bool:
        return hmac.compare_digest(secret.encode(), self.secret.encode())


CLIENTS = {"c1": Client("c1", "s3cret", ("read", "write")), "c2": Client("c2", "other", ("admin",))}


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.generate()


@pytest.fixture
def server(ring: KeyRing) -> TokenServer:
    return TokenServer(lambda: ring, POLICY)


Answer = tuple[int, dict[str, Any], dict[str, str]]


def ask(server: TokenServer, fields: dict[str, str], headers: dict[str, str] | None = None) -> Answer:
    answer = server.respond(TokenRequest("http://service.test/api/oauth/token", headers or {}, fields), CLIENTS.get)
    return answer.status, answer.body, answer.headers


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_credentials_in_the_body_get_a_signed_token_with_the_default_scope(server: TokenServer, ring: KeyRing) -> None:
    status, body, headers = ask(
        server, {"grant_type": "client_credentials", "client_id": "c1", "client_secret": "s3cret"}
    )

    assert status == 200
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 600, "write")
    assert headers["Cache-Control"] == "no-store"
    claims = ring.verify(body["access_token"], POLICY.issuer, POLICY.audience)
    assert (claims["sub"], claims["scope"], claims["tenant"]) == ("c1", "write", "t1")
    assert claims["exp"] - claims["iat"] == 600


def test_http_basic_authenticates_too_and_unknown_parameters_are_ignored(server: TokenServer) -> None:
    status, body, _ = ask(
        server, {"grant_type": "client_credentials", "scope": "read", "audience": "x"}, basic("c1", "s3cret")
    )
    assert (status, body["scope"]) == (200, "read")


def test_an_empty_scope_is_none_given(server: TokenServer) -> None:
    fields = {"grant_type": "client_credentials", "client_id": "c1", "client_secret": "s3cret", "scope": ""}
    status, body, _ = ask(server, fields)
    assert (status, body["scope"]) == (200, "write")


def test_a_scope_the_client_does_not_hold_is_invalid_scope(server: TokenServer) -> None:
    fields = {"grant_type": "client_credentials", "client_id": "c1", "client_secret": "s3cret", "scope": "read admin"}
    status, body, headers = ask(server, fields)
    assert (status, body["error"]) == (400, "invalid_scope")
    assert headers["Cache-Control"] == "no-store"
    # a client holding none of the defaults gets a token with no scope, not a default it lacks
    status, body, _ = ask(server, {"grant_type": "client_credentials", "client_id": "c2", "client_secret": "other"})
    assert (status, body["scope"]) == (200, "")


@pytest.mark.parametrize(
    ("fields", "headers"),
    [
        ({"grant_type": "client_credentials", "client_id": "c1", "client_secret": "wrong"}, {}),
        ({"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "s3cret"}, {}),
        ({"grant_type": "client_credentials"}, basic("c1", "wrong")),
        ({"grant_type": "client_credentials"}, {}),
    ],
)
def test_failed_client_authentication_is_401_with_a_basic_challenge(
    server: TokenServer, fields: dict[str, str], headers: dict[str, str]
) -> None:
    answer = server.respond(TokenRequest("https://service.test/oauth/token", headers, fields), CLIENTS.get)
    assert (answer.status, answer.body["error"], answer.client_failed) == (401, "invalid_client", True)
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="api"'


def test_another_grant_type_is_unsupported(server: TokenServer) -> None:
    fields = {"grant_type": "password", "client_id": "c1", "client_secret": "s3cret"}
    status, body, _ = ask(server, fields)
    assert (status, body["error"]) == (400, "unsupported_grant_type")


def test_tokens_signed_before_a_rotation_still_verify_and_pruned_keys_stop_verifying(
    server: TokenServer, tmp_path: Path
) -> None:
    path = tmp_path / "keys.json"
    ring = KeyRing.load(path)
    rotating = TokenServer(lambda: KeyRing.load(path), POLICY)
    fields = {"grant_type": "client_credentials", "client_id": "c1", "client_secret": "s3cret"}
    before = rotating.respond(TokenRequest("https://s/t", {}, fields), CLIENTS.get).body["access_token"]

    ring.rotated().save(path)
    after = rotating.respond(TokenRequest("https://s/t", {}, fields), CLIENTS.get).body["access_token"]
    current = KeyRing.load(path)
    assert current.verify(before, POLICY.issuer, POLICY.audience)["sub"] == "c1"
    assert current.verify(after, POLICY.issuer, POLICY.audience)["sub"] == "c1"
    assert current.signer.kid != ring.signer.kid

    with pytest.raises(InvalidTokenError):
        current.pruned(1).verify(before, POLICY.issuer, POLICY.audience)
    with pytest.raises(InvalidTokenError):
        current.verify(after, POLICY.issuer, "another-audience")


def test_a_lifetime_over_ten_minutes_is_refused() -> None:
    with pytest.raises(ValueError, match="at most 600"):
        TokenPolicy("i", "a", "r", frozenset(), frozenset(), lifetime=601)
