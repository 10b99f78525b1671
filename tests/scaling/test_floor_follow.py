"""The predictive floor's load-following rule (`llama_infra.scaling.floor_follow`)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llama_infra.scaling.floor_follow import MARGIN, following_floor


def test_a_load_at_half_the_forecast_halves_the_floor_with_the_margin_rounding_up():
    assert following_floor(6, observed_rps=5.0, forecast_rps=10.0) == math.ceil(6 * 0.5 * (1 + MARGIN))  # 4
    assert following_floor(6, observed_rps=5.0, forecast_rps=10.0, margin=0.0) == 3


def test_a_load_at_or_above_the_forecast_keeps_the_scheduled_floor():
    assert following_floor(5, observed_rps=10 / (1 + MARGIN), forecast_rps=10.0) == 5
    assert following_floor(5, observed_rps=40.0, forecast_rps=10.0) == 5  # the autoscaler follows a load above it


def test_without_a_forecast_or_a_floor_nothing_changes():
    assert following_floor(5, observed_rps=0.0, forecast_rps=0.0) == 5
    assert following_floor(0, observed_rps=3.0, forecast_rps=10.0) == 0
    assert following_floor(5, observed_rps=0.0, forecast_rps=10.0) == 0  # no traffic at all: no floor


@given(
    st.integers(0, 50),
    st.floats(0, 1e4, allow_nan=False),
    st.floats(0, 1e4, allow_nan=False),
    st.floats(0, 1, allow_nan=False),
)
def test_the_floor_in_force_is_never_above_the_scheduled_one_and_grows_with_the_load(n, observed, forecast, margin):
    f = following_floor(n, observed, forecast, margin)
    assert 0 <= f <= n
    assert following_floor(n, observed * 1.5 + 0.1, forecast, margin) >= f


# --- with the hour's capacity steps (`slo_targets.FloorHour.carries_rps`) ---------------------------------------


def test_with_capacity_steps_the_floor_is_the_fewest_replicas_that_carry_the_followed_load():
    steps = (3.0, 7.0, 11.5, 15.8)  # what 1–4 replicas carry, in the hour's forecast's terms; 5 is the floor
    # 14 requests/s against a forecast of 16.2: 14 × 1.1 = 15.4, which 4 replicas carry; in proportion ⌈5 × 0.95⌉ = 5
    assert following_floor(5, 14.0, 16.2, carries_rps=steps) == 4
    assert following_floor(5, 14.0, 16.2) == 5
    assert following_floor(5, 15.0, 16.2, carries_rps=steps) == 5  # 16.5 capped at the forecast: more than 4 carry
    assert following_floor(5, 2.0, 16.2, carries_rps=steps) == 1
    assert following_floor(5, 0.0, 16.2, carries_rps=steps) == 0  # no traffic: no floor, as in proportion
    assert following_floor(5, 1.0, 0.0, carries_rps=steps) == 5  # no forecast: the scheduled floor


@given(
    st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=29),
    st.floats(0, 200, allow_nan=False),
    st.floats(0.1, 200, allow_nan=False),
)
def test_with_capacity_steps_the_floor_carries_the_followed_load_and_one_fewer_does_not(raw, observed, forecast):
    steps = tuple(sorted(raw))  # what 1 … n − 1 replicas carry; n, the scheduled floor, carries the forecast
    n = len(steps) + 1
    f = following_floor(n, observed, forecast, carries_rps=steps)
    load = min(forecast, observed * (1 + MARGIN))
    assert 0 <= f <= n
    if load > 1e-6:
        assert f >= 1
        # f carries it (its step holds the load, or f is the scheduled floor), f − 1 does not (to within 1e-6)
        assert f == n or steps[f - 1] >= load - 1e-6
        assert f == 1 or steps[f - 2] < load + 1e-6


def test_the_margin_is_how_far_the_load_to_forecast_ratio_rises_in_nine_half_hours_of_ten():
    """`MARGIN` is a measured fact of the shared week, the trace the default daily shape comes from: the 90th
    percentile of how far the ratio of load to forecast rises from one half hour to the next, over the weekday hours
    the shape puts at half its peak or more (where the floor rises above the minimum). A margin below it lowers the
    floor on more than one half hour in ten that then runs busier; the rest are the autoscaler's."""
    from datetime import datetime, timedelta

    import numpy as np

    from llama_infra.pricing import default_daily_shape
    from llama_infra.scaling.floor_follow import WINDOW_S
    from llama_infra.sim.workload import load_rate_profile

    profile = load_rate_profile()  # the shared week, the default shape's source
    start, shape = datetime(2024, 5, 10), default_daily_shape()  # the week's first row: Friday 00:00 UTC
    rows = [
        (start + timedelta(minutes=float(m)), float(x))
        for m, x in zip(profile.minute_offset, profile.requests_per_minute, strict=True)
    ]
    # the forecast is the shape × the peak: the peak cancels in a ratio of two half hours' ratios
    ratio = [(t, x / shape[t.hour]) for t, x in rows]
    half = timedelta(seconds=WINDOW_S)

    def mean_ratio(after, until):
        values = [r for t, r in ratio if after < t <= until]
        return sum(values) / len(values) if values else None

    rises = []
    for t, _ in rows:
        if t.weekday() < 5 and shape[t.hour] >= 0.5:
            past, coming = mean_ratio(t - half, t), mean_ratio(t, t + half)
            if past and coming:
                rises.append(coming / past - 1)
    assert len(rises) > 300
    assert float(np.quantile(rises, 0.9)) == pytest.approx(MARGIN, abs=0.01)
