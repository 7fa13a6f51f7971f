"""Purchase orders: creating them and moving them through their statuses, with their events.

`order.created` when an order is created; `order.status_changed` on every change of status
(never back to DRAFT), and `order.fulfilled` too when it becomes FULFILLED.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from core.columns import utcnow
from core.problems import Conflict, NotFound
from core.unit_of_work import UnitOfWork
from models.mihwar.events import ORDER_CREATED, ORDER_FULFILLED, ORDER_STATUS_CHANGED, moment, publish
from models.mihwar.tables import InventoryItem, PurchaseOrder, PurchaseOrderLine

STATUSES = ("DRAFT", "SUBMITTED", "APPROVED", "RECEIVED", "REJECTED", "FULFILLED")


@dataclass(frozen=True)
class OrderedLine:
    sku: str
    quantity: float
    unit_cost: Decimal | None = None


class Orders:
    def __init__(self, unit: UnitOfWork) -> None:
        self.unit = unit

    def create(
        self, organization_id: str, lines: Sequence[OrderedLine], status: str = "DRAFT", reference: str | None = None
    ) -> PurchaseOrder:
        """A purchase order of the organization's items (by SKU)."""
        session = self.unit.session
        skus = [line.sku for line in lines]
        items = {
            item.sku: item
            for item in session.scalars(
                select(InventoryItem).where(
                    InventoryItem.organization_id == organization_id, InventoryItem.sku.in_(skus)
                )
            )
        }
        if missing := [sku for sku in skus if sku not in items]:
            raise NotFound(f"No item with SKU {', '.join(missing)}.")
        costs = [line.unit_cost * Decimal(str(line.quantity)) for line in lines if line.unit_cost is not None]
        order = PurchaseOrder(
            organization_id=organization_id,
            reference=reference,
            status=status,
            total_cost=sum(costs, Decimal(0)) if costs else None,
        )
        session.add(order)
        session.flush()
        session.add_all(
            PurchaseOrderLine(
                order_id=order.id, item_id=items[line.sku].id, ordered_qty=line.quantity, unit_cost=line.unit_cost
            )
            for line in lines
        )
        session.flush()
        payload = {"orderId": order.id, "status": order.status, "createdAt": moment(order.created_at)}
        publish(self.unit, ORDER_CREATED, payload, organization_id=organization_id, key=order.id)
        return order

    def set_status(self, organization_id: str, order_id: str, status: str) -> PurchaseOrder:
        """Move an order to `status`, sending `order.status_changed` (and `order.fulfilled`)."""
        if status not in STATUSES or status == "DRAFT":
            raise Conflict(f"An order cannot be moved to {status}.")
        order = self.unit.session.scalar(
            select(PurchaseOrder)
            .where(PurchaseOrder.organization_id == organization_id, PurchaseOrder.id == order_id)
            .with_for_update()
        )
        if order is None:
            raise NotFound(f"No order {order_id!r}.")
        if order.status == status:
            return order
        order.status, order.updated_at = status, utcnow()
        publish(
            self.unit,
            ORDER_STATUS_CHANGED,
            {"orderId": order.id, "status": status},
            organization_id=organization_id,
            key=order.id,
        )
        if status == "FULFILLED":
            payload = {"orderId": order.id, "fulfilledAt": moment(order.updated_at)}
            publish(self.unit, ORDER_FULFILLED, payload, organization_id=organization_id, key=order.id)
        return order
