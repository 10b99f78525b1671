"""Scaling targets and replica limits derived from the SLO envelope and the load (what `plan` shows beside the spec's).

`scaling.queue_depth_target` means one thing per target, the metric its autoscaler really reads:

- **SageMaker**: `SageMakerVariantConcurrentRequestsPerModelHighResolution` (per copy with inference components) —
  requests in flight per instance, **running and queued**. Derived: the envelope's concurrency at SLO × (1 −
  headroom).
- **EKS**: vLLM's `vllm:num_requests_waiting` (TGI's `tgi_queue_size`) averaged per replica — **waiting only**,
  running sequences are not counted. Derived: the mean waiting requests of the envelope's prefill queue (M/M/1:
  ρ² / (1 − ρ)) at the headroom-reduced rate, at least 1 (a waiting queue below one request is not a signal).
  The KV-cache trigger (`gpu_memory_target`, vLLM's `vllm:kv_cache_usage_perc`): the KV cache the envelope's
  concurrency holds at the mean prompt + output size, × (1 − headroom).

**Headroom** is the load that arrives during one cold start: the steepest rise of the daily shape per hour (a
fraction of the peak) × the configuration's switch time (new capacity + model load, high estimate,
`capacity_timeline.switch_time_s`), relative to the peak; capped at 50 %. Replicas scale out when the load reaches
(1 − headroom) of what they carry at SLO, so the load that keeps arriving while a new replica starts still meets it.

**Replicas at peak** = ⌈peak / rate per replica at SLO⌉; **with headroom** = ⌈peak / ((1 − headroom) × rate)⌉, the
suggested `max_replicas` default; the suggested minimum carries the quietest hour of the configuration the same way.
The plan shows them beside the spec's values; the components deploy the spec's (rendering derived values where the spec
states none is the next step).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llama_infra.slo_envelope import ConfigNeed, needs

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec

MAX_HEADROOM = 0.5


@dataclass(frozen=True)
class DerivedTargets:
    configuration: str  # "day" or the window's name
    headroom_fraction: float
    arriving_during_cold_start: float  # requests that arrive during one cold start at the peak
    queue_depth_target: float | None  # None: the SLO is out of reach
    kv_cache_target: float | None  # EKS only
    replicas_at_peak: int | None
    replicas_with_headroom: int | None
    min_replicas: int | None  # suggested: the quietest hour at SLO with headroom


def _shape(spec: DeploymentSpec) -> tuple[float, ...]:
    from llama_infra.pricing import default_daily_shape

    return tuple(spec.load.daily_shape) if spec.load.daily_shape else default_daily_shape()


def headroom_fraction(spec: DeploymentSpec, switch_time_s: float) -> float:
    shape = _shape(spec)
    rise_per_hour = max(max(shape[(h + 1) % 24] - shape[h] for h in range(24)), 0.0)
    peak = max(shape) or 1.0
    return min(MAX_HEADROOM, rise_per_hour * switch_time_s / 3600 / peak)


def _derive(spec: DeploymentSpec, need: ConfigNeed, quietest_rps: float) -> DerivedTargets:
    from llama_infra.capacity_timeline import switch_time_s
    from llama_infra.slo_envelope import perf_of

    e = need.envelope
    name = e.config.window or "day"
    switch_s = switch_time_s(spec, e.config)
    h = headroom_fraction(spec, switch_s)
    arriving = need.peak_requests_per_second * switch_s
    if not e.reachable or e.requests_per_second <= 0:
        return DerivedTargets(name, h, arriving, None, None, None, None, None)
    rate = e.requests_per_second * (1 - h)
    if spec.target == "sagemaker":
        target = round(max(1.0, e.concurrency * (1 - h)), 2)
        kv = None
    else:
        service_s = e.sizes.prompt.mean / perf_of(e.config, e.tp_degree).prefill_tokens_per_s
        rho = min(rate * service_s, 0.99)
        target = round(max(1.0, rho * rho / (1 - rho)), 2)
        kv_tokens = perf_of(e.config, e.tp_degree).kv_cache_tokens
        kv = round(min(0.95, e.concurrency * (1 - h) * (e.sizes.prompt.mean + e.sizes.output.mean) / kv_tokens), 3)
    peak = need.peak_requests_per_second
    with_headroom = math.ceil(peak / rate - 1e-9) if spec.load.peak_requests_per_second else None
    minimum = math.ceil(quietest_rps / rate - 1e-9) if spec.load.peak_requests_per_second else None
    return DerivedTargets(name, h, arriving, target, kv, need.replicas_at_peak, with_headroom, minimum)


def _quietest_by_config(spec: DeploymentSpec) -> dict[str | None, float]:
    from datetime import timedelta

    from llama_infra.capacity_plan import WEEK_START, config_at, plan_timezone
    from llama_infra.schedules import zone

    peak = spec.load.peak_requests_per_second or 0.0
    shape = _shape(spec)
    start = WEEK_START.replace(tzinfo=zone(plan_timezone(spec)))
    out: dict[str | None, float] = {}
    for h in range(168):
        cfg = config_at(spec, start + timedelta(hours=h, minutes=30))
        out[cfg.window] = min(out.get(cfg.window, math.inf), shape[h % 24] * peak)
    return out


def derived_targets(spec: DeploymentSpec) -> list[DerivedTargets]:
    """The day configuration's derived targets and limits, then each window's."""
    quiet = _quietest_by_config(spec)
    return [_derive(spec, n, quiet.get(n.envelope.config.window, 0.0)) for n in needs(spec)]


@dataclass(frozen=True)
class FloorHour:
    hour: int  # local hour of a weekday in the plan timezone
    configuration: str
    min_replicas: int  # replicas that must be warm from the start of this hour


def predictive_floor(spec: DeploymentSpec) -> list[FloorHour]:
    """Scheduled minimum capacity for each hour of a weekday: the replicas that carry, at SLO, the busiest load of
    the daily shape from this hour until one switch time later (new capacity + model load), so replicas are warm
    before a ramp arrives and fall back after it; within the configuration's min/max. Empty without a stated peak
    or when the SLO is out of reach."""
    from datetime import timedelta

    from llama_infra.capacity_plan import WEEK_START, config_at, plan_timezone
    from llama_infra.capacity_timeline import switch_time_s
    from llama_infra.schedules import zone

    peak = spec.load.peak_requests_per_second
    if not peak:
        return []
    rates = {n.envelope.config.window: n.envelope.requests_per_second for n in needs(spec)}
    if any(r <= 0 for r in rates.values()):
        return []
    shape = _shape(spec)
    start = WEEK_START.replace(tzinfo=zone(plan_timezone(spec)))
    out = []
    for h in range(24):
        cfg = config_at(spec, start + timedelta(hours=h, minutes=30))
        ahead_h = math.ceil(switch_time_s(spec, cfg) / 3600)
        busiest = max(shape[(h + k) % 24] for k in range(ahead_h + 1)) * peak
        need = math.ceil(busiest / rates[cfg.window] - 1e-9)
        out.append(FloorHour(h, cfg.window or "day", min(max(need, cfg.min_replicas), cfg.max_replicas)))
    return out


def floor_line(floor: list[FloorHour]) -> str:
    """`00–06 2 · 07 3 · …`: hours with the same floor grouped."""
    parts, i = [], 0
    while i < len(floor):
        j = i
        while j + 1 < len(floor) and floor[j + 1].min_replicas == floor[i].min_replicas:
            j += 1
        hours = f"{floor[i].hour:02d}" if i == j else f"{floor[i].hour:02d}–{floor[j].hour:02d}"
        parts.append(f"{hours} {floor[i].min_replicas}")
        i = j + 1
    return " · ".join(parts)
