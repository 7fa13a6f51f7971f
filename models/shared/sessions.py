"""Password sessions: refresh tokens that rotate on every use, revoked by family on reuse or logout.

A login starts a family. Each refresh spends its token (single use) and issues the next one
in the same family. Presenting a spent token means it was copied: the whole family is
revoked, so neither the thief nor the user can go on with it, and the user logs in again.
Access tokens carry their family id and `jti`, so logout and reuse detection also end them.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, delete, exists, insert, select, update

from core.columns import aware, utcnow
from core.repository import Repository
from core.unit_of_work import UnitOfWork
from models.shared.tables import RefreshToken, RevokedAccessToken, SessionFamily

REFRESH_TOKEN_TTL = timedelta(days=14)


class InvalidRefreshTokenError(Exception):
    """The refresh token is unknown, expired, revoked, or already spent."""


@dataclass(frozen=True)
class IssuedRefresh:
    user_id: int
    family_id: str
    refresh_token: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore(Repository):
    """Session families of one realm (one API's users): their repository, with the rules of rotation."""

    def __init__(self, unit: UnitOfWork, realm: str, refresh_ttl: timedelta = REFRESH_TOKEN_TTL) -> None:
        super().__init__(unit)
        self.realm = realm
        self.refresh_ttl = refresh_ttl

    def start(self, user_id: int) -> IssuedRefresh:
        """A new family for a fresh login, with its first refresh token."""
        family_id = str(uuid.uuid4())
        self.session.add(SessionFamily(id=family_id, realm=self.realm, user_id=user_id))
        self.session.flush()
        return IssuedRefresh(user_id, family_id, self._issue(family_id))

    def rotate(self, refresh_token: str) -> IssuedRefresh:
        """Spend `refresh_token` and issue its successor; a reused token revokes its family."""
        session = self.session
        found = session.execute(
            select(RefreshToken, SessionFamily)
            .join(SessionFamily, SessionFamily.id == RefreshToken.family_id)
            .where(RefreshToken.token_digest == digest(refresh_token), SessionFamily.realm == self.realm)
        ).first()
        if found is None:
            raise InvalidRefreshTokenError("The refresh token is not valid.")
        token, family = found
        if family.revoked_at is not None:
            raise InvalidRefreshTokenError("The refresh token has been revoked.")
        if aware(token.expires_at) <= utcnow():
            raise InvalidRefreshTokenError("The refresh token has expired.")
        spent: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(RefreshToken)
            .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if spent.rowcount != 1:
            # Spent before, or by a concurrent request just now: either way it was replayed.
            self.revoke_family(family.id, "refresh_token_reuse")
            self.unit.keep_changes_on_error()
            raise InvalidRefreshTokenError("The refresh token was already used; the session has been revoked.")
        return IssuedRefresh(family.user_id, family.id, self._issue(family.id))

    def revoke_family(self, family_id: str, reason: str) -> None:
        self.session.execute(
            update(SessionFamily)
            .where(SessionFamily.id == family_id, SessionFamily.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason=reason)
            .execution_options(synchronize_session=False)
        )

    def revoke_access_token(self, jti: str, expires_at: datetime) -> None:
        exists_already = self.session.get(RevokedAccessToken, jti)
        if exists_already is None:
            self.session.execute(insert(RevokedAccessToken).values(jti=jti, realm=self.realm, expires_at=expires_at))

    def is_live(self, jti: str, family_id: str) -> bool:
        """Whether an access token with this `jti` and family may still be used."""
        revoked_token = exists().where(RevokedAccessToken.jti == jti)
        live_family = exists().where(
            SessionFamily.id == family_id, SessionFamily.realm == self.realm, SessionFamily.revoked_at.is_(None)
        )
        return bool(self.session.scalar(select(live_family & ~revoked_token)))

    def _issue(self, family_id: str) -> str:
        token = secrets.token_urlsafe(32)
        self.session.add(
            RefreshToken(family_id=family_id, token_digest=digest(token), expires_at=utcnow() + self.refresh_ttl)
        )
        self.session.flush()
        return token


def purge_expired(unit: UnitOfWork) -> int:
    """Forget, for every realm, what can no longer be presented: expired refresh tokens and
    revocations of expired access tokens (an expired token is refused anyway)."""
    now = utcnow()
    removed = 0
    for statement in (
        delete(RevokedAccessToken).where(RevokedAccessToken.expires_at < now),
        delete(RefreshToken).where(RefreshToken.expires_at < now),
    ):
        result: CursorResult[Any] = unit.session.execute(statement)  # type: ignore[assignment]
        removed += result.rowcount
    return removed
