"""Stock levels: setting an item's stock, and the events its threshold and zero crossings send.

- `inventory.low_stock` when the stock falls from above the item's low-stock threshold to
  at or below it (an item without a threshold sends none);
- `inventory.stockout` when it falls from above zero to zero or less;
- `inventory.stockout.resolved` when it rises from zero or less to above zero.
One change may send two (a fall past the threshold straight to zero sends both).
"""

from __future__ import annotations

from sqlalchemy import select

from core.columns import utcnow
from core.problems import NotFound
from core.unit_of_work import UnitOfWork
from models.mihwar.events import LOW_STOCK, STOCKOUT, STOCKOUT_RESOLVED, publish
from models.mihwar.tables import InventoryItem


class Stock:
    def __init__(self, unit: UnitOfWork) -> None:
        self.unit = unit

    def item(self, organization_id: str, sku: str) -> InventoryItem:
        item = self.unit.session.scalar(
            select(InventoryItem)
            .where(InventoryItem.organization_id == organization_id, InventoryItem.sku == sku)
            .with_for_update()
        )
        if item is None:
            raise NotFound(f"No item with SKU {sku!r}.")
        return item

    def set_level(self, organization_id: str, sku: str, level: float, source: str = "inventory_patch") -> InventoryItem:
        """Set the item's stock to `level` (held locked meanwhile), sending what it crossed."""
        item = self.item(organization_id, sku)
        previous, item.current_stock, item.updated_at = item.current_stock, float(level), utcnow()
        self._announce(item, previous, source)
        return item

    def adjust(self, organization_id: str, sku: str, delta: float, source: str = "inventory_patch") -> InventoryItem:
        """Add `delta` (negative to take away) to the item's stock."""
        item = self.item(organization_id, sku)
        return self.set_level(organization_id, sku, item.current_stock + delta, source)

    def _announce(self, item: InventoryItem, previous: float, source: str) -> None:
        after, threshold = item.current_stock, item.low_stock_threshold
        organization, key = item.organization_id, item.id
        if threshold is not None and previous > threshold >= after:
            payload = {"itemId": item.id, "itemName": item.name, "sku": item.sku, "currentStock": after}
            publish(self.unit, LOW_STOCK, payload, organization_id=organization, key=key)
        change = {"itemId": item.id, "previousStock": previous, "nextStock": after, "source": source}
        if previous > 0 >= after:
            publish(self.unit, STOCKOUT, change, organization_id=organization, key=key)
        elif previous <= 0 < after:
            publish(self.unit, STOCKOUT_RESOLVED, change, organization_id=organization, key=key)
