"""Queries of the IDL tables; the only place that speaks SQL for this API."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import lazyload

from core.repository import Repository
from models.idl.tables import (
    Attachment,
    CostCode,
    LineItem,
    Project,
    PurchaseOrder,
    TaxCode,
    User,
    UserProject,
    Vendor,
)
from models.shared.paging import page_of, within_days
from models.shared.search import contains

SPENDING_STATUSES = ("approved", "closed")


@dataclass(frozen=True)
class UserFilter:
    role: str | None = None
    active: bool | None = None
    search: str | None = None


@dataclass(frozen=True)
class PurchaseOrderFilter:
    status: str | None = None
    type: str | None = None
    project_id: str | None = None
    created_by: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    search: str | None = None


class UserRepository(Repository):
    def get(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def by_email(self, email: str) -> User | None:
        return self.session.scalar(select(User).where(User.email == email.strip().lower()))

    def page(self, where: UserFilter, page: int, limit: int) -> tuple[Sequence[User], int]:
        conditions: list[Any] = []
        if where.role:
            conditions.append(User.role == where.role)
        if where.active is not None:
            conditions.append(User.active.is_(where.active))
        if where.search:
            conditions.append(or_(contains(User.name, where.search), contains(User.email, where.search)))
        return page_of(self.session, User, conditions, (User.name, User.id), page, limit)

    def add(self, user: User) -> User:
        self.session.add(user)
        self.session.flush()
        return user

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(User)) or 0

    def approvers_covering(self, project_id: str, amount: Decimal, excluded: Collection[int]) -> Sequence[User]:
        """Active users on the project whose limit covers `amount`, lowest limit (then id) first."""
        return self.session.scalars(
            select(User)
            .join(UserProject, UserProject.user_id == User.id)
            .where(
                UserProject.project_id == project_id,
                User.active.is_(True),
                User.authorization_limit >= amount,
                User.id.not_in(excluded),
            )
            .order_by(User.authorization_limit, User.id)
        ).all()


class ReferenceRepository(Repository):
    """Projects and cost codes (JobCost), vendors (Timberline) and tax codes."""

    def project(self, project_id: str) -> Project | None:
        return self.session.get(Project, project_id)

    def existing_project_ids(self, project_ids: Collection[str]) -> set[str]:
        return set(self.session.scalars(select(Project.id).where(Project.id.in_(project_ids))))

    def projects(self, project_ids: Collection[str] | None, status: str, search: str | None) -> Sequence[Project]:
        conditions: list[Any] = [Project.status == status]
        if project_ids is not None:
            conditions.append(Project.id.in_(project_ids))
        if search:
            conditions.append(or_(contains(Project.name, search), contains(Project.id, search)))
        return self.session.scalars(select(Project).where(*conditions).order_by(Project.id)).all()

    def cost_code(self, project_id: str, cost_code_id: str) -> CostCode | None:
        return self.session.get(CostCode, (project_id, cost_code_id))

    def cost_codes(self, project_id: str) -> Sequence[CostCode]:
        return self.session.scalars(
            select(CostCode).where(CostCode.project_id == project_id).order_by(CostCode.code, CostCode.id)
        ).all()

    def vendors(self, active: bool | None, search: str | None) -> Sequence[Vendor]:
        conditions: list[Any] = []
        if active is not None:
            conditions.append(Vendor.active.is_(active))
        if search:
            conditions.append(contains(Vendor.name, search))
        return self.session.scalars(select(Vendor).where(*conditions).order_by(Vendor.name, Vendor.id)).all()

    def tax_rates(self, codes: Collection[str]) -> dict[str, Decimal]:
        rows = self.session.execute(select(TaxCode.code, TaxCode.rate).where(TaxCode.code.in_(codes)))
        return {code: rate for code, rate in rows.all()}  # noqa: C416 - rows, not pairs, to mypy

    def spending(self, *group: Any, project_id: str | None = None) -> dict[Any, Decimal]:
        """What approved (or since closed) P/Os commit, summed by `group` (one or more columns)."""
        conditions: list[Any] = [PurchaseOrder.status.in_(SPENDING_STATUSES), PurchaseOrder.deleted_at.is_(None)]
        if project_id is not None:
            conditions.append(PurchaseOrder.project_id == project_id)
        rows = self.session.execute(
            select(*group, func.sum(PurchaseOrder.total_amount)).where(*conditions).group_by(*group)
        )
        return {row[0] if len(group) == 1 else tuple(row[:-1]): Decimal(row[-1] or 0) for row in rows}

    def merge(self, record: Any) -> None:
        """Insert `record`, or update the row with its primary key."""
        self.session.merge(record)
        self.session.flush()

    def next_po_sequence(self, project_id: str) -> int:
        """The project's next P/O sequence number. UPDATE … RETURNING holds the row's lock until the
        transaction ends, so concurrent creations on one project queue up and never share a number."""
        sequence: int = self.session.execute(
            update(Project)
            .where(Project.id == project_id)
            .values(last_po_sequence=Project.last_po_sequence + 1)
            .returning(Project.last_po_sequence)
            .execution_options(synchronize_session=False)
        ).scalar_one()
        return sequence


class PurchaseOrderRepository(Repository):
    def get(self, order_id: int) -> PurchaseOrder | None:
        return self.session.get(PurchaseOrder, order_id)

    def page(
        self, where: PurchaseOrderFilter, project_ids: Collection[str] | None, page: int, limit: int
    ) -> tuple[Sequence[PurchaseOrder], int]:
        """Live P/Os matching `where` on `project_ids` (every project when None), newest first."""
        conditions: list[Any] = [PurchaseOrder.deleted_at.is_(None)]
        if project_ids is not None:
            conditions.append(PurchaseOrder.project_id.in_(project_ids))
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
        return page_of(self.session, PurchaseOrder, conditions, newest_first, page, limit)

    def add(self, order: PurchaseOrder) -> PurchaseOrder:
        self.session.add(order)
        self.session.flush()
        return order

    def flush(self) -> None:
        self.session.flush()


class AttachmentRepository(Repository):
    def get(self, file_id: int) -> Attachment | None:
        return self.session.get(Attachment, file_id)

    def of(self, order_id: int) -> Sequence[Attachment]:
        return self.session.scalars(
            select(Attachment)
            .where(Attachment.purchase_order_id == order_id)
            .order_by(Attachment.uploaded_at, Attachment.id)
        ).all()

    def add(self, attachment: Attachment) -> Attachment:
        self.session.add(attachment)
        self.session.flush()
        return attachment

    def remove(self, attachment: Attachment) -> None:
        self.session.delete(attachment)

    def for_scan(self, file_id: int) -> Attachment | None:
        """A claimed file, without its uploader (the scan does not need it)."""
        return self.session.scalar(
            select(Attachment).options(lazyload(Attachment.uploaded_by)).where(Attachment.id == file_id)
        )
