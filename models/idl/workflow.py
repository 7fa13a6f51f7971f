"""The purchase order workflow: submit, approve, reject, cancel, close.

    draft ──submit──▶ submitted ──approve──▶ approved ──close──▶ closed
      │                   │  └────reject───▶ rejected
      └──────cancel───────┴────────cancel (also from approved)──▶ cancelled

Each transition checks who may make it first (403), then the status it starts from (409),
then its business rules (422), so a caller learns nothing about a P/O's state from a
transition they may not make. The permission each needs (`x-permissions` in the spec) is
checked before the service is called (core.security); the checks here are those that
depend on the P/O. Every transition is written to the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.columns import utcnow
from core.problems import Conflict, Forbidden, Unprocessable
from core.unit_of_work import UnitOfWork
from models.idl.accounts import REALM, Caller
from models.idl.purchasing import DRAFT, PurchaseOrders
from models.idl.repositories import ReferenceRepository, UserRepository
from models.idl.roles import PM, PO_APPROVE, PO_SUBMIT
from models.idl.tables import Approval, PurchaseOrder, User
from models.shared.audit import AuditTrail

SUBMITTED, APPROVED, REJECTED, CANCELLED, CLOSED = (
    "submitted",
    "approved",
    "rejected",
    "cancelled",
    "closed",
)
PENDING = "pending"


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str

    def check_source(self, order: PurchaseOrder) -> None:
        if order.status not in self.sources:
            allowed = " or ".join(self.sources)
            raise Conflict(
                f"Only a {allowed} purchase order can be {self.target}; this one is {order.status}",
                extensions={"status": order.status},
            )


SUBMIT = Transition("submit", (DRAFT,), SUBMITTED)
APPROVE = Transition("approve", (SUBMITTED,), APPROVED)
REJECT = Transition("reject", (SUBMITTED,), REJECTED)
CANCEL = Transition("cancel", (DRAFT, SUBMITTED, APPROVED), CANCELLED)
CLOSE = Transition("close", (APPROVED,), CLOSED)


class Workflow:
    def __init__(self, unit: UnitOfWork) -> None:
        self.orders = PurchaseOrders(unit)
        self.users = UserRepository(unit)
        self.reference = ReferenceRepository(unit)
        self.audit = AuditTrail(unit, REALM)

    def submit(self, principal: Caller, order_id: int) -> PurchaseOrder:
        order = self.orders.visible(principal, order_id)
        SUBMIT.check_source(order)
        self._references_still_active(order)
        approver = self.route(order, principal.id)
        now = utcnow()
        order.status, order.submitted_by_id, order.submitted_at, order.approver_id = (
            SUBMITTED,
            principal.id,
            now,
            approver.id,
        )
        order.approvals.append(Approval(approver=approver, status=PENDING, created_at=now))
        order.updated_at = now
        self._record(principal, order, "submitted", DRAFT, {"approver_id": approver.id, "submitted_by": principal.id})
        return order

    def route(self, order: PurchaseOrder, submitter_id: int) -> User:
        """The approver: active, on the project, holding po:approve, neither creator nor submitter,
        with the lowest authorization limit covering the total (ties: lowest id)."""
        excluded = {order.created_by_id, submitter_id}
        for candidate in self.users.approvers_covering(order.project_id, order.total_amount, excluded):
            if PO_APPROVE in candidate.permissions:
                return candidate
        raise Unprocessable(
            f"No approver on project {order.project_id} has an authorization limit of at least {order.total_amount}"
        )

    def approve(self, principal: Caller, order_id: int, comments: str | None) -> PurchaseOrder:
        order = self.orders.visible(principal, order_id)
        self._may_decide(principal, order)
        if principal.authorization_limit < order.total_amount:
            raise Forbidden(
                f"Your authorization limit {principal.authorization_limit} does not cover {order.total_amount}"
            )
        APPROVE.check_source(order)
        now = utcnow()
        order.status, order.approved_by_id, order.approved_at, order.updated_at = APPROVED, principal.id, now, now
        self._decide(principal, order, APPROVED, comments, now)
        self._record(principal, order, "approved", SUBMITTED, {"comments": comments} if comments else {})
        return order

    def reject(self, principal: Caller, order_id: int, reason: str) -> PurchaseOrder:
        order = self.orders.visible(principal, order_id)
        self._may_decide(principal, order)
        REJECT.check_source(order)
        now = utcnow()
        order.status, order.rejected_by_id, order.rejected_at, order.updated_at = REJECTED, principal.id, now, now
        order.rejection_reason = reason
        self._decide(principal, order, REJECTED, reason, now)
        self._record(principal, order, "rejected", SUBMITTED, {"rejection_reason": reason})
        return order

    def cancel(self, principal: Caller, order_id: int, reason: str | None) -> PurchaseOrder:
        order = self.orders.visible(principal, order_id)
        is_creator = order.created_by_id == principal.id and principal.holds(PO_SUBMIT)
        is_manager = principal.is_admin or (
            principal.role == PM and principal.holds(PO_APPROVE) and principal.works_on(order.project_id)
        )
        if not (is_creator or is_manager):
            raise Forbidden("Only the creator, a project manager of the project or an admin may cancel it")
        CANCEL.check_source(order)
        if order.status == APPROVED and not is_manager:
            raise Forbidden("Only a project manager of the project or an admin may cancel an approved purchase order")
        previous, now = order.status, utcnow()
        for approval in order.approvals:
            if approval.status == PENDING:
                approval.status, approval.decided_at = CANCELLED, now
        order.status, order.cancelled_by_id, order.cancelled_at, order.updated_at = CANCELLED, principal.id, now, now
        order.cancel_reason = reason
        self._record(principal, order, "cancelled", previous, {"cancel_reason": reason} if reason else {})
        return order

    def close(self, principal: Caller, order_id: int, comments: str | None) -> PurchaseOrder:
        order = self.orders.visible(principal, order_id)
        if not (principal.is_admin or principal.works_on(order.project_id)):
            raise Forbidden("Only an approver of the project or an admin may close a purchase order")
        if order.created_by_id == principal.id:
            raise Forbidden("Nobody may close a purchase order they created")
        CLOSE.check_source(order)
        now = utcnow()
        order.status, order.closed_by_id, order.closed_at, order.updated_at = CLOSED, principal.id, now, now
        self._record(principal, order, "closed", APPROVED, {"comments": comments} if comments else {})
        return order

    # Rules ---------------------------------------------------------------------------------

    @staticmethod
    def _may_decide(principal: Caller, order: PurchaseOrder) -> None:
        assigned = order.approver_id == principal.id
        if not (assigned or principal.is_admin):
            raise Forbidden("Only the assigned approver or an admin may decide on this purchase order")
        if principal.id in (order.created_by_id, order.submitted_by_id):
            raise Forbidden("Nobody may approve or reject a purchase order they created or submitted")

    def _references_still_active(self, order: PurchaseOrder) -> None:
        project = self.reference.project(order.project_id)
        if project is None or project.status != "active":
            raise Unprocessable(f"Project {order.project_id} is no longer active")
        cost_code = self.reference.cost_code(order.project_id, order.cost_code)
        if cost_code is None or not cost_code.active:
            raise Unprocessable(f"Cost code {order.cost_code} is no longer active on project {order.project_id}")

    @staticmethod
    def _decide(principal: Caller, order: PurchaseOrder, outcome: str, comments: str | None, now: datetime) -> None:
        """Close the pending request: the assigned approver's, or, when an admin decides in
        their place, withdraw it and record the admin's own decision."""
        pending = next((approval for approval in order.approvals if approval.status == PENDING), None)
        if pending is not None and pending.approver_id == principal.id:
            pending.status, pending.comments, pending.decided_at = outcome, comments, now
            return
        if pending is not None:
            pending.status, pending.decided_at = CANCELLED, now
        order.approvals.append(
            Approval(approver_id=principal.id, status=outcome, comments=comments, decided_at=now, created_at=now)
        )

    def _record(
        self, principal: Caller, order: PurchaseOrder, action: str, previous: str, extra: dict[str, object]
    ) -> None:
        self.audit.record(
            principal.actor,
            "purchase_order",
            order.id,
            action,
            {"status": previous},
            {"po_number": order.po_number, "status": order.status, "total_amount": order.total_amount, **extra},
        )
