"""CPRAS demo data: a PrintPLANR client holding every scope, with a public demo secret."""

from __future__ import annotations

import base64
import hashlib
import hmac

from core.unit_of_work import UnitOfWork
from models.cpras import scopes
from models.cpras.clients import Clients
from models.cpras.settings import CprasSettings

DEMO_CLIENT_ID = "printplanr-demo"


def demo_client_secret() -> str:
    """The (public) demo client's secret: derived from its id, never stored."""
    digest = hmac.new(b"cpras demo client", DEMO_CLIENT_ID.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def ensure_demo_client(unit: UnitOfWork) -> bool:
    """The demo client, made if missing; whether it was made."""
    clients = Clients(unit)
    if clients.find(DEMO_CLIENT_ID) is not None:
        return False
    clients.create(DEMO_CLIENT_ID, "PrintPLANR (demo)", scopes.ALL, secret=demo_client_secret())
    return True


def load_demo_data(unit: UnitOfWork, settings: CprasSettings) -> bool:
    return ensure_demo_client(unit)
