"""Mihwar integrations as the core serves it: API-key and session security, the per-key rate
limit, its error format (handlers/mihwar/errors.py), its jobs (predictions, webhook
delivery, missed checklists), demo data and commands (handlers/mihwar/commands.py).

Three kinds of caller, each with its own credential and none accepted where another is
due: an API key on `/api/integrations/v1`, an administrator's browser session on
`/api/settings`, and an identity provider's SCIM token on `/api/scim/v2`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from connexion.lifecycle import ConnexionRequest
from starlette.types import Scope

from core.api import Api, Middleware, Mounted
from core.auth_failures import AuthFailureLimit
from core.config import PROJECT_ROOT
from core.idempotency import IdempotencyKeys
from core.jobs import Job, JobContext
from core.outbox import Event
from core.ratelimit import RateLimiter, RateLimitMiddleware, RateLimitSettings, authorization
from core.security import Verifier
from core.unit_of_work import UnitOfWork
from core.webhooks import Sender, fan_out, retention_job
from handlers.mihwar.commands import commands
from handlers.mihwar.errors import rejection, render_problem
from models.mihwar.accounts import COOKIE, Accounts, SignedIn
from models.mihwar.checklists import missed_job
from models.mihwar.demo import (
    DEMO_ORGANIZATIONS,
    demo_key_secret,
    ensure_demo_scim_token,
    ensure_demo_users,
    load_demo_data,
)
from models.mihwar.events import API_NAME, IMPORT_COMPLETED
from models.mihwar.ingestion import at_most_max_lines
from models.mihwar.keys import KeyHolder, Tenants, is_well_formed
from models.mihwar.predictions import Forecaster
from models.mihwar.scim.tokens import Provisioner, ScimTokens
from models.mihwar.settings import MihwarSettings
from models.mihwar.webhooks import MihwarWebhooks

INTEGRATIONS = "/api/integrations/v1"
SESSION_OPERATIONS = frozenset(
    {
        "createWebhookSubscription",
        "listWebhookSubscriptions",
        "deleteWebhookSubscription",
        "listWebhookDeliveryAttempts",
    }
)
WEBHOOKS = MihwarWebhooks()
PURGE_INTERVAL_SECONDS = 3600.0


class ApiKeyVerifier:
    """An `rn_live_` key: one indexed read (in the handler pool), so a revoked key answers 401
    from the next request on."""

    def __init__(self, mounted: Mounted[MihwarSettings]) -> None:
        self.mounted = mounted

    def __call__(self, credential: str, request: ConnexionRequest) -> KeyHolder:
        with UnitOfWork(self.mounted.database, self.mounted.settings) as unit:
            holder = Tenants(unit).authenticate(credential)
            unit.commit()
        return holder


class SessionVerifier:
    """The `mihwar_session` cookie of a signed-in user: one indexed read, in the handler pool."""

    def __init__(self, mounted: Mounted[MihwarSettings]) -> None:
        self.mounted = mounted

    def __call__(self, credential: str, request: ConnexionRequest) -> SignedIn:
        with UnitOfWork(self.mounted.database, self.mounted.settings) as unit:
            return Accounts(unit).authenticate(credential)


class ScimTokenVerifier:
    """A `scim_live_` token of an Enterprise organization: one indexed read, in the handler pool,
    so a revoked token answers 401 from the next request on."""

    def __init__(self, mounted: Mounted[MihwarSettings]) -> None:
        self.mounted = mounted

    def __call__(self, credential: str, request: ConnexionRequest) -> Provisioner:
        with UnitOfWork(self.mounted.database, self.mounted.settings) as unit:
            provisioner = ScimTokens(unit).authenticate(credential)
            unit.commit()
        return provisioner


def security(mounted: Mounted[MihwarSettings]) -> Mapping[str, Verifier]:
    return {
        "integrationsApiKey": ApiKeyVerifier(mounted),
        "sessionCookie": SessionVerifier(mounted),
        "scimBearer": ScimTokenVerifier(mounted),
    }


def rate_limit_key(scope: Scope) -> str | None:
    """A well-formed key's own budget, named by a digest of it (the key itself is checked
    later, off the event loop); None leaves the request to its client address's budget."""
    scheme, _, token = (authorization(scope) or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not is_well_formed(token):
        return None
    return "key:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def middlewares(mounted: Mounted[MihwarSettings]) -> Sequence[Middleware]:
    """The per-key rate limit on everything under /api/integrations/v1, shared through Redis
    when `REDIS_URL` is set. One budget per key: the per-endpoint limit is the same number,
    so it never binds first. In front of it, the same number of failed authentications per
    client address (core/auth_failures.py), so made-up keys buy no budget."""
    mihwar, settings = mounted.config, mounted.settings
    limits = RateLimitSettings(
        per_user=mihwar.rate_limit,
        per_endpoint=mihwar.rate_limit,
        storage_uri=settings.redis_url or "memory://",
        enabled=mihwar.rate_limits_enabled and settings.rate_limits_enabled,
    )
    paths = {
        template.removeprefix(INTEGRATIONS): item
        for template, item in mounted.document["paths"].items()
        if template.startswith(INTEGRATIONS + "/")
    }
    prefix = mounted.api.prefix + INTEGRATIONS
    failures = {
        "prefix": prefix,
        "rate": mihwar.rate_limit,
        "storage_uri": limits.storage_uri,
        "reject": rejection(mihwar.rate_limit, "failed authentications"),
        "enabled": limits.enabled,
        "namespace": f"{mounted.api.name}-auth-failures",
    }
    options = {
        "prefix": prefix,
        "paths": paths,
        "limiter": RateLimiter(limits, namespace=mounted.api.name),
        "identify": rate_limit_key,
        "reject": rejection(mihwar.rate_limit),
    }
    return [(AuthFailureLimit, failures), (RateLimitMiddleware, options)]


def body_limits(mihwar: MihwarSettings) -> Mapping[str, int]:
    """5000 lines of order history take more than the default 1 MiB."""
    return {"ingestOrderLines": mihwar.max_body_bytes}


def recompute_predictions(unit: UnitOfWork, event: Event) -> None:
    """After an import: forecast again every item it touched (the outbox relay runs this)."""
    Forecaster(unit, API.config(unit.settings)).after_import(str(event.payload["importBatchId"]))


def jobs(mounted: Mounted[MihwarSettings]) -> Sequence[Job]:
    """Webhook delivery and its retention, overdue checklists, and the purge of idempotency
    keys past their 24 hours and of expired sessions."""

    def purge(context: JobContext) -> int:
        with context.unit() as unit:
            removed = IdempotencyKeys.purge(unit) + Accounts(unit).purge_expired()
            unit.commit()
        return removed

    return [
        Sender(WEBHOOKS, mounted.config.webhooks).job(),
        retention_job(API_NAME, mounted.config.webhooks.retention),
        missed_job(),
        Job("mihwar-purge", purge, interval=PURGE_INTERVAL_SECONDS),
    ]


def admin_cookie(mounted: Mounted[MihwarSettings], email: str) -> str:
    """A `Cookie` header value with a fresh session of the demo administrator `email`."""
    with UnitOfWork(mounted.database, mounted.settings) as unit:
        for demo in DEMO_ORGANIZATIONS:
            if demo.admin_email == email:
                ensure_demo_users(unit, demo)
        accounts = Accounts(unit)
        token = accounts.start_session(accounts.user(email))
        unit.commit()
    return f"{COOKIE}={token}"


def demo_credentials(mounted: Mounted[MihwarSettings]) -> dict[str, Any]:
    """Each demo organization's API key, a fresh browser session of its administrator, and
    (Enterprise only) its SCIM token."""
    credentials: dict[str, Any] = {}
    for demo in DEMO_ORGANIZATIONS:
        credentials[demo.slug] = {
            "organization": demo.name,
            "plan": demo.plan,
            "authorization": f"Bearer {demo_key_secret(demo.slug)}",
            "admin": {"email": demo.admin_email, "cookie": admin_cookie(mounted, demo.admin_email)},
        }
        with UnitOfWork(mounted.database, mounted.settings) as unit:
            scim = ensure_demo_scim_token(unit, demo)
            unit.commit()
        if scim is not None:
            credentials[demo.slug]["scim"] = {"authorization": f"Bearer {scim}"}
    return credentials


class DemoClient:
    """Calls the integrations operations with the Enterprise demo organization's key, the
    settings operations in a browser session of its administrator, and SCIM with its token."""

    def __init__(self, mounted: Mounted[MihwarSettings]) -> None:
        self.mounted = mounted
        self.headers = {"Authorization": f"Bearer {demo_key_secret(DEMO_ORGANIZATIONS[0].slug)}"}
        self.cookie: str | None = None
        self.scim_token: str | None = None

    def _scim_token(self) -> str:
        if self.scim_token is None:
            with UnitOfWork(self.mounted.database, self.mounted.settings) as unit:
                self.scim_token = ensure_demo_scim_token(unit, DEMO_ORGANIZATIONS[0])
                unit.commit()
        assert self.scim_token is not None  # the first demo organization is on Enterprise
        return self.scim_token

    def renew(self) -> None:
        """A new session next time (the key stays the same: a client's state is the organization's data)."""
        self.cookie = None

    def headers_for(self, operation_id: str | None) -> dict[str, str]:
        if operation_id and operation_id.startswith("scim"):
            return {"Authorization": f"Bearer {self._scim_token()}"}
        if operation_id in SESSION_OPERATIONS:
            self.cookie = self.cookie or admin_cookie(self.mounted, DEMO_ORGANIZATIONS[0].admin_email)
            return {"Cookie": self.cookie}
        return dict(self.headers)


API: Api[MihwarSettings] = Api(
    name=API_NAME,
    prefix="/mihwar",
    spec="mihwar.yaml",
    handlers="handlers.mihwar",
    settings=MihwarSettings.from_env,
    security=security,
    render_problem=render_problem,
    models=("models.mihwar.tables",),
    migrations=PROJECT_ROOT / "migrations" / "mihwar",
    middlewares=middlewares,
    jobs=jobs,
    event_handlers={IMPORT_COMPLETED: recompute_predictions, "*": fan_out(lambda _unit: WEBHOOKS)},
    body_limits=body_limits,
    body_checks={"ingestOrderLines": at_most_max_lines},
    # A cursor is valid only if this list gave it out (a string the schema admits may not be one).
    state_dependent_statuses={
        "listIntegrationInventoryItems": ["400"],
        "listIntegrationOrders": ["400"],
        "listIntegrationPredictions": ["400"],
        # A URL the schema admits may not resolve, or not to a public address.
        "createWebhookSubscription": ["400"],
        "listWebhookDeliveryAttempts": ["400"],
        # A filter's grammar (RFC 7644 §3.4.2.2: nesting, quoting, the attributes of each
        # resource type) is more than a pattern can state: a string the schema admits may not parse.
        "scimListUsers": ["400"],
        "scimListGroups": ["400"],
        "scimSearchUsers": ["400"],
        "scimSearchGroups": ["400"],
        "scimSearchAll": ["400"],
        # At most one primary email (RFC 7643 §2.4), members that are users of the organization,
        # and a PATCH whose path exists and whose value suits it: rules across members of a body.
        "scimCreateUser": ["400"],
        "scimReplaceUser": ["400"],
        "scimCreateGroup": ["400"],
        "scimReplaceGroup": ["400"],
        "scimPatchUser": ["400"],
        "scimPatchGroup": ["400"],
    },
    load_demo=load_demo_data,
    demo_credentials=demo_credentials,
    demo_client=DemoClient,
    commands=commands,
)
