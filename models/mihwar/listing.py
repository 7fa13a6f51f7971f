"""Reading inventory, purchase orders and predictions: one organization's rows, by cursor pages.

Each list's cursor is signed together with its scope (the list, the organization and the
filters), so it cannot be replayed against another tenant or another set of filters.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Row

from core.cursors import CursorCodec, page, timestamp
from core.problems import NotFound, ValidationFailed
from core.unit_of_work import UnitOfWork
from models.mihwar.keys import KeyHolder
from models.mihwar.repositories import InventoryItems, ItemFilter, OrderWithLines, Predictions, PurchaseOrders

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: Sequence[T]
    next_cursor: str | None


def instant(name: str, value: str | None) -> datetime | None:
    """A date-time query parameter, in UTC (one without an offset is read as UTC)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):  # not a date-time, or one whose UTC falls outside years 1-9999
        message = "Must be an RFC 3339 date-time, such as 2026-03-01T00:00:00Z."
        raise ValidationFailed("One or more parameters are invalid.", errors={name: [message]}) from None


def _scope(*parts: Any) -> str:
    return json.dumps([str(part) if isinstance(part, datetime) else part for part in parts], separators=(",", ":"))


class Listing:
    def __init__(self, unit: UnitOfWork, cursors: CursorCodec) -> None:
        self.items = InventoryItems(unit)
        self.orders = PurchaseOrders(unit)
        self.predictions = Predictions(unit)
        self.cursors = cursors

    def _key(self, scope: str, cursor: str | None) -> list[Any] | None:
        if cursor is None:
            return None
        moment, row_id = self.cursors.decode(scope, cursor, length=2)
        return [timestamp(moment), row_id]

    def _page(self, scope: str, rows: Sequence[T], limit: int, key_of: Any) -> Page[T]:
        shown, more = page(rows, limit)
        return Page(shown, self.cursors.encode(scope, key_of(shown[-1])) if more else None)

    def item_page(self, holder: KeyHolder, where: ItemFilter, limit: int, cursor: str | None) -> Page[Row[Any]]:
        scope = _scope("items", holder.organization_id, where.search, where.include_archived, where.updated_after)
        rows = self.items.page(holder.organization_id, where, self._key(scope, cursor), limit)
        return self._page(scope, rows, limit, lambda row: [row.updated_at, row.id])

    def item(self, holder: KeyHolder, item_id: str) -> Row[Any]:
        row = self.items.get(holder.organization_id, item_id)
        if row is None:
            raise NotFound("Item not found.")
        return row

    def order_page(
        self, holder: KeyHolder, status: str | None, created_after: datetime | None, limit: int, cursor: str | None
    ) -> Page[OrderWithLines]:
        scope = _scope("orders", holder.organization_id, status, created_after)
        rows = self.orders.page(holder.organization_id, status, created_after, self._key(scope, cursor), limit)
        found = self._page(scope, rows, limit, lambda row: [row.created_at, row.id])
        return Page(self.orders.with_lines(found.rows), found.next_cursor)

    def order(self, holder: KeyHolder, order_id: str) -> OrderWithLines:
        found = self.orders.get(holder.organization_id, order_id)
        if found is None:
            raise NotFound("Order not found.")
        return found

    def prediction_page(self, holder: KeyHolder, item_id: str | None, limit: int, cursor: str | None) -> Page[Row[Any]]:
        scope = _scope("predictions", holder.organization_id, item_id)
        rows = self.predictions.page(holder.organization_id, item_id, self._key(scope, cursor), limit)
        return self._page(scope, rows, limit, lambda row: [row.generated_at, row.id])
