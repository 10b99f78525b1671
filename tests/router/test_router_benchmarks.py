"""The router benchmarks run, small: the overhead benchmark's three paths answer, and under load the router loses no
stream when its primary is killed.

`benchmarks/bench_router_load.py` at a size a test can afford (40 streams, 4 s a phase, time-outs of 1 s): every
stream through the router either completes or ends with an OpenAI error a client can act on; streams started after
the SIGKILL are served by the fallback; the slow senders get 408 and the idle connections are closed.
"""

from __future__ import annotations

from collections import Counter

from benchmarks import bench_router
from benchmarks.bench_router_load import collect

STREAMS = 40


async def test_no_stream_is_lost_through_the_router_when_the_primary_is_killed_under_load():
    result = await collect(STREAMS, 4.0, 5, 0.1, slow=4, idle=10, body_timeout_seconds=1.0, idle_timeout_seconds=1.0)
    direct, through = result["direct"], result["router"]
    assert direct.counts["lost"] == 0, dict(direct.lost_reasons)
    assert through.counts["lost"] == 0, dict(through.lost_reasons)
    assert through.completed_after_kill > 0  # failover: new streams went to the fallback
    # Of the streams started before the kill, only those open on the primary then may end in an error (each with an
    # error event and [DONE]); a stream started after it may reach the dead primary before the router sees it go and
    # get an OpenAI error, but failover serves the rest.
    assert through.counts["errored"] - through.errored_after_kill <= STREAMS
    assert through.errored_after_kill < through.completed_after_kill
    assert result["slow"] == Counter({"408": 4})
    assert result["idle"] == Counter({"closed by router": 10})


async def test_the_overhead_benchmark_measures_every_path_in_both_modes():
    """It had stopped starting: its router flags asked for more admitted requests than connections."""
    measured = await bench_router.collect(0.2, 4, 4, 1)
    assert [mode for mode, _ in measured] == ["non-streaming", "streaming"]
    for _mode, paths in measured:
        assert set(paths) == {"direct", "bare proxy", "router"}
        assert all(rate > 0 for _p50, _p99, rate, _cpu in paths.values())
