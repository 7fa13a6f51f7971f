"""The IDL audit trail as admins read it."""

from __future__ import annotations

from collections.abc import Sequence

from core.unit_of_work import UnitOfWork
from models.idl.accounts import REALM
from models.shared.audit import AuditFilter, AuditTrail
from models.shared.tables import AuditEntry


class AuditLog:
    def __init__(self, unit: UnitOfWork) -> None:
        self.trail = AuditTrail(unit, REALM)

    def page(self, where: AuditFilter, page: int, limit: int) -> tuple[Sequence[AuditEntry], int]:
        """Entries of IDL users and entities, newest first, and how many match in all."""
        return self.trail.page(where, page, limit)
