"""Simulator memory: peak memory of one run against the length of the trace, side by side in one run.

For the prod spec's own policy on synthetic workloads of 1, 2, 4 and 7 days (the shared coding week's arrival rate
scaled to the stated peak, sizes from the shared code trace), the peak of the memory Python and numpy allocate
while the workload is built and simulated (`tracemalloc`, which numpy reports its arrays to), bytes per request, and
each length's peak relative to the 1-day run's next to its request ratio. Memory linear in the trace shows as
constant bytes per request; the first run's peak also carries one-time caches (the replica model's, the SLO
envelope's), so its ratio column understates the growth's slope. The simulator keeps per-request arrays (arrival,
sizes, TTFT, tokens/s, status) and a per-minute series, nothing that grows faster. Times here run under
`tracemalloc` and are not the simulator's speed (`bench_sim` measures that).

    python -m benchmarks.bench_sim_memory     # or `python -m benchmarks bench_sim_memory`
"""

from __future__ import annotations

import os
import sys
import time
import tracemalloc
from pathlib import Path

SPEC = "stacks/specs/prod.yaml"
DAYS = tuple(float(d) for d in os.environ.get("BENCH_SIM_MEMORY_DAYS", "1,2,4,7").split(","))


def _measure(spec, profile, sizes, days: float) -> tuple[int, int, float]:
    """(requests, peak bytes, wall seconds) of building and simulating `days` of traffic with the spec policy."""
    from llama_infra.sim.engine import Simulation
    from llama_infra.sim.policy_registry import make_policy
    from llama_infra.sim.report import default_assumptions
    from llama_infra.sim.workload import default_step_seconds, synthesize

    tracemalloc.start()
    started = time.perf_counter()
    workload = synthesize(profile, sizes, spec.load.peak_requests_per_second, days, seed=1)
    sim = Simulation(spec, workload, make_policy("spec"), default_assumptions(spec), 1, default_step_seconds(workload))
    sim.run()
    wall = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return len(workload), peak, wall


def run() -> list[dict]:
    from llama_infra.request_sizes import trace_path
    from llama_infra.sim.workload import load_rate_profile, load_trace
    from llama_infra.spec import load_spec

    spec = load_spec(SPEC)
    profile, sizes = load_rate_profile(), load_trace(trace_path(spec))
    rows: list[dict] = []
    first: tuple[int, int] | None = None
    for days in DAYS:
        n, peak, wall = _measure(spec, profile, sizes, days)
        first = first or (n, peak)
        rows.append(
            {
                "benchmark": "sim_memory",
                "case": f"prod spec policy, {days:g} d",
                "requests": n,
                "peak_mb": round(peak / 2**20, 1),
                "bytes_per_request": round(peak / n),
                "requests_ratio": round(n / first[0], 2),
                "peak_ratio": round(peak / first[1], 2),
                "wall_seconds": round(wall, 1),
            }
        )
    return rows


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    rows = run()
    table = Table(title="simulator memory against trace length (linear: constant bytes per request)")
    for col in ("case", "requests", "peak MB", "bytes/request", "requests ×", "peak ×", "wall s"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            r["case"],
            f"{r['requests']:,}",
            f"{r['peak_mb']:,}",
            f"{r['bytes_per_request']:,}",
            f"{r['requests_ratio']}",
            f"{r['peak_ratio']}",
            f"{r['wall_seconds']}",
        )
    Console(width=160).print(table)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
