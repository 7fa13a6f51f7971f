"""Idempotency keys, as the IETF draft on the `Idempotency-Key` header describes them.

A client that may retry a POST sends a key of its choosing. The first request with a key
claims it, in a short transaction of its own that commits at once, so a concurrent
request with the same key sees the claim and answers 409 instead of doing the work a
second time. The first request's response is recorded in the request's own transaction,
so the key is completed exactly when the work commits; a request that fails releases
its claim, so it may be retried with the same key. A repeat with the same body replays
the recorded status, body and headers; a repeat with another body answers 422. A claim
whose request died (the worker was killed) is taken over once its lease runs out.

Keys belong to a scope (an organization, say) of one API and are kept for `retention`
after their first success. The body is compared by a SHA-256 fingerprint of its bytes.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import DateTime, Index, Integer, LargeBinary, String, Table, Text, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column
from starlette.responses import Response

from core.columns import BigId, aware, utcnow
from core.database import Base
from core.problems import Conflict, Unprocessable
from core.responses import to_response
from core.unit_of_work import UnitOfWork

DEFAULT_RETENTION = timedelta(hours=24)
DEFAULT_LEASE = timedelta(minutes=2)
# Headers a replay does not repeat: they describe the new response, not the first one.
NOT_REPLAYED = frozenset({"content-length", "date", "server", "x-request-id"})


class IdempotencyRecord(Base):
    """One key: claimed while its first request runs, then that request's response."""

    __tablename__ = "idempotency_records"
    __table_args__ = (
        Index("uq_idempotency_records_key", "api", "scope", "key", unique=True),
        Index("ix_idempotency_records_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    api: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    # Set while the first request runs; a claim past it was abandoned and may be taken over.
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[str | None] = mapped_column(Text)  # JSON list of [name, value]
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


_TABLE = cast(Table, IdempotencyRecord.__table__)


def key_from_header(value: str) -> str:
    """The key a header carries: the draft sends it as a structured-field string
    (`"abc"`), many clients send it bare (`abc`); both are the same key."""
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def fingerprint(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class _Claim:
    """A key this request holds: the record, and the lease it holds it by (its token: a
    request that outlived its lease and was taken over no longer matches it)."""

    record_id: int
    locked_until: datetime


class KeyInUse(Conflict):
    """409: the first request with this key is still running."""


class KeyReused(Unprocessable):
    """422: this key was used for a request with another body."""


class IdempotencyKeys:
    """The keys of one API: `run` a request under a key, or replay its first answer (with
    `replayed_headers` added, such as `Idempotent-Replayed: true`)."""

    def __init__(
        self,
        api: str,
        *,
        retention: timedelta = DEFAULT_RETENTION,
        lease: timedelta = DEFAULT_LEASE,
        not_replayed: Collection[str] = NOT_REPLAYED,
        replayed_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.api = api
        self.retention = retention
        self.lease = lease
        self.not_replayed = frozenset(name.lower() for name in not_replayed)
        self.replayed_headers = dict(replayed_headers or {})

    def run(
        self,
        unit: UnitOfWork,
        scope: str,
        key: str,
        body: bytes,
        call: Callable[[], Any],
        recorded: Callable[[Response], Response] | None = None,
    ) -> Response:
        """Answer a request carrying `key`: replay the first answer, refuse (409, 422), or
        `call` the handler and record its answer in `unit`, which must be the request's own.
        `recorded` gives what of the answer to keep for replays (all of it by default; an
        answer showing a secret once keeps it without the secret)."""
        outcome = self._claim(unit, scope, key, fingerprint(body))
        if isinstance(outcome, Response):
            return outcome
        unit.after_rollback(lambda: self._release(unit, outcome))
        response = to_response(call())
        if response.status_code < 400:
            self._complete(unit, outcome, recorded(response) if recorded else response)
        return response

    def _claim(self, unit: UnitOfWork, scope: str, key: str, body_print: str) -> _Claim | Response:
        """Take the key, or say why not (a replay, 409, 422); once more if the record it
        collided with was gone before it could be read (released, or purged)."""
        outcome = self._try_claim(unit, scope, key, body_print)
        if outcome is None:
            outcome = self._try_claim(unit, scope, key, body_print)
        if outcome is None:
            raise _busy()
        return outcome

    def _try_claim(self, unit: UnitOfWork, scope: str, key: str, body_print: str) -> _Claim | Response | None:
        """In a transaction of its own: take the key, say why not, or None if its record vanished."""
        now = utcnow()
        lease = now + self.lease
        with UnitOfWork(unit.database, unit.settings) as own:
            connection = own.connection
            table = _TABLE
            mine = (table.c.api == self.api) & (table.c.scope == scope) & (table.c.key == key)
            connection.execute(delete(table).where(mine, table.c.expires_at <= now))
            insert = _insert(connection.dialect.name)(table).values(
                api=self.api,
                scope=scope,
                key=key,
                fingerprint=body_print,
                locked_until=lease,
                created_at=now,
                expires_at=now + self.retention,
            )
            claimed = connection.execute(insert.on_conflict_do_nothing().returning(table.c.id)).scalar()
            if claimed is not None:
                own.commit()
                return _Claim(claimed, lease)
            record = connection.execute(select(table).where(mine)).first()
            if record is None:
                return None
            if record.fingerprint != body_print:
                raise KeyReused("This Idempotency-Key was already used for a request with a different body.")
            if record.status is not None:
                return self._replay(record)
            locked_until = aware(record.locked_until) if record.locked_until else now
            if locked_until > now:
                wait = max(1, math.ceil((locked_until - now).total_seconds()))
                raise _busy(min(wait, 5))
            # Its first request died before finishing: take the key over, if no one else just did.
            taken = connection.execute(
                update(table)
                .where(table.c.id == record.id, table.c.locked_until == record.locked_until)
                .values(locked_until=lease)
            )
            if taken.rowcount != 1:
                raise _busy()
            own.commit()
            return _Claim(record.id, lease)

    def _replay(self, record: Any) -> Response:
        headers = [(str(name), str(value)) for name, value in json.loads(record.headers or "[]")]
        response = Response(bytes(record.body or b""), record.status)
        response.raw_headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        response.raw_headers.append((b"content-length", str(len(response.body)).encode()))
        for name, value in self.replayed_headers.items():
            response.raw_headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
        return response

    def _complete(self, unit: UnitOfWork, claim: _Claim, response: Response) -> None:
        """Record the answer with the request's own changes: both commit, or neither; and
        neither if another request took the key over meanwhile (this one outlived its lease)."""
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in response.raw_headers
            if name.decode("latin-1").lower() not in self.not_replayed
        ]
        recorded = unit.connection.execute(
            update(_TABLE)
            .where(_TABLE.c.id == claim.record_id, _TABLE.c.locked_until == claim.locked_until)
            .values(
                locked_until=None,
                status=response.status_code,
                headers=json.dumps(headers),
                body=bytes(response.body),
            )
        )
        if recorded.rowcount != 1:
            raise _busy()

    def _release(self, unit: UnitOfWork, claim: _Claim) -> None:
        """Forget the claim of a request that failed, so the key may be used again (unless
        another request has taken it over meanwhile)."""
        with UnitOfWork(unit.database, unit.settings) as own:
            own.connection.execute(
                delete(_TABLE).where(_TABLE.c.id == claim.record_id, _TABLE.c.locked_until == claim.locked_until)
            )
            own.commit()

    @staticmethod
    def purge(unit: UnitOfWork) -> int:
        """Forget every key past its retention (for a periodic job)."""
        result = unit.connection.execute(delete(_TABLE).where(IdempotencyRecord.expires_at <= utcnow()))
        removed: int = result.rowcount
        return removed


def _busy(retry_after: int = 1) -> KeyInUse:
    return KeyInUse(
        "A request with this Idempotency-Key is still in progress.", headers={"Retry-After": str(retry_after)}
    )


def _insert(dialect: str) -> Any:
    return postgresql.insert if dialect == "postgresql" else sqlite.insert
