"""Who is calling SCP, from the claims of their token, and what that caller may do whatever
scopes its token holds.

Three kinds of client get tokens: a tenant's `admin` clients act in their tenant; a
`platform` client belongs to no tenant and acts on the registry only; an `integration`
client (issued on activation) acts only on its own integration, and never governs,
writes or instantiates anything, so that it can never re-activate itself after a
suspension, say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.problems import Forbidden
from models.scp.tables import ADMIN, INTEGRATION, PLATFORM

INSUFFICIENT_SCOPE = "urn:scp:problem:insufficient-scope"


def refused(detail: str) -> Forbidden:
    return Forbidden(detail, extensions={"type": INSUFFICIENT_SCOPE})


@dataclass(frozen=True)
class Caller:
    """The verified caller of one request (a security principal, as core.security wants it)."""

    client_id: str
    role: str
    tenant_id: str | None = None
    integration_id: str | None = None
    scopes: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()
    roles: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Caller:
        tenant = claims.get("tenant_id")
        integration = claims.get("integration_id")
        role = str(claims.get("role") or ADMIN)
        return cls(
            client_id=str(claims.get("client_id") or claims.get("sub") or ""),
            role=role,
            tenant_id=str(tenant) if tenant else None,
            integration_id=str(integration) if integration else None,
            scopes=frozenset(str(claims.get("scope") or "").split()),
            roles=frozenset({role}),
        )

    @property
    def is_platform(self) -> bool:
        return self.role == PLATFORM

    @property
    def is_integration(self) -> bool:
        return self.role == INTEGRATION

    def tenant(self) -> str:
        """The tenant the caller acts in; a platform client has none, and acts on the registry only."""
        if self.tenant_id is None:
            raise refused("A platform client acts on the integration registry only.")
        return self.tenant_id

    def may_change(self, what: str) -> None:
        """Writing, governing and instantiating are a tenant's admin clients' (and, on the
        registry, the platform's): an integration's own client is refused whatever it holds."""
        if self.is_integration:
            raise refused(f"An integration's own client cannot {what}.")


__all__ = ["ADMIN", "INTEGRATION", "PLATFORM", "Caller", "refused"]
