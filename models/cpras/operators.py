"""The operators of the Print Orders area: made with a random password (shown once), and
signed in by it (Argon2id; an unknown name costs as much as a wrong password)."""

from __future__ import annotations

import re
import secrets

from core.columns import aware, utcnow
from core.passwords import hash_password, verify
from core.problems import Conflict, NotFound
from core.unit_of_work import UnitOfWork
from models.cpras.tables import Buyer, Operator, Supplier

USERNAME = re.compile(r"[A-Za-z0-9._@-]{1,128}")


class Operators:
    def __init__(self, unit: UnitOfWork) -> None:
        self.session = unit.session

    def create(self, username: str, buyer_id: str | None = None, supplier_id: str | None = None) -> str:
        """Make an operator; their password, to be shown once."""
        if not USERNAME.fullmatch(username):
            raise ValueError("a user name is 1 to 128 letters, digits, '.', '_', '@' or '-'")
        if buyer_id and supplier_id:
            raise ValueError("an operator is a buyer's or a supplier's, not both")
        if self.session.get(Operator, username) is not None:
            raise Conflict(f"operator {username} exists")
        if buyer_id and self.session.get(Buyer, buyer_id) is None:
            raise NotFound(f"no buyer {buyer_id}")
        if supplier_id and self.session.get(Supplier, supplier_id) is None:
            raise NotFound(f"no supplier {supplier_id}")
        password = secrets.token_urlsafe(15)
        self.session.add(
            Operator(
                username=username, password_hash=hash_password(password), buyer_id=buyer_id, supplier_id=supplier_id
            )
        )
        self.session.flush()
        return password

    def signed_in(self, username: str, password: str) -> Operator | None:
        """The operator these credentials are of, or None; as slow for an unknown name."""
        operator = self.session.get(Operator, username) if USERNAME.fullmatch(username) else None
        if not verify(operator.password_hash if operator else None, password):
            return None
        return operator

    def find(self, username: str) -> Operator | None:
        return self.session.get(Operator, username)

    def of_session(self, username: str, signed_in_at: float) -> Operator | None:
        """The operator a session is of, unless they signed out since it began."""
        operator = self.find(username)
        if operator is None or (operator.signed_out_at and aware(operator.signed_out_at).timestamp() >= signed_in_at):
            return None
        return operator

    def sign_out(self, username: str) -> None:
        """End every session of the operator begun until now."""
        operator = self.find(username)
        if operator is not None:
            operator.signed_out_at = utcnow()
            self.session.flush()
