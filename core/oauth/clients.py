"""The OAuth clients of an API's token endpoint: made, rotated, disabled, listed, and found
(as the token server's `OAuthClient`) by id.

Each API keeps its clients in a table of its own, declared with `ClientColumns` plus what
only it knows (a tenant, say), and a `ClientStore` subclass naming that table and the
scopes it knows. A secret is 32 random bytes, shown once and stored as its SHA-256 (a
secret that random needs no slow hash); a disabled client is refused as an unknown one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import DateTime, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.columns import utcnow
from core.problems import Conflict, NotFound

CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def hash_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class ClientColumns:
    """The columns every API's client table has (mix into its declarative class)."""

    client_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(256))  # space-separated
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class Client:
    """A client as the token server sees it (core.oauth.OAuthClient), with the claims its
    tokens carry besides the standard ones."""

    client_id: str
    scopes: frozenset[str]
    secret_hash: str
    claims: Mapping[str, Any] = field(default_factory=dict)

    def check_secret(self, secret: str) -> bool:
        return hmac.compare_digest(hash_of(secret), self.secret_hash)


@dataclass(frozen=True)
class NewSecret:
    client_id: str
    secret: str  # shown once, never stored


Row = TypeVar("Row", bound=ClientColumns)


class ClientStore(Generic[Row]):
    model: ClassVar[type[Any]]  # the API's client table
    known_scopes: ClassVar[frozenset[str]]

    def __init__(self, session: Session) -> None:
        self.session = session

    def claims_of(self, row: Row) -> Mapping[str, Any]:
        """What a client's tokens say besides the standard claims (its tenant, say)."""
        return {}

    def find(self, client_id: str) -> Client | None:
        """An enabled client, or None (an unknown and a disabled client are refused alike)."""
        row = self.session.get(self.model, client_id)
        if row is None or row.disabled_at is not None:
            return None
        return Client(row.client_id, frozenset(row.scopes.split()), row.secret_hash, self.claims_of(row))

    def create(
        self, client_id: str, name: str, scopes: Collection[str], secret: str | None = None, **extra: Any
    ) -> NewSecret:
        if not CLIENT_ID.fullmatch(client_id):
            raise ValueError("a client id is 1 to 128 letters, digits, '.', '_' or '-'")
        unknown = set(scopes) - self.known_scopes
        if unknown:
            known = ", ".join(sorted(self.known_scopes))
            raise ValueError(f"unknown scopes {', '.join(sorted(unknown))}; known: {known}")
        if self.session.get(self.model, client_id) is not None:
            raise Conflict(f"A client {client_id} exists already.")
        secret = secret or new_secret()
        row = self.model(
            client_id=client_id, name=name, secret_hash=hash_of(secret), scopes=" ".join(sorted(scopes)), **extra
        )
        self.session.add(row)
        self.session.flush()
        return NewSecret(client_id, secret)

    def rotate(self, client_id: str) -> NewSecret:
        """A new secret; the old one is refused from the next request on (tokens already issued
        stay valid until they expire)."""
        row = self._row(client_id)
        secret = new_secret()
        row.secret_hash, row.rotated_at = hash_of(secret), utcnow()
        self.session.flush()
        return NewSecret(client_id, secret)

    def disable(self, client_id: str) -> None:
        self._row(client_id).disabled_at = utcnow()
        self.session.flush()

    def enable(self, client_id: str) -> None:
        self._row(client_id).disabled_at = None
        self.session.flush()

    def all(self) -> Sequence[Row]:
        return self.session.scalars(select(self.model).order_by(self.model.client_id)).all()

    def _row(self, client_id: str) -> Row:
        row: Row | None = self.session.get(self.model, client_id)
        if row is None:
            raise NotFound(f"No client {client_id!r}.")
        return row
