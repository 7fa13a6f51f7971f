"""CPRAS Partner API as the core serves it: OAuth 2.0 client credentials for PrintPLANR
(`POST /oauth/token`, on the core's token server), its error formats, the limit on failed
client authentications, demo data and commands."""

from __future__ import annotations

import base64
import functools
from collections.abc import Mapping, Sequence
from typing import Any

from core.api import Api, Middleware, Mounted
from core.config import PROJECT_ROOT
from core.jobs import Job
from core.oauth import TokenRequest, endpoint
from core.oauth.bearer import AccessTokenVerifier
from core.oauth.errors import TOKEN_PATH
from core.oauth.keys import ring_at
from core.security import Verifier
from core.unit_of_work import UnitOfWork
from handlers.cpras.commands import commands
from handlers.cpras.context import API_NAME, PREFIX, token_server
from handlers.cpras.errors import render_problem
from handlers.cpras.pages import pages
from handlers.cpras.webhooks import SIGNATURE, signature_of
from models.cpras import scopes
from models.cpras.clients import Clients
from models.cpras.demo import (
    DEMO_BUYER_OPERATOR,
    DEMO_CLIENT_ID,
    DEMO_SUPPLIER_OPERATOR,
    demo_client_secret,
    demo_operator_password,
    ensure_demo_client,
    load_demo_data,
)
from models.cpras.retention import retention_job
from models.cpras.settings import CprasSettings

TOKEN_BODY_LIMIT = 64 * 1024  # as the spec says of every CPRAS body


def security(mounted: Mounted[CprasSettings]) -> Mapping[str, Verifier]:
    cpras = mounted.config
    ring = functools.partial(ring_at, cpras.token_keys_file)
    return {"oauth2": AccessTokenVerifier(ring, cpras.token_issuer, cpras.token_audience)}


def middlewares(mounted: Mounted[CprasSettings]) -> Sequence[Middleware]:
    """Failed client authentications per client address, on the token endpoint (per client id,
    the token handler counts them)."""
    cpras = mounted.config
    return [endpoint.failure_limit(mounted, render_problem, cpras.auth_failure_rate, cpras.rate_limits_enabled)]


def jobs(mounted: Mounted[CprasSettings]) -> Sequence[Job]:
    """Webhook deliveries and hand-offs forgotten once no longer needed."""
    return [retention_job(mounted.config.handoff_return_lifetime)]


def demo_token(mounted: Mounted[CprasSettings]) -> str:
    """A fresh access token of the demo PrintPLANR client, holding every scope."""
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        ensure_demo_client(unit)
        unit.commit()
        answer = token_server(mounted.config).respond(
            TokenRequest(
                f"https://localhost{mounted.api.prefix}{TOKEN_PATH}",
                {},
                {
                    "grant_type": "client_credentials",
                    "client_id": DEMO_CLIENT_ID,
                    "client_secret": demo_client_secret(),
                    "scope": " ".join(sorted(scopes.ALL)),
                },
            ),
            Clients(unit).find,
        )
    return str(answer.body["access_token"])


def demo_credentials(mounted: Mounted[CprasSettings]) -> dict[str, Any]:
    """The demo PrintPLANR client, a fresh access token holding every scope, the secret
    webhooks are signed with, and the Print Orders area's demo operators."""
    return {
        "client_id": DEMO_CLIENT_ID,
        "client_secret": demo_client_secret(),
        "authorization": f"Bearer {demo_token(mounted)}",
        "webhook_secret": mounted.config.webhook_secret,
        "print_orders": f"{mounted.api.prefix}/print-orders",
        "operators": {name: demo_operator_password(name) for name in (DEMO_BUYER_OPERATOR, DEMO_SUPPLIER_OPERATOR)},
    }


class DemoClient:
    """The demo PrintPLANR client: HTTP Basic on the token endpoint, a bearer token holding
    every scope elsewhere, and PrintPLANR's signature over a webhook delivery's body."""

    def __init__(self, mounted: Mounted[CprasSettings]) -> None:
        self.mounted = mounted
        self.token: str | None = None

    def renew(self) -> None:
        self.token = None

    def signed_headers(self, operation_id: str | None, raw: bytes) -> dict[str, str]:
        """What signs a request body: PrintPLANR's signature, on a webhook delivery."""
        if operation_id != "receivePrintplanrWebhook":
            return {}
        return {SIGNATURE: signature_of(raw, self.mounted.config.webhook_secret)}

    def headers_for(self, operation_id: str | None) -> dict[str, str]:
        if operation_id == "issueToken":
            credentials = base64.b64encode(f"{DEMO_CLIENT_ID}:{demo_client_secret()}".encode()).decode()
            return {"Authorization": f"Basic {credentials}"}
        self.token = self.token or demo_token(self.mounted)
        return {"Authorization": f"Bearer {self.token}"}


API: Api[CprasSettings] = Api(
    name=API_NAME,
    prefix=PREFIX,
    spec="cpras.yaml",
    handlers="handlers.cpras",
    settings=CprasSettings.from_env,
    security=security,
    render_problem=render_problem,
    models=("models.cpras.tables",),
    migrations=PROJECT_ROOT / "migrations" / "cpras",
    middlewares=middlewares,
    jobs=jobs,
    body_limit=TOKEN_BODY_LIMIT,
    load_demo=load_demo_data,
    demo_credentials=demo_credentials,
    demo_client=DemoClient,
    commands=commands,
    pages=pages,
)
