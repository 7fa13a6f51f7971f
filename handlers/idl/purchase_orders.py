"""Purchase orders: listing, reading, drafting, and the approval workflow."""

from __future__ import annotations

from datetime import date
from typing import Any

from connexion.lifecycle import ConnexionResponse

from core.responses import Json, created, json_body, location, no_content
from core.unit_of_work import current_unit
from handlers.idl import dto
from models.idl.accounts import Caller
from models.idl.attachments import Attachments
from models.idl.purchasing import PurchaseOrders
from models.idl.repositories import PurchaseOrderFilter
from models.idl.tables import PurchaseOrder
from models.idl.workflow import Workflow


def list_purchase_orders(
    principal: Caller,
    page: int = 1,
    limit: int = 20,
    status: str | None = None,
    type: str | None = None,  # noqa: A002 - the spec names the parameter `type`
    project_id: str | None = None,
    created_by: int | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    search: str | None = None,
) -> Json:
    """List the purchase orders of the caller's projects, newest first."""
    where = PurchaseOrderFilter(
        status=status,
        type=type,
        project_id=project_id,
        created_by=created_by,
        date_from=date.fromisoformat(date_from) if date_from else None,
        date_to=date.fromisoformat(date_to) if date_to else None,
        search=search or None,
    )
    orders, total = PurchaseOrders(current_unit()).page(principal, where, page, limit)
    return json_body(
        {
            "data": [dto.purchase_order_summary(order) for order in orders],
            "pagination": dto.pagination(page, limit, total, with_neighbours=True),
        }
    )


def get_purchase_order(principal: Caller, id: int) -> Json:  # noqa: A002 - the spec names it `id`
    """Get one purchase order with its lines, files and approval history."""
    unit = current_unit()
    order = PurchaseOrders(unit).visible(principal, id)
    return json_body(dto.purchase_order(order, Attachments(unit).of(order)))


def create_purchase_order(principal: Caller, body: dict[str, Any]) -> Json:
    """Draft a purchase order."""
    order = PurchaseOrders(current_unit()).create(principal, body)
    body = {
        "id": order.id,
        "po_number": order.po_number,
        "status": order.status,
        "total_amount": dto.money(order.total_amount),
        "created_at": dto.stamp(order.created_at),
    }
    return created(body, location("/purchase-orders/{id}", id=order.id))


def update_purchase_order(principal: Caller, id: int, body: dict[str, Any]) -> Json:  # noqa: A002
    """Replace a draft purchase order."""
    unit = current_unit()
    order = PurchaseOrders(unit).replace(principal, id, body)
    return json_body(dto.purchase_order(order, Attachments(unit).of(order)))


def delete_purchase_order(principal: Caller, id: int) -> ConnexionResponse:  # noqa: A002
    """Delete a draft purchase order (softly)."""
    PurchaseOrders(current_unit()).delete(principal, id)
    return no_content()


def submit_purchase_order(principal: Caller, id: int) -> Json:  # noqa: A002
    """Submit a draft for approval, routed to the approver it needs."""
    order = Workflow(current_unit()).submit(principal, id)
    approver = order.approvals[-1].approver
    return _outcome(
        order,
        submitted_at=dto.stamp(order.submitted_at),
        approver=dto.user_ref_with_role(approver),
    )


def approve_purchase_order(principal: Caller, id: int, body: dict[str, Any] | None = None) -> Json:  # noqa: A002
    """Approve a submitted purchase order."""
    order = Workflow(current_unit()).approve(principal, id, (body or {}).get("comments"))
    assert order.approved_by is not None
    return _outcome(
        order,
        approved_at=dto.stamp(order.approved_at),
        approved_by=dto.user_ref(order.approved_by),
    )


def reject_purchase_order(principal: Caller, id: int, body: dict[str, Any]) -> Json:  # noqa: A002
    """Reject a submitted purchase order, with a reason."""
    order = Workflow(current_unit()).reject(principal, id, body["reason"])
    return _outcome(
        order,
        rejection_reason=order.rejection_reason,
        rejected_at=dto.stamp(order.rejected_at),
    )


def cancel_purchase_order(principal: Caller, id: int, body: dict[str, Any] | None = None) -> Json:  # noqa: A002
    """Cancel a purchase order."""
    order = Workflow(current_unit()).cancel(principal, id, (body or {}).get("reason"))
    assert order.cancelled_by is not None
    return _outcome(
        order,
        cancelled_at=dto.stamp(order.cancelled_at),
        cancelled_by=dto.user_ref(order.cancelled_by),
        cancel_reason=order.cancel_reason,
    )


def close_purchase_order(principal: Caller, id: int, body: dict[str, Any] | None = None) -> Json:  # noqa: A002
    """Close an approved purchase order."""
    order = Workflow(current_unit()).close(principal, id, (body or {}).get("comments"))
    assert order.closed_by is not None
    return _outcome(
        order,
        closed_at=dto.stamp(order.closed_at),
        closed_by=dto.user_ref(order.closed_by),
    )


def _outcome(order: PurchaseOrder, **fields: Any) -> Json:
    """A transition's answer: the P/O's id, number and new status, and what the transition set."""
    return json_body({"id": order.id, "po_number": order.po_number, "status": order.status, **fields})
