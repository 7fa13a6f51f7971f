"""What IDL handlers share: where the request came from, and the services they call."""

from __future__ import annotations

from connexion import request

from core.unit_of_work import current_unit
from models.idl.accounts import Accounts
from models.idl.settings import IDLSettings


def client_ip() -> str:
    client = request.scope.get("client")
    return str(client[0]) if client else "unknown"


def idl_settings() -> IDLSettings:
    settings: IDLSettings = current_unit().settings.apis["idl"]
    return settings


def accounts() -> Accounts:
    return Accounts(current_unit(), idl_settings().jwt)
