"""Session families shared by the APIs with password logins: rotation, reuse, revocation, purge."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.columns import utcnow
from core.config import Settings
from core.database import Database
from core.unit_of_work import UnitOfWork
from models.shared.sessions import InvalidRefreshTokenError, SessionStore, purge_expired
from models.shared.tables import RefreshToken, RevokedAccessToken

REALM = "test-realm"


@pytest.fixture
def db(database: Settings) -> Iterator[Database]:
    engine = Database(database.database_url)
    yield engine
    engine.dispose()


def test_a_rotated_token_works_once_and_its_reuse_revokes_the_family(db: Database) -> None:
    with UnitOfWork(db) as unit:
        first = SessionStore(unit, REALM).start(user_id=7)
        second = SessionStore(unit, REALM).rotate(first.refresh_token)
        unit.commit()
    assert (second.user_id, second.family_id) == (7, first.family_id)
    assert second.refresh_token != first.refresh_token

    with pytest.raises(InvalidRefreshTokenError, match="already used"), UnitOfWork(db) as unit:
        SessionStore(unit, REALM).rotate(first.refresh_token)
    # The revocation outlived the error it caused, so the newer token is dead too.
    with pytest.raises(InvalidRefreshTokenError, match="revoked"), UnitOfWork(db) as unit:
        SessionStore(unit, REALM).rotate(second.refresh_token)


def test_a_token_of_another_realm_is_unknown(db: Database) -> None:
    with UnitOfWork(db) as unit:
        issued = SessionStore(unit, REALM).start(user_id=7)
        unit.commit()
    with pytest.raises(InvalidRefreshTokenError, match="not valid"), UnitOfWork(db) as unit:
        SessionStore(unit, "other-realm").rotate(issued.refresh_token)


def test_purging_forgets_only_what_has_expired(db: Database) -> None:
    past, future = utcnow() - timedelta(minutes=1), utcnow() + timedelta(minutes=15)
    with UnitOfWork(db) as unit:
        store = SessionStore(unit, REALM, refresh_ttl=timedelta(seconds=-1))
        expired = store.start(user_id=8)
        live = SessionStore(unit, REALM).start(user_id=8)
        store.revoke_access_token("jti-expired-purge-test", past)
        store.revoke_access_token("jti-live-purge-test", future)
        unit.commit()

    with UnitOfWork(db) as unit:
        assert purge_expired(unit) >= 2
        unit.commit()

    with UnitOfWork(db) as unit:
        jtis = set(unit.session.scalars(select(RevokedAccessToken.jti)))
        families = set(unit.session.scalars(select(RefreshToken.family_id)))
    assert "jti-live-purge-test" in jtis
    assert "jti-expired-purge-test" not in jtis
    assert live.family_id in families
    assert expired.family_id not in families
