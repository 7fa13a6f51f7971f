"""Demand forecasting: simple exponential smoothing, and Croston's method for intermittent demand.

Pure functions over a series of demand per period, so each is checked against values
worked out by hand (tests/unit/test_forecasting.py). The choice between the two methods is
the Syntetos-Boylan rule: demand whose average interval between periods with demand
(ADI) exceeds 1.32 is intermittent, and exponential smoothing would chase its zeros.

* Simple exponential smoothing (Brown): the level starts at the first period and moves
  `alpha` of the way to each new observation; the forecast for every future period is the
  last level. Its 95% interval is +/- 1.96 * sigma * sqrt(1 + (h - 1) * alpha^2) at `h` periods ahead (the
  variance of SES as the ARIMA(0,1,1) model it is equivalent to), sigma being the root mean
  square of the one-step-ahead errors, and no lower than 0.
* Croston (1972): the sizes of non-zero demands and the intervals between them are smoothed
  separately, each with `alpha`, starting from the first demand and its interval; the
  forecast per period is size over interval. The method gives no interval.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

SES = "SES"
CROSTON = "CROSTON"
SES_ALPHA = 0.3
CROSTON_ALPHA = 0.1
ADI_CUT_OFF = 1.32
Z_95 = 1.96

WEEK = "WEEK"
MONTH = "MONTH"


@dataclass(frozen=True)
class Step:
    """The forecast for one future period, `horizon` periods after the last observed one."""

    horizon: int
    quantity: float
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class Forecast:
    method: str
    steps: tuple[Step, ...]


def average_demand_interval(series: Sequence[float]) -> float:
    """Periods per period with demand (1.0 when every period has some; infinite when none does)."""
    demands = sum(1 for value in series if value > 0)
    return len(series) / demands if demands else math.inf


def smoothed_level(series: Sequence[float], alpha: float = SES_ALPHA) -> tuple[float, float | None]:
    """The last level of simple exponential smoothing, and the RMS of its one-step-ahead errors
    (None with a single observation, which has no error to measure)."""
    level = series[0]
    squared_errors = 0.0
    for value in series[1:]:
        error = value - level
        squared_errors += error * error
        level += alpha * error
    sigma = math.sqrt(squared_errors / (len(series) - 1)) if len(series) > 1 else None
    return level, sigma


def croston_rate(series: Sequence[float], alpha: float = CROSTON_ALPHA) -> float:
    """Croston's demand per period: the smoothed demand size over the smoothed interval."""
    size: float | None = None
    interval = 0.0
    since_last = 1  # periods since the previous demand, counting the current one
    for value in series:
        if value > 0:
            if size is None:
                size, interval = value, float(since_last)
            else:
                size += alpha * (value - size)
                interval += alpha * (since_last - interval)
            since_last = 1
        else:
            since_last += 1
    return size / interval if size is not None else 0.0


def forecast(series: Sequence[float], horizon: int) -> Forecast:
    """Forecast the next `horizon` periods of `series` with the method its intermittency calls for."""
    if not series:
        raise ValueError("a forecast needs at least one period of history")
    if average_demand_interval(series) > ADI_CUT_OFF:
        rate = croston_rate(series)
        return Forecast(CROSTON, tuple(Step(h, rate, None, None) for h in range(1, horizon + 1)))
    level, sigma = smoothed_level(series)
    steps = []
    for h in range(1, horizon + 1):
        if sigma is None:
            steps.append(Step(h, max(level, 0.0), None, None))
            continue
        half_width = Z_95 * sigma * math.sqrt(1 + (h - 1) * SES_ALPHA**2)
        steps.append(Step(h, max(level, 0.0), max(level - half_width, 0.0), max(level + half_width, 0.0)))
    return Forecast(SES, tuple(steps))


# Periods -----------------------------------------------------------------------------------


def period_start(day: date, kind: str) -> date:
    """The first day of the period (a Monday-to-Sunday week, or a month) that `day` falls in."""
    if kind == MONTH:
        return day.replace(day=1)
    return day - timedelta(days=day.weekday())


def next_period(start: date, kind: str) -> date:
    if kind == MONTH:
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start + timedelta(days=7)


def period_end(start: date, kind: str) -> date:
    """The last day (inclusive) of the period starting on `start`."""
    return next_period(start, kind) - timedelta(days=1)


def demand_series(
    orders: Iterable[tuple[date, float]], kind: str, *, until: date | None = None
) -> tuple[date, list[float]]:
    """Quantities summed per period, from the first period with orders to the latest (or to
    the period of `until`, if later), with 0 for periods without; and the first period's start."""
    totals: dict[date, float] = {}
    for day, quantity in orders:
        start = period_start(day, kind)
        totals[start] = totals.get(start, 0.0) + quantity
    if not totals:
        raise ValueError("no orders to build a series from")
    first, last = min(totals), max(totals)
    if until is not None:
        last = max(last, period_start(until, kind))
    series, start = [], first
    while start <= last:
        series.append(totals.get(start, 0.0))
        start = next_period(start, kind)
    return first, series


def future_periods(last_start: date, kind: str, horizon: int) -> list[tuple[date, date]]:
    """The `horizon` periods after the one starting on `last_start`, as (first day, last day)."""
    periods, start = [], last_start
    for _ in range(horizon):
        start = next_period(start, kind)
        periods.append((start, period_end(start, kind)))
    return periods
