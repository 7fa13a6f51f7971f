"""What SCP handlers share: its settings, the token server with SCP's scopes and claims
(signing with the key ring of `SCP_TOKEN_KEYS_FILE`), and the per-client count of failed
authentications."""

from __future__ import annotations

import functools

from core.config import Settings
from core.oauth import TokenPolicy, TokenServer
from core.oauth.keys import ring_at
from core.oauth.server import OAuthClient
from core.unit_of_work import current_unit
from models.scp import scopes
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
