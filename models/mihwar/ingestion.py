"""Ingesting order history: the rules of `ingestOrderLines` that its schema cannot state.

Lines are matched to inventory items by SKU; unknown SKUs are skipped and reported, or
created first when the request asks for it; lines whose date cannot be read are skipped
and counted. What is left is inserted in chunks of `chunk_size` rows, one multi-row INSERT
each, under one import batch; the request's unit of work makes all of it, and the
`import.completed` event, one transaction: all or nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from core.ops.metrics import count_records
from core.problems import PayloadTooLarge
from core.unit_of_work import UnitOfWork
from models.mihwar.events import API_NAME, IMPORT_COMPLETED, publish
from models.mihwar.keys import KeyHolder
from models.mihwar.repositories import InventoryItems, OrderHistory
from models.mihwar.settings import MihwarSettings
from models.mihwar.tables import ImportBatch

MAX_LINES = 5000  # per request, as the source document says
YEARS = range(1900, 2101)  # an order date outside them is a typing error, not history to forecast


def read_order_date(text: Any) -> date | None:
    """The calendar day of `YYYY-MM-DD` or an ISO-8601 date-time (the day it names in its own
    offset), from 1900 to 2100; None otherwise."""
    day = _calendar_day(text)
    return day if day is not None and day.year in YEARS else None


def _calendar_day(text: Any) -> date | None:
    if not isinstance(text, str):
        return None
    text = text.strip()
    try:
        if len(text) == 10 and text[4] == "-" and text[7] == "-":  # YYYY-MM-DD (ASCII digits only)
            return date.fromisoformat(text)
        if len(text) > 10 and text[10] in "Tt ":
            return datetime.fromisoformat(text).date()
    except ValueError:
        return None
    return None


def at_most_max_lines(body: Any) -> None:
    """Answer 413 for more than `MAX_LINES` lines: checked before the schema, whose `maxItems`
    alone would answer 400."""
    lines = body.get("lines") if isinstance(body, dict) else None
    if isinstance(lines, list) and len(lines) > MAX_LINES:
        message = f"At most {MAX_LINES} lines per request; split the import into several requests."
        raise PayloadTooLarge(message, errors={"lines": [message]})


@dataclass(frozen=True)
class IngestionResult:
    inserted: int
    import_batch_id: str
    auto_created_items: int
    skipped_unknown_sku: int
    missing_skus: list[str]
    skipped_bad_date: int
    batched_inserts: int


class Ingestion:
    def __init__(self, unit: UnitOfWork, settings: MihwarSettings) -> None:
        self.unit = unit
        self.settings = settings
        self.items = InventoryItems(unit)
        self.history = OrderHistory(unit)

    def ingest(self, holder: KeyHolder, body: Mapping[str, Any]) -> IngestionResult:
        """Insert the lines of one request under a new import batch, and announce it."""
        organization = holder.organization_id
        dated: list[tuple[Mapping[str, Any], date]] = []
        bad_dates = 0
        days: dict[str, date | None] = {}  # an export has many lines per day: read each text once
        for line in body["lines"]:
            text = line["orderDate"]
            day = days[text] if text in days else days.setdefault(text, read_order_date(text))
            if day is None:
                bad_dates += 1
            else:
                dated.append((line, day))

        names: dict[str, str] = {}
        for line, _ in dated:
            names.setdefault(line["sku"], line.get("itemName") or line["sku"])
        item_ids = self.items.ids_by_sku(organization, names)
        missing = [sku for sku in names if sku not in item_ids]
        created: dict[str, str] = {}
        if missing and body.get("autoCreateItems", False):
            created = self.items.create_missing(organization, {sku: names[sku] for sku in missing})
            item_ids.update(created)
            if len(item_ids) < len(names):  # created meanwhile by a concurrent request
                item_ids.update(self.items.ids_by_sku(organization, [sku for sku in names if sku not in item_ids]))
            missing = []

        kept = [(line, day) for line, day in dated if line["sku"] in item_ids]
        batch = self.history.add_batch(
            ImportBatch(
                organization_id=organization,
                api_key_id=holder.key_id,
                period_kind=body.get("periodKind", "CUSTOM"),
                external_source_id=body.get("externalSourceId"),
                inserted=len(kept),
                auto_created_items=len(created),
                skipped_unknown_sku=len(dated) - len(kept),
                skipped_bad_date=bad_dates,
                latest_order_date=max((day for _, day in kept), default=None),
                item_ids=sorted({item_ids[line["sku"]] for line, _ in kept}),
            )
        )
        chunks = self._insert(organization, batch.id, kept, item_ids)
        result = IngestionResult(
            inserted=len(kept),
            import_batch_id=batch.id,
            auto_created_items=len(created),
            skipped_unknown_sku=len(dated) - len(kept),
            missing_skus=missing,
            skipped_bad_date=bad_dates,
            batched_inserts=chunks,
        )
        count_records(self.unit, API_NAME, "order-history", len(kept))
        publish(
            self.unit, IMPORT_COMPLETED, completed_payload(result, batch), organization_id=organization, key=batch.id
        )
        return result

    def _insert(
        self,
        organization: str,
        batch_id: str,
        lines: Sequence[tuple[Mapping[str, Any], date]],
        item_ids: Mapping[str, str],
    ) -> int:
        size = self.settings.chunk_size
        chunks = 0
        for start in range(0, len(lines), size):
            self.history.insert(
                [
                    (
                        organization,
                        item_ids[line["sku"]],
                        batch_id,
                        day,
                        line["orderedQty"],
                        line.get("deliveredQty", line["orderedQty"]),
                    )
                    for line, day in lines[start : start + size]
                ]
            )
            chunks += 1
        return chunks


def completed_payload(result: IngestionResult, batch: ImportBatch) -> dict[str, Any]:
    """The payload of `import.completed` (the spec's `ImportCompletedPayload`)."""
    return {
        "importBatchId": result.import_batch_id,
        "externalSourceId": batch.external_source_id,
        "inserted": result.inserted,
        "autoCreatedItems": result.auto_created_items,
        "skippedUnknownSku": result.skipped_unknown_sku,
        "skippedBadDate": result.skipped_bad_date,
    }
