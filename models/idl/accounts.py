"""Users and their sessions: login, token refresh with rotation, logout, and who is calling.

Access tokens are JWTs of 15 minutes carrying the user's id (`sub`), role, permissions, a
`jti` and the session family (`sid`). Every request re-reads the user and checks that
neither the token nor its family was revoked, so a logout or a deactivation takes effect
at once on every worker; authorization then uses the user's current role and permissions.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core import passwords
from core.columns import utcnow
from core.config import JWTSettings
from core.jwt_bearer import issue_token
from core.problems import Unauthorized, ValidationFailed
from core.unit_of_work import UnitOfWork
from models.idl.repositories import ReferenceRepository, UserFilter, UserRepository
from models.idl.roles import ADMIN, ROLE_AUTHORIZATION_LIMITS, ROLE_PERMISSIONS, ROLES
from models.idl.tables import User, UserProject
from models.shared.audit import Actor, AuditTrail
from models.shared.sessions import InvalidRefreshTokenError, SessionStore

REALM = "idl"
ACCESS_TOKEN_TTL = 900
INVALID_CREDENTIALS = "Invalid email or password"


@dataclass(frozen=True)
class Caller:
    """Who acts in a request: the user's account as it stood when the request began, and where
    the request came from. Plain data, read once by the security check; services act on it."""

    id: int
    uuid: uuid.UUID
    email: str
    name: str
    role: str
    permissions: tuple[str, ...]
    project_ids: tuple[str, ...]
    authorization_limit: Decimal
    active: bool
    last_login: datetime | None
    created_at: datetime
    ip_address: str

    @classmethod
    def of(cls, user: User, ip_address: str) -> Caller:
        return cls(
            id=user.id,
            uuid=user.uuid,
            email=user.email,
            name=user.name,
            role=user.role,
            permissions=tuple(user.permissions),
            project_ids=tuple(user.project_ids),
            authorization_limit=user.authorization_limit,
            active=user.active,
            last_login=user.last_login,
            created_at=user.created_at,
            ip_address=ip_address,
        )

    @property
    def roles(self) -> frozenset[str]:
        return frozenset({self.role})

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    def holds(self, permission: str) -> bool:
        return permission in self.permissions

    def works_on(self, project_id: str) -> bool:
        return self.is_admin or project_id in self.project_ids

    @property
    def actor(self) -> Actor:
        return Actor(self.id, self.name, self.role, self.ip_address)


@dataclass(frozen=True)
class SignedIn:
    """The principal of an IDL request: the caller, in the session its access token names."""

    caller: Caller
    jti: str
    session_id: str
    expires_at: datetime
    scopes: frozenset[str] = frozenset()  # IDL tokens carry no OAuth scopes

    @property
    def permissions(self) -> tuple[str, ...]:
        return self.caller.permissions

    @property
    def roles(self) -> frozenset[str]:
        return self.caller.roles


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
        self.jwt = jwt
        self.users = UserRepository(unit)
        self.sessions = SessionStore(unit, REALM)
        self.audit = AuditTrail(unit, REALM)

    def login(self, email: str, password: str, ip_address: str) -> Tokens:
        user = self.users.by_email(email)
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
        user = self.users.get(issued.user_id)
        if user is None or not user.active:
            self.sessions.revoke_family(issued.family_id, "user_inactive")
            raise Unauthorized("The account is not active.")
        return Tokens(self._access_token(user, issued.family_id), issued.refresh_token, ACCESS_TOKEN_TTL, user)

    def logout(self, principal: SignedIn) -> None:
        self.sessions.revoke_access_token(principal.jti, principal.expires_at)
        self.sessions.revoke_family(principal.session_id, "logout")
        caller = principal.caller
        self.audit.record(caller.actor, "user", caller.id, "logout", None, {"session_id": principal.session_id})

    def authenticate(self, claims: Mapping[str, Any], ip_address: str) -> SignedIn:
        """The caller behind verified token claims, or 401 if the session or the user is gone.

        The security check calls this once per request; handlers then take the `principal`.
        """
        try:
            user_id = int(claims["sub"])
            jti, session_id = str(claims["jti"]), str(claims["sid"])
            expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
        except (KeyError, TypeError, ValueError) as exc:
            raise Unauthorized("The token is not an IDL access token.") from exc
        user = self.users.get(user_id)
        if user is None or not user.active or not self.sessions.is_live(jti, session_id):
            raise Unauthorized("The token has been revoked.")
        return SignedIn(Caller.of(user, ip_address), jti, session_id, expires_at)

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


class Users:
    """User accounts: listing, and creation from the command line or demo data."""

    def __init__(self, unit: UnitOfWork) -> None:
        self.users = UserRepository(unit)
        self.reference = ReferenceRepository(unit)

    def page(self, where: UserFilter, page: int, limit: int) -> tuple[Sequence[User], int]:
        return self.users.page(where, page, limit)

    def by_email(self, email: str) -> User | None:
        return self.users.by_email(email)

    def get(self, user_id: int) -> User | None:
        return self.users.get(user_id)

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
        if self.users.by_email(email) is not None:
            raise ValidationFailed(f"A user with email {email} already exists.")
        known = self.reference.existing_project_ids(project_ids)
        if missing := [project for project in project_ids if project not in known]:
            raise ValidationFailed(f"Unknown project(s): {', '.join(missing)}.")
        return self.users.add(
            User(
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
        )
