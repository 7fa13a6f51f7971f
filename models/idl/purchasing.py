"""Purchase orders in draft: creation, replacement, soft deletion, and what a user may see.

Amounts are computed here from the lines and the tax-code table, never taken from input.
P/O numbers are `<job number>-PO-<nnn>`, sequential per project: the project row's counter
is incremented with UPDATE … RETURNING, which holds the row lock until the transaction ends,
so concurrent creations on one project queue up and never share a number (and a creation
that fails gives its number back when it rolls back).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, or_, select, update

from core.problems import Forbidden, NotFound, Unprocessable
from core.unit_of_work import UnitOfWork
from models.idl.accounts import REALM, Principal
from models.idl.money import MAX_AMOUNT, LineAmounts, cents, price_line, to_decimal, total_of
from models.idl.roles import PO_CREATE
from models.idl.tables import CostCode, LineItem, Project, PurchaseOrder, TaxCode
from models.shared.audit import AuditTrail
from models.shared.paging import page_of, within_days
from models.shared.search import contains
from models.shared.tables import utcnow

DRAFT = "draft"


@dataclass(frozen=True)
class PurchaseOrderFilter:
    status: str | None = None
    type: str | None = None
    project_id: str | None = None
    created_by: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    search: str | None = None


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
        self.unit = unit
        self.audit = AuditTrail(unit, REALM)

    # Reading -------------------------------------------------------------------------------

    def visible(self, principal: Principal, order_id: int) -> PurchaseOrder:
        """The P/O if it exists, is not deleted and is on one of the caller's projects; else 404."""
        order = self.unit.session.get(PurchaseOrder, order_id)
        if order is None or order.deleted_at is not None or not principal.works_on(order.project_id):
            raise NotFound(f"Purchase order {order_id} was not found")
        return order

    def page(
        self, principal: Principal, where: PurchaseOrderFilter, page: int, limit: int
    ) -> tuple[Sequence[PurchaseOrder], int]:
        conditions: list[Any] = [PurchaseOrder.deleted_at.is_(None)]
        if not principal.is_admin:
            conditions.append(PurchaseOrder.project_id.in_(principal.user.project_ids))
        if where.status:
            conditions.append(PurchaseOrder.status == where.status)
        if where.type:
            conditions.append(PurchaseOrder.type == where.type)
        if where.project_id:
            conditions.append(PurchaseOrder.project_id == where.project_id)
        if where.created_by is not None:
            conditions.append(PurchaseOrder.created_by_id == where.created_by)
        conditions.extend(within_days(PurchaseOrder.created_at, where.date_from, where.date_to))
        if where.search:
            in_lines = exists().where(
                LineItem.purchase_order_id == PurchaseOrder.id, contains(LineItem.description, where.search)
            )
            conditions.append(
                or_(
                    contains(PurchaseOrder.po_number, where.search),
                    contains(PurchaseOrder.vendor_name, where.search),
                    in_lines,
                )
            )
        newest_first = (PurchaseOrder.created_at.desc(), PurchaseOrder.id.desc())
        return page_of(self.unit.session, PurchaseOrder, conditions, newest_first, page, limit)

    # Writing -------------------------------------------------------------------------------

    def create(self, principal: Principal, body: Mapping[str, Any]) -> PurchaseOrder:
        self._may_write_to(principal, body["project_id"])
        project = self._checked_reference(body)
        order = PurchaseOrder(status=DRAFT, created_by=principal.user)
        self._fill(order, body)
        order.po_number = self._next_number(project)
        self.unit.session.add(order)
        self.unit.session.flush()
        self.audit.record(principal.actor, "purchase_order", order.id, "created", None, audited_values(order))
        return order

    def replace(self, principal: Principal, order_id: int, body: Mapping[str, Any]) -> PurchaseOrder:
        order = self.visible(principal, order_id)
        self._may_change_draft(principal, order, "edit")
        self._may_write_to(principal, body["project_id"])
        project = self._checked_reference(body)
        before = audited_values(order)
        moved = order.project_id != project.id
        order.line_items.clear()
        self.unit.session.flush()
        self._fill(order, body)
        if moved:
            order.po_number = self._next_number(project)
        order.updated_at = utcnow()
        self.unit.session.flush()
        self.audit.record(principal.actor, "purchase_order", order.id, "updated", before, audited_values(order))
        return order

    def delete(self, principal: Principal, order_id: int) -> None:
        order = self.visible(principal, order_id)
        self._may_change_draft(principal, order, "delete")
        before = audited_values(order)
        order.deleted_at = order.updated_at = utcnow()
        self.audit.record(principal.actor, "purchase_order", order.id, "deleted", before, None)

    # Rules ---------------------------------------------------------------------------------

    @staticmethod
    def _may_write_to(principal: Principal, project_id: str) -> None:
        if not principal.holds(PO_CREATE):
            raise Forbidden("Creating or editing purchase orders needs the po:create permission")
        if not principal.works_on(project_id):
            raise Forbidden(f"You are not assigned to project {project_id}")

    @staticmethod
    def _may_change_draft(principal: Principal, order: PurchaseOrder, verb: str) -> None:
        if not principal.holds(PO_CREATE) or order.created_by_id != principal.id:
            raise Forbidden(f"Only the purchase order's creator, holding po:create, may {verb} it")
        if order.status != DRAFT:
            raise Forbidden(
                f"Cannot {verb} a purchase order that is not in draft status", extensions={"status": order.status}
            )

    def _checked_reference(self, body: Mapping[str, Any]) -> Project:
        """The project, after checking the business rules on project, cost code and tax codes."""
        session = self.unit.session
        project_id, cost_code_id = body["project_id"], body["cost_code"]
        project = session.get(Project, project_id)
        if project is None or project.status != "active":
            raise _unprocessable("project_id", f"Project {project_id} is not an active project")
        cost_code = session.get(CostCode, (project_id, cost_code_id))
        if cost_code is None or not cost_code.active:
            raise _unprocessable(
                "cost_code", f"Cost code {cost_code_id} is not an active cost code of project {project_id}"
            )
        return project

    def _fill(self, order: PurchaseOrder, body: Mapping[str, Any]) -> None:
        rates = self._tax_rates({line["tax_code"] for line in body["line_items"]})
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

    def _tax_rates(self, codes: set[str]) -> dict[str, Decimal]:
        rows = self.unit.session.execute(select(TaxCode.code, TaxCode.rate).where(TaxCode.code.in_(codes)))
        return {code: rate for code, rate in rows.all()}  # noqa: C416 - rows, not pairs, to mypy

    def _next_number(self, project: Project) -> str:
        sequence = self.unit.session.execute(
            update(Project)
            .where(Project.id == project.id)
            .values(last_po_sequence=Project.last_po_sequence + 1)
            .returning(Project.last_po_sequence)
            .execution_options(synchronize_session=False)
        ).scalar_one()
        return f"{project.job_number}-PO-{sequence:03d}"


def _unprocessable(field: str, message: str) -> Unprocessable:
    return Unprocessable(message, errors={field: [message]})
