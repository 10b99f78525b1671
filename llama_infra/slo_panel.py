"""The plan's "capacity at SLO" panel: each configuration's SLO envelope (`slo_envelope`), the targets and limits
derived from it and the predictive floor (`slo_targets`), as data and one line of words per configuration.

Apart from both so that neither imports the other: the targets stand on the envelope, the panel on both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_infra import target_facts
from llama_infra.capacity_plan import plan_timezone
from llama_infra.request_sizes import of_spec
from llama_infra.slo_envelope import needs
from llama_infra.slo_targets import derived_targets, floor_carries_headroom, floor_line, predictive_floor

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec


def summary(spec: DeploymentSpec) -> dict:
    """The plan's SLO section as data, with one line of words per configuration (`lines`)."""
    sizes = of_spec(spec)
    rows, lines = [], []
    lines.append(
        f"SLO: TTFT p99 ≤ {spec.slo.ttft_p99_ms:g} ms, ≥ {spec.slo.tokens_per_s_per_user:g} tokens/s per user; "
        f"prompt p50/p95/p99 {sizes.prompt.p50:,.0f}/{sizes.prompt.p95:,.0f}/{sizes.prompt.p99:,.0f}, "
        f"output {sizes.output.p50:,.0f}/{sizes.output.p95:,.0f}/{sizes.output.p99:,.0f} tokens "
        f"({sizes.source})"
    )
    floor_carries = floor_carries_headroom(spec)  # then the targets are derived at the rate at SLO itself
    for n, d in zip(needs(spec), derived_targets(spec), strict=True):
        e = n.envelope
        rows.append(
            {
                "configuration": e.config.window or "day",
                "instance_type": e.config.instance_type,
                "reachable": e.reachable,
                "problems": list(e.problems),
                "ttft_p99_prompt_idle_ms": round(e.ttft_p99_prompt_s * 1000, 1),
                "tokens_per_s_per_user_batch1": round(e.tokens_per_s_batch1, 2),
                "concurrency_at_slo": round(e.concurrency, 2),
                "requests_per_second_per_replica": round(e.requests_per_second, 3),
                "limited_by": e.limited_by,
                "peak_requests_per_second": round(n.peak_requests_per_second, 3),
                "replicas_at_peak": n.replicas_at_peak,
                "max_replicas": e.config.max_replicas,
                "min_replicas": e.config.min_replicas,
                "derived": {
                    "headroom_fraction": round(d.headroom_fraction, 3),
                    "arriving_during_cold_start": round(d.arriving_during_cold_start, 1),
                    "queue_depth_target": d.queue_depth_target,
                    "queue_depth_at_slo": d.queue_depth_at_slo,
                    "kv_cache_target": d.kv_cache_target,
                    "replicas_with_headroom": d.replicas_with_headroom,
                    "min_replicas": d.min_replicas,
                },
            }
        )
        head = f"{e.config.window or 'day'} ({e.config.instance_type}):"
        if not e.reachable:
            lines.append(f"{head} SLO out of reach — " + "; ".join(e.problems))
            continue
        at_peak = (
            f"peak {n.peak_requests_per_second:.1f} requests/s needs {n.replicas_at_peak} "
            f"replica{'' if n.replicas_at_peak == 1 else 's'} "
            f"(max {e.config.max_replicas})"
            if n.replicas_at_peak is not None
            else "no load.peak_requests_per_second stated"
        )
        lines.append(
            f"{head} {e.requests_per_second:.2f} requests/s per replica at SLO "
            f"({e.concurrency:.1f} concurrent, limited by {e.limited_by}); {at_peak}"
        )
        metric = target_facts.of(spec.target).queue_depth_metric
        derived = (
            f"  derived: queue_depth_target {d.queue_depth_target:g} ({metric}: {d.queue_depth_at_slo:g} on average at "
            f"{'the rate at SLO' if floor_carries else 'the rate at SLO less the headroom'}, the target above its "
            f"spread and at least 1; spec {spec.scaling.queue_depth_target:g})"
        )
        if d.kv_cache_target is not None:
            derived += (
                f", KV-cache target {d.kv_cache_target:g} (spec "
                f"{'none' if spec.scaling.gpu_memory_target is None else f'{spec.scaling.gpu_memory_target:g}'})"
            )
        derived += (
            f"; headroom {d.headroom_fraction:.0%} ({d.arriving_during_cold_start:,.0f} requests arrive during "
            f"one cold start at the peak)"
        )
        if d.replicas_with_headroom is not None:
            derived += (
                f"; min/max {d.min_replicas}/{d.replicas_with_headroom} "
                f"(spec {e.config.min_replicas}/{e.config.max_replicas})"
            )
        lines.append(derived)
    floor = predictive_floor(spec)
    if floor:
        lines.append(
            f"predictive floor (weekday hours, {plan_timezone(spec)}; warm replicas one switch time ahead of "
            f"the load): {floor_line(floor)}"
        )
    return {
        "predictive_floor": [
            {"hour": f.hour, "configuration": f.configuration, "min_replicas": f.min_replicas} for f in floor
        ],
        "ttft_p99_ms": spec.slo.ttft_p99_ms,
        "tokens_per_s_per_user": spec.slo.tokens_per_s_per_user,
        "request_sizes": sizes.source,
        "configurations": rows,
        "lines": lines,
    }
