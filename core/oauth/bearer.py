"""The bearer access tokens of an API's own token endpoint, checked as it receives them: the
signature by a key of its ring, the issuer, audience and expiry; the scopes are the
caller's. No database read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connexion.lifecycle import ConnexionRequest

from core.oauth.keys import InvalidTokenError, KeyRing
from core.problems import Unauthorized
from core.security import TokenPrincipal


class AccessTokenVerifier:
    def __init__(self, ring: Callable[[], KeyRing], issuer: str, audience: str) -> None:
        self.ring = ring
        self.issuer = issuer
        self.audience = audience

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or 401."""
        try:
            return self.ring().verify(token, self.issuer, self.audience)
        except InvalidTokenError:
            raise Unauthorized("The access token is invalid or has expired.") from None

    def __call__(self, credential: str, request: ConnexionRequest) -> TokenPrincipal:
        claims = self.verify(credential)
        granted = frozenset(str(claims.get("scope") or "").split())
        return TokenPrincipal(subject=str(claims.get("sub")), claims=claims, scopes=granted)
