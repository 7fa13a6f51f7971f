"""Response shapes (camelCase DTOs) of the Order-Accept API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, fields


class UtcDateTime(fields.Field[datetime]):
    """ISO 8601 in UTC with milliseconds and `Z`, as .NET clients write it."""

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def product_dto(product: Any) -> dict[str, Any]:
    """A product (ORM object or Core row) as its camelCase DTO.

    A plain function rather than a marshmallow schema: it is on the API's hottest path.
    """
    return {
        "externalProductId": product.external_product_id,
        "name": product.name,
        "category": product.category,
        "vendor": product.vendor,
        "imageUrl": product.image_url,
        "discount": product.discount,
        "billingPeriod": product.billing_period,
        "isSubscription": product.is_subscription,
        "price": float(product.price),
    }


class OrderItemDto(Schema):
    productId = fields.String(attribute="product.external_product_id")
    productName = fields.String(attribute="product.name")
    imageUrl = fields.String(attribute="product.image_url", allow_none=True)
    unitPrice = fields.Float(attribute="unit_price")
    quantity = fields.Integer()


class OrderDto(Schema):
    id = fields.Integer()
    correlationId = fields.UUID(attribute="correlation_id")
    createdAt = UtcDateTime(attribute="created_at")
    items = fields.List(fields.Nested(OrderItemDto))


order_dto = OrderDto()
orders_dto = OrderDto(many=True)


def page(offset: int, size: int, total: int, items: list[Any]) -> dict[str, Any]:
    """The page envelope; `size` echoes the requested page size."""
    return {"offset": offset, "size": size, "total": total, "items": items}
