"""Users and their sessions: login, token refresh with rotation, logout, and who is calling.

Access tokens are JWTs of 15 minutes carrying the user's id (`sub`), role, permissions, a
`jti` and the session family (`sid`). Every request re-reads the user and checks that
neither the token nor its family was revoked, so a logout or a deactivation takes effect
at once on every worker; authorization then uses the user's current role and permissions.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select

from core import passwords
from core.config import JWTSettings
from core.jwt_bearer import issue_token
from core.problems import Unauthorized, ValidationFailed
from core.unit_of_work import UnitOfWork
from models.idl.roles import ADMIN, ROLE_AUTHORIZATION_LIMITS, ROLE_PERMISSIONS, ROLES
from models.idl.tables import Project, User, UserProject
from models.shared.audit import Actor, AuditTrail
from models.shared.paging import page_of
from models.shared.search import contains
from models.shared.sessions import InvalidRefreshTokenError, SessionStore
from models.shared.tables import utcnow

REALM = "idl"
ACCESS_TOKEN_TTL = 900
INVALID_CREDENTIALS = "Invalid email or password"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    user: User
    jti: str
    session_id: str
    expires_at: datetime
    ip_address: str

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def is_admin(self) -> bool:
        return self.user.role == ADMIN

    def holds(self, permission: str) -> bool:
        return permission in self.user.permissions

    def works_on(self, project_id: str) -> bool:
        return self.is_admin or project_id in self.user.project_ids

    @property
    def actor(self) -> Actor:
        return Actor(self.user.id, self.user.name, self.user.role, self.ip_address)


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


def actor_of(user: User, ip_address: str) -> Actor:
    return Actor(user.id, user.name, user.role, ip_address)


class Accounts:
    """Login, refresh, logout and authentication for IDL users."""

    def __init__(self, unit: UnitOfWork, jwt: JWTSettings) -> None:
        self.unit = unit
        self.jwt = jwt
        self.sessions = SessionStore(unit, REALM)
        self.audit = AuditTrail(unit, REALM)

    def login(self, email: str, password: str, ip_address: str) -> Tokens:
        user = self.unit.session.scalar(select(User).where(User.email == email.strip().lower()))
        matches = passwords.verify(user.password_hash if user else None, password)
        if user is None or not matches or not user.active:
            raise Unauthorized(INVALID_CREDENTIALS)
        if passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(password)
        user.last_login = utcnow()
        issued = self.sessions.start(user.id)
        self.audit.record(actor_of(user, ip_address), "user", user.id, "login", None, {"session_id": issued.family_id})
        return Tokens(self._access_token(user, issued.family_id), issued.refresh_token, ACCESS_TOKEN_TTL, user)

    def refresh(self, refresh_token: str) -> Tokens:
        try:
            issued = self.sessions.rotate(refresh_token)
        except InvalidRefreshTokenError as exc:
            raise Unauthorized(str(exc)) from exc
        user = self.unit.session.get(User, issued.user_id)
        if user is None or not user.active:
            self.sessions.revoke_family(issued.family_id, "user_inactive")
            raise Unauthorized("The account is not active.")
        return Tokens(self._access_token(user, issued.family_id), issued.refresh_token, ACCESS_TOKEN_TTL, user)

    def logout(self, principal: Principal) -> None:
        self.sessions.revoke_access_token(principal.jti, principal.expires_at)
        self.sessions.revoke_family(principal.session_id, "logout")
        self.audit.record(principal.actor, "user", principal.id, "logout", None, {"session_id": principal.session_id})

    def authenticate(self, claims: dict[str, Any], ip_address: str) -> Principal:
        """The caller behind verified token claims, or 401 if the session or user is gone.

        The security layer calls this once per request; handlers then take `principal`.
        """
        principal = self.principal(claims, ip_address)
        if not self.sessions.is_live(principal.jti, principal.session_id):
            raise Unauthorized("The token has been revoked.")
        return principal

    def principal(self, claims: dict[str, Any], ip_address: str) -> Principal:
        """The caller of a request whose session the security layer has already checked."""
        try:
            user_id = int(claims["sub"])
            jti, session_id = str(claims["jti"]), str(claims["sid"])
            expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
        except (KeyError, TypeError, ValueError) as exc:
            raise Unauthorized("The token is not an IDL access token.") from exc
        user = self.unit.session.get(User, user_id)
        if user is None or not user.active:
            raise Unauthorized("The token has been revoked.")
        return Principal(user, jti, session_id, expires_at, ip_address)

    def issue_for(self, user: User) -> Tokens:
        """Start a session for `user` without a password: demo credentials and tests."""
        issued = self.sessions.start(user.id)
        return Tokens(self._access_token(user, issued.family_id), issued.refresh_token, ACCESS_TOKEN_TTL, user)

    def _access_token(self, user: User, session_id: str) -> str:
        claims = {
            "sub": str(user.id),
            "role": user.role,
            "permissions": list(user.permissions),
            "jti": uuid.uuid4().hex,
            "sid": session_id,
        }
        return issue_token(self.jwt, claims, ACCESS_TOKEN_TTL)


@dataclass(frozen=True)
class UserFilter:
    role: str | None = None
    active: bool | None = None
    search: str | None = None


class Users:
    """User accounts: listing, and creation from the command line or demo data."""

    def __init__(self, unit: UnitOfWork) -> None:
        self.unit = unit

    def page(self, where: UserFilter, page: int, limit: int) -> tuple[Sequence[User], int]:
        conditions: list[Any] = []
        if where.role:
            conditions.append(User.role == where.role)
        if where.active is not None:
            conditions.append(User.active.is_(where.active))
        if where.search:
            conditions.append(or_(contains(User.name, where.search), contains(User.email, where.search)))
        return page_of(self.unit.session, User, conditions, (User.name, User.id), page, limit)

    def by_email(self, email: str) -> User | None:
        return self.unit.session.scalar(select(User).where(User.email == email.strip().lower()))

    def create(
        self,
        *,
        email: str,
        name: str,
        role: str,
        password: str,
        project_ids: Sequence[str] = (),
        authorization_limit: Decimal | None = None,
        permissions: Sequence[str] | None = None,
        active: bool = True,
    ) -> User:
        if role not in ROLES:
            raise ValidationFailed(f"Unknown role {role!r}; one of {', '.join(ROLES)}.")
        if self.by_email(email) is not None:
            raise ValidationFailed(f"A user with email {email} already exists.")
        known = set(self.unit.session.scalars(select(Project.id).where(Project.id.in_(project_ids))))
        if missing := [project for project in project_ids if project not in known]:
            raise ValidationFailed(f"Unknown project(s): {', '.join(missing)}.")
        user = User(
            email=email.strip().lower(),
            name=name,
            role=role,
            password_hash=passwords.hash_password(password),
            authorization_limit=authorization_limit
            if authorization_limit is not None
            else ROLE_AUTHORIZATION_LIMITS[role],
            permissions=list(permissions if permissions is not None else ROLE_PERMISSIONS[role]),
            active=active,
            projects=[UserProject(project_id=project) for project in dict.fromkeys(project_ids)],
        )
        self.unit.session.add(user)
        self.unit.session.flush()
        return user
