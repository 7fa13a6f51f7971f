"""SCP Integration API as the core serves it: tenant-bound scoped tokens from its own OAuth 2.0
client-credentials endpoint (`POST /oauth/token`, on the core's token server), integrations
with their lifecycle, data contracts and the registry; its error formats, the API call log,
per-client rate limits, the limit on failed client authentications, demo data and commands.

Webhooks are delivered by the core engine (core/webhooks), signed with each webhook's
Ed25519 keys.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Mapping, Sequence
from typing import Any

from connexion.lifecycle import ConnexionRequest
from starlette.types import Scope

from core.api import Api, Middleware, Mounted
from core.concurrency import inline
from core.config import PROJECT_ROOT
from core.jobs import Job
from core.jwt_bearer import verified_once
from core.oauth import TokenRequest, endpoint
from core.oauth.bearer import AccessTokenVerifier
from core.oauth.errors import TOKEN_PATH
from core.oauth.keys import ring_at
from core.problems import rejection
from core.ratelimit import RateLimiter, RateLimitMiddleware, RateLimitSettings, authorization
from core.security import Verifier
from core.unit_of_work import UnitOfWork
from core.webhooks import Sender, fan_out, retention_job
from handlers.scp.calls import CALLER, CallLog, extensions
from handlers.scp.commands import commands
from handlers.scp.context import API_NAME, PREFIX, token_server
from handlers.scp.errors import render_problem
from models.scp.access import Caller
from models.scp.clients import Clients
from models.scp.demo import DEMO_CLIENTS, DEMO_VERTICALS, demo_client_secret, ensure_demo_clients, load_demo_data
from models.scp.exchanges import PUSH_LIMIT, outputs_job, push_job
from models.scp.settings import ScpSettings
from models.scp.webhooks import ScpWebhooks

MULTIPART_OVERHEAD = 64 * 1024  # an upload's boundaries and part headers, around the file itself
INTEGRATIONS = "/integrations"


@functools.cache
def access_tokens(scp: ScpSettings) -> AccessTokenVerifier:
    ring = functools.partial(ring_at, scp.token_keys_file)
    return AccessTokenVerifier(ring, scp.token_issuer, scp.token_audience)


def security(mounted: Mounted[ScpSettings]) -> Mapping[str, Verifier]:
    tokens = access_tokens(mounted.config)

    @inline
    def caller(credential: str, request: ConnexionRequest) -> Caller:
        """The caller a valid token names (verified once per request: the rate limiter may
        have done it), left for the call log too. No database read."""
        verified = Caller.from_claims(verified_once(request.scope, tokens, credential))
        extensions(request.scope)[CALLER] = verified
        return verified

    return {"scpOAuth2": caller}


def middlewares(mounted: Mounted[ScpSettings]) -> Sequence[Middleware]:
    """Outermost, the API call log, so that it sees every answer, 429s included; then the
    per-client rate limit on every integration operation (shared through Redis when
    `REDIS_URL` is set), and the failed client authentications per client address on the
    token endpoint (per client id, the token handler counts them)."""
    scp, settings = mounted.config, mounted.settings
    enabled = scp.rate_limits_enabled and settings.rate_limits_enabled
    limits = RateLimitSettings(
        per_user=scp.rate_limit,
        per_endpoint=scp.rate_limit,
        storage_uri=settings.redis_url or "memory://",
        enabled=enabled,
    )
    tokens = access_tokens(scp)

    def identify(scope: Scope) -> str | None:
        """The client a valid token names; without one, the client address's budget."""
        scheme, _, token = (authorization(scope) or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        try:
            caller = Caller.from_claims(verified_once(scope, tokens, token.strip()))
        except Exception:
            return None
        extensions(scope)[CALLER] = caller  # the call log's, should this request be refused here
        return f"client:{caller.client_id}"

    paths = mounted.document["paths"]
    calls = {"prefix": mounted.api.prefix, "paths": paths, "database": mounted.database, "settings": settings}
    limiter = {
        "prefix": mounted.api.prefix + INTEGRATIONS,
        "paths": {
            template.removeprefix(INTEGRATIONS): item
            for template, item in paths.items()
            if template.startswith(INTEGRATIONS)
        },
        "limiter": RateLimiter(limits, namespace=mounted.api.name),
        "identify": identify,
        "reset_in_seconds": True,  # as the spec counts it
        "reject": rejection(render_problem, lambda quota: f"The rate limit of {scp.rate_limit} requests was reached."),
    }
    return [
        (CallLog, calls),
        (RateLimitMiddleware, limiter),
        endpoint.failure_limit(mounted, render_problem, scp.auth_failure_rate, scp.rate_limits_enabled),
    ]


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


WEBHOOKS = ScpWebhooks()


def jobs(mounted: Mounted[ScpSettings]) -> Sequence[Job]:
    """Storing accepted pushes, forgetting pull outputs after 24 hours, and delivering webhooks
    (and forgetting delivered ones after their retention)."""
    webhooks = mounted.config.webhooks
    return [push_job(), outputs_job(), Sender(WEBHOOKS, webhooks).job(), retention_job(API_NAME, webhooks.retention)]


def body_limits(scp: ScpSettings) -> Mapping[str, int]:
    """A push may carry 10 MiB of data (and, as an upload, its multipart framing)."""
    return {"pushIntegrationData": PUSH_LIMIT + MULTIPART_OVERHEAD}


# Governance is another client's than the one that registers and submits (separation of duties).
GOVERNED = frozenset(
    {
        "reviewIntegration",
        "approveIntegration",
        "activateIntegration",
        "restrictIntegration",
        "suspendIntegration",
        "deprecateIntegration",
        "archiveIntegration",
        "activateIntegrationContract",
        "archiveIntegrationContract",
    }
)


class DemoClient:
    """A demo tenant's clients as a well-behaved caller uses them: its admin client registers,
    updates and submits, its governor client governs; HTTP Basic on the token endpoint, a
    bearer token holding every scope of the client elsewhere."""

    ADMIN, GOVERNOR = "riverside-admin", "riverside-governor"
    fresh_idempotency_keys = True  # one key per new request, as a client retrying only a lost answer does

    def __init__(self, mounted: Mounted[ScpSettings]) -> None:
        self.mounted = mounted
        self.tokens: dict[str, str] = {}

    def renew(self) -> None:
        self.tokens.clear()

    def refer(self, operation_id: str | None, body: dict[str, Any]) -> None:
        """Name the demo catalogue's verticals, the client's own tenant and a receiver of its
        own, as a real client does."""
        verticals = body.get("vertical_ids")
        if isinstance(verticals, list) and verticals:
            known = sorted(DEMO_VERTICALS)
            chosen = [
                vertical if vertical in known else known[len(str(vertical)) % len(known)] for vertical in verticals
            ]
            body["vertical_ids"] = list(dict.fromkeys(chosen))
        if operation_id == "instantiateRegistryTemplate" and "tenant_id" in body:
            body["tenant_id"] = DEMO_CLIENTS[self.ADMIN][0]
        if "target_url" in body:  # a receiver it owns, at a public address (no name to resolve)
            body["target_url"] = "https://93.184.216.34/scp/events"

    def headers_for(self, operation_id: str | None) -> dict[str, str]:
        if operation_id == "issueToken":
            pair = f"{self.ADMIN}:{demo_client_secret(self.ADMIN)}"
            return {"Authorization": f"Basic {base64.b64encode(pair.encode()).decode()}"}
        client_id = self.GOVERNOR if operation_id in GOVERNED else self.ADMIN
        if client_id not in self.tokens:
            self.tokens[client_id] = demo_token(self.mounted, client_id)
        return {"Authorization": f"Bearer {self.tokens[client_id]}"}


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
    load_demo=load_demo_data,
    demo_credentials=demo_credentials,
    demo_client=DemoClient,
    jobs=jobs,
    event_handlers={"*": fan_out(lambda _unit: WEBHOOKS)},
    body_limits=body_limits,
    # A window whose end is not after its start, both in one body, and a field's data_category
    # outside the contract's data_categories are invalid input (400), rules the schema cannot
    # state; lifecycle operations depend on the status (409).
    state_dependent_statuses={
        "createIntegration": ["400", "409"],
        "updateIntegration": ["400", "409"],
        "createIntegrationContract": ["400", "409"],
        "updateIntegrationContract": ["400", "409"],
        "createRegistryTemplate": ["400"],
        "requestIntegrationReview": ["409"],
        "reviewIntegration": ["409"],
        "approveIntegration": ["409"],
        "activateIntegration": ["409"],
        "restrictIntegration": ["409"],
        "suspendIntegration": ["409"],
        "deprecateIntegration": ["409"],
        "archiveIntegration": ["409"],
        "activateIntegrationContract": ["409"],
        "archiveIntegrationContract": ["409"],
        "instantiateRegistryTemplate": ["409"],
        # An exchange needs an exchanging integration and an active contract (409); a cursor is
        # valid only for the pull that made it (400); a payload's records must fit the contract
        # (422) and be at most 10,000 (413).
        "pushIntegrationData": ["400", "409", "413"],
        "pullIntegrationData": ["400", "409"],
        # A webhook of an archived integration, or a disabled one, takes no change (409).
        "createIntegrationWebhook": ["400", "409"],
        "updateIntegrationWebhook": ["409"],
        "rotateIntegrationWebhookSecret": ["409"],
        "disableIntegrationWebhook": ["409"],
    },
    commands=commands,
)
