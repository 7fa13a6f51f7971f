"""The events SCP sends to an integration's webhooks, written to the outbox with their cause.

Each is published in the unit of work that makes the change, so it is sent exactly when the
change commits. An event's outbox `tenant` is its integration: webhooks subscribe to one
integration's events, so that is whose subscribers get it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.outbox import Outbox
from core.unit_of_work import UnitOfWork
from models.scp.lifecycle import ACTIVE

API_NAME = "scp"
CONTRACT_ACTIVATED, CONTRACT_ARCHIVED = "contract.activated", "contract.archived"
EXCHANGE_COMPLETED, EXCHANGE_FAILED = "exchange.completed", "exchange.failed"


def integration_event(status: str) -> str:
    """The event of an integration entering `status`: `integration.activated` for `active`."""
    return "integration.activated" if status == ACTIVE else f"integration.{status}"


def publish(
    unit: UnitOfWork, kind: str, integration_id: str, payload: Mapping[str, Any], at: datetime | None = None
) -> None:
    """Record one of an integration's events, sent once (and only if) `unit` commits; `at` is
    when it happened (the change's own time, so that what happened together stays together)."""
    body = {"integration_id": integration_id, **payload}
    Outbox(unit, API_NAME).publish(kind, body, key=integration_id, tenant=integration_id, occurred_at=at)
