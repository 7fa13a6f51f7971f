"""The OAuth clients of CPRAS's token endpoint (PrintPLANR), on the core's client store."""

from __future__ import annotations

from core.oauth.clients import ClientStore
from core.unit_of_work import UnitOfWork
from models.cpras import scopes
from models.cpras.tables import OAuthClientRow


class Clients(ClientStore[OAuthClientRow]):
    model = OAuthClientRow
    known_scopes = scopes.ALL

    def __init__(self, unit: UnitOfWork) -> None:
        super().__init__(unit.session)
