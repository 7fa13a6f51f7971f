"""Queries of the Mihwar tables; the only place that speaks SQL for this API.

Every query names the organization: a row of another tenant is never read, so it answers
exactly as a row that does not exist. Lists are keyset pages in the order of an index
(core.cursors), fetched one row longer than asked to know whether another page follows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from core.columns import utcnow
from core.cursors import after
from core.repository import Repository
from core.webhooks.tables import WebhookAttempt, WebhookDelivery
from models.mihwar.tables import (
    ApiKey,
    ImportBatch,
    InventoryItem,
    OrderHistoryLine,
    Organization,
    Prediction,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
    WebhookSubscription,
    new_id,
)

_KEYS = cast(Table, ApiKey.__table__)
_KEY_BY_HASH = (
    select(_KEYS.c.id, _KEYS.c.organization_id, _KEYS.c.revoked_at, _KEYS.c.last_used_at, Organization.api_access)
    .join_from(_KEYS, Organization, Organization.id == _KEYS.c.organization_id)
    .where(_KEYS.c.secret_hash == bindparam("secret_hash"))
)
_ITEMS = cast(Table, InventoryItem.__table__)
_HISTORY = cast(Table, OrderHistoryLine.__table__)
_ORDERS = cast(Table, PurchaseOrder.__table__)
_LINES = cast(Table, PurchaseOrderLine.__table__)
_PREDICTIONS = cast(Table, Prediction.__table__)
_SUPPLIERS = cast(Table, Supplier.__table__)


class Organizations(Repository):
    def by_slug(self, slug: str) -> Organization | None:
        return self.session.scalar(select(Organization).where(Organization.slug == slug))

    def add(self, organization: Organization) -> Organization:
        self.session.add(organization)
        self.session.flush()
        return organization


class ApiKeys(Repository):
    def add(self, key: ApiKey) -> ApiKey:
        self.session.add(key)
        self.session.flush()
        return key

    def by_hash(self, secret_hash: str) -> Row[Any] | None:
        """The key with this hash and its organization's API access, in one query (through
        Core: every integrations request makes it)."""
        return self.connection.execute(_KEY_BY_HASH, {"secret_hash": secret_hash}).first()

    def by_id(self, key_id: str) -> ApiKey | None:
        return self.session.get(ApiKey, key_id)

    def of(self, organization_id: str) -> Sequence[ApiKey]:
        return self.session.scalars(
            select(ApiKey).where(ApiKey.organization_id == organization_id).order_by(ApiKey.created_at, ApiKey.id)
        ).all()

    def touch(self, key_id: str, moment: datetime) -> None:
        self.connection.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=moment))


@dataclass(frozen=True)
class ItemFilter:
    search: str | None = None
    include_archived: bool = False
    updated_after: datetime | None = None


class InventoryItems(Repository):
    def ids_by_sku(self, organization_id: str, skus: Collection[str]) -> dict[str, str]:
        """The ids of the organization's items with these SKUs, by SKU (archived ones too)."""
        if not skus:
            return {}
        rows = self.connection.execute(
            select(_ITEMS.c.sku, _ITEMS.c.id).where(_ITEMS.c.organization_id == organization_id, _ITEMS.c.sku.in_(skus))
        )
        return {row.sku: row.id for row in rows}

    def create_missing(self, organization_id: str, names: Mapping[str, str]) -> dict[str, str]:
        """Create an item for each SKU (name by SKU) that does not exist yet; the ids of those
        created here, by SKU. One a concurrent request creates first is left to it."""
        if not names:
            return {}
        now = utcnow()
        rows = [
            {
                "id": new_id("item"),
                "organization_id": organization_id,
                "sku": sku,
                "name": name,
                "current_stock": 0.0,
                "archived": False,
                "created_at": now,
                "updated_at": now,
            }
            # In SKU order, so that two imports creating the same SKUs lock them in one order (no deadlock).
            for sku, name in sorted(names.items())
        ]
        upsert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        statement = (
            upsert(_ITEMS)
            .on_conflict_do_nothing(index_elements=[_ITEMS.c.organization_id, _ITEMS.c.sku])
            .returning(_ITEMS.c.sku, _ITEMS.c.id)
        )
        created: dict[str, str] = {}
        for start in range(0, len(rows), 500):
            created.update({row.sku: row.id for row in self.connection.execute(statement, rows[start : start + 500])})
        return created

    def get(self, organization_id: str, item_id: str) -> Row[Any] | None:
        return self.connection.execute(
            select(_ITEMS).where(_ITEMS.c.organization_id == organization_id, _ITEMS.c.id == item_id)
        ).first()

    def page(
        self, organization_id: str, where: ItemFilter, key: Sequence[Any] | None, limit: int
    ) -> Sequence[Row[Any]]:
        """Items by `updated_at`, then `id`, after `key` (the last row of the previous page)."""
        conditions = [_ITEMS.c.organization_id == organization_id]
        if not where.include_archived:
            conditions.append(_ITEMS.c.archived.is_(False))
        if where.updated_after is not None:
            conditions.append(_ITEMS.c.updated_at > where.updated_after)
        if where.search:
            pattern = "%" + _escape_like(where.search.lower()) + "%"
            conditions.append(
                or_(
                    func.lower(_ITEMS.c.name).like(pattern, escape="\\"),
                    func.lower(_ITEMS.c.sku).like(pattern, escape="\\"),
                )
            )
        order = (_ITEMS.c.updated_at, _ITEMS.c.id)
        if key is not None:
            conditions.append(after(order, key))
        return self.connection.execute(select(_ITEMS).where(*conditions).order_by(*order).limit(limit + 1)).all()


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_ORDER_COLUMNS = (*_ORDERS.c, _SUPPLIERS.c.name.label("supplier_name"))
_LINE_COLUMNS = (*_LINES.c, _ITEMS.c.sku, _ITEMS.c.name.label("item_name"))


@dataclass(frozen=True)
class OrderWithLines:
    order: Row[Any]
    lines: Sequence[Row[Any]]


class PurchaseOrders(Repository):
    def get(self, organization_id: str, order_id: str) -> OrderWithLines | None:
        order = self.connection.execute(
            self._orders().where(_ORDERS.c.organization_id == organization_id, _ORDERS.c.id == order_id)
        ).first()
        return None if order is None else self.with_lines([order])[0]

    def page(
        self,
        organization_id: str,
        status: str | None,
        created_after: datetime | None,
        key: Sequence[Any] | None,
        limit: int,
    ) -> Sequence[Row[Any]]:
        """Orders by `created_at`, then `id`, after `key` (their lines: `with_lines`)."""
        conditions = [_ORDERS.c.organization_id == organization_id]
        if status is not None:
            conditions.append(_ORDERS.c.status == status)
        if created_after is not None:
            conditions.append(_ORDERS.c.created_at > created_after)
        order = (_ORDERS.c.created_at, _ORDERS.c.id)
        if key is not None:
            conditions.append(after(order, key))
        return self.connection.execute(self._orders().where(*conditions).order_by(*order).limit(limit + 1)).all()

    @staticmethod
    def _orders() -> Any:
        return select(*_ORDER_COLUMNS).select_from(
            _ORDERS.outerjoin(_SUPPLIERS, _SUPPLIERS.c.id == _ORDERS.c.supplier_id)
        )

    def with_lines(self, orders: Sequence[Row[Any]]) -> list[OrderWithLines]:
        """Each order with its lines, read in one query."""
        if not orders:
            return []
        lines: dict[str, list[Row[Any]]] = {order.id: [] for order in orders}
        for line in self.connection.execute(
            select(*_LINE_COLUMNS)
            .select_from(_LINES.join(_ITEMS, _ITEMS.c.id == _LINES.c.item_id))
            .where(_LINES.c.order_id.in_(list(lines)))
            .order_by(_LINES.c.order_id, _LINES.c.id)
        ):
            lines[line.order_id].append(line)
        return [OrderWithLines(order, lines[order.id]) for order in orders]


HISTORY_COLUMNS = ("organization_id", "item_id", "import_batch_id", "order_date", "ordered_qty", "delivered_qty")
_COPY_HISTORY = f"COPY {_HISTORY.name} ({', '.join(HISTORY_COLUMNS)}) FROM STDIN"
_PREDICTION_COLUMNS = (*_PREDICTIONS.c, _ITEMS.c.sku, _ITEMS.c.name.label("item_name"))


class Predictions(Repository):
    def page(
        self, organization_id: str, item_id: str | None, key: Sequence[Any] | None, limit: int
    ) -> Sequence[Row[Any]]:
        """Predictions newest first (`generated_at`, then `id`, descending), before `key`."""
        conditions = [_PREDICTIONS.c.organization_id == organization_id]
        if item_id is not None:
            conditions.append(_PREDICTIONS.c.item_id == item_id)
        order = (_PREDICTIONS.c.generated_at, _PREDICTIONS.c.id)
        if key is not None:
            conditions.append(after(order, key, descending=True))
        return self.connection.execute(
            select(*_PREDICTION_COLUMNS)
            .select_from(_PREDICTIONS.join(_ITEMS, _ITEMS.c.id == _PREDICTIONS.c.item_id))
            .where(*conditions)
            .order_by(*(column.desc() for column in order))
            .limit(limit + 1)
        ).all()

    def replace(self, item_id: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Replace an item's predictions with `rows`, holding the item's row meanwhile, so that
        two workers recomputing one item replace each other's predictions, not add to them."""
        lock = select(_ITEMS.c.id).where(_ITEMS.c.id == item_id)
        if self.dialect == "postgresql":
            self.connection.execute(lock.with_for_update())
        self.connection.execute(delete(_PREDICTIONS).where(_PREDICTIONS.c.item_id == item_id))
        values = [{"id": new_id("pred"), "item_id": item_id, **row} for row in rows]
        if values:
            self.connection.execute(insert(_PREDICTIONS), values)


class OrderHistory(Repository):
    def add_batch(self, batch: ImportBatch) -> ImportBatch:
        self.session.add(batch)
        self.session.flush()
        return batch

    def insert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert rows of history (values in the order of `HISTORY_COLUMNS`) as one batch: a
        COPY on PostgreSQL (the fastest way in), an executemany elsewhere."""
        if self.dialect != "postgresql":
            self.connection.execute(insert(_HISTORY), [dict(zip(HISTORY_COLUMNS, row, strict=True)) for row in rows])
            return
        cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy(_COPY_HISTORY) as copy:
            for row in rows:
                copy.write_row(row)

    def items_of_batch(self, batch_id: str) -> list[str]:
        return list(self.connection.scalar(select(ImportBatch.item_ids).where(ImportBatch.id == batch_id)) or [])

    def orders_of(self, item_id: str) -> list[tuple[date, float]]:
        """An item's history: each line's day and ordered quantity."""
        rows = self.connection.execute(
            select(_HISTORY.c.order_date, func.sum(_HISTORY.c.ordered_qty))
            .where(_HISTORY.c.item_id == item_id)
            .group_by(_HISTORY.c.order_date)
        )
        return [(day, float(quantity)) for day, quantity in rows]

    def period_kinds_of(self, item_id: str) -> set[str]:
        """The `periodKind`s of the imports that brought an item's history."""
        batches = select(_HISTORY.c.import_batch_id).where(_HISTORY.c.item_id == item_id).distinct()
        return set(
            self.connection.scalars(select(ImportBatch.period_kind).where(ImportBatch.id.in_(batches)).distinct())
        )

    def organization_of(self, item_id: str) -> str | None:
        return self.connection.scalar(select(_ITEMS.c.organization_id).where(_ITEMS.c.id == item_id))

    def latest_order_date(self, organization_id: str) -> date | None:
        """The latest day of the organization's whole order history (read from its import batches)."""
        return self.connection.scalar(
            select(func.max(ImportBatch.latest_order_date)).where(ImportBatch.organization_id == organization_id)
        )


_SUBSCRIPTIONS = cast(Table, WebhookSubscription.__table__)
_DELIVERIES = cast(Table, WebhookDelivery.__table__)
_ATTEMPTS = cast(Table, WebhookAttempt.__table__)


class Subscriptions(Repository):
    def add(self, subscription: WebhookSubscription) -> WebhookSubscription:
        self.session.add(subscription)
        self.session.flush()
        return subscription

    def count(self, organization_id: str) -> int:
        """How many subscriptions the organization has; its row stays locked until the unit
        ends, so that two creations at once cannot both pass a limit."""
        self.session.execute(select(Organization.id).where(Organization.id == organization_id).with_for_update())
        counted = self.session.scalar(
            select(func.count()).where(WebhookSubscription.organization_id == organization_id)
        )
        return counted or 0

    def of(self, organization_id: str) -> Sequence[WebhookSubscription]:
        return self.session.scalars(
            select(WebhookSubscription)
            .where(WebhookSubscription.organization_id == organization_id)
            .order_by(WebhookSubscription.created_at.desc(), WebhookSubscription.id.desc())
        ).all()

    def get(self, organization_id: str, subscription_id: str) -> WebhookSubscription | None:
        return self.session.scalar(
            select(WebhookSubscription).where(
                WebhookSubscription.organization_id == organization_id, WebhookSubscription.id == subscription_id
            )
        )

    def remove(self, subscription: WebhookSubscription) -> None:
        self.session.delete(subscription)
        self.session.flush()

    def active_for(self, organization_id: str) -> Sequence[Any]:
        """The organization's active subscriptions: where its events go."""
        return self.connection.execute(
            select(_SUBSCRIPTIONS.c.id, _SUBSCRIPTIONS.c.url, _SUBSCRIPTIONS.c.secret, _SUBSCRIPTIONS.c.events).where(
                _SUBSCRIPTIONS.c.organization_id == organization_id, _SUBSCRIPTIONS.c.active.is_(True)
            )
        ).all()

    def active(self, subscription_id: str) -> Any:
        return self.connection.execute(
            select(_SUBSCRIPTIONS.c.id, _SUBSCRIPTIONS.c.url, _SUBSCRIPTIONS.c.secret).where(
                _SUBSCRIPTIONS.c.id == subscription_id, _SUBSCRIPTIONS.c.active.is_(True)
            )
        ).first()

    def disable(self, subscription_id: str, reason: str) -> None:
        self.connection.execute(
            update(_SUBSCRIPTIONS)
            .where(_SUBSCRIPTIONS.c.id == subscription_id)
            .values(active=False, disabled_reason=reason)
        )

    def attempts(self, subscription_id: str, key: Sequence[Any] | None, limit: int) -> Sequence[Any]:
        """A subscription's delivery attempts, newest first, after `key` (attempted_at, id)."""
        order = (_ATTEMPTS.c.attempted_at, _ATTEMPTS.c.id)
        conditions = [_DELIVERIES.c.api == "mihwar", _DELIVERIES.c.subscription_id == subscription_id]
        if key is not None:
            conditions.append(after(order, key, descending=True))
        return self.connection.execute(
            select(
                *_ATTEMPTS.c,
                _DELIVERIES.c.event_id,
                _DELIVERIES.c.event_type,
                _DELIVERIES.c.status.label("delivery_status"),
            )
            .select_from(_ATTEMPTS.join(_DELIVERIES, _DELIVERIES.c.id == _ATTEMPTS.c.delivery_id))
            .where(*conditions)
            .order_by(*(column.desc() for column in order))
            .limit(limit + 1)
        ).all()
