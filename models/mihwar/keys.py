"""Organizations and their API keys: creating, revoking, and recognising a key on a request.

A key is `rn_live_` and 32 random bytes in URL-safe base64. It is shown once, when it is
created; only its SHA-256 is stored (a secret of 256 random bits needs no slow hash: no
guess can be tested faster than the search space is large), with its first characters
kept in the clear so that support can tell keys apart. Verifying a key is one indexed read.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from core.columns import aware, utcnow
from core.problems import Conflict, Forbidden, NotFound, Unauthorized
from core.unit_of_work import UnitOfWork
from models.mihwar.repositories import ApiKeys, Organizations
from models.mihwar.tables import PLANS, ApiKey, Organization

KEY_PREFIX = "rn_live_"
KEY_FORMAT = re.compile(r"rn_live_[A-Za-z0-9_-]{43}")
SHOWN_PREFIX = len(KEY_PREFIX) + 4  # `rn_live_` and 4 characters of the secret
# `last_used_at` is written at most this often per key, so busy keys cost no write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def is_well_formed(secret: str) -> bool:
    return KEY_FORMAT.fullmatch(secret) is not None


@dataclass(frozen=True)
class KeyHolder:
    """The caller of an integrations request: an organization, by one of its API keys."""

    organization_id: str
    key_id: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    permissions: frozenset[str] = field(default_factory=frozenset)
    roles: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # shown once, never stored


class Tenants:
    def __init__(self, unit: UnitOfWork) -> None:
        self.organizations = Organizations(unit)
        self.keys = ApiKeys(unit)

    def create_organization(self, slug: str, name: str, plan: str, api_access: bool = True) -> Organization:
        if plan not in PLANS:
            raise ValueError(f"plan must be one of {', '.join(PLANS)}")
        if self.organizations.by_slug(slug) is not None:
            raise Conflict(f"An organization {slug!r} exists already.")
        return self.organizations.add(Organization(slug=slug, name=name, plan=plan, api_access=api_access))

    def organization(self, slug: str) -> Organization:
        organization = self.organizations.by_slug(slug)
        if organization is None:
            raise NotFound(f"No organization {slug!r}.")
        return organization

    def create_key(self, organization: Organization, name: str) -> NewKey:
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(
            organization_id=organization.id,
            name=name,
            prefix=secret[:SHOWN_PREFIX],
            secret_hash=hash_of(secret),
        )
        return NewKey(self.keys.add(key), secret)

    def revoke_key(self, key_id: str) -> ApiKey:
        key = self.keys.by_id(key_id)
        if key is None:
            raise NotFound(f"No API key {key_id!r}.")
        if key.revoked_at is None:
            key.revoked_at = utcnow()
        return key

    def authenticate(self, secret: str) -> KeyHolder:
        """The organization a key stands for: 401 for a malformed, unknown or revoked key,
        403 for an organization whose API access is off."""
        if not is_well_formed(secret):
            raise Unauthorized("The API key is malformed: expected rn_live_ and 43 characters.")
        key = self.keys.by_hash(hash_of(secret))
        if key is None:
            raise Unauthorized("Unknown API key.")
        if key.revoked_at is not None:
            raise Unauthorized("This API key has been revoked.")
        if not key.api_access:
            raise Forbidden("Integrations are not enabled for this organization.")
        now = utcnow()
        if key.last_used_at is None or now - aware(key.last_used_at) >= LAST_USED_RESOLUTION:
            self.keys.touch(key.id, now)
        return KeyHolder(key.organization_id, key.id)
