"""CPRAS forgets webhook deliveries after 30 days and hand-offs once they cannot be returned
from, and keeps everything younger."""

from __future__ import annotations

import uuid
from datetime import timedelta

from core.columns import utcnow
from core.config import Settings
from core.database import Database
from core.jobs import JobContext
from core.unit_of_work import UnitOfWork
from models.cpras.handoffs import Handoffs
from models.cpras.retention import purge
from models.cpras.tables import Handoff, WebhookEventRow


def test_old_deliveries_and_hand_offs_go_and_young_ones_stay(cpras_db: Database, database: Settings) -> None:
    old, young = f"evt_old_{uuid.uuid4().hex}", f"evt_young_{uuid.uuid4().hex}"
    with UnitOfWork(cpras_db, database) as unit:
        for event_id, age in ((old, timedelta(days=31)), (young, timedelta(days=29))):
            unit.session.add(
                WebhookEventRow(event_id=event_id, received_at=utcnow() - age, outcome="ignored", body={"id": event_id})
            )
        handoffs = Handoffs(unit)
        stale = handoffs.start("buyer", "wdc.buyer", "s", "c", "proj_wdc_2025", "lot_1").handoff_id
        fresh = handoffs.start("buyer", "wdc.buyer", "s", "c", "proj_wdc_2025", "lot_1").handoff_id
        unit.session.get(Handoff, stale).created_at = utcnow() - timedelta(days=2)  # type: ignore[union-attr]
        unit.commit()
    assert purge(JobContext(cpras_db, database), timedelta(hours=2)) >= 2
    with UnitOfWork(cpras_db, database) as unit:
        assert unit.session.get(WebhookEventRow, old) is None
        assert unit.session.get(WebhookEventRow, young) is not None
        assert unit.session.get(Handoff, stale) is None
        assert unit.session.get(Handoff, fresh) is not None
