"""Response bodies of the IDL API, built from the models exactly as the spec's schemas name them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from marshmallow import fields

from core.dto import Day, Dto, Money, Stamp
from models.idl.tables import Attachment, PurchaseOrder


def pagination(page: int, limit: int, total: int, *, with_neighbours: bool = False) -> dict[str, Any]:
    pages = math.ceil(total / limit) if total else 0
    body: dict[str, Any] = {"page": page, "limit": limit, "total": total, "pages": pages}
    if with_neighbours:
        body["has_next"] = page < pages
        body["has_prev"] = page > 1
    return body


# People --------------------------------------------------------------------------------------


class UserRef(Dto):
    id = fields.Integer()
    name = fields.String()


class UserRefWithRole(UserRef):
    role = fields.String()


class UserDto(UserRefWithRole):
    uuid = fields.UUID()
    email = fields.String()
    authorization_limit = Money()
    active = fields.Boolean()
    last_login = Stamp()
    created_at = Stamp()

    class Meta:
        fields = ("id", "uuid", "email", "name", "role", "authorization_limit", "active", "last_login", "created_at")


class ProfileDto(UserDto):
    permissions = fields.List(fields.String())
    project_ids = fields.List(fields.String())

    class Meta:
        fields = (*UserDto.Meta.fields, "permissions", "project_ids")


class AuthenticatedUserDto(ProfileDto):
    class Meta:
        fields = ("id", "uuid", "email", "name", "role", "authorization_limit", "permissions", "project_ids")


# Purchase orders -----------------------------------------------------------------------------


class PurchaseOrderSummaryDto(Dto):
    omit_when_none: ClassVar[tuple[str, ...]] = ("submitted_by", "submitted_at")  # present once submitted

    id = fields.Integer()
    po_number = fields.String()
    type = fields.String()
    status = fields.String()
    project_id = fields.String()
    cost_code = fields.String()
    vendor_name = fields.String()
    vendor_contact_name = fields.String(allow_none=True)
    vendor_email = fields.String(allow_none=True)
    vendor_phone = fields.String(allow_none=True)
    subtotal = Money()
    tax_amount = Money()
    total_amount = Money()
    line_items_count = fields.Function(lambda order: len(order.line_items))
    created_by = fields.Nested(UserRefWithRole)
    submitted_by = fields.Nested(UserRef, allow_none=True)
    submitted_at = Stamp()
    created_at = Stamp()
    updated_at = Stamp()


class LineItemDto(Dto):
    id = fields.Integer()
    line_number = fields.Integer()
    description = fields.String()
    quantity = fields.Float()
    unit = fields.String()
    unit_price = Money()
    category = fields.String()
    tax_code = fields.String()
    tax_rate = fields.Float()
    tax_amount = Money()
    line_total = Money()


class ApprovalDto(Dto):
    id = fields.Integer()
    approver = fields.Nested(UserRefWithRole)
    status = fields.String()
    comments = fields.String(allow_none=True)
    decided_at = Stamp()
    created_at = Stamp()


class FileBriefDto(Dto):
    """A file as a P/O's detail lists it: the uploader by name only, as the document writes it."""

    id = fields.Integer()
    original_filename = fields.String()
    file_size = fields.Integer()
    mime_type = fields.String()
    uploaded_by = fields.Function(lambda file: file.uploaded_by.name)
    uploaded_at = Stamp()


@dataclass(frozen=True)
class WithFiles:
    """A P/O and its files, shaped as one body."""

    order: PurchaseOrder
    files: Sequence[Attachment]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.order, name)


class PurchaseOrderDto(PurchaseOrderSummaryDto):
    # The `…_by`/`…_at` pairs are present only once the P/O has reached that status.
    omit_when_none: ClassVar[tuple[str, ...]] = (
        *PurchaseOrderSummaryDto.omit_when_none,
        "approved_by",
        "approved_at",
        "rejection_reason",
        "rejected_at",
        "cancelled_by",
        "cancelled_at",
        "cancel_reason",
        "closed_by",
        "closed_at",
    )

    vendor_address = fields.String(allow_none=True)
    ceiling_amount = Money(allow_none=True)
    urgency_justification = fields.String(allow_none=True)
    line_items = fields.List(fields.Nested(LineItemDto))
    files = fields.List(fields.Nested(FileBriefDto))
    approval_history = fields.List(fields.Nested(ApprovalDto), attribute="approvals")
    approved_by = fields.Nested(UserRef, allow_none=True)
    approved_at = Stamp()
    rejection_reason = fields.String(allow_none=True)
    rejected_at = Stamp()
    cancelled_by = fields.Nested(UserRef, allow_none=True)
    cancelled_at = Stamp()
    cancel_reason = fields.String(allow_none=True)
    closed_by = fields.Nested(UserRef, allow_none=True)
    closed_at = Stamp()

    class Meta:
        exclude = ("line_items_count",)


class TransitionDto(Dto):
    """What a transition answers: the P/O's id, number and new status, and what the transition set."""

    id = fields.Integer()
    po_number = fields.String()
    status = fields.String()
    total_amount = Money()
    created_at = Stamp()
    submitted_at = Stamp()
    approver = fields.Function(lambda order: UserRefWithRole().dump(order.approvals[-1].approver))
    approved_at = Stamp()
    approved_by = fields.Nested(UserRef)
    rejection_reason = fields.String()
    rejected_at = Stamp()
    cancelled_at = Stamp()
    cancelled_by = fields.Nested(UserRef)
    cancel_reason = fields.String(allow_none=True)
    closed_at = Stamp()
    closed_by = fields.Nested(UserRef)


def _outcome(*members: str) -> TransitionDto:
    return TransitionDto(only=("id", "po_number", "status", *members))


CREATED = _outcome("total_amount", "created_at")
SUBMITTED = _outcome("submitted_at", "approver")
APPROVED = _outcome("approved_at", "approved_by")
REJECTED = _outcome("rejection_reason", "rejected_at")
CANCELLED = _outcome("cancelled_at", "cancelled_by", "cancel_reason")
CLOSED = _outcome("closed_at", "closed_by")


class AttachmentDto(Dto):
    id = fields.Integer()
    original_filename = fields.String()
    file_size = fields.Integer()
    mime_type = fields.String()
    virus_scan_status = fields.String()
    uploaded_by = fields.Nested(UserRef)
    uploaded_at = Stamp()


class UploadedDto(AttachmentDto):
    stored_filename = fields.String()


# Reference data and the audit trail ----------------------------------------------------------


class ProjectDto(Dto):
    """A project with what approved P/Os commit against its budget (a `WithSpending`)."""

    id = fields.String(attribute="item.id")
    name = fields.String(attribute="item.name")
    status = fields.String(attribute="item.status")
    budget = Money(attribute="item.budget")
    spent = Money()
    remaining = Money()
    start_date = Day(attribute="item.start_date", allow_none=True)
    end_date = Day(attribute="item.end_date", allow_none=True)


class CostCodeDto(Dto):
    """A cost code with what approved P/Os commit against its budget (a `WithSpending`)."""

    id = fields.String(attribute="item.id")
    code = fields.String(attribute="item.code")
    description = fields.String(attribute="item.description")
    category = fields.String(attribute="item.category")
    budget = Money(attribute="item.budget")
    spent = Money()
    remaining = Money()
    active = fields.Boolean(attribute="item.active")


class VendorDto(Dto):
    id = fields.String()
    name = fields.String()
    contact_info = fields.Function(
        lambda vendor: {"email": vendor.email, "phone": vendor.phone, "address": vendor.address}
    )
    payment_terms = fields.String(allow_none=True)
    active = fields.Boolean()


class AuditEntryDto(Dto):
    id = fields.Integer()
    entity_type = fields.String()
    entity_id = fields.String()
    action = fields.String()
    user = fields.Function(lambda entry: {"id": entry.actor_id, "name": entry.actor_name, "role": entry.actor_role})
    old_values = fields.Raw(allow_none=True)
    new_values = fields.Raw(allow_none=True)
    ip_address = fields.String()
    created_at = Stamp()


users = UserDto(many=True)
profile = ProfileDto()
authenticated_user = AuthenticatedUserDto()
purchase_order_summaries = PurchaseOrderSummaryDto(many=True)
purchase_order_detail = PurchaseOrderDto()
attachments = AttachmentDto(many=True)
uploaded = UploadedDto()
projects = ProjectDto(many=True)
cost_codes = CostCodeDto(many=True)
vendors = VendorDto(many=True)
audit_entries = AuditEntryDto(many=True)


def purchase_order(order: PurchaseOrder, files: Sequence[Attachment]) -> dict[str, Any]:
    body: dict[str, Any] = purchase_order_detail.dump(WithFiles(order, files))
    return body
