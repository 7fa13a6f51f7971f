"""SCIM tokens: what an identity provider (Okta, Entra ID) authenticates with to provision.

A token is `scim_live_` and 32 random bytes in URL-safe base64, shown once when it is
created and stored only as its SHA-256, like an API key (models/mihwar/keys.py), and for
the same reason: a secret of 256 random bits needs no slow hash. A token of an organization
not on the Enterprise plan is recognised, and refused with 403; an unknown or revoked one
with 401. API keys are not SCIM tokens, nor the other way round: each has its own prefix
and its own table, so neither can open the other's door.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select, update

from core.columns import aware, utcnow
from core.problems import Forbidden, NotFound, Unauthorized
from core.unit_of_work import UnitOfWork
from models.mihwar.keys import LAST_USED_RESOLUTION, hash_of
from models.mihwar.tables import ENTERPRISE, Organization, ScimToken

TOKEN_PREFIX = "scim_live_"  # noqa: S105 - a prefix, not a secret
TOKEN_FORMAT = re.compile(r"scim_live_[A-Za-z0-9_-]{43}")
SHOWN_PREFIX = len(TOKEN_PREFIX) + 4


@dataclass(frozen=True)
class Provisioner:
    """The caller of a SCIM request: an identity provider of one organization, by its token."""

    organization_id: str
    token_id: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    permissions: frozenset[str] = field(default_factory=frozenset)
    roles: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class NewToken:
    token: ScimToken
    secret: str  # shown once, never stored


class ScimTokens:
    def __init__(self, unit: UnitOfWork) -> None:
        self.session = unit.session

    def create(self, organization: Organization, name: str, secret: str | None = None) -> NewToken:
        """A new token of an Enterprise organization (`secret` given only for the demo's)."""
        if not organization.is_enterprise:
            raise Forbidden("SCIM provisioning is part of the Enterprise plan.")
        secret = secret or TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ScimToken(
            organization_id=organization.id, name=name, prefix=secret[:SHOWN_PREFIX], secret_hash=hash_of(secret)
        )
        self.session.add(token)
        self.session.flush()
        return NewToken(token, secret)

    def revoke(self, token_id: str) -> ScimToken:
        token = self.session.get(ScimToken, token_id)
        if token is None:
            raise NotFound(f"No SCIM token {token_id!r}.")
        if token.revoked_at is None:
            token.revoked_at = utcnow()
        return token

    def of(self, organization_id: str) -> Sequence[ScimToken]:
        return self.session.scalars(
            select(ScimToken)
            .where(ScimToken.organization_id == organization_id)
            .order_by(ScimToken.created_at, ScimToken.id)
        ).all()

    def exists(self, secret: str) -> bool:
        return self.session.scalar(select(ScimToken.id).where(ScimToken.secret_hash == hash_of(secret))) is not None

    def authenticate(self, secret: str) -> Provisioner:
        """The organization a token stands for: 401 for a malformed, unknown or revoked token,
        403 for an organization no longer on the Enterprise plan."""
        if TOKEN_FORMAT.fullmatch(secret) is None:
            raise Unauthorized("The SCIM token is malformed: expected scim_live_ and 43 characters.")
        found = self.session.execute(
            select(
                ScimToken.id, ScimToken.organization_id, ScimToken.revoked_at, ScimToken.last_used_at, Organization.plan
            )
            .join(Organization, Organization.id == ScimToken.organization_id)
            .where(ScimToken.secret_hash == hash_of(secret))
        ).first()
        if found is None:
            raise Unauthorized("Unknown SCIM token.")
        if found.revoked_at is not None:
            raise Unauthorized("This SCIM token has been revoked.")
        if found.plan != ENTERPRISE:
            raise Forbidden("SCIM provisioning is part of the Enterprise plan.")
        now = utcnow()
        if found.last_used_at is None or now - aware(found.last_used_at) >= LAST_USED_RESOLUTION:
            self.session.execute(update(ScimToken).where(ScimToken.id == found.id).values(last_used_at=now))
        return Provisioner(found.organization_id, found.id)
