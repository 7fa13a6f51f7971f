"""Checklists: instances completed by a user, or missed once their due time passes.

`checklist.completed` when an instance is completed; `checklist.missed` from the worker's
job that finds open instances past their due time (`missed_job`), each in the transaction
that marks it missed, so it is sent once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from core.columns import utcnow
from core.jobs import Job, JobContext
from core.problems import Conflict, NotFound
from core.unit_of_work import UnitOfWork
from models.mihwar.events import CHECKLIST_COMPLETED, CHECKLIST_MISSED, moment, publish
from models.mihwar.tables import COMPLETED, MISSED, OPEN, ChecklistInstance, ChecklistTemplate

BATCH = 100


class Checklists:
    def __init__(self, unit: UnitOfWork) -> None:
        self.unit = unit

    def schedule(self, organization_id: str, title: str, due_at: datetime | None) -> ChecklistInstance:
        """An open instance of the organization's checklist `title` (the template made if new)."""
        session = self.unit.session
        template = session.scalar(
            select(ChecklistTemplate).where(
                ChecklistTemplate.organization_id == organization_id, ChecklistTemplate.title == title
            )
        )
        if template is None:
            template = ChecklistTemplate(organization_id=organization_id, title=title)
            session.add(template)
            session.flush()
        instance = ChecklistInstance(organization_id=organization_id, template_id=template.id, due_at=due_at)
        session.add(instance)
        session.flush()
        return instance

    def complete(self, organization_id: str, instance_id: str, user_id: str | None) -> ChecklistInstance:
        instance, template = self._locked(organization_id, instance_id)
        if instance.status != OPEN:
            raise Conflict(f"The checklist is {instance.status.lower()} already.")
        instance.status, instance.completed_at, instance.completed_by_user_id = COMPLETED, utcnow(), user_id
        payload = {
            **_identity(instance, template),
            "completedAt": moment(instance.completed_at),
            "completedByUserId": user_id,
        }
        publish(self.unit, CHECKLIST_COMPLETED, payload, organization_id=organization_id, key=instance.id)
        return instance

    def mark_missed(self, limit: int = BATCH) -> int:
        """Mark open instances past their due time missed, each sending `checklist.missed`."""
        session = self.unit.session
        overdue = session.scalars(
            select(ChecklistInstance)
            .where(ChecklistInstance.status == OPEN, ChecklistInstance.due_at < utcnow())
            .order_by(ChecklistInstance.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for instance in overdue:
            template = session.get(ChecklistTemplate, instance.template_id)
            assert template is not None
            instance.status = MISSED
            payload = _identity(instance, template)
            publish(self.unit, CHECKLIST_MISSED, payload, organization_id=instance.organization_id, key=instance.id)
        return len(overdue)

    def _locked(self, organization_id: str, instance_id: str) -> tuple[ChecklistInstance, ChecklistTemplate]:
        instance = self.unit.session.scalar(
            select(ChecklistInstance)
            .where(ChecklistInstance.organization_id == organization_id, ChecklistInstance.id == instance_id)
            .with_for_update()
        )
        if instance is None:
            raise NotFound(f"No checklist {instance_id!r}.")
        template = self.unit.session.get(ChecklistTemplate, instance.template_id)
        assert template is not None
        return instance, template


def _identity(instance: ChecklistInstance, template: ChecklistTemplate) -> dict[str, object]:
    return {
        "checklistInstanceId": instance.id,
        "templateId": template.id,
        "templateTitle": template.title,
        "dueDate": moment(instance.due_at),
    }


def missed_job(interval: float = 60.0) -> Job:
    """The worker job that finds overdue checklists (SKIP LOCKED: many workers share it)."""

    def run(context: JobContext) -> int:
        with context.unit() as unit:
            if unit.connection.dialect.name == "sqlite":
                unit.connection.exec_driver_sql("BEGIN IMMEDIATE")
            marked = Checklists(unit).mark_missed()
            unit.commit()
        return marked

    return Job("mihwar-missed-checklists", run, interval=interval)
