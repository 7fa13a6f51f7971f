"""What every IDL handler needs: the authenticated caller, and where the request came from."""

from __future__ import annotations

from typing import Any

from connexion import request

from core.unit_of_work import current_unit
from models.idl.accounts import Accounts, Principal


def client_ip() -> str:
    client = request.scope.get("client")
    return str(client[0]) if client else "unknown"


def accounts() -> Accounts:
    unit = current_unit()
    return Accounts(unit, unit.settings.idl.jwt)


def caller(token_info: dict[str, Any]) -> Principal:
    """The caller behind the token the security layer verified (session live, user active)."""
    return accounts().principal(token_info["claims"], client_ip())
