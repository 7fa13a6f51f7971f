"""SCP Integration API as the core serves it: tenant-bound scoped tokens from its own OAuth 2.0
client-credentials endpoint (`POST /oauth/token`, on the core's token server), its error
formats, the limit on failed client authentications, demo data and commands.

Only the token endpoint is served so far; the integration, lifecycle, contract and
registry operations come next, and are left out of routing until their handlers exist.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Mapping, Sequence
from typing import Any

from core.api import Api, Middleware, Mounted
from core.config import PROJECT_ROOT
from core.oauth import TokenRequest, endpoint
from core.oauth.bearer import AccessTokenVerifier
from core.oauth.errors import TOKEN_PATH
from core.oauth.keys import ring_at
from core.security import Verifier
from core.unit_of_work import UnitOfWork
from handlers.scp.commands import commands
from handlers.scp.context import API_NAME, PREFIX, token_server
from handlers.scp.errors import render_problem
from models.scp.clients import Clients
from models.scp.demo import DEMO_CLIENTS, demo_client_secret, ensure_demo_clients, load_demo_data
from models.scp.settings import ScpSettings

SERVED = frozenset({"issueToken"})


def security(mounted: Mounted[ScpSettings]) -> Mapping[str, Verifier]:
    scp = mounted.config
    ring = functools.partial(ring_at, scp.token_keys_file)
    return {"scpOAuth2": AccessTokenVerifier(ring, scp.token_issuer, scp.token_audience)}


def middlewares(mounted: Mounted[ScpSettings]) -> Sequence[Middleware]:
    """Failed client authentications per client address, on the token endpoint (per client id,
    the token handler counts them)."""
    scp = mounted.config
    return [endpoint.failure_limit(mounted, render_problem, scp.auth_failure_rate, scp.rate_limits_enabled)]


def demo_token(mounted: Mounted[ScpSettings], client_id: str) -> str:
    """A fresh access token of a demo client, holding every scope it has."""
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        ensure_demo_clients(unit)
        unit.commit()
        _, _, granted = DEMO_CLIENTS[client_id]
        answer = token_server(mounted.config).respond(
            TokenRequest(
                f"https://localhost{mounted.api.prefix}{TOKEN_PATH}",
                {},
                {
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": demo_client_secret(client_id),
                    "scope": " ".join(sorted(granted)),
                },
            ),
            Clients(unit).find,
        )
    return str(answer.body["access_token"])


def demo_credentials(mounted: Mounted[ScpSettings]) -> dict[str, Any]:
    """Each demo client, by tenant and role, with a fresh token holding all its scopes."""
    return {
        client_id: {
            "tenant_id": tenant_id,
            "role": role,
            "client_id": client_id,
            "client_secret": demo_client_secret(client_id),
            "authorization": f"Bearer {demo_token(mounted, client_id)}",
        }
        for client_id, (tenant_id, role, _) in DEMO_CLIENTS.items()
    }


class DemoClient:
    """A demo tenant's admin client: HTTP Basic on the token endpoint, a bearer token holding
    every scope elsewhere."""

    CLIENT_ID = "riverside-admin"

    def __init__(self, mounted: Mounted[ScpSettings]) -> None:
        self.mounted = mounted
        self.token: str | None = None

    def renew(self) -> None:
        self.token = None

    def headers_for(self, operation_id: str | None) -> dict[str, str]:
        if operation_id == "issueToken":
            pair = f"{self.CLIENT_ID}:{demo_client_secret(self.CLIENT_ID)}"
            return {"Authorization": f"Basic {base64.b64encode(pair.encode()).decode()}"}
        self.token = self.token or demo_token(self.mounted, self.CLIENT_ID)
        return {"Authorization": f"Bearer {self.token}"}


API: Api[ScpSettings] = Api(
    name=API_NAME,
    prefix=PREFIX,
    spec="scp.yaml",
    handlers="handlers.scp",
    settings=ScpSettings.from_env,
    security=security,
    render_problem=render_problem,
    models=("models.scp.tables",),
    migrations=PROJECT_ROOT / "migrations" / "scp",
    middlewares=middlewares,
    operations=SERVED,
    load_demo=load_demo_data,
    demo_credentials=demo_credentials,
    demo_client=DemoClient,
    commands=commands,
)
