"""Users of the web app and their browser sessions (the `mihwar_session` cookie).

The web app that signs people in is not part of this service; its sessions are. A session
token is 32 random bytes, stored only as a hash, and lasts `SESSION_TTL`. Operators and
demos start one with `partner-gateway mihwar create-session --email …`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete, select

from core.columns import aware, utcnow
from core.problems import Conflict, NotFound, Unauthorized
from core.unit_of_work import UnitOfWork
from models.mihwar.tables import ROLES, AppUser, BrowserSession, Organization, UserEmail

SESSION_TTL = timedelta(hours=12)
COOKIE = "mihwar_session"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    """The caller of a settings request: a user of one organization, by their session."""

    user_id: str
    organization_id: str
    roles: frozenset[str]
    scopes: frozenset[str] = field(default_factory=frozenset)
    permissions: frozenset[str] = field(default_factory=frozenset)


class Accounts:
    def __init__(self, unit: UnitOfWork) -> None:
        self.unit = unit

    def create_user(self, organization: Organization, email: str, name: str, role: str) -> AppUser:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        email = email.strip().lower()
        if self.unit.session.scalar(select(AppUser.id).where(AppUser.email == email)) is not None:
            raise Conflict(f"A user {email} exists already.")
        user = AppUser(
            organization_id=organization.id,
            email=email,
            name=name,
            display_name=name,
            role=role,
            user_name=email,
            user_name_key=email,
            active=True,
            active_stated=True,
        )
        self.unit.session.add(user)
        self.unit.session.flush()
        self.unit.session.add(UserEmail(user_id=user.id, value=email, value_key=email, type="work", primary=True))
        return user

    def user(self, email: str) -> AppUser:
        user = self.unit.session.scalar(select(AppUser).where(AppUser.email == email.strip().lower()))
        if user is None:
            raise NotFound(f"No user {email}.")
        return user

    def start_session(self, user: AppUser) -> str:
        """A new session for `user`; its cookie value (shown once, stored only as a hash)."""
        if not user.active:
            raise Conflict(f"The user {user.email} is not active.")
        token = secrets.token_urlsafe(32)
        self.unit.session.add(
            BrowserSession(token_hash=_hash(token), user_id=user.id, expires_at=utcnow() + SESSION_TTL)
        )
        self.unit.session.flush()
        return token

    def authenticate(self, token: str) -> SignedIn:
        """The signed-in user of a session cookie; 401 when it is unknown, expired or the user inactive."""
        row = self.unit.connection.execute(
            select(BrowserSession.expires_at, AppUser.id, AppUser.organization_id, AppUser.role, AppUser.active)
            .join(AppUser, AppUser.id == BrowserSession.user_id)
            .where(BrowserSession.token_hash == _hash(token))
        ).first()
        if row is None or aware(row.expires_at) <= utcnow() or not row.active:
            raise Unauthorized("There is no valid session: sign in again.")
        return SignedIn(row.id, row.organization_id, frozenset({row.role}))

    def purge_expired(self) -> int:
        result = self.unit.connection.execute(delete(BrowserSession).where(BrowserSession.expires_at <= utcnow()))
        removed: int = result.rowcount
        return removed
