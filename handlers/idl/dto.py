"""Response bodies of the IDL API, built from the models exactly as the spec's schemas name them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from core.columns import aware
from models.idl.reference import WithSpending
from models.idl.tables import Approval, Attachment, LineItem, PurchaseOrder, User, Vendor
from models.shared.tables import AuditEntry


def money(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def stamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return aware(moment).isoformat().replace("+00:00", "Z")


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def pagination(page: int, limit: int, total: int, *, with_neighbours: bool = False) -> dict[str, Any]:
    pages = math.ceil(total / limit) if total else 0
    body: dict[str, Any] = {"page": page, "limit": limit, "total": total, "pages": pages}
    if with_neighbours:
        body["has_next"] = page < pages
        body["has_prev"] = page > 1
    return body


def user_ref(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name}


def user_ref_with_role(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "role": user.role}


def user(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "uuid": str(user.uuid),
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "authorization_limit": money(user.authorization_limit),
        "active": user.active,
        "last_login": stamp(user.last_login),
        "created_at": stamp(user.created_at),
    }


def authenticated_user(account: User) -> dict[str, Any]:
    return {
        "id": account.id,
        "uuid": str(account.uuid),
        "email": account.email,
        "name": account.name,
        "role": account.role,
        "authorization_limit": money(account.authorization_limit),
        "permissions": list(account.permissions),
        "project_ids": account.project_ids,
    }


def profile(account: User) -> dict[str, Any]:
    return {**user(account), "permissions": list(account.permissions), "project_ids": account.project_ids}


def _workflow_fields(order: PurchaseOrder) -> dict[str, Any]:
    """The `…_by`/`…_at` pairs, present only once the P/O has reached that status."""
    body: dict[str, Any] = {}
    if order.submitted_by is not None:
        body["submitted_by"] = user_ref(order.submitted_by)
        body["submitted_at"] = stamp(order.submitted_at)
    return body


def purchase_order_summary(order: PurchaseOrder) -> dict[str, Any]:
    return {
        "id": order.id,
        "po_number": order.po_number,
        "type": order.type,
        "status": order.status,
        "project_id": order.project_id,
        "cost_code": order.cost_code,
        "vendor_name": order.vendor_name,
        "vendor_contact_name": order.vendor_contact_name,
        "vendor_email": order.vendor_email,
        "vendor_phone": order.vendor_phone,
        "subtotal": money(order.subtotal),
        "tax_amount": money(order.tax_amount),
        "total_amount": money(order.total_amount),
        "line_items_count": len(order.line_items),
        "created_by": user_ref_with_role(order.created_by),
        **_workflow_fields(order),
        "created_at": stamp(order.created_at),
        "updated_at": stamp(order.updated_at),
    }


def line_item(line: LineItem) -> dict[str, Any]:
    return {
        "id": line.id,
        "line_number": line.line_number,
        "description": line.description,
        "quantity": float(line.quantity),
        "unit": line.unit,
        "unit_price": money(line.unit_price),
        "category": line.category,
        "tax_code": line.tax_code,
        "tax_rate": float(line.tax_rate),
        "tax_amount": money(line.tax_amount),
        "line_total": money(line.line_total),
    }


def approval(entry: Approval) -> dict[str, Any]:
    return {
        "id": entry.id,
        "approver": user_ref_with_role(entry.approver),
        "status": entry.status,
        "comments": entry.comments,
        "decided_at": stamp(entry.decided_at),
        "created_at": stamp(entry.created_at),
    }


def purchase_order(order: PurchaseOrder, files: Sequence[Attachment]) -> dict[str, Any]:
    body: dict[str, Any] = {
        **{key: value for key, value in purchase_order_summary(order).items() if key != "line_items_count"},
        "vendor_address": order.vendor_address,
        "ceiling_amount": money(order.ceiling_amount),
        "urgency_justification": order.urgency_justification,
        "line_items": [line_item(line) for line in order.line_items],
        "files": [
            {
                "id": file.id,
                "original_filename": file.original_filename,
                "file_size": file.file_size,
                "mime_type": file.mime_type,
                "uploaded_by": file.uploaded_by.name,
                "uploaded_at": stamp(file.uploaded_at),
            }
            for file in files
        ],
        "approval_history": [approval(entry) for entry in order.approvals],
    }
    if order.approved_by is not None:
        body["approved_by"] = user_ref(order.approved_by)
        body["approved_at"] = stamp(order.approved_at)
    if order.rejected_at is not None:
        body["rejection_reason"] = order.rejection_reason
        body["rejected_at"] = stamp(order.rejected_at)
    if order.cancelled_by is not None:
        body["cancelled_by"] = user_ref(order.cancelled_by)
        body["cancelled_at"] = stamp(order.cancelled_at)
        if order.cancel_reason:
            body["cancel_reason"] = order.cancel_reason
    if order.closed_by is not None:
        body["closed_by"] = user_ref(order.closed_by)
        body["closed_at"] = stamp(order.closed_at)
    return body


def attachment(file: Attachment) -> dict[str, Any]:
    return {
        "id": file.id,
        "original_filename": file.original_filename,
        "file_size": file.file_size,
        "mime_type": file.mime_type,
        "virus_scan_status": file.virus_scan_status,
        "uploaded_by": user_ref(file.uploaded_by),
        "uploaded_at": stamp(file.uploaded_at),
    }


def project(entry: WithSpending) -> dict[str, Any]:
    item = entry.item
    return {
        "id": item.id,
        "name": item.name,
        "status": item.status,
        "budget": money(item.budget),
        "spent": money(entry.spent),
        "remaining": money(entry.remaining),
        "start_date": day(item.start_date),
        "end_date": day(item.end_date),
    }


def cost_code(entry: WithSpending) -> dict[str, Any]:
    item = entry.item
    return {
        "id": item.id,
        "code": item.code,
        "description": item.description,
        "category": item.category,
        "budget": money(item.budget),
        "spent": money(entry.spent),
        "remaining": money(entry.remaining),
        "active": item.active,
    }


def vendor(item: Vendor) -> dict[str, Any]:
    return {
        "id": item.id,
        "name": item.name,
        "contact_info": {"email": item.email, "phone": item.phone, "address": item.address},
        "payment_terms": item.payment_terms,
        "active": item.active,
    }


def audit_entry(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "action": entry.action,
        "user": {"id": entry.actor_id, "name": entry.actor_name, "role": entry.actor_role},
        "old_values": entry.old_values,
        "new_values": entry.new_values,
        "ip_address": entry.ip_address,
        "created_at": stamp(entry.created_at),
    }
