"""Mihwar integrations handlers; operationIds resolve to these names (`ingestOrderLines` -> `ingest_order_lines`)."""

from handlers.mihwar.catalogue import (
    get_integration_inventory_item,
    get_integration_order,
    list_integration_inventory_items,
    list_integration_orders,
    list_integration_predictions,
)
from handlers.mihwar.ingestion import ingest_order_lines

__all__ = [
    "get_integration_inventory_item",
    "get_integration_order",
    "ingest_order_lines",
    "list_integration_inventory_items",
    "list_integration_orders",
    "list_integration_predictions",
]
