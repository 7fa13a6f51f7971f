"""SCP's OAuth clients, on the core's client store: each belongs to one tenant (a platform
client to none), and its tokens say which, and in what role."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import select

from core.oauth.clients import ClientStore, NewSecret
from core.problems import Conflict, NotFound
from core.unit_of_work import UnitOfWork
from models.scp import scopes
from models.scp.tables import ADMIN, INTEGRATION, PLATFORM, ROLES, ScpClientRow, Tenant

TENANT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class Clients(ClientStore[ScpClientRow]):
    model = ScpClientRow
    known_scopes = scopes.ALL

    def __init__(self, unit: UnitOfWork) -> None:
        super().__init__(unit.session)

    def claims_of(self, row: ScpClientRow) -> Mapping[str, Any]:
        claims: dict[str, Any] = {"role": row.role}
        if row.tenant_id:
            claims["tenant_id"] = row.tenant_id
        if row.integration_id:
            claims["integration_id"] = row.integration_id
        return claims

    def create_for(
        self,
        client_id: str,
        name: str,
        role: str,
        tenant_id: str | None,
        granted: Collection[str],
        secret: str | None = None,
        integration_id: str | None = None,
    ) -> NewSecret:
        """A tenant's admin client, a platform client (no tenant), or an integration's own
        client (its tenant's, bound to the integration)."""
        if role not in ROLES:
            raise ValueError(f"a client's role is one of {', '.join(ROLES)}")
        if (role == PLATFORM) != (tenant_id is None):
            raise ValueError("an admin client belongs to a tenant; a platform client to none")
        if (role == INTEGRATION) != (integration_id is not None):
            raise ValueError("an integration's client names its integration; no other client does")
        if role == INTEGRATION and not set(granted) <= scopes.INTEGRATION_CLIENT:
            raise ValueError(f"an integration's client holds only {' '.join(sorted(scopes.INTEGRATION_CLIENT))}")
        if tenant_id is not None and self.session.get(Tenant, tenant_id) is None:
            raise NotFound(f"No tenant {tenant_id!r}.")
        return self.create(
            client_id, name, granted, secret, tenant_id=tenant_id, role=role, integration_id=integration_id
        )

    def row(self, client_id: str) -> ScpClientRow:
        """A client, enabled or not (404 when unknown)."""
        return self._row(client_id)


class Tenants:
    def __init__(self, unit: UnitOfWork) -> None:
        self.session = unit.session

    def create(self, tenant_id: str, name: str) -> Tenant:
        if not TENANT_ID.fullmatch(tenant_id):
            raise ValueError(
                "a tenant id is 1 to 64 lower-case letters, digits, '_' or '-', starting with a letter or digit"
            )
        if self.session.get(Tenant, tenant_id) is not None:
            raise Conflict(f"A tenant {tenant_id} exists already.")
        tenant = Tenant(tenant_id=tenant_id, name=name)
        self.session.add(tenant)
        self.session.flush()
        return tenant

    def all(self) -> list[Tenant]:
        return list(self.session.scalars(select(Tenant).order_by(Tenant.tenant_id)))


__all__ = ["ADMIN", "INTEGRATION", "PLATFORM", "Clients", "Tenants"]
