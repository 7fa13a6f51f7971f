"""JWT bearer verification with joserfc, and the security verifier that uses it.

Only the configured algorithm is accepted (so `alg: none` and algorithm confusion are
refused), the signature must verify against the configured key, `exp` is required, and
`iss`/`aud` are checked when configured. The caller's user id is the `sub` claim, or the
`nameidentifier` claim that .NET identity providers issue.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, Protocol

from connexion.lifecycle import ConnexionRequest
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import KeySet, OctKey, RSAKey
from joserfc.jwt import JWTClaimsRegistry

from core.concurrency import inline
from core.config import JWTSettings
from core.problems import Unauthorized
from core.security import TokenPrincipal, Verifier

NAMEIDENTIFIER_CLAIMS = (
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier",
    "nameidentifier",
    "nameid",
)
SUPPORTED_ALGORITHMS = ("HS256", "RS256")

VerifyingKey = OctKey | RSAKey | KeySet


def load_verifying_key(settings: JWTSettings) -> VerifyingKey:
    """The key named by the settings: a shared secret, a PEM public key, or a JWKS file."""
    if settings.algorithm not in SUPPORTED_ALGORITHMS:
        raise ValueError(f"unsupported JWT algorithm {settings.algorithm!r}")
    if settings.algorithm == "HS256":
        if not settings.secret:
            raise ValueError("HS256 needs a shared secret")
        return OctKey.import_key(settings.secret)
    if settings.jwks_file:
        return KeySet.import_key_set(json.loads(settings.jwks_file.read_text()))
    if settings.public_key_file:
        return RSAKey.import_key(settings.public_key_file.read_bytes())
    raise ValueError("RS256 needs a public key file or a JWKS file")


def user_id_from_claims(claims: Mapping[str, Any]) -> str | None:
    """The caller's user id: `sub`, else the `nameidentifier` claim; None when neither is set."""
    for name in ("sub", *NAMEIDENTIFIER_CLAIMS):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


class JWTVerifier:
    """Verifies a compact JWS and returns its claims, or raises `Unauthorized`.

    A client sends the same token with every request, so a token whose signature has been
    verified is remembered (a bounded, per-process cache keyed by the whole token); its
    expiry is still checked on every use. Verifiers run in pool threads too: the cache is
    changed under a lock.
    """

    CACHE_SIZE = 4096

    def __init__(self, settings: JWTSettings, now: Callable[[], int] | None = None) -> None:
        self.settings = settings
        self.key = load_verifying_key(settings)
        self._now = now or (lambda: int(time.time()))
        self._registry = self._claims_registry()
        self._verified: OrderedDict[str, tuple[dict[str, Any], int]] = OrderedDict()
        self._lock = threading.Lock()

    def _claims_registry(self) -> JWTClaimsRegistry:
        options: dict[str, Any] = {"exp": {"essential": True}}
        if self.settings.issuer:
            options["iss"] = {"essential": True, "value": self.settings.issuer}
        if self.settings.audience:
            options["aud"] = {"essential": True, "value": self.settings.audience}
        return JWTClaimsRegistry(now=self._now, leeway=self.settings.leeway_seconds, **options)

    def verify(self, token: str) -> dict[str, Any]:
        remembered = self._verified.get(token)
        if remembered is not None:
            claims, expires = remembered
            # Signature, iss, aud and nbf held when it was first verified; only time runs on.
            if self._now() <= expires:
                return claims
            with self._lock:
                self._verified.pop(token, None)
            raise _unauthorized("The token has expired.", "invalid_token")
        try:
            claims = dict(jwt.decode(token, self.key, algorithms=[self.settings.algorithm]).claims)
            self._registry.validate(claims)
        except ExpiredTokenError as exc:
            raise _unauthorized("The token has expired.", "invalid_token") from exc
        except (JoseError, ValueError, TypeError) as exc:
            raise _unauthorized("The token is not valid.", "invalid_token") from exc
        self._remember(token, claims)
        return claims

    def _remember(self, token: str, claims: dict[str, Any]) -> None:
        with self._lock:
            self._verified[token] = (claims, int(claims["exp"]) + self.settings.leeway_seconds)
            while len(self._verified) > self.CACHE_SIZE:
                self._verified.popitem(last=False)


def issue_token(settings: JWTSettings, claims: dict[str, Any], ttl_seconds: int = 3600) -> str:
    """Mint a token the verifier accepts: for demo credentials and tests, not for production use."""
    now = int(time.time())
    payload = {"iat": now, "exp": now + ttl_seconds, **claims}
    if settings.issuer:
        payload.setdefault("iss", settings.issuer)
    if settings.audience:
        payload.setdefault("aud", settings.audience)
    key: OctKey | RSAKey
    if settings.algorithm == "HS256" and settings.secret:
        key = OctKey.import_key(settings.secret)
    elif settings.algorithm == "RS256" and settings.private_key_file:
        key = RSAKey.import_key(settings.private_key_file.read_bytes())
    else:
        raise ValueError(f"cannot mint {settings.algorithm} tokens without a signing key")
    return jwt.encode({"alg": settings.algorithm, "typ": "JWT"}, payload, key)


def _unauthorized(detail: str, error: str) -> Unauthorized:
    return Unauthorized(detail, headers={"WWW-Authenticate": f'Bearer error="{error}"'})


REQUEST_CLAIMS = "partner_gateway_claims"


class TokenChecker(Protocol):
    def verify(self, token: str) -> dict[str, Any]: ...


def verified_once(scope: MutableMapping[str, Any], verifier: TokenChecker, token: str) -> dict[str, Any]:
    """`verifier.verify(token)`, done at most once per request: whoever verifies the token first
    (a rate limiter that identifies the caller, say) leaves the claims for the security check."""
    memo: dict[tuple[int, str], dict[str, Any]] = scope.setdefault("extensions", {}).setdefault(REQUEST_CLAIMS, {})
    key = (id(verifier), token)
    if key not in memo:
        memo[key] = verifier.verify(token)
    return memo[key]


def scopes_of(claims: Mapping[str, Any]) -> frozenset[str]:
    """The OAuth 2.0 scopes a token grants: `scope` (space-separated, RFC 8693) or `scp` (a list)."""
    granted = claims.get("scope", claims.get("scp", ""))
    if isinstance(granted, str):
        return frozenset(granted.split())
    if isinstance(granted, list):
        return frozenset(str(item) for item in granted)
    return frozenset()


def token_principal(verifier: JWTVerifier) -> Verifier:
    """A security verifier accepting tokens `verifier` verifies: the caller is the token's subject.

    Pure computation over a per-process cache, so it runs on the event loop.
    """

    @inline
    def verify(credential: str, request: ConnexionRequest) -> TokenPrincipal:
        claims = verified_once(request.scope, verifier, credential)
        return TokenPrincipal(user_id_from_claims(claims), claims, scopes_of(claims))

    return verify
