"""Hand-offs to PrintPLANR and their way back (the flow the spec's description gives).

1. `start`: an operator's hand-off is recorded with a fresh random `state` (256 bits), bound
   to the operator and to their browser session; the payload's return URL carries the state.
2. `issue_code`: once PrintPLANR answered with a session URL, a one-time code (256 bits) is
   minted for the hand-off and the OAuth client it went to; only its hash is kept.
3. `consume`: PrintPLANR exchanges the code. A single conditional UPDATE spends it, so of two
   exchanges at once only one wins; unknown, spent, expired and foreign codes fail alike.
4. `come_back`: the browser returns with the state; it is accepted once, and only in the
   session of the operator that started the hand-off (no login CSRF).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from sqlalchemy import update

from core.columns import utcnow
from core.unit_of_work import UnitOfWork
from models.cpras.tables import Handoff

RETURN_PATH = "/print-orders/return"  # under the API's prefix


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def return_path(prefix: str, state: str) -> str:
    """The CPRAS path a hand-off's user comes back to: built from the stored state only."""
    return f"{prefix}{RETURN_PATH}?state={quote(state, safe='')}"


@dataclass(frozen=True)
class Started:
    handoff_id: str
    state: str


@dataclass(frozen=True)
class Consumed:
    project_id: str
    lot_id: str
    state: str


class Handoffs:
    def __init__(self, unit: UnitOfWork) -> None:
        self.session = unit.session

    def start(
        self, kind: str, username: str, browser_session: str, client_id: str, project_id: str, lot_id: str
    ) -> Started:
        state = secrets.token_urlsafe(32)
        row = Handoff(
            handoff_id=uuid.uuid4().hex,
            kind=kind,
            username=username,
            session_hash=digest(browser_session),
            client_id=client_id,
            project_id=project_id,
            lot_id=lot_id,
            state=state,
        )
        self.session.add(row)
        self.session.flush()
        return Started(row.handoff_id, state)

    def issue_code(self, handoff_id: str, lifetime: int, now: datetime | None = None) -> str:
        """A new one-time code for the hand-off, usable for `lifetime` seconds."""
        code = secrets.token_urlsafe(32)
        now = now or utcnow()
        self.session.execute(
            update(Handoff)
            .where(Handoff.handoff_id == handoff_id)
            .values(code_hash=digest(code), code_expires_at=now + timedelta(seconds=lifetime), code_used_at=None)
        )
        return code

    def consume(self, code: str, client_id: str, now: datetime | None = None) -> Consumed | None:
        """What a code was minted for, spending it; None for any code that cannot be spent."""
        now = now or utcnow()
        spent = self.session.execute(
            update(Handoff)
            .where(
                Handoff.code_hash == digest(code),
                Handoff.client_id == client_id,
                Handoff.code_used_at.is_(None),
                Handoff.code_expires_at > now,
            )
            .values(code_used_at=now)
            .returning(Handoff.project_id, Handoff.lot_id, Handoff.state)
        ).first()
        return Consumed(spent.project_id, spent.lot_id, spent.state) if spent else None

    def come_back(
        self, state: str, username: str, browser_session: str, lifetime: int, now: datetime | None = None
    ) -> tuple[str, str] | None:
        """The project and lot of the hand-off a return with `state` ends, if this operator's browser session started
        it, PrintPLANR took it (it has a code), it has not returned yet and it is recent
        enough; it is marked returned."""
        now = now or utcnow()
        ended = self.session.execute(
            update(Handoff)
            .where(
                Handoff.state == state,
                Handoff.username == username,
                Handoff.session_hash == digest(browser_session),
                Handoff.code_hash.is_not(None),
                Handoff.returned_at.is_(None),
                Handoff.created_at > now - timedelta(seconds=lifetime),
            )
            .values(returned_at=now)
            .returning(Handoff.project_id, Handoff.lot_id)
        ).first()
        return (ended.project_id, ended.lot_id) if ended else None
