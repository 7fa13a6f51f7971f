"""Purchase orders in draft: creation, replacement, soft deletion, and what a user may see.

Amounts are computed here from the lines and the tax-code table, never taken from input.
P/O numbers are `<job number>-PO-<nnn>`, sequential per project, from the project row's
counter (ReferenceRepository.next_po_sequence): concurrent creations on one project queue
on its row lock and never share a number, and a creation that fails gives its number back
when it rolls back. Permissions the spec declares (`x-permissions`) are enforced before
these services are called (core.security); the rules here are those the spec cannot state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from core.columns import utcnow
from core.problems import Forbidden, NotFound, Unprocessable
from core.unit_of_work import UnitOfWork
from models.idl.accounts import REALM, Caller
from models.idl.money import MAX_AMOUNT, LineAmounts, cents, price_line, to_decimal, total_of
from models.idl.repositories import PurchaseOrderFilter, PurchaseOrderRepository, ReferenceRepository
from models.idl.tables import LineItem, Project, PurchaseOrder
from models.shared.audit import AuditTrail

DRAFT = "draft"


def audited_values(order: PurchaseOrder) -> dict[str, Any]:
    """The fields of a P/O that the audit trail records before and after a change."""
    return {
        "po_number": order.po_number,
        "type": order.type,
        "status": order.status,
        "project_id": order.project_id,
        "cost_code": order.cost_code,
        "vendor_name": order.vendor_name,
        "subtotal": order.subtotal,
        "tax_amount": order.tax_amount,
        "total_amount": order.total_amount,
        "ceiling_amount": order.ceiling_amount,
        "line_items_count": len(order.line_items),
    }


class PurchaseOrders:
    def __init__(self, unit: UnitOfWork) -> None:
        self.orders = PurchaseOrderRepository(unit)
        self.reference = ReferenceRepository(unit)
        self.audit = AuditTrail(unit, REALM)

    # Reading -------------------------------------------------------------------------------

    def visible(self, principal: Caller, order_id: int) -> PurchaseOrder:
        """The P/O if it exists, is not deleted and is on one of the caller's projects; else 404."""
        order = self.orders.get(order_id)
        if order is None or order.deleted_at is not None or not principal.works_on(order.project_id):
            raise NotFound(f"Purchase order {order_id} was not found")
        return order

    def page(
        self, principal: Caller, where: PurchaseOrderFilter, page: int, limit: int
    ) -> tuple[Sequence[PurchaseOrder], int]:
        projects = None if principal.is_admin else principal.project_ids
        return self.orders.page(where, projects, page, limit)

    # Writing -------------------------------------------------------------------------------

    def create(self, principal: Caller, body: Mapping[str, Any]) -> PurchaseOrder:
        self._may_write_to(principal, body["project_id"])
        project = self._checked_reference(body)
        order = PurchaseOrder(status=DRAFT, created_by_id=principal.id)
        self._fill(order, body)
        order.po_number = self._next_number(project)
        self.orders.add(order)
        self.audit.record(principal.actor, "purchase_order", order.id, "created", None, audited_values(order))
        return order

    def replace(self, principal: Caller, order_id: int, body: Mapping[str, Any]) -> PurchaseOrder:
        order = self.visible(principal, order_id)
        self._may_change_draft(principal, order, "edit")
        self._may_write_to(principal, body["project_id"])
        project = self._checked_reference(body)
        before = audited_values(order)
        moved = order.project_id != project.id
        order.line_items.clear()
        self.orders.flush()
        self._fill(order, body)
        if moved:
            order.po_number = self._next_number(project)
        order.updated_at = utcnow()
        self.orders.flush()
        self.audit.record(principal.actor, "purchase_order", order.id, "updated", before, audited_values(order))
        return order

    def delete(self, principal: Caller, order_id: int) -> None:
        order = self.visible(principal, order_id)
        self._may_change_draft(principal, order, "delete")
        before = audited_values(order)
        order.deleted_at = order.updated_at = utcnow()
        self.audit.record(principal.actor, "purchase_order", order.id, "deleted", before, None)

    # Rules ---------------------------------------------------------------------------------

    @staticmethod
    def _may_write_to(principal: Caller, project_id: str) -> None:
        if not principal.works_on(project_id):
            raise Forbidden(f"You are not assigned to project {project_id}")

    @staticmethod
    def _may_change_draft(principal: Caller, order: PurchaseOrder, verb: str) -> None:
        if order.created_by_id != principal.id:
            raise Forbidden(f"Only the purchase order's creator may {verb} it")
        if order.status != DRAFT:
            raise Forbidden(
                f"Cannot {verb} a purchase order that is not in draft status", extensions={"status": order.status}
            )

    def _checked_reference(self, body: Mapping[str, Any]) -> Project:
        """The project, after checking the business rules on project, cost code and tax codes."""
        project_id, cost_code_id = body["project_id"], body["cost_code"]
        project = self.reference.project(project_id)
        if project is None or project.status != "active":
            raise _unprocessable("project_id", f"Project {project_id} is not an active project")
        cost_code = self.reference.cost_code(project_id, cost_code_id)
        if cost_code is None or not cost_code.active:
            raise _unprocessable(
                "cost_code", f"Cost code {cost_code_id} is not an active cost code of project {project_id}"
            )
        return project

    def _fill(self, order: PurchaseOrder, body: Mapping[str, Any]) -> None:
        rates = self.reference.tax_rates({line["tax_code"] for line in body["line_items"]})
        lines: list[tuple[Mapping[str, Any], LineAmounts, Decimal]] = []
        for index, line in enumerate(body["line_items"]):
            rate = rates.get(line["tax_code"])
            if rate is None:
                raise _unprocessable(f"line_items[{index}].tax_code", f"Unknown tax code {line['tax_code']}")
            amounts = price_line(to_decimal(line["quantity"]), to_decimal(line["unit_price"]), rate)
            if amounts.quantity <= 0:
                raise _unprocessable(f"line_items[{index}].quantity", "Quantity rounds to 0 at 3 decimal places")
            if amounts.total > MAX_AMOUNT:
                raise _unprocessable(f"line_items[{index}]", f"The line total exceeds {MAX_AMOUNT}")
            lines.append((line, amounts, rate))
        totals = total_of(amounts for _, amounts, _ in lines)
        if totals.total > MAX_AMOUNT:
            raise _unprocessable("line_items", f"The total amount exceeds {MAX_AMOUNT}")
        ceiling = body.get("ceiling_amount")
        ceiling_amount = cents(to_decimal(ceiling)) if ceiling is not None else None
        kind = body["type"]
        justification = body.get("urgency_justification")
        if kind == "rolling" and ceiling_amount is None:
            raise _unprocessable("ceiling_amount", "A rolling purchase order needs a ceiling_amount")
        if kind == "walkup" and not (justification or "").strip():
            raise _unprocessable("urgency_justification", "A walkup purchase order needs an urgency_justification")
        if ceiling_amount is not None and totals.total > ceiling_amount:
            raise _unprocessable(
                "ceiling_amount", f"The total amount {totals.total} exceeds the ceiling amount {ceiling_amount}"
            )
        order.type = kind
        order.project_id = body["project_id"]
        order.cost_code = body["cost_code"]
        for field in ("vendor_name", "vendor_contact_name", "vendor_email", "vendor_phone", "vendor_address"):
            setattr(order, field, body.get(field))
        order.ceiling_amount = ceiling_amount
        order.urgency_justification = justification
        order.subtotal, order.tax_amount, order.total_amount = totals.subtotal, totals.tax, totals.total
        order.line_items.extend(
            LineItem(
                line_number=number,
                description=line["description"],
                quantity=amounts.quantity,
                unit=line["unit"],
                unit_price=amounts.unit_price,
                category=line["category"],
                tax_code=line["tax_code"],
                tax_rate=rate,
                tax_amount=amounts.tax,
                line_total=amounts.total,
            )
            for number, (line, amounts, rate) in enumerate(lines, start=1)
        )

    def _next_number(self, project: Project) -> str:
        return f"{project.job_number}-PO-{self.reference.next_po_sequence(project.id):03d}"


def _unprocessable(field: str, message: str) -> Unprocessable:
    return Unprocessable(message, errors={field: [message]})
