"""The audit trail: who did what to which entity, from where, with the values before and after.

Entries are written through the request's unit of work, so an entry exists exactly when the
change it records was committed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from core.repository import Repository
from core.unit_of_work import UnitOfWork
from models.shared.paging import page_of, within_days
from models.shared.tables import AuditEntry

Values = Mapping[str, Any]


@dataclass(frozen=True)
class Actor:
    """Who acts, as the audit trail keeps them: as they were at the time, and from where."""

    id: int
    name: str
    role: str
    ip_address: str


@dataclass(frozen=True)
class AuditFilter:
    entity_type: str | None = None
    entity_id: str | None = None
    user_id: int | None = None
    action: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def jsonable(values: Values | None) -> dict[str, Any] | None:
    """Values as JSON keeps them: money as numbers, moments as ISO 8601 strings."""
    if values is None:
        return None
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Decimal):
            out[key] = float(value)
        elif isinstance(value, datetime | date):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


class AuditTrail(Repository):
    """The audit trail of one realm (one API): its repository."""

    def __init__(self, unit: UnitOfWork, realm: str) -> None:
        super().__init__(unit)
        self.realm = realm

    def record(
        self,
        actor: Actor,
        entity_type: str,
        entity_id: str | int,
        action: str,
        old_values: Values | None = None,
        new_values: Values | None = None,
    ) -> None:
        self.session.add(
            AuditEntry(
                realm=self.realm,
                entity_type=entity_type,
                entity_id=str(entity_id),
                action=action,
                actor_id=actor.id,
                actor_name=actor.name,
                actor_role=actor.role,
                old_values=jsonable(old_values),
                new_values=jsonable(new_values),
                ip_address=actor.ip_address,
            )
        )

    def page(self, where: AuditFilter, page: int, limit: int) -> tuple[Sequence[AuditEntry], int]:
        """Entries newest first, and how many match in all."""
        conditions: list[Any] = [AuditEntry.realm == self.realm]
        if where.entity_type:
            conditions.append(AuditEntry.entity_type == where.entity_type)
        if where.entity_id:
            conditions.append(AuditEntry.entity_id == where.entity_id)
        if where.user_id is not None:
            conditions.append(AuditEntry.actor_id == where.user_id)
        if where.action:
            conditions.append(AuditEntry.action == where.action)
        conditions.extend(within_days(AuditEntry.created_at, where.date_from, where.date_to))
        newest_first = (AuditEntry.created_at.desc(), AuditEntry.id.desc())
        return page_of(self.session, AuditEntry, conditions, newest_first, page, limit)
