"""The forecasting methods against values worked out by hand."""

from __future__ import annotations

import math
from datetime import date

import pytest

from models.mihwar import forecasting
from models.mihwar.forecasting import (
    average_demand_interval,
    croston_rate,
    demand_series,
    forecast,
    future_periods,
    period_start,
    smoothed_level,
)


def test_simple_exponential_smoothing_by_hand() -> None:
    # alpha 0.3, level from the first value:
    #   10 -> 10 + 0.3 * (12 - 10) = 10.6 -> 10.6 + 0.3 * (8 - 10.6) = 9.82 -> 9.82 + 0.3 * (11 - 9.82) = 10.174
    # one-step errors 2, -2.6, 1.18: RMS = sqrt((4 + 6.76 + 1.3924) / 3) = sqrt(4.0508)
    level, sigma = smoothed_level([10, 12, 8, 11])

    assert level == pytest.approx(10.174)
    assert sigma == pytest.approx(math.sqrt(4.0508))


def test_ses_bounds_widen_with_the_horizon_by_hand() -> None:
    result = forecast([10, 12, 8, 11], 2)

    sigma = math.sqrt(4.0508)  # 2.012660...
    assert result.method == "SES"
    first, second = result.steps
    assert first.quantity == second.quantity == pytest.approx(10.174)
    # h = 1: +/- 1.96 sigma = 3.944813...; h = 2: +/- 1.96 sigma sqrt(1 + 0.09) = 4.118506...
    assert first.lower == pytest.approx(10.174 - 1.96 * sigma)
    assert first.upper == pytest.approx(10.174 + 1.96 * sigma)
    assert first.lower == pytest.approx(6.229187, abs=1e-6)
    assert second.upper == pytest.approx(10.174 + 1.96 * sigma * math.sqrt(1.09))
    assert second.upper == pytest.approx(14.292506, abs=1e-6)


def test_a_single_period_forecasts_itself_without_bounds() -> None:
    (step,) = forecast([7], 1).steps

    assert (step.quantity, step.lower, step.upper) == (7, None, None)


def test_bounds_never_go_below_zero() -> None:
    lower = forecast([1, 9, 1, 9, 1], 1).steps[0].lower

    assert lower == 0.0


def test_crostons_method_by_hand() -> None:
    # alpha 0.1. Demand 3 in period 2 starts size 3, interval 2. Demand 5 three periods later:
    # size 3 + 0.1 (5 - 3) = 3.2, interval 2 + 0.1 (3 - 2) = 2.1. Demand 4 two periods later:
    # size 3.2 + 0.1 (4 - 3.2) = 3.28, interval 2.1 + 0.1 (2 - 2.1) = 2.09. Rate 3.28 / 2.09.
    assert croston_rate([0, 3, 0, 0, 5, 0, 4]) == pytest.approx(3.28 / 2.09)
    assert croston_rate([0, 3, 0, 0, 5, 0, 4]) == pytest.approx(1.5693780, abs=1e-7)


def test_intermittent_demand_is_forecast_with_croston() -> None:
    series = [3, 0, 0, 5, 0, 4]  # ADI 6 / 3 = 2 > 1.32

    result = forecast(series, 3)

    assert average_demand_interval(series) == 2
    assert result.method == "CROSTON"
    assert [step.quantity for step in result.steps] == [pytest.approx(croston_rate(series))] * 3
    assert all(step.lower is None and step.upper is None for step in result.steps)


def test_the_cut_off_between_the_methods_is_syntetos_boylan() -> None:
    assert average_demand_interval([1, 1, 1, 0]) == pytest.approx(4 / 3)  # just above 1.32
    assert forecast([1, 1, 1, 0], 1).method == "CROSTON"
    assert forecast([1, 1, 1, 1, 1, 1, 0], 1).method == "SES"  # 7 / 6 = 1.17


@pytest.mark.parametrize(
    ("day", "kind", "start"),
    [
        (date(2026, 3, 15), "WEEK", date(2026, 3, 9)),  # a Sunday belongs to the week from Monday
        (date(2026, 3, 9), "WEEK", date(2026, 3, 9)),
        (date(2026, 3, 15), "MONTH", date(2026, 3, 1)),
    ],
)
def test_periods_start_on_monday_or_the_first(day: date, kind: str, start: date) -> None:
    assert period_start(day, kind) == start


def test_future_periods_roll_over_the_year() -> None:
    assert future_periods(date(2026, 11, 1), forecasting.MONTH, 3) == [
        (date(2026, 12, 1), date(2026, 12, 31)),
        (date(2027, 1, 1), date(2027, 1, 31)),
        (date(2027, 2, 1), date(2027, 2, 28)),
    ]


def test_the_series_sums_per_period_and_fills_gaps_with_zero() -> None:
    orders = [(date(2026, 3, 2), 2.0), (date(2026, 3, 4), 3.0), (date(2026, 3, 18), 1.0)]

    assert demand_series(orders, "WEEK") == (date(2026, 3, 2), [5.0, 0.0, 1.0])
    assert demand_series(orders, "WEEK", until=date(2026, 3, 31)) == (date(2026, 3, 2), [5.0, 0.0, 1.0, 0.0, 0.0])
