"""The OAuth clients of CPRAS's token endpoint: made, rotated, disabled, listed, and found
(as the token server's `OAuthClient`) by id."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from core.columns import utcnow
from core.problems import Conflict, NotFound
from core.unit_of_work import UnitOfWork
from models.cpras import scopes as known
from models.cpras.tables import OAuthClientRow

CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def hash_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Client:
    """A client as the token server sees it (core.oauth.OAuthClient)."""

    client_id: str
    scopes: frozenset[str]
    secret_hash: str

    def check_secret(self, secret: str) -> bool:
        return hmac.compare_digest(hash_of(secret), self.secret_hash)


@dataclass(frozen=True)
class NewSecret:
    client_id: str
    secret: str  # shown once, never stored


class Clients:
    def __init__(self, unit: UnitOfWork) -> None:
        self.session = unit.session

    def find(self, client_id: str) -> Client | None:
        """An enabled client, or None (an unknown and a disabled client are refused alike)."""
        row = self.session.get(OAuthClientRow, client_id)
        if row is None or row.disabled_at is not None:
            return None
        return Client(row.client_id, frozenset(row.scopes.split()), row.secret_hash)

    def create(self, client_id: str, name: str, scopes: Collection[str], secret: str | None = None) -> NewSecret:
        if not CLIENT_ID.fullmatch(client_id):
            raise ValueError("a client id is 1 to 128 letters, digits, '.', '_' or '-'")
        unknown = set(scopes) - known.ALL
        if unknown:
            raise ValueError(f"unknown scopes {', '.join(sorted(unknown))}; known: {', '.join(sorted(known.ALL))}")
        if self.session.get(OAuthClientRow, client_id) is not None:
            raise Conflict(f"A client {client_id} exists already.")
        secret = secret or new_secret()
        self.session.add(
            OAuthClientRow(client_id=client_id, name=name, secret_hash=hash_of(secret), scopes=" ".join(sorted(scopes)))
        )
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

    def all(self) -> Sequence[OAuthClientRow]:
        return self.session.scalars(select(OAuthClientRow).order_by(OAuthClientRow.client_id)).all()

    def _row(self, client_id: str) -> OAuthClientRow:
        row = self.session.get(OAuthClientRow, client_id)
        if row is None:
            raise NotFound(f"No client {client_id!r}.")
        return row
