"""Mihwar integrations handlers; operationIds resolve to these names (`ingestOrderLines` -> `ingest_order_lines`)."""

from handlers.mihwar.catalogue import (
    get_integration_inventory_item,
    get_integration_order,
    list_integration_inventory_items,
    list_integration_orders,
    list_integration_predictions,
)
from handlers.mihwar.ingestion import ingest_order_lines
from handlers.mihwar.webhooks import (
    create_webhook_subscription,
    delete_webhook_subscription,
    list_webhook_delivery_attempts,
    list_webhook_subscriptions,
)

__all__ = [
    "create_webhook_subscription",
    "delete_webhook_subscription",
    "get_integration_inventory_item",
    "get_integration_order",
    "ingest_order_lines",
    "list_integration_inventory_items",
    "list_integration_orders",
    "list_integration_predictions",
    "list_webhook_delivery_attempts",
    "list_webhook_subscriptions",
]
