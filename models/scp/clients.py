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
from models.scp.tables import ADMIN, PLATFORM, ROLES, ScpClientRow, Tenant

TENANT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class Clients(ClientStore[ScpClientRow]):
    model = ScpClientRow
    known_scopes = scopes.ALL

    def __init__(self, unit: UnitOfWork) -> None:
        super().__init__(unit.session)

    def claims_of(self, row: ScpClientRow) -> Mapping[str, Any]:
        return {"tenant_id": row.tenant_id, "role": row.role} if row.tenant_id else {"role": row.role}

    def create_for(
        self,
        client_id: str,
        name: str,
        role: str,
        tenant_id: str | None,
        granted: Collection[str],
        secret: str | None = None,
    ) -> NewSecret:
        """A tenant's admin client, or a platform client (no tenant)."""
        if role not in ROLES:
            raise ValueError(f"a client's role is one of {', '.join(ROLES)}")
        if (role == PLATFORM) != (tenant_id is None):
            raise ValueError("an admin client belongs to a tenant; a platform client to none")
        if tenant_id is not None and self.session.get(Tenant, tenant_id) is None:
            raise NotFound(f"No tenant {tenant_id!r}.")
        return self.create(client_id, name, granted, secret, tenant_id=tenant_id, role=role)


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


__all__ = ["ADMIN", "PLATFORM", "Clients", "Tenants"]
