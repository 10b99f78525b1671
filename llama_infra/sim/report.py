"""Run policies, summarise each run, and present the results: rich table, JSON, PNG plots."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from llama_infra.sim.capacity import PROVISIONING_S, Assumptions
from llama_infra.sim.engine import SERIES_STEP_S, Simulation
from llama_infra.sim.policy_registry import POLICY_NAMES, make_policy, registered, role_of
from llama_infra.sim.workload import ramp_requests

if TYPE_CHECKING:
    from llama_infra.sim.policies import Oracle
    from llama_infra.sim.workload import Workload
    from llama_infra.spec import DeploymentSpec


@dataclass
class PolicyResult:
    policy: str
    description: str
    requests: int
    served: int
    dropped: int
    overflowed: int
    total_cost_usd: float
    cost_per_1k_requests_usd: float
    ratio_to_oracle: float | None  # cost ÷ the oracle's at this policy's own attainment (`oracle_frontier`)
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    ttft_p99_ms: float | None
    slo_attainment: float
    ramp_attainment: float | None  # attainment of the requests arriving in ramp hours (`workload.ramp_requests`)
    tokens_per_s_per_user_p5: float | None
    replica_hours: dict[str, float]
    cost_by_capacity_usd: dict[str, float]
    interruptions: int
    interrupted_streams: int
    on_demand_fallbacks: int
    wall_seconds: float
    oracle_attainment_compared: float | None = None  # the oracle run the ratio compares with, as the engine measured it
    oracle_cost_compared_usd: float | None = None
    series: dict[str, list[float]] = field(default_factory=dict, repr=False)
    ttft_sample_ms: list[float] = field(default_factory=list, repr=False)

    @property
    def meets_slo(self) -> bool:
        """The SLO is a P99 target: 99 % of requests within it."""
        return self.slo_attainment >= 0.99


def default_assumptions(spec: DeploymentSpec, **overrides) -> Assumptions:
    return Assumptions(provisioning_s=PROVISIONING_S[spec.target], **overrides)


def run_policy(
    spec: DeploymentSpec,
    workload: Workload,
    name: str,
    seed: int,
    assumptions: Assumptions,
    dt_s: float,
    progress: Callable[[int], None] | None = None,
) -> PolicyResult:
    started = time.perf_counter()
    sim = Simulation(spec, workload, make_policy(name), assumptions, seed, dt_s).run(progress)
    return summarise(sim, time.perf_counter() - started)


def total_steps(workload: Workload, dt_s: float, policies: int) -> int:
    """Steps `simulate` reports through `progress` for this many policies."""
    return int(math.ceil(workload.duration_s / dt_s)) * policies


def summarise(sim: Simulation, wall_seconds: float) -> PolicyResult:
    spec = sim.spec
    served = sim.status >= 0
    n = len(sim.status)
    ttft_ms = sim.ttft[served] * 1000
    tps = sim.tps[served]
    ok = served & (sim.ttft * 1000 <= spec.slo.ttft_p99_ms) & (sim.tps >= spec.slo.tokens_per_s_per_user)
    ramps = ramp_requests(sim.workload)
    pools = [sim.primary] + ([sim.fallback] if sim.fallback is not None else [])
    hours: dict[str, float] = {}
    cost: dict[str, float] = {}
    for p in pools:
        for k, v in p.stats.replica_hours.items():
            key = k if p is sim.primary else f"fallback/{k.split('/', 1)[1]}"
            hours[key] = hours.get(key, 0.0) + v
        for k, v in p.stats.cost_usd.items():
            key = k if p is sim.primary else f"fallback/{k.split('/', 1)[1]}"
            cost[key] = cost.get(key, 0.0) + v
    total = sum(cost.values())

    def pct(a: np.ndarray, q: float) -> float | None:
        return round(float(np.percentile(a, q)), 1) if len(a) else None

    rng = np.random.default_rng(0)
    sample = np.sort(rng.choice(ttft_ms, size=min(len(ttft_ms), 20000), replace=False)) if len(ttft_ms) else ttft_ms
    return PolicyResult(
        policy=sim.policy.name,
        description=sim.policy.description,
        requests=n,
        served=int(served.sum()),
        dropped=int(n - served.sum()),
        overflowed=int((sim.status == 1).sum()),
        total_cost_usd=round(total, 2),
        cost_per_1k_requests_usd=round(total / n * 1000, 4) if n else 0.0,
        ratio_to_oracle=None,
        ttft_p50_ms=pct(ttft_ms, 50),
        ttft_p95_ms=pct(ttft_ms, 95),
        ttft_p99_ms=pct(ttft_ms, 99),
        slo_attainment=round(float(ok.sum()) / n, 4) if n else 1.0,
        ramp_attainment=round(float(ok[ramps].mean()), 4) if ramps.any() else None,
        tokens_per_s_per_user_p5=pct(tps, 5),
        replica_hours={k: round(v, 2) for k, v in sorted(hours.items())},
        cost_by_capacity_usd={k: round(v, 2) for k, v in sorted(cost.items())},
        interruptions=sum(p.stats.interruptions for p in pools),
        interrupted_streams=sum(p.stats.interrupted_streams for p in pools),
        on_demand_fallbacks=sum(p.stats.on_demand_fallbacks for p in pools),
        wall_seconds=round(wall_seconds, 2),
        series={k: v.tolist() for k, v in sim.series.items()},
        ttft_sample_ms=sample.tolist(),
    )


def simulate(
    spec: DeploymentSpec,
    workload: Workload,
    policies: tuple[str, ...] = POLICY_NAMES,
    seed: int = 0,
    assumptions: Assumptions | None = None,
    dt_s: float = 1.0,
    processes: int = 1,
    progress: Callable[[int], None] | None = None,
) -> list[PolicyResult]:
    """Every policy on the same workload; ratios to the oracle filled in when it ran. `progress(steps)` is told as
    steps complete (`total_steps` in all): every few thousand steps in one process, per policy across processes."""
    assumptions = assumptions or default_assumptions(spec)
    if processes > 1 and len(policies) > 1:
        from concurrent.futures import ProcessPoolExecutor, as_completed

        per_policy = total_steps(workload, dt_s, 1)
        with ProcessPoolExecutor(processes) as ex:
            futures = {ex.submit(run_policy, spec, workload, p, seed, assumptions, dt_s): p for p in policies}
            done: dict[str, PolicyResult] = {}
            for fut in as_completed(futures):
                done[futures[fut]] = fut.result()
                if progress is not None:
                    progress(per_policy)
            results = [done[p] for p in policies]
    else:
        results = [run_policy(spec, workload, p, seed, assumptions, dt_s, progress) for p in policies]
    oracle = next((r for r in results if role_of(r.policy) == "oracle"), None)
    if oracle is not None:
        at = oracle_frontier(spec, workload, oracle, seed, assumptions, dt_s)
        for r in results:
            compared = at(r.slo_attainment)
            r.oracle_attainment_compared = compared.slo_attainment
            r.oracle_cost_compared_usd = compared.total_cost_usd
            if compared.total_cost_usd > 0:
                r.ratio_to_oracle = round(r.total_cost_usd / compared.total_cost_usd, 3)
    return results


FRONTIER_TOLERANCE = 0.001  # attainments this close to the oracle's compare with the oracle's own run


def oracle_frontier(
    spec: DeploymentSpec,
    workload: Workload,
    oracle: PolicyResult,
    seed: int,
    assumptions: Assumptions,
    dt_s: float,
) -> Callable[[float], PolicyResult]:
    """The oracle's cost–attainment frontier, measured by the engine: `at(a)` is the oracle's run at (nearly) the
    attainment `a` — the least clairvoyant cost of that quality — so a policy's "× oracle" compares equal quality.
    A policy at or above the oracle's own attainment (less `FRONTIER_TOLERANCE`) compares with the oracle's run;
    below it, the oracle runs again with its miss budget widened by the difference (`Oracle(epsilon=…)`), once per
    attainment (the runs are kept). The widened runs are of the class that ran `oracle` (any `Oracle`: the
    frontier of `ColdStartOracle` is the least a policy with cold starts can cost)."""
    from llama_infra.sim.capacity import ORACLE_EPSILON

    oracle_class = cast("type[Oracle]", registered(oracle.policy).policy_class())

    runs: dict[float, PolicyResult] = {}

    def at(attainment: float) -> PolicyResult:
        gap = round(oracle.slo_attainment - attainment, 4)
        if gap <= FRONTIER_TOLERANCE:
            return oracle
        if gap not in runs:
            started = time.perf_counter()
            sim = Simulation(spec, workload, oracle_class(epsilon=ORACLE_EPSILON + gap), assumptions, seed, dt_s).run()
            runs[gap] = summarise(sim, time.perf_counter() - started)
        return runs[gap]

    return at


def attainable_share(spec: DeploymentSpec, workload: Workload) -> float:
    """Share of requests that can meet both SLO terms at all on the day configuration (no queueing, any scale):
    TTFT — prompts longer than that take too long to prefill whatever the capacity — and tokens/s per user — a
    request alone on a replica decodes at 1 / (batch-1 step), the most any user gets. 0: the SLO is infeasible on
    this hardware."""
    from llama_infra.capacity_plan import day_config
    from llama_infra.sim.capacity import perf_for
    from llama_infra.sim.replica_model import REQUEST_OVERHEAD_S, running_context_tokens

    if not len(workload):
        return 1.0
    perf = perf_for(
        day_config(spec),
        spec.model.tensor_parallel_degree,
        running_context_tokens(workload.mean_prompt_tokens, workload.mean_output_tokens),
    )
    if 1.0 / perf.decode_step_s_batch1 < spec.slo.tokens_per_s_per_user:
        return 0.0
    unqueued = workload.prompt_tokens / perf.prefill_tokens_per_s + perf.decode_step_s_batch1 + REQUEST_OVERHEAD_S
    return round(float((unqueued * 1000 <= spec.slo.ttft_p99_ms).mean()), 4)


def infeasibility(spec: DeploymentSpec, workload: Workload) -> str | None:
    """Why no request can meet the SLO on the spec's day configuration, or None when some can."""
    from llama_infra.capacity_plan import day_config
    from llama_infra.sim.capacity import perf_for
    from llama_infra.sim.replica_model import running_context_tokens

    if attainable_share(spec, workload) > 0:
        return None
    perf = perf_for(
        day_config(spec),
        spec.model.tensor_parallel_degree,
        running_context_tokens(workload.mean_prompt_tokens, workload.mean_output_tokens),
    )
    itype, best_tps = spec.capacity.baseline.instance_type, 1.0 / perf.decode_step_s_batch1
    if best_tps < spec.slo.tokens_per_s_per_user:
        return (
            f"infeasible on this hardware: one request alone on {itype} decodes at {best_tps:.1f} tokens/s, "
            f"below the SLO's {spec.slo.tokens_per_s_per_user:g} tokens/s per user"
        )
    return (
        f"infeasible on this hardware: no prompt of this workload prefills on {itype} within the TTFT target "
        f"of {spec.slo.ttft_p99_ms:g} ms"
    )


def to_json(
    spec: DeploymentSpec, workload: Workload, results: list[PolicyResult], assumptions: Assumptions, seed: int
) -> dict:
    rows = []
    for r in results:
        d = asdict(r)
        d.pop("series")
        d.pop("ttft_sample_ms")
        d["role"] = role_of(r.policy)
        d["meets_slo"] = r.meets_slo
        rows.append(d)
    return {
        "spec": spec.name,
        "target": spec.target,
        "workload": workload.description,
        "requests": len(workload),
        "duration_hours": round(workload.duration_s / 3600, 3),
        "seed": seed,
        "slo": {
            "ttft_p99_ms": spec.slo.ttft_p99_ms,
            "tokens_per_s_per_user": spec.slo.tokens_per_s_per_user,
            "attainable_share": attainable_share(spec, workload),
            "infeasible": infeasibility(spec, workload),
        },
        "assumptions": assumptions.describe(),
        "policies": rows,
    }


def render_table(
    spec: DeploymentSpec, workload: Workload, results: list[PolicyResult], assumptions: Assumptions, console=None
) -> None:
    from rich.table import Table

    from llama_infra import terminal

    console = console or terminal.console()
    table = Table(title=f"{spec.name} ({spec.target}) — {workload.description}", title_justify="left")
    for col, just in [
        ("policy", "left"),
        ("cost $", "right"),
        ("$/1k req", "right"),
        ("× oracle at att.", "right"),
        ("TTFT p50/p95/p99 ms", "right"),
        ("SLO att.", "right"),
        ("att. in ramps", "right"),
        ("tok/s/user p5", "right"),
        ("replica-hours by capacity", "left"),
        ("interr.", "right"),
        ("dropped", "right"),
    ]:
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    infeasible = infeasibility(spec, workload)
    for r in results:
        hours = ", ".join(f"{k} {v:.1f}" for k, v in r.replica_hours.items())
        ttft = "/".join("–" if v is None else f"{v:.0f}" for v in (r.ttft_p50_ms, r.ttft_p95_ms, r.ttft_p99_ms))
        att = "infeasible" if infeasible else f"{r.slo_attainment:.1%}"
        table.add_row(
            r.policy,
            f"{r.total_cost_usd:,.2f}",
            f"{r.cost_per_1k_requests_usd:.3f}",
            "–" if r.ratio_to_oracle is None else f"{r.ratio_to_oracle:.2f}",
            ttft,
            f"[green]{att}[/]" if r.meets_slo else f"[red]{att}[/]",
            "–" if r.ramp_attainment is None or infeasible else f"{r.ramp_attainment:.1%}",
            "–" if r.tokens_per_s_per_user_p5 is None else f"{r.tokens_per_s_per_user_p5:.1f}",
            hours,
            str(r.interruptions),
            f"{r.dropped:,}",
        )
    console.print(table)
    if infeasible:
        console.print(
            f"SLO: TTFT ≤ {spec.slo.ttft_p99_ms:g} ms and ≥ {spec.slo.tokens_per_s_per_user:g} tokens/s per "
            f"user is {infeasible}; no policy can attain it, compare costs only."
        )
    else:
        console.print(
            f"SLO: TTFT ≤ {spec.slo.ttft_p99_ms:g} ms and ≥ {spec.slo.tokens_per_s_per_user:g} tokens/s "
            "per user; attainment = share of all requests within both (dropped count as misses). At most "
            f"{attainable_share(spec, workload):.1%} of these requests can meet both on "
            f"{spec.capacity.baseline.instance_type} at any scale (longer prompts take longer to prefill)."
        )
    for r in results:
        role = role_of(r.policy)
        console.print(f"  {r.policy}{f' ({role})' if role else ''}: {r.description}", highlight=False)
    for a in assumptions.describe():
        console.print(f"  assumption: {a}", highlight=False)


def night_spans_hours(spec: DeploymentSpec, workload: Workload) -> list[tuple[str, float, float]]:
    """(schedule name, first hour, last hour) of every scheduled window in force during the workload, in hours
    from `workload.start` and clipped to it: the spans the time plots shade."""
    from datetime import timedelta

    from llama_infra.capacity_plan import window_of

    until = workload.start + timedelta(seconds=workload.duration_s)
    spans = []
    for schedule in spec.schedules:
        for begin, finish in window_of(schedule).occurrences(workload.start, until):
            lo = max(0.0, (begin - workload.start).total_seconds() / 3600)
            hi = min(workload.duration_s / 3600, (finish - workload.start).total_seconds() / 3600)
            if hi > lo:
                spans.append((schedule.name, lo, hi))
    return spans


NIGHT_COLOR = "#5c6bc0"


def replicas_figure(spec: DeploymentSpec, workload: Workload, results: list[PolicyResult]):
    """One panel per policy — load (left axis, shared) and replicas (right axis, one scale for every policy so
    panels compare at a glance), scheduled windows shaded, a legend on every panel."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 2.1 * len(results) + 0.8))
    axes = fig.subplots(len(results), 1, sharex=True, sharey=True, squeeze=False)[:, 0]
    replica_keys = ("replicas", "ready", "spot")
    replica_max = max((max(r.series.get(k) or [0]) for r in results for k in replica_keys), default=0)
    replica_top = max(1.0, replica_max) * 1.15
    spans = night_spans_hours(spec, workload)
    first_twin = None
    for ax, r in zip(axes, results, strict=True):
        arrivals = np.array(r.series["arrivals"])
        hours_axis = np.arange(len(arrivals)) * SERIES_STEP_S / 3600
        ax.fill_between(hours_axis, arrivals, color="#cfd8dc", step="post", label="load (req/s)")
        ax.set_ylabel("req/s", fontsize=8)
        ax2 = ax.twinx()
        if first_twin is None:
            first_twin = ax2
        else:
            ax2.sharey(first_twin)
        shaded = set()
        for name, lo, hi in spans:
            ax.axvspan(
                lo,
                hi,
                color=NIGHT_COLOR,
                alpha=0.12,
                lw=0,
                label=None if name in shaded else f"schedule '{name}' in force",
            )
            shaded.add(name)
        ax2.step(hours_axis, r.series["replicas"], where="post", color="#1565c0", lw=1.4, label="replicas")
        ax2.step(hours_axis, r.series["ready"], where="post", color="#2e7d32", lw=1.0, ls="--", label="ready")
        if any(r.series.get("spot", [])):
            ax2.step(hours_axis, r.series["spot"], where="post", color="#ef6c00", lw=0.9, label="spot")
        ax2.set_ylabel("replicas", fontsize=8)
        ax2.set_ylim(0, replica_top)
        ax.set_title(f"{r.policy}: ${r.total_cost_usd:,.0f}, SLO {r.slo_attainment:.1%}", fontsize=9, loc="left")
        handles, labels = ax.get_legend_handles_labels()
        handles2, labels2 = ax2.get_legend_handles_labels()
        ax2.legend(handles + handles2, labels + labels2, loc="upper right", fontsize=7, ncol=5, framealpha=0.85)
    axes[-1].set_xlabel(f"hours from {workload.start:%Y-%m-%d %H:%M} UTC")
    fig.suptitle(f"{spec.name}: load and replicas per policy (same replica scale on every panel)", fontsize=11)
    fig.tight_layout()
    return fig


def ttft_figure(spec: DeploymentSpec, results: list[PolicyResult]):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 5))
    ax = fig.subplots()
    for r in results:
        s = np.array(r.ttft_sample_ms)
        if len(s):
            ax.plot(s, np.arange(1, len(s) + 1) / len(s), label=r.policy, lw=1.3)
    ax.axvline(spec.slo.ttft_p99_ms, color="k", ls=":", lw=1, label=f"SLO {spec.slo.ttft_p99_ms:g} ms")
    ax.axhline(0.99, color="grey", ls=":", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("TTFT (ms, log)")
    ax.set_ylabel("share of served requests")
    ax.set_title(f"{spec.name}: TTFT CDF")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def cost_figure(spec: DeploymentSpec, results: list[PolicyResult]):
    """Horizontal stacked bars: policy names stay readable however long, each bar ends in its total and SLO."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 1.0 + 0.55 * len(results)))
    ax = fig.subplots()
    keys = sorted({k for r in results for k in r.cost_by_capacity_usd})
    left = np.zeros(len(results))
    names = [r.policy for r in results]
    positions = np.arange(len(results))
    for k in keys:
        vals = np.array([r.cost_by_capacity_usd.get(k, 0.0) for r in results])
        ax.barh(positions, vals, left=left, label=k, height=0.6)
        left += vals
    for i, r in enumerate(results):
        ax.annotate(
            f"${r.total_cost_usd:,.2f} · {r.slo_attainment:.1%} SLO",
            (left[i], i),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
        )
    ax.set_yticks(positions, names)
    ax.invert_yaxis()  # first policy on top, as in the table
    ax.set_xlabel("USD over the workload")
    ax.set_xlim(right=max(left.max() * 1.3, 1))
    ax.set_title(f"{spec.name}: cost by role/capacity")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def write_plots(spec: DeploymentSpec, workload: Workload, results: list[PolicyResult], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = {
        "replicas_over_time.png": replicas_figure(spec, workload, results),
        "ttft_cdf.png": ttft_figure(spec, results),
        "cost_breakdown.png": cost_figure(spec, results),
    }
    paths = []
    for name, fig in figures.items():
        paths.append(out_dir / name)
        fig.savefig(paths[-1], dpi=110)
    return paths


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
