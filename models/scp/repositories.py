"""SCP's repositories, the only place its SQL is written, each scoped by construction.

A repository is made for one `TenantScope` and every query it runs starts from `_select`,
which carries the scope's condition: another tenant's rows (and, for an integration's own
client, its tenant's other integrations) cannot be read, locked or changed through it, so
they answer 404 exactly as missing ones do. No method adds the tenant by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import ColumnElement, Select, and_, delete, func, insert, or_, select, true, update

from core.problems import NotFound
from core.repository import Repository
from core.unit_of_work import UnitOfWork
from models.scp.tables import (
    AuditEntry,
    Contract,
    ContractVersion,
    DataRecordRow,
    Exchange,
    Integration,
    IntegrationVersion,
    IntegrationVertical,
    Template,
    Tenant,
    Vertical,
    Webhook,
    WebhookKey,
)


@dataclass(frozen=True)
class TenantScope:
    """What one caller may see: a tenant (none for a platform client), and within it, for an
    integration's own client, one integration."""

    tenant_id: str | None
    integration_id: str | None = None


class Scoped(Repository):
    """A repository of one tenant-owned table, seen through one scope."""

    model: ClassVar[Any]
    key: ClassVar[str]  # the primary key's attribute

    def __init__(self, unit: UnitOfWork, scope: TenantScope) -> None:
        super().__init__(unit)
        self.scope = scope

    def _mine(self) -> ColumnElement[bool]:
        condition: ColumnElement[bool] = self.model.tenant_id == self.scope.tenant_id
        if self.scope.integration_id is not None:
            condition = and_(condition, self.model.integration_id == self.scope.integration_id)
        return condition

    def _select(self) -> Select[Any]:
        return select(self.model).where(self._mine())

    def get(self, key: str) -> Any | None:
        return self.session.scalar(self._select().where(getattr(self.model, self.key) == key))

    def lock(self, key: str) -> Any | None:
        """The row, locked until the unit ends: a no-op update takes the row's write lock on
        PostgreSQL (and the database's on SQLite) before it is read, so concurrent changes
        of it run one after the other, each seeing the one before."""
        column = getattr(self.model, self.key)
        locked = self.connection.execute(
            update(self.model).where(column == key, self._mine()).values({self.key: column})
        )
        if locked.rowcount != 1:
            return None
        row = self.get(key)
        if row is not None:
            self.session.refresh(row)
        return row

    def page(self, query: Select[Any], order: Sequence[Any], page: int, limit: int) -> tuple[list[Any], int]:
        total = self.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
        rows = self.session.scalars(query.order_by(*order).offset((page - 1) * limit).limit(limit))
        return list(rows), total

    def add(self, row: Any) -> None:
        self.session.add(row)
        self.session.flush()

    def bump(self, row: Any, expected_version: int, values: dict[str, Any]) -> bool:
        """Write `values` as the version after `expected_version`; False if another request
        wrote that version first (the row is then left as it was)."""
        written = self.connection.execute(
            update(self.model)
            .where(
                getattr(self.model, self.key) == getattr(row, self.key),
                self.model.version_id == expected_version,
                self._mine(),
            )
            .values({**values, "version_id": expected_version + 1})
        )
        if written.rowcount != 1:
            return False
        self.session.refresh(row)
        return True


class Integrations(Scoped):
    model = Integration
    key = "integration_id"

    def found(self, integration_id: str, *, lock: bool = False) -> Integration:
        """The integration, locked if asked; 404 when this scope does not see it."""
        integration = self.lock(integration_id) if lock else self.get(integration_id)
        if integration is None:
            raise NotFound(f"Integration {integration_id} was not found.")
        return integration  # type: ignore[no-any-return]

    def matching(
        self, status: str | None, partner_type: str | None, vertical_id: str | None, page: int, limit: int
    ) -> tuple[list[Integration], int]:
        query = self._select()
        if status is not None:
            query = query.where(Integration.status == status)
        if partner_type is not None:
            query = query.where(Integration.partner_type == partner_type)
        if vertical_id is not None:
            serving = select(IntegrationVertical.integration_id).where(IntegrationVertical.vertical_id == vertical_id)
            query = query.where(Integration.integration_id.in_(serving))
        return self.page(query, (Integration.created_at.desc(), Integration.integration_id.desc()), page, limit)

    def set_verticals(self, integration: Integration) -> None:
        mine = select(Integration.integration_id).where(
            Integration.integration_id == integration.integration_id, self._mine()
        )
        self.session.execute(delete(IntegrationVertical).where(IntegrationVertical.integration_id.in_(mine)))
        self.session.add_all(
            IntegrationVertical(integration_id=integration.integration_id, vertical_id=vertical)
            for vertical in integration.vertical_ids
        )

    def record_version(self, integration: Integration, fields: dict[str, Any], by: str, at: datetime) -> None:
        self.session.add(
            IntegrationVersion(
                integration_id=integration.integration_id,
                version_id=integration.version_id,
                fields=fields,
                created_at=at,
                created_by=by,
            )
        )
        self.session.flush()


class Contracts(Scoped):
    model = Contract
    key = "contract_id"

    def of(self, integration_ids: Iterable[str]) -> list[Contract]:
        """The contracts of these integrations, newest first."""
        ids = list(integration_ids)
        if not ids:
            return []
        query = self._select().where(Contract.integration_id.in_(ids))
        return list(self.session.scalars(query.order_by(Contract.created_at.desc(), Contract.contract_id.desc())))

    def of_integration(self, integration_id: str, contract_id: str, *, lock: bool = False) -> Contract | None:
        contract = self.lock(contract_id) if lock else self.get(contract_id)
        return contract if contract is not None and contract.integration_id == integration_id else None

    def record_version(self, contract: Contract, terms: dict[str, Any], by: str, at: datetime) -> None:
        self.session.add(
            ContractVersion(
                contract_id=contract.contract_id,
                version_id=contract.version_id,
                terms=terms,
                created_at=at,
                created_by=by,
            )
        )
        self.session.flush()

    def open_of(self, integration_id: str) -> list[Contract]:
        query = self._select().where(Contract.integration_id == integration_id, Contract.status != "archived")
        return list(self.session.scalars(query.order_by(Contract.contract_id)))


class Templates(Scoped):
    """Templates as one caller sees them: a tenant's own and the platform's; for a platform
    client, the platform's only."""

    model = Template
    key = "template_id"

    def _mine(self) -> ColumnElement[bool]:
        platform = Template.tenant_id.is_(None)
        return platform if self.scope.tenant_id is None else or_(platform, Template.tenant_id == self.scope.tenant_id)

    def matching(self, partner_type: str | None, status: str | None, page: int, limit: int) -> tuple[list[Any], int]:
        query = self._select()
        if partner_type is not None:
            query = query.where(Template.partner_type == partner_type)
        if status is not None:
            query = query.where(Template.status == status)
        return self.page(query, (Template.template_name, Template.template_id), page, limit)


class Catalogue(Repository):
    """The deployment's verticals and tenants, which every scope shares."""

    def unknown_verticals(self, vertical_ids: Iterable[str]) -> list[str]:
        wanted = list(dict.fromkeys(vertical_ids))
        if not wanted:
            return []
        known = set(self.session.scalars(select(Vertical.vertical_id).where(Vertical.vertical_id.in_(wanted))))
        return [vertical for vertical in wanted if vertical not in known]

    def verticals(self) -> list[Vertical]:
        return list(self.session.scalars(select(Vertical).order_by(Vertical.vertical_id)))

    def add_vertical(self, vertical_id: str, name: str) -> Vertical:
        vertical = Vertical(vertical_id=vertical_id, name=name)
        self.session.add(vertical)
        self.session.flush()
        return vertical

    def tenant_exists(self, tenant_id: str) -> bool:
        return self.session.get(Tenant, tenant_id) is not None


class AuditLog(Repository):
    """The API call log: appended to, and read by `partner-gateway scp audit`; never changed."""

    def append(self, entry: AuditEntry) -> None:
        self.session.add(entry)

    def read(
        self,
        tenant_id: str | None = None,
        client_id: str | None = None,
        outcome: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        query = select(AuditEntry).where(true())
        if tenant_id is not None:
            query = query.where(AuditEntry.tenant_id == tenant_id)
        if client_id is not None:
            query = query.where(AuditEntry.client_id == client_id)
        if outcome is not None:
            query = query.where(AuditEntry.outcome == outcome)
        if since is not None:
            query = query.where(AuditEntry.at >= since)
        rows = self.session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit))
        return list(reversed(list(rows)))


class Exchanges(Scoped):
    """Exchange log entries, as one caller sees them."""

    model = Exchange
    key = "exchange_id"

    def matching(
        self, integration_id: str, status: str | None, since: datetime | None, page: int, limit: int
    ) -> tuple[list[Any], int]:
        query = self._select().where(Exchange.integration_id == integration_id)
        if status is not None:
            query = query.where(Exchange.status == status)
        if since is not None:
            query = query.where(Exchange.received_at >= since)
        return self.page(query, (Exchange.received_at.desc(), Exchange.exchange_id.desc()), page, limit)


class Records(Repository):
    """The records pushes stored for one tenant, read in the order they were stored."""

    def __init__(self, unit: UnitOfWork, tenant_id: str) -> None:
        super().__init__(unit)
        self.tenant_id = tenant_id

    def after(self, last_id: int, count: int) -> list[Any]:
        query = (
            select(DataRecordRow.id, DataRecordRow.fields, DataRecordRow.consents)
            .where(DataRecordRow.tenant_id == self.tenant_id, DataRecordRow.id > last_id)
            .order_by(DataRecordRow.id)
            .limit(count)
        )
        return list(self.connection.execute(query))

    def store(self, rows: list[dict[str, Any]]) -> None:
        """Many records at once (one INSERT per batch, not one per record)."""
        if rows:
            self.connection.execute(insert(DataRecordRow), [{**row, "tenant_id": self.tenant_id} for row in rows])


class Webhooks(Scoped):
    model = Webhook
    key = "webhook_id"

    def of(self, integration_id: str, webhook_id: str, *, lock: bool = False) -> Webhook | None:
        webhook = self.lock(webhook_id) if lock else self.get(webhook_id)
        return webhook if webhook is not None and webhook.integration_id == integration_id else None

    def matching(self, integration_id: str, status: str | None, page: int, limit: int) -> tuple[list[Any], int]:
        query = self._select().where(Webhook.integration_id == integration_id)
        if status is not None:
            query = query.where(Webhook.status == status)
        return self.page(query, (Webhook.created_at.desc(), Webhook.webhook_id.desc()), page, limit)

    def of_integration(self, integration_id: str) -> list[Webhook]:
        return list(self.session.scalars(self._select().where(Webhook.integration_id == integration_id)))


class WebhookKeys(Repository):
    """The signing keys of webhooks a scoped read has already found (never read on their own)."""

    def of(self, webhook_id: str) -> list[WebhookKey]:
        query = select(WebhookKey).where(WebhookKey.webhook_id == webhook_id)
        return list(
            self.session.scalars(query.order_by(WebhookKey.expires_at.is_not(None), WebhookKey.created_at.desc()))
        )

    def add(self, key: WebhookKey) -> None:
        self.session.add(key)
        self.session.flush()

    def forget(self, keys: Iterable[WebhookKey]) -> None:
        for key in keys:
            self.session.delete(key)
        self.session.flush()
