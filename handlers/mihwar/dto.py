"""Response bodies (camelCase DTOs) of the Mihwar integrations API."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from core.dto import Day, Dto, Money, Stamp
from models.mihwar.events import EVENT_TYPES
from models.mihwar.ingestion import IngestionResult
from models.mihwar.listing import Page
from models.mihwar.webhooks import NewSubscription


class InventoryItemDto(Dto):
    id = fields.String()
    sku = fields.String()
    name = fields.String()
    unit = fields.String(allow_none=True)
    currentStock = fields.Float(attribute="current_stock")
    lowStockThreshold = fields.Float(attribute="low_stock_threshold", allow_none=True)
    archived = fields.Boolean()
    createdAt = Stamp(attribute="created_at")
    updatedAt = Stamp(attribute="updated_at")


class PurchaseOrderLineDto(Dto):
    id = fields.String()
    itemId = fields.String(attribute="item_id")
    sku = fields.String()
    itemName = fields.String(attribute="item_name")
    orderedQty = fields.Float(attribute="ordered_qty")
    receivedQty = fields.Float(attribute="received_qty")
    unitCost = Money(attribute="unit_cost", allow_none=True)


class PurchaseOrderDto(Dto):
    """An order with its lines, from an `OrderWithLines`."""

    id = fields.String(attribute="order.id")
    reference = fields.String(attribute="order.reference", allow_none=True)
    status = fields.String(attribute="order.status")
    supplierId = fields.String(attribute="order.supplier_id", allow_none=True)
    supplierName = fields.String(attribute="order.supplier_name", allow_none=True)
    currency = fields.String(attribute="order.currency", allow_none=True)
    totalCost = Money(attribute="order.total_cost", allow_none=True)
    expectedDeliveryDate = Day(attribute="order.expected_delivery_date", allow_none=True)
    lines = fields.List(fields.Nested(PurchaseOrderLineDto))
    createdAt = Stamp(attribute="order.created_at")
    updatedAt = Stamp(attribute="order.updated_at")


class PredictionDto(Dto):
    id = fields.String()
    itemId = fields.String(attribute="item_id")
    sku = fields.String()
    itemName = fields.String(attribute="item_name")
    periodKind = fields.String(attribute="period_kind")
    periodStart = Day(attribute="period_start")
    periodEnd = Day(attribute="period_end")
    predictedQty = fields.Float(attribute="predicted_qty")
    lowerBound = fields.Float(attribute="lower_bound", allow_none=True)
    upperBound = fields.Float(attribute="upper_bound", allow_none=True)
    method = fields.String()
    horizon = fields.Integer()
    generatedAt = Stamp(attribute="generated_at")


class WebhookSubscriptionDto(Dto):
    id = fields.String()
    url = fields.String()
    events = fields.Method("listed_events")
    active = fields.Boolean()
    disabledReason = fields.String(attribute="disabled_reason", allow_none=True)
    createdAt = Stamp(attribute="created_at")

    def listed_events(self, subscription: Any) -> list[str]:
        return list(subscription.events) if subscription.events is not None else list(EVENT_TYPES)


class WebhookAttemptDto(Dto):
    id = fields.Function(lambda attempt: str(attempt.id))
    eventId = fields.String(attribute="event_id")
    event = fields.String(attribute="event_type")
    deliveryStatus = fields.String(attribute="delivery_status")
    attemptedAt = Stamp(attribute="attempted_at")
    url = fields.String()
    statusCode = fields.Integer(attribute="status_code", allow_none=True)
    latencyMs = fields.Integer(attribute="latency_ms")
    error = fields.String(allow_none=True)
    responseExcerpt = fields.String(attribute="response_excerpt", allow_none=True)


inventory_item = InventoryItemDto()
inventory_items = InventoryItemDto(many=True)
purchase_order = PurchaseOrderDto()
purchase_orders = PurchaseOrderDto(many=True)
predictions = PredictionDto(many=True)
subscriptions = WebhookSubscriptionDto(many=True)
attempts = WebhookAttemptDto(many=True)


def page(dto: Dto, found: Page[Any]) -> dict[str, Any]:
    """A list's envelope: the page's rows and the cursor of the next page (null on the last)."""
    return {"data": dto.dump(found.rows), "nextCursor": found.next_cursor}


def ingestion(result: IngestionResult) -> dict[str, Any]:
    return {
        "data": {
            "inserted": result.inserted,
            "importBatchId": result.import_batch_id,
            "autoCreatedItems": result.auto_created_items,
            "skippedUnknownSku": result.skipped_unknown_sku,
            "missingSkus": result.missing_skus,
            "skippedBadDate": result.skipped_bad_date,
            "batchedInserts": result.batched_inserts,
        }
    }


def new_subscription(created: NewSubscription) -> dict[str, Any]:
    """A subscription just created: the listed members, less the reason, and its secret (shown once)."""
    shown = WebhookSubscriptionDto(exclude=("disabledReason",)).dump(created.subscription)
    return {**shown, "secret": created.secret}
