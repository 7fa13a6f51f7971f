"""Keeping predictions current: after each import, the items it touched are forecast again.

An item's series runs to the period of the organization's latest order (of any item), so an
item not ordered lately counts those periods as zero demand, and every item's forecast
starts at the same period.

The worker's outbox relay hands every `import.completed` event to `Forecaster.after_import`,
in the transaction that marks the event handled; it replaces each touched item's
predictions with a fresh forecast of its whole history (models/mihwar/forecasting.py), so
handling an event twice gives the same predictions.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.columns import utcnow
from core.unit_of_work import UnitOfWork
from models.mihwar import forecasting
from models.mihwar.repositories import OrderHistory, Predictions
from models.mihwar.settings import MihwarSettings


def forecast_period(import_period_kinds: Iterable[str]) -> str:
    """Weeks, or months when any of the item's history was imported by month (a period is
    never split into smaller ones it was not recorded in)."""
    return forecasting.MONTH if "MONTH" in set(import_period_kinds) else forecasting.WEEK


class Forecaster:
    def __init__(self, unit: UnitOfWork, settings: MihwarSettings) -> None:
        self.history = OrderHistory(unit)
        self.predictions = Predictions(unit)
        self.settings = settings

    def recompute(self, item_id: str) -> int:
        """Replace the item's predictions with a forecast of its history; how many were made."""
        organization = self.history.organization_of(item_id)
        orders = self.history.orders_of(item_id)
        if organization is None or not orders:
            self.predictions.replace(item_id, [])
            return 0
        kind = forecast_period(self.history.period_kinds_of(item_id))
        until = self.history.latest_order_date(organization) or max(day for day, _ in orders)
        _, series = forecasting.demand_series(orders, kind, until=until)
        last = forecasting.period_start(until, kind)
        result = forecasting.forecast(series, self.settings.forecast_horizon)
        generated_at = utcnow()
        periods = forecasting.future_periods(last, kind, self.settings.forecast_horizon)
        self.predictions.replace(
            item_id,
            [
                {
                    "organization_id": organization,
                    "period_kind": kind,
                    "period_start": start,
                    "period_end": end,
                    "predicted_qty": round(step.quantity, 4),
                    "lower_bound": None if step.lower is None else round(step.lower, 4),
                    "upper_bound": None if step.upper is None else round(step.upper, 4),
                    "method": result.method,
                    "horizon": step.horizon,
                    "generated_at": generated_at,
                }
                for step, (start, end) in zip(result.steps, periods, strict=True)
            ],
        )
        return len(result.steps)

    def after_import(self, import_batch_id: str) -> int:
        """Forecast again every item an import touched; how many items that was."""
        items = self.history.items_of_batch(import_batch_id)
        for item_id in items:
            self.recompute(item_id)
        return len(items)
