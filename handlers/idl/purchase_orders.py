"""Purchase orders: listing, reading, drafting, and the approval workflow."""

from __future__ import annotations

from datetime import date
from typing import Any

from connexion.lifecycle import ConnexionResponse

from core.responses import Json, created, json_body, location, no_content
from core.unit_of_work import current_unit
from handlers.idl import dto
from models.idl.accounts import SignedIn
from models.idl.attachments import Attachments
from models.idl.purchasing import PurchaseOrders
from models.idl.repositories import PurchaseOrderFilter
from models.idl.workflow import Workflow


def list_purchase_orders(
    principal: SignedIn,
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
    orders, total = PurchaseOrders(current_unit()).page(principal.caller, where, page, limit)
    return json_body(
        {
            "data": dto.purchase_order_summaries.dump(orders),
            "pagination": dto.pagination(page, limit, total, with_neighbours=True),
        }
    )


def get_purchase_order(principal: SignedIn, id: int) -> Json:  # noqa: A002 - the spec names it `id`
    """Get one purchase order with its lines, files and approval history."""
    unit = current_unit()
    order = PurchaseOrders(unit).visible(principal.caller, id)
    return json_body(dto.purchase_order(order, Attachments(unit).of(order)))


def create_purchase_order(principal: SignedIn, body: dict[str, Any]) -> Json:
    """Draft a purchase order."""
    order = PurchaseOrders(current_unit()).create(principal.caller, body)
    return created(dto.CREATED.dump(order), location("/purchase-orders/{id}", id=order.id))


def update_purchase_order(principal: SignedIn, id: int, body: dict[str, Any]) -> Json:  # noqa: A002
    """Replace a draft purchase order."""
    unit = current_unit()
    order = PurchaseOrders(unit).replace(principal.caller, id, body)
    return json_body(dto.purchase_order(order, Attachments(unit).of(order)))


def delete_purchase_order(principal: SignedIn, id: int) -> ConnexionResponse:  # noqa: A002
    """Delete a draft purchase order (softly)."""
    PurchaseOrders(current_unit()).delete(principal.caller, id)
    return no_content()


def submit_purchase_order(principal: SignedIn, id: int) -> Json:  # noqa: A002
    """Submit a draft for approval, routed to the approver it needs."""
    return json_body(dto.SUBMITTED.dump(Workflow(current_unit()).submit(principal.caller, id)))


def approve_purchase_order(principal: SignedIn, id: int, body: dict[str, Any] | None = None) -> Json:  # noqa: A002
    """Approve a submitted purchase order."""
    order = Workflow(current_unit()).approve(principal.caller, id, (body or {}).get("comments"))
    return json_body(dto.APPROVED.dump(order))


def reject_purchase_order(principal: SignedIn, id: int, body: dict[str, Any]) -> Json:  # noqa: A002
    """Reject a submitted purchase order, with a reason."""
    return json_body(dto.REJECTED.dump(Workflow(current_unit()).reject(principal.caller, id, body["reason"])))


def cancel_purchase_order(principal: SignedIn, id: int, body: dict[str, Any] | None = None) -> Json:  # noqa: A002
    """Cancel a purchase order."""
    order = Workflow(current_unit()).cancel(principal.caller, id, (body or {}).get("reason"))
    return json_body(dto.CANCELLED.dump(order))


def close_purchase_order(principal: SignedIn, id: int, body: dict[str, Any] | None = None) -> Json:  # noqa: A002
    """Close an approved purchase order."""
    order = Workflow(current_unit()).close(principal.caller, id, (body or {}).get("comments"))
    return json_body(dto.CLOSED.dump(order))
