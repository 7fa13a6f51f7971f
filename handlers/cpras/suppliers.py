"""`GET /v1/partners/printplanr/context/suppliers/{supplier_id}`: a supplier's context, from
CPRAS's own procurement data."""

from __future__ import annotations

from datetime import date

from core.problems import NotFound
from core.responses import Json, json_body
from core.security import TokenPrincipal
from core.unit_of_work import current_unit
from models.cpras.procurement import Procurement


def get_supplier_context(principal: TokenPrincipal, supplier_id: str) -> Json:
    """What CPRAS knows of a supplier with a contract in effect today."""
    context = Procurement(current_unit()).context(supplier_id, date.today())
    if context is None:
        raise NotFound(f"Supplier {supplier_id} was not found.")
    return json_body(context)
