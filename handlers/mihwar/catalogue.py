"""Reading the organization's inventory items, purchase orders and predictions."""

from __future__ import annotations

from core.responses import Json, json_body
from core.unit_of_work import current_unit
from handlers.mihwar import dto
from handlers.mihwar.context import cursors
from models.mihwar.keys import KeyHolder
from models.mihwar.listing import Listing, instant
from models.mihwar.repositories import ItemFilter


def _listing() -> Listing:
    return Listing(current_unit(), cursors())


def list_integration_inventory_items(
    principal: KeyHolder,
    limit: int = 50,
    cursor: str | None = None,
    search: str | None = None,
    includeArchived: bool = False,  # noqa: N803 - the spec names it
    updatedAfter: str | None = None,  # noqa: N803 - the spec names it
) -> Json:
    """List inventory items, oldest change first."""
    where = ItemFilter(search or None, includeArchived, instant("updatedAfter", updatedAfter))
    return json_body(dto.page(dto.inventory_items, _listing().item_page(principal, where, limit, cursor)))


def get_integration_inventory_item(principal: KeyHolder, id: str) -> Json:  # noqa: A002 - the spec names it
    """Get one inventory item."""
    return json_body({"data": dto.inventory_item.dump(_listing().item(principal, id))})


def list_integration_orders(
    principal: KeyHolder,
    limit: int = 50,
    cursor: str | None = None,
    status: str | None = None,
    createdAfter: str | None = None,  # noqa: N803 - the spec names it
) -> Json:
    """List purchase orders with their lines, oldest first."""
    found = _listing().order_page(principal, status, instant("createdAfter", createdAfter), limit, cursor)
    return json_body(dto.page(dto.purchase_orders, found))


def get_integration_order(principal: KeyHolder, id: str) -> Json:  # noqa: A002 - the spec names it
    """Get one purchase order with its lines."""
    return json_body({"data": dto.purchase_order.dump(_listing().order(principal, id))})


def list_integration_predictions(
    principal: KeyHolder,
    limit: int = 50,
    cursor: str | None = None,
    itemId: str | None = None,  # noqa: N803 - the spec names it
) -> Json:
    """List demand predictions, newest first."""
    return json_body(dto.page(dto.predictions, _listing().prediction_page(principal, itemId, limit, cursor)))
