"""The predictive floor's load-following rule (`llama_infra.scaling.floor_follow`)."""

from __future__ import annotations

import math

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
