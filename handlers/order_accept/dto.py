"""Response bodies (camelCase DTOs) of the Order-Accept API."""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from core.dto import Dto, Money, Stamp


class ProductDto(Dto):
    """A product, from an ORM object or a Core row alike."""

    externalProductId = fields.String(attribute="external_product_id")
    name = fields.String()
    category = fields.String()
    vendor = fields.String()
    imageUrl = fields.String(attribute="image_url", allow_none=True)
    discount = fields.Integer()
    billingPeriod = fields.String(attribute="billing_period")
    isSubscription = fields.Boolean(attribute="is_subscription")
    price = Money()


class OrderItemDto(Dto):
    productId = fields.String(attribute="product.external_product_id")
    productName = fields.String(attribute="product.name")
    imageUrl = fields.String(attribute="product.image_url", allow_none=True)
    unitPrice = Money(attribute="unit_price")
    quantity = fields.Integer()


class OrderDto(Dto):
    id = fields.Integer()
    correlationId = fields.UUID(attribute="correlation_id")
    createdAt = Stamp(attribute="created_at", timespec="milliseconds")  # as .NET clients write it
    items = fields.List(fields.Nested(OrderItemDto))


product_dto = ProductDto()
products_dto = ProductDto(many=True)
order_dto = OrderDto()
orders_dto = OrderDto(many=True)


def page(offset: int, size: int, total: int, items: list[Any]) -> dict[str, Any]:
    """The page envelope; `size` echoes the requested page size."""
    return {"offset": offset, "size": size, "total": total, "items": items}
