"""Scaling targets and replica limits derived from the SLO envelope and the load (what `plan` shows beside the spec's).

`scaling.queue_depth_target` means one thing per target, the metric its autoscaler really reads:

Both are derived from what the metric reads when the fleet that carries the peak runs at (1 − headroom) of its rate
at SLO (`slo_envelope.occupancy`: Little's law, with the wait of the fleet's prefill queue by Pollaczek–Khinchine
over the prompt-size distribution):

- **SageMaker**: `SageMakerVariantConcurrentRequestsPerModelHighResolution` (per copy with inference components) —
  requests in flight per instance, **running and queued**: every request the instance holds, so the target is the
  requests in the system per replica at that rate (the prefill wait included: near the SLO's limit the queue is a
  large part of it, and a target of the running batch alone holds the fleet far below its rate at SLO).
- **EKS**: vLLM's `vllm:num_requests_waiting` (TGI's `tgi_queue_size`) averaged per replica — **waiting only**,
  running sequences are not counted. Derived: the waiting requests per replica at that rate, at least 1 (a waiting
  queue below one request is not a signal).
  The KV-cache trigger (`gpu_memory_target`, vLLM's `vllm:kv_cache_usage_perc`): the KV cache the envelope's
  concurrency holds at the mean prompt + output size, × (1 − headroom).

**Above the spread** (`above_spread`): what the metric reads there is a mean, and the autoscaler compares each
datapoint with the target — SageMaker's AlarmHigh three 10 s datapoints in a row, the HPA each reading. A datapoint
is a count of requests averaged over the fleet, which spreads at least as a Poisson count does (√(mean ÷ fleet);
the replica model's datapoints spread more, tests/sim/test_slo_envelope_in_simulator.py). A target at the mean
scaled out on that spread at loads well below the rate at SLO and held the new replica through the 15-minute
scale-in alarm: prod at 20 requests/s on the shared week cost $13,884, against $13,658 above the spread, at the same
99.91 % of requests within the SLO. So the target is the mean plus one standard deviation of a datapoint, and below
`(mean × max − 0.001) ÷ (max − 1)` (the configuration's `max_replicas`; the HPA reads milli-units): the scale-in
is proportional too (⌈n × metric ÷ target⌉), and a fleet of up to `max` replicas whose metric reads the mean at
SLO keeps all of them.

**Headroom** is the load that arrives during one cold start: the steepest rise of the daily shape per hour (a
fraction of the peak) × the configuration's switch time (new capacity + model load, high estimate,
`capacity_timeline.switch_time_s`), relative to the peak; capped at 50 %. It is provisioned once: where the target
renders the predictive floor (`predictive_floor`: replicas warm one switch time ahead of the shape's ramps), the
floor carries it and the targets are what the metric reads at the rate at SLO itself; without a floor, replicas
scale out when the load reaches (1 − headroom) of what they carry at SLO, so the load that keeps arriving while a
new replica starts still meets it. (Near the prefill's saturation the requests in the system climb steeply with the
rate, so a target at (1 − headroom) on top of the floor counted the same arrivals twice and scaled out on the
metric's noise: a 70B fleet of 2–3 instances went to 6 and back every half hour in the evening.)

**Replicas at peak**: the fewest whose rate at SLO carries the peak (`slo_envelope.replicas_for`: a fleet shares its
prefill, so the rate per replica grows with the fleet); **with headroom**: the fewest that carry it at (1 − headroom)
of that rate, the suggested `max_replicas` default; the suggested minimum carries the quietest hour of the
configuration the same way.
The plan shows them beside the spec's values. The components render the effective targets (`effective_targets`) and
the predictive floor: SageMaker target tracking and scheduled actions, KEDA thresholds and cron triggers on EKS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from llama_infra import target_facts
from llama_infra.slo_envelope import ConfigNeed, Envelope, fleet_rps, needs, occupancy, replicas_for

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec

MAX_HEADROOM = 0.5


@dataclass(frozen=True)
class DerivedTargets:
    configuration: str  # "day" or the window's name
    headroom_fraction: float
    arriving_during_cold_start: float  # requests that arrive during one cold start at the peak
    queue_depth_target: float | None  # None: the SLO is out of reach
    queue_depth_at_slo: float | None  # what the metric reads on average there; the target sits above its spread
    kv_cache_target: float | None  # EKS only
    replicas_at_peak: int | None
    replicas_with_headroom: int | None
    min_replicas: int | None  # suggested: the quietest hour at SLO with headroom


def _shape(spec: DeploymentSpec, on: date | None = None) -> tuple[float, ...]:
    from llama_infra.load_shape import daily_shape

    return daily_shape(spec, on)


def headroom_fraction(spec: DeploymentSpec, switch_time_s: float) -> float:
    shape = _shape(spec)
    rise_per_hour = max(max(shape[(h + 1) % 24] - shape[h] for h in range(24)), 0.0)
    peak = max(shape) or 1.0
    return min(MAX_HEADROOM, rise_per_hour * switch_time_s / 3600 / peak)


def floor_carries_headroom(spec: DeploymentSpec) -> bool:
    """Whether the predictive floor provisions the cold-start headroom, so the targets carry none: the spec has a
    floor (a stated peak, an SLO in reach) and its target renders it (`Target.renders_floor`)."""
    from llama_infra.spec.rules import renders_floor

    return renders_floor(spec) and rises_above_minimum(spec, predictive_floor(spec))


def rises_above_minimum(spec: DeploymentSpec, floor: list[FloorHour]) -> bool:
    """Whether a predictive floor (`predictive_floor`) is one: a whole weekday of it, rising above the minimum of the
    configuration in force in some hour (else the configurations' own minimums already hold it)."""
    from llama_infra.capacity_plan import day_config, window_config

    if len(floor) != 24:
        return False
    minimum = {
        "day": day_config(spec).min_replicas,
        **{s.name: window_config(spec, s).min_replicas for s in spec.schedules},
    }
    return any(f.min_replicas > minimum[f.configuration] for f in floor)


# the smallest step of the metric an autoscaler reads: the HPA's milli-units (`scaling.hpa.metric_milli` truncates)
METRIC_RESOLUTION = 0.001


def above_spread(mean: float, fleet: int, max_fleet: int) -> float:
    """The target for a metric whose mean per replica at the rate at SLO is `mean` in a fleet of `fleet` replicas
    (module docstring, "Above the spread"): the mean plus one standard deviation of a datapoint — a count of requests
    averaged over the fleet, Poisson at least: √(mean ÷ fleet) — and below `(mean × max_fleet − 0.001) ÷
    (max_fleet − 1)`, so the proportional scale-in (⌈n × metric ÷ target⌉) keeps every fleet of up to `max_fleet`
    replicas whose metric reads `mean`: the HPA receives the metric truncated to milli-units (`hpa.metric_milli`),
    so n × mean must exceed (n − 1) × target by a thousandth (mean 2.00001 on 9 replicas reads 18.000, which a
    target of 2.25 would carry on 8). Rounded down to 2 decimals (as rendered)."""
    if mean <= 0:
        return 0.0
    target = mean + math.sqrt(mean / max(fleet, 1))
    cap = (mean * max_fleet - METRIC_RESOLUTION) / (max_fleet - 1) if max_fleet >= 2 else math.inf
    rendered = math.floor(min(target, cap) * 100) / 100
    rendered = rendered - 0.01 if rendered >= cap - 1e-9 else rendered
    return rendered if rendered > 0 else mean  # below 2 decimals' reach: the mean itself


def _derive(spec: DeploymentSpec, need: ConfigNeed, quietest_rps: float, floor_carries: bool) -> DerivedTargets:
    from llama_infra.capacity_timeline import switch_time_s
    from llama_infra.slo_envelope import perf_of

    e = need.envelope
    name = e.config.window or "day"
    switch_s = switch_time_s(spec, e.config)
    h = headroom_fraction(spec, switch_s)
    arriving = need.peak_requests_per_second * switch_s
    if not e.reachable or e.requests_per_second <= 0:
        return DerivedTargets(name, h, arriving, None, None, None, None, None, None)
    target_h = 0.0 if floor_carries else h  # the headroom is provisioned once (module docstring)
    rate = e.requests_per_second * (1 - target_h)
    held = occupancy(e, rate)  # what the metric reads when the replicas run at (1 − headroom) of their rate at SLO
    facts = target_facts.of(spec.target)  # what its queue-depth metric counts, and whether it scales on KV cache
    mean = held.in_system if facts.queue_depth_reads == "in_system" else held.waiting
    target = max(1.0, above_spread(mean, e.replicas, e.config.max_replicas))
    kv = None
    if facts.scales_on_gpu_memory:
        kv_tokens = perf_of(e.config, e.tp_degree).kv_cache_tokens
        kv = round(
            min(0.95, e.concurrency * (1 - target_h) * (e.sizes.prompt.mean + e.sizes.output.mean) / kv_tokens), 3
        )
    peak = need.peak_requests_per_second
    stated = spec.load.peak_requests_per_second
    with_headroom = replicas_for(e, peak, 1 - h)[0] if stated else None
    minimum = replicas_for(e, quietest_rps, 1 - h)[0] if stated else None
    return DerivedTargets(name, h, arriving, target, round(mean, 2), kv, need.replicas_at_peak, with_headroom, minimum)


def _quietest_by_config(spec: DeploymentSpec) -> dict[str | None, float]:
    from llama_infra.slo_envelope import week_configs

    peak = spec.load.peak_requests_per_second or 0.0
    shape = _shape(spec)
    out: dict[str | None, float] = {}
    for h, cfg in enumerate(week_configs(spec)):
        out[cfg.window] = min(out.get(cfg.window, math.inf), shape[h % 24] * peak)
    return out


def derived_targets(spec: DeploymentSpec) -> list[DerivedTargets]:
    """The day configuration's derived targets and limits, then each window's."""
    quiet = _quietest_by_config(spec)
    floor_carries = floor_carries_headroom(spec)  # one floor for the spec: worked out once, not per configuration
    return [_derive(spec, n, quiet.get(n.envelope.config.window, 0.0), floor_carries) for n in needs(spec)]


@dataclass(frozen=True)
class FloorHour:
    hour: int  # local hour of a weekday in the plan timezone
    configuration: str
    min_replicas: int  # replicas that must be warm from the start of this hour
    forecast_rps: float = 0.0  # the daily shape × the stated peak in this hour: what a following floor compares
    # the observed rate with (`scaling.floor_follow`)
    carries_rps: tuple[float, ...] = ()  # for 1, 2, … min_replicas − 1 replicas: the load they carry at SLO, scaled
    # by forecast ÷ the busiest load the floor was sized for, so a following floor compares it with forecast × ratio


def floor_lead_s(spec: DeploymentSpec, config) -> float:
    """How far ahead the floor looks for `config`: the spec's `scaling.floor_lead_minutes`, else the configuration's
    switch time (new capacity + model load, high estimate: `capacity_timeline.switch_time_s`)."""
    from llama_infra.capacity_timeline import switch_time_s

    lead = spec.scaling.floor_lead_minutes
    return switch_time_s(spec, config) if lead is None else lead * 60.0


def predictive_floor(spec: DeploymentSpec, on: date | None = None) -> list[FloorHour]:
    """Scheduled minimum capacity for each hour of a weekday (Monday–Friday, plan timezone): the replicas that carry,
    at SLO, the busiest load of the daily shape from this hour until one lead after its end (`floor_lead_s`: by
    default the switch time, new capacity + model load, so the next hour's replicas are warm when it begins) while
    this configuration is in force, so replicas are warm before a ramp arrives and fall back after it; within the
    configuration's min/max.
    `on` is the day whose UTC offset places the default (UTC) shape (`load_shape.daily_shape`). Empty without a
    stated peak or when the SLO is out of reach."""
    from llama_infra.slo_envelope import week_configs

    peak = spec.load.peak_requests_per_second
    if not peak:
        return []
    envelopes = {n.envelope.config.window: n.envelope for n in needs(spec)}
    if any(e.requests_per_second <= 0 for e in envelopes.values()):
        return []
    shape = _shape(spec, on)
    out = []
    configs = week_configs(spec)[:24]  # Monday
    for h in range(24):
        cfg = configs[h]
        ahead_h = math.ceil(floor_lead_s(spec, cfg) / 3600)
        # the hours ahead this configuration still serves (the next one's own lead brings it up before its start)
        busiest = max(shape[(h + k) % 24] for k in range(ahead_h + 1) if configs[(h + k) % 24] == cfg) * peak
        need = replicas_for(envelopes[cfg.window], busiest)[0]
        floor = min(max(need, cfg.min_replicas), cfg.max_replicas)
        forecast = round(shape[h] * peak, 3)
        out.append(
            FloorHour(
                h,
                cfg.window or "day",
                floor,
                forecast,
                _capacity_steps(envelopes[cfg.window], floor, forecast / busiest if busiest > 0 else 0.0),
            )
        )
    return out


def _capacity_steps(e: Envelope, floor: int, scale: float) -> tuple[float, ...]:
    """What 1, 2, … `floor` − 1 replicas of `e`'s configuration carry at SLO (`slo_envelope.fleet_rps`), × `scale`
    (the hour's forecast ÷ the busiest load its floor carries), to 3 decimals, never decreasing."""
    out: list[float] = []
    for n in range(1, floor):
        out.append(max(round(fleet_rps(e, n) * scale, 3), out[-1] if out else 0.0))
    return tuple(out)


def floor_hour_at(spec: DeploymentSpec, floor: list[FloorHour], when: datetime) -> FloorHour | None:
    """The predictive floor's hour in force at `when` (aware), in the plan timezone; None on a weekend (the floor's
    schedules run Monday to Friday) or without a floor."""
    from llama_infra.capacity_plan import plan_timezone
    from llama_infra.schedules import zone

    if not floor:
        return None
    local = when.astimezone(zone(plan_timezone(spec)))
    return None if local.weekday() >= 5 else floor[local.hour]


def floor_at(spec: DeploymentSpec, floor: list[FloorHour], when: datetime) -> int | None:
    """The predictive floor in force at `when` (aware): its weekday hour's replicas (`floor_hour_at`)."""
    hour = floor_hour_at(spec, floor, when)
    return None if hour is None else hour.min_replicas


@dataclass(frozen=True)
class EffectiveTargets:
    """What a configuration's autoscaler runs on: the spec's stated value where it states one, else the derived."""

    configuration: str
    queue_depth_target: float
    queue_depth_target_source: str  # "spec" or "derived"
    kv_cache_target: float | None  # EKS: vLLM's KV-cache share (`gpu_memory_target`); None on SageMaker
    kv_cache_target_source: str


def kv_cache_trigger(n: ConfigNeed, d: DerivedTargets) -> float | None:
    """The derived KV-cache share as an autoscaler trigger: only where the KV cache is what bounds the replica at
    SLO; where prefill queueing or tokens/s bound it first, the share it holds is noise in the cache's use (prod-eks,
    prefill-bound: 0.017, a trigger on any use of the cache). None: no derived trigger."""
    return d.kv_cache_target if n.envelope.limited_by == "KV cache" else None


def effective_targets(spec: DeploymentSpec) -> dict[str | None, EffectiveTargets]:
    """Per configuration (key: window name, None for the day): `scaling.queue_depth_target` and, on EKS,
    `scaling.gpu_memory_target` when the spec states them (explicit values win), else the values derived from the
    configuration's SLO envelope (`derived_targets`) — the KV-cache share only where the KV cache bounds the
    replica at SLO; the field's default where the SLO is out of reach."""
    stated = spec.scaling.model_fields_set
    out: dict[str | None, EffectiveTargets] = {}
    for n, d in zip(needs(spec), derived_targets(spec), strict=True):
        key = n.envelope.config.window
        if "queue_depth_target" in stated or d.queue_depth_target is None:
            q, qs = spec.scaling.queue_depth_target, "spec" if "queue_depth_target" in stated else "default"
        else:
            q, qs = d.queue_depth_target, "derived"
        derived_kv = kv_cache_trigger(n, d)
        if "gpu_memory_target" in stated or derived_kv is None:
            kv, ks = spec.scaling.gpu_memory_target, "spec" if "gpu_memory_target" in stated else "default"
        else:
            kv, ks = derived_kv, "derived"
        out[key] = EffectiveTargets(d.configuration, q, qs, kv, ks)
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


def with_effective_targets(spec: DeploymentSpec, configuration: str | None = None) -> DeploymentSpec:
    """The spec with `scaling.queue_depth_target` (and on EKS `gpu_memory_target`) set to one configuration's
    effective targets (`effective_targets`; default the day's): what the autoscaler of that configuration runs, as
    a spec the scaling renderers read. Explicit values are unchanged."""
    t = effective_targets(spec)[configuration]
    update: dict = {"queue_depth_target": t.queue_depth_target}
    if t.kv_cache_target_source == "derived":  # only EKS derives one (SageMaker has no KV-cache signal)
        update["gpu_memory_target"] = t.kv_cache_target
    return spec.model_copy(update={"scaling": spec.scaling.model_copy(update=update)})
