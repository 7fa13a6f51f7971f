"""The events Mihwar sends to webhook subscribers, written to the outbox with their cause.

Each domain service publishes its events through `publish`, in the unit of work that makes
the change: the event commits exactly when the change does, and a change that rolls back
sends nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.columns import rfc3339
from core.outbox import Outbox
from core.unit_of_work import UnitOfWork

API_NAME = "mihwar"

ORDER_CREATED = "order.created"
ORDER_STATUS_CHANGED = "order.status_changed"
ORDER_FULFILLED = "order.fulfilled"
CHECKLIST_COMPLETED = "checklist.completed"
CHECKLIST_MISSED = "checklist.missed"
LOW_STOCK = "inventory.low_stock"
STOCKOUT = "inventory.stockout"
STOCKOUT_RESOLVED = "inventory.stockout.resolved"
IMPORT_COMPLETED = "import.completed"

EVENT_TYPES = (
    ORDER_CREATED,
    ORDER_STATUS_CHANGED,
    ORDER_FULFILLED,
    CHECKLIST_COMPLETED,
    CHECKLIST_MISSED,
    LOW_STOCK,
    STOCKOUT,
    STOCKOUT_RESOLVED,
    IMPORT_COMPLETED,
)


def moment(value: datetime | None) -> str | None:
    """A timestamp as the spec's examples write them: UTC, milliseconds, `Z`."""
    if value is None:
        return None
    return rfc3339(value, "milliseconds")


def publish(unit: UnitOfWork, kind: str, payload: Mapping[str, Any], *, organization_id: str, key: str) -> None:
    """Record one of the organization's events, to be sent once (and only if) `unit` commits."""
    Outbox(unit, API_NAME).publish(kind, payload, key=key, tenant=organization_id)
