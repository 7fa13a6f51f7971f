"""What IDL handlers share: where the request came from, and the services they call."""

from __future__ import annotations

from connexion import request

from core.request_context import client_address
from core.unit_of_work import current_unit
from handlers.idl.api import API
from models.idl.accounts import Accounts
from models.idl.settings import IDLSettings


def client_ip() -> str:
    return client_address(request.scope)


def idl_settings() -> IDLSettings:
    return API.config(current_unit().settings)


def accounts() -> Accounts:
    return Accounts(current_unit(), idl_settings().jwt)
