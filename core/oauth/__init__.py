"""An OAuth 2.0 authorization server for the client-credentials grant (RFC 6749 §4.4),
built on authlib, issuing JWT access tokens signed by a rotating key ring. An API gives it
its clients, scopes and claims; the core gives it the protocol."""

from core.oauth import endpoint
from core.oauth.keys import InvalidTokenError, KeyRing
from core.oauth.server import OAuthClient, TokenPolicy, TokenRequest, TokenResponse, TokenServer

__all__ = [
    "InvalidTokenError",
    "KeyRing",
    "OAuthClient",
    "TokenPolicy",
    "TokenRequest",
    "TokenResponse",
    "TokenServer",
    "endpoint",
]
