"""SCP demo data: two tenants, an admin client for each holding every scope, and a platform
client; their (public) secrets are derived from their ids, never stored."""

from __future__ import annotations

import base64
import hashlib
import hmac

from core.unit_of_work import UnitOfWork
from models.scp import scopes
from models.scp.clients import Clients, Tenants
from models.scp.settings import ScpSettings
from models.scp.tables import ADMIN, PLATFORM

DEMO_TENANTS = {"riverside-care": "Riverside Care Group", "harbour-health": "Harbour Health Trust"}
PLATFORM_SCOPES = frozenset({scopes.REGISTRY_READ, scopes.REGISTRY_WRITE, scopes.INTEGRATIONS_WRITE})
DEMO_CLIENTS: dict[str, tuple[str | None, str, frozenset[str]]] = {  # client id: (tenant, role, scopes)
    "riverside-admin": ("riverside-care", ADMIN, scopes.ALL),
    "harbour-admin": ("harbour-health", ADMIN, scopes.ALL),
    "scp-platform": (None, PLATFORM, PLATFORM_SCOPES),
}


def demo_client_secret(client_id: str) -> str:
    digest = hmac.new(b"scp demo client", client_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def ensure_demo_clients(unit: UnitOfWork) -> bool:
    """The demo tenants and clients, made if missing; whether any was made."""
    tenants, clients = Tenants(unit), Clients(unit)
    known = {tenant.tenant_id for tenant in tenants.all()}
    made = False
    for tenant_id, name in DEMO_TENANTS.items():
        if tenant_id not in known:
            tenants.create(tenant_id, name)
            made = True
    for client_id, (owner, role, granted) in DEMO_CLIENTS.items():
        if clients.find(client_id) is None:
            secret = demo_client_secret(client_id)
            clients.create_for(client_id, f"{client_id} (demo)", role, owner, granted, secret)
            made = True
    return made


def load_demo_data(unit: UnitOfWork, settings: ScpSettings) -> bool:
    # The demo secrets are public: they join only a database with no client of its own.
    return not Clients(unit).all() and ensure_demo_clients(unit)
