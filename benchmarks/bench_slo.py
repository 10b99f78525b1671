"""SLO-driven capacity: the spec's own policy against the peers and the oracle, with the issue's criteria computed.

For prod (SageMaker) and prod-eks (EKS) on the shared week (the Azure 2024 coding week's arrival rate, scaled to the
peak; request sizes from the spec's `load.request_sizes`, by default the shared Azure 2023 code trace) at two peaks
(the spec's stated peak and half of it), every policy's cost and SLO attainment, side by side, then per case:

- `att_vs_best_peer_pt`: spec attainment − the best peer's, in points (criterion: ≥ −0.5);
- `cost_vs_cheapest_peer_ratio`: spec cost ÷ the cheapest peer whose attainment is at least the spec's
  (criterion: ≤ 0.85; none such peer: the spec attains more than every peer, shown as "–");
- `cost_vs_oracle_ratio`: spec cost ÷ the oracle's at equal attainment (criterion: ≤ 1.15). The oracle is run at
  its default epsilon (1 % of the attainable ceiling); when the spec attains less than that, the oracle's frontier
  point at the spec's attainment (`sim.report.oracle_frontier`: its epsilon widened by the difference), so both are
  compared at (nearly) the same attainment — the row says which oracle attainment was used;
- `cold_start_bound_usd`, `peer_criterion_reachable`: the least a policy with the spec's configurations and cold
  starts costs (`oracle-cold-start`, its frontier at the lowest attainment the first criterion allows), and whether
  it leaves room for the second: False says no such policy can cost 0.85 × the cheapest peer at any attainment the
  first criterion allows (`peer_criterion_reachable`);
- `ramp_attainment` for the spec with and without its predictive floor (`spec-without-floor`): attainment of the
  requests that arrive in the hours whose arrivals rise by at least 5 % of the busiest hour's over the hour before
  (`sim.workload.ramp_requests`, as `simulate` reports it).

    python -m benchmarks.bench_slo [OUT_DIR]        # or `python -m benchmarks bench_slo`
    BENCH_SLO_DAYS=1 python -m benchmarks.bench_slo  # a quick run
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SPECS = {"prod": "stacks/specs/prod.yaml", "prod-eks": "stacks/specs/prod-eks.yaml"}
PEERS = ("static-peak", "sagemaker-invocations", "skyserve-qps", "hpa-running")
PEAK_FRACTIONS = (1.0, 0.5)
DAYS = float(os.environ.get("BENCH_SLO_DAYS", "7"))
ATTAINMENT_SLACK = 0.005  # the first criterion: attainment ≥ the best peer's − 0.5 pt
PEER_RATIO = 0.85  # the second: cost ≤ 0.85 × the cheapest peer at ≥ the spec's attainment
OUT_DIR = Path(os.environ.get("BENCH_OUT", "out/bench_slo"))


def run(out_dir: Path | None = None) -> list[dict]:
    from llama_infra.request_sizes import trace_path
    from llama_infra.sim.report import default_assumptions, oracle_frontier, run_policy
    from llama_infra.sim.workload import default_step_seconds, load_rate_profile, load_trace, ramp_requests, synthesize
    from llama_infra.spec import load_spec

    profile = load_rate_profile()
    rows: list[dict] = []
    for label, path in SPECS.items():
        spec = load_spec(path)
        sizes = load_trace(trace_path(spec))  # the spec's size trace, else the shared code trace
        for frac in PEAK_FRACTIONS:
            peak = round(spec.load.peak_requests_per_second * frac, 1)
            workload = synthesize(profile, sizes, peak, DAYS, seed=1)
            case = f"{label} {peak:g} rps {DAYS:g} d"
            dt = default_step_seconds(workload)
            assumptions = default_assumptions(spec)
            results = {
                name: run_policy(spec, workload, name, 1, assumptions, dt)
                for name in (*PEERS, "spec", "spec-without-floor", "oracle", "oracle-cold-start")
            }
            s, no_floor = results["spec"], results["spec-without-floor"]
            # the oracle's frontier point at the spec's own attainment
            oracle = oracle_frontier(spec, workload, results["oracle"], 1, assumptions, dt)(s.slo_attainment)
            for name, r in results.items():
                rows.append(
                    {
                        "benchmark": "slo",
                        "case": f"{case} {name}",
                        "requests": len(workload),
                        "cost_usd": r.total_cost_usd,
                        "slo_attainment": r.slo_attainment,
                        "ttft_p99_ms": r.ttft_p99_ms,
                        "dropped": r.dropped,
                        "replica_hours": round(sum(r.replica_hours.values()), 1),
                    }
                )
            best_peer = max(results[p].slo_attainment for p in PEERS)
            covering = [results[p].total_cost_usd for p in PEERS if results[p].slo_attainment >= s.slo_attainment]
            cheapest = min(covering) if covering else None
            reachable, bound = peer_criterion_reachable(
                {p: results[p] for p in PEERS},
                oracle_frontier(spec, workload, results["oracle-cold-start"], 1, assumptions, dt),
            )
            rows.append(
                {
                    "benchmark": "slo",
                    "case": f"{case} criteria",
                    "requests": len(workload),
                    "att_vs_best_peer_pt": round((s.slo_attainment - best_peer) * 100, 2),
                    "cost_vs_cheapest_peer_ratio": None if cheapest is None else round(s.total_cost_usd / cheapest, 3),
                    "cost_vs_oracle_ratio": round(s.total_cost_usd / oracle.total_cost_usd, 3)
                    if oracle.total_cost_usd
                    else None,
                    "oracle_attainment_compared": oracle.slo_attainment,
                    "oracle_cost_compared_usd": oracle.total_cost_usd,
                    "cold_start_bound_usd": bound.total_cost_usd,
                    "cold_start_bound_attainment": bound.slo_attainment,
                    "peer_criterion_reachable": reachable,
                    "ramp_requests": int(ramp_requests(workload).sum()),
                    "ramp_attainment_with_floor": s.ramp_attainment,
                    "ramp_attainment_without_floor": no_floor.ramp_attainment,
                }
            )
    return rows


def peer_criterion_reachable(peers: dict, bound_at) -> tuple[bool, object]:
    """Whether any policy with the spec's configurations and cold starts can meet the first two criteria together,
    and the cold-start bound at the lowest attainment the first allows. A policy attaining `a` (at least the best
    peer's − 0.5 pt) must cost at most 0.85 × the cheapest peer attaining `a` or more, and at least the cold-start
    oracle's frontier at `a` (`bound_at`: `oracle-cold-start`, the oracle paying the spec's cold starts). Both step
    only at the peers' attainments, so checking the lowest allowed attainment and each peer's above it decides: the
    criterion is out of reach where the bound costs more than 0.85 × the covering peers at every one of them. A level
    above what the bound's own run attains is not counted: the frontier's run there attains less than the level, so
    its cost bounds nothing a policy at that level pays (prod-eks at 10 req/s: the bound attains 99.97 %, and its
    $3,082 said nothing against the $5,363 of a peer at 100 %). Above every peer's attainment no peer compares (the
    bench's "–"): reachable if the bound's own run attains more."""
    best = max(r.slo_attainment for r in peers.values())
    lowest = max(0.0, best - ATTAINMENT_SLACK)
    levels = sorted({lowest, *(r.slo_attainment for r in peers.values() if r.slo_attainment >= lowest)})
    at_lowest = bound_at(lowest)
    for level in levels:
        b = bound_at(level)
        if b.slo_attainment < level:
            continue  # the bound does not reach this attainment: no bound on what a policy at it costs
        covering = [r.total_cost_usd for r in peers.values() if r.slo_attainment >= level]
        if b.total_cost_usd <= PEER_RATIO * min(covering):
            return True, at_lowest
    return bound_at(1.0).slo_attainment > best, at_lowest


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    rows = run(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    table = Table(
        title="SLO-driven capacity: spec vs peers vs oracle (criteria: att ≥ best peer − 0.5 pt, cost ≤ "
        "0.85× cheapest peer at ≥ its attainment, ≤ 1.15× oracle at equal attainment)"
    )
    for col in ("case", "cost $", "SLO att.", "TTFT p99 ms", "dropped", "criteria"):
        table.add_column(col)
    for r in rows:
        if "att_vs_best_peer_pt" in r:
            cheap = r["cost_vs_cheapest_peer_ratio"]
            table.add_row(
                r["case"],
                "",
                "",
                "",
                "",
                (
                    f"att − best peer {r['att_vs_best_peer_pt']:+.2f} pt · cost ÷ cheapest peer at ≥ att "
                    f"{'–' if cheap is None else f'{cheap:.3f}'} · cost ÷ oracle {r['cost_vs_oracle_ratio']:.3f} "
                    f"(oracle at {r['oracle_attainment_compared']:.1%}) · ramps ({r['ramp_requests']:,} req) "
                    f"{r['ramp_attainment_with_floor']} with floor / {r['ramp_attainment_without_floor']} without"
                    f" · cold-start bound ${r['cold_start_bound_usd']:,.0f} at {r['cold_start_bound_attainment']:.2%}"
                    f" (peer criterion {'reachable' if r['peer_criterion_reachable'] else 'out of reach'})"
                ),
            )
        else:
            table.add_row(
                r["case"],
                f"{r['cost_usd']:,.0f}",
                f"{r['slo_attainment']:.1%}",
                f"{r['ttft_p99_ms']}",
                f"{r['dropped']:,}",
                "",
            )
    Console(width=220).print(table)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
