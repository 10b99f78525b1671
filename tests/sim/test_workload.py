"""Workloads: the shared trace, bad traces with clear errors, windows, seeded synthesis."""

from pathlib import Path

import numpy as np
import pytest

from llama_infra.sim.workload import (
    TraceError,
    build_workload,
    load_rate_profile,
    load_trace,
    parse_window,
    synthesize,
)

DATA = Path("tests/data/traces")


def test_shared_trace_loads_every_request():
    w = load_trace()
    assert len(w) == 8819  # README: 8,819 requests over ~57 min
    assert 55 * 60 < w.duration_s < 58 * 60
    assert np.all(np.diff(w.arrival_s) >= 0)
    assert w.start.isoformat().startswith("2023-11-16T18:17:03")


@pytest.mark.parametrize(
    "name, line, column, problem",
    [
        ("missing-column.csv", 1, "GeneratedTokens", "missing column GeneratedTokens"),
        ("unsorted.csv", 4, "TIMESTAMP", "timestamps are not sorted"),
        ("negative-tokens.csv", 3, "GeneratedTokens", "negative token count -3"),
        ("bad-timestamp.csv", 3, "TIMESTAMP", "'yesterday' is not a timestamp"),
    ],
)
def test_bad_traces_name_file_line_and_column(name, line, column, problem):
    with pytest.raises(TraceError) as e:
        load_trace(DATA / name)
    msg = str(e.value)
    assert msg.startswith(f"{DATA / name}, line {line}, column {column}: ")
    assert problem in msg


def test_missing_file_is_a_clear_error():
    with pytest.raises(TraceError, match="cannot read the file"):
        load_trace(DATA / "no-such.csv")


def test_window_rebases_and_keeps_only_that_span():
    w = load_trace(DATA / "azure_code_first_10min.csv")
    part = w.window(*parse_window("2m:5m"))
    assert 0 <= part.arrival_s.min() and part.arrival_s.max() < 180
    assert len(part) == int(((w.arrival_s >= 120) & (w.arrival_s < 300)).sum())
    assert parse_window("1d:2d") == (86400, 172800)
    with pytest.raises(ValueError, match="START:END"):
        parse_window("10m")


def test_synthesis_is_seeded_and_follows_the_profile():
    sizes = load_trace(DATA / "azure_code_first_10min.csv")
    profile = load_rate_profile()
    a = synthesize(profile, sizes, peak_rps=2.0, days=1, seed=7)
    b = synthesize(profile, sizes, peak_rps=2.0, days=1, seed=7)
    c = synthesize(profile, sizes, peak_rps=2.0, days=1, seed=8)
    assert np.array_equal(a.arrival_s, b.arrival_s) and np.array_equal(a.prompt_tokens, b.prompt_tokens)
    assert not np.array_equal(a.arrival_s[:100], c.arrival_s[:100])
    # expected count = integral of the scaled rate over the first day
    minutes = profile.minute_offset
    step = np.diff(np.append(minutes, profile.span_minutes))
    day = minutes < 1440
    expected = float(
        (
            profile.requests_per_minute[day]
            / profile.requests_per_minute.max()
            * 2.0
            * 60
            * np.minimum(step[day], 1440 - minutes[day])
        ).sum()
    )
    assert abs(len(a) - expected) < 4 * np.sqrt(expected)
    assert set(np.unique(a.prompt_tokens)) <= set(np.unique(sizes.prompt_tokens))


def test_rate_profile_needs_peak():
    with pytest.raises(ValueError, match="--peak-rps"):
        build_workload(DATA / "azure_code_first_10min.csv", "shared", None)


def test_ramp_requests_are_those_of_hours_whose_arrivals_rise_by_a_share_of_the_busiest():
    """10 requests in hour 0, 100 in hours 1 and 2, 104 in hour 3: hour 1 rises by 90 (≥ 5 % of the busiest hour's
    104), hour 3 by 4 (< 5.2), so only hour 1's requests are in a ramp."""
    import numpy as np

    from llama_infra.sim.workload import RATE_PROFILE_START, Workload, ramp_requests

    counts = [10, 100, 100, 104]
    arrivals = np.concatenate([h * 3600 + np.linspace(0, 3599, c) for h, c in enumerate(counts)])
    n = len(arrivals)
    w = Workload(arrivals, np.full(n, 100, np.int32), np.full(n, 10, np.int32), RATE_PROFILE_START, 4 * 3600.0, "t")
    ramps = ramp_requests(w)
    hours = (arrivals // 3600).astype(int)
    assert ramps.tolist() == (hours == 1).tolist()
