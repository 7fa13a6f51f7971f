"""Placing and deleting orders: the rules the spec cannot express."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from core.problems import Conflict, NotFound
from core.unit_of_work import UnitOfWork
from models.order_accept.repositories import CustomerRepository, OrderRepository, ProductRepository
from models.order_accept.tables import Order, OrderItem, Product


@dataclass(frozen=True)
class RequestedLine:
    product_id: str
    quantity: int


def merge_lines(lines: Iterable[RequestedLine]) -> dict[str, int]:
    """Sum the quantities of lines naming the same product, keeping first-seen order."""
    merged: dict[str, int] = {}
    for line in lines:
        merged[line.product_id] = merged.get(line.product_id, 0) + line.quantity
    return merged


class OrderService:
    def __init__(self, unit: UnitOfWork) -> None:
        self.customers = CustomerRepository(unit)
        self.products = ProductRepository(unit)
        self.orders = OrderRepository(unit)

    def list_for(self, user_id: str, offset: int, size: int) -> tuple[Sequence[Order], int]:
        """The caller's live orders, newest first; a customer not seen before has none."""
        customer = self.customers.find(user_id)
        if customer is None:
            return [], 0
        return self.orders.page_for_customer(customer.id, offset, size)

    def place(self, user_id: str, lines: Iterable[RequestedLine], idempotency_key: str | None = None) -> Order:
        """Create an order at today's prices; every product must exist and be active.

        With an idempotency key, a repeat of an earlier request returns that request's order.
        """
        quantities = merge_lines(lines)
        fingerprint = _fingerprint(quantities)
        if idempotency_key is not None:
            earlier = self._earlier_order(user_id, idempotency_key)
            if earlier is not None:
                return _replayed(earlier, fingerprint)
        products = self.products.active_by_external_ids(quantities)
        missing = [product_id for product_id in quantities if product_id not in products]
        if missing:
            raise NotFound(f"Products not found or not active: {', '.join(missing)}.")
        customer = self.customers.get_or_create(user_id)
        order = Order(
            customer_id=customer.id,
            items=_order_items(quantities, products),
            idempotency_key=idempotency_key,
            request_fingerprint=fingerprint if idempotency_key is not None else None,
        )
        try:
            return self.orders.add(order)
        except IntegrityError as exc:  # the same key, in a request still being processed
            raise Conflict("A request with this Idempotency-Key is still being processed; retry it.") from exc

    def _earlier_order(self, user_id: str, idempotency_key: str) -> Order | None:
        customer = self.customers.find(user_id)
        return self.orders.find_by_idempotency_key(customer.id, idempotency_key) if customer else None

    def delete(self, user_id: str, order_id: int) -> None:
        """Soft-delete the caller's order; anyone else's answers as if it did not exist."""
        customer = self.customers.find(user_id)
        order = self.orders.get_for_customer(order_id, customer.id) if customer else None
        if order is None:
            raise NotFound(f"Order {order_id} was not found.")
        order.is_soft_deleted = True


def _fingerprint(quantities: Mapping[str, int]) -> str:
    """Identifies a request by its merged lines, whatever their order."""
    canonical = json.dumps(sorted(quantities.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replayed(order: Order, fingerprint: str) -> Order:
    if order.is_soft_deleted or order.request_fingerprint != fingerprint:
        raise Conflict("The Idempotency-Key was already used for a different order.")
    return order


def _order_items(quantities: Mapping[str, int], products: Mapping[str, Product]) -> list[OrderItem]:
    return [
        OrderItem(product=products[product_id], quantity=quantity, unit_price=products[product_id].price)
        for product_id, quantity in quantities.items()
    ]
