"""Order-Accept handlers; operationIds resolve to these names (`listProducts` -> `list_products`)."""

from handlers.order_accept.orders import create_order, delete_order, list_orders
from handlers.order_accept.products import get_product, list_products

__all__ = ["create_order", "delete_order", "get_product", "list_orders", "list_products"]
