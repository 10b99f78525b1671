"""The predictive floor on EKS: KEDA `cron` triggers, one per step of the floor, Monday–Friday.

`scaling.floor_schedule` groups `slo_targets.predictive_floor` (replicas of the whole service per weekday hour, in
the plan timezone) into steps of equal hours. Each step becomes a cron trigger (`floor_07_13`: timezone, start
`0 7 * * 1-5`, end `0 13 * * 1-5`). KEDA's cron scaler reports `desiredReplicas` while its interval is active and
1 outside it (`pkg/scalers/cron_scaler.go`); it is active from its start to the next end, so Saturday and Sunday
have no floor. Two renderings, by the ScaledObject's shape:

- **Plain triggers** (the burst Deployment of a spec without windows or a held wake-up, `burst_floor_triggers`;
  `queue_triggers.burst_has_formula`): KEDA hands the HPA
  one metric per trigger and the HPA takes the largest recommendation, so an active cron trigger is a floor under
  the queue's and the KV cache's. It counts burst replicas: desiredReplicas = floor − baseline, and a step whose
  floor the baseline already holds gets no trigger. An inactive trigger's 1 asks for nothing the HPA would not
  keep anyway (its minimum is 1 whenever KEDA has activated the Deployment); an active one also activates a burst
  at `minReplicaCount: 0`.
- **In a `scalingModifiers` formula** (the ScaledObjects of a spec with windows or a held wake-up, `floor_triggers`
  + `floor_term`):
  the composite replaces the per-trigger metrics, so the floor is a term of the formula in replicas of the whole
  service, less what the other Deployments run (`window_scaling._serving`). There the inactive value must read
  as no floor: a trigger carries the step's floor **plus one** (`FLOOR_OFFSET`) and the formula reads
  `max(floor_00_07, floor_07_13, …) - 1` — the step's replicas on a weekday, 0 at the weekend (a plain 1 would hold
  a replica through every weekend night of a configuration that may scale to zero).

Where the formula renders the floor (windows, or a held wake-up), it **follows the load** (`scaling.floor_follow`): each
hour also has a `forecast_HH_HH` cron trigger carrying the hour's forecast in hundredths of a
request per second plus one (`FORECAST_SCALE`; cron's desiredReplicas is a whole number), and a Prometheus trigger
`floor_load` reads the requests per second the servers finished over the last `floor_follow.WINDOW_S`
(`rate(vllm:request_success_total[30m])`, TGI's `tgi_request_success`). The floor term is then
`F × min(1, floor_load × (1 + margin) / FC)` with FC the forecast in requests per second (at least
`MIN_FORECAST_RPS`, so a weekend's FC = 0 divides nothing: F is 0 there too); the HPA's ceil of the composite is the
rule's ⌈…⌉. Plain triggers cannot scale a cron trigger's replicas, so there the floor is as scheduled.

Only KEDA renders it: an HPA (`scaling.autoscaler: hpa`) has no schedule input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_infra.scaling import floor_follow
from llama_infra.targets.kubernetes import keda_formula as f
from llama_infra.targets.kubernetes import prometheus_metrics as metrics
from llama_infra.targets.kubernetes.queue_triggers import (
    burst_has_formula,
    cron_trigger,
    prometheus_trigger,
    scraped_instances,
)
from llama_infra.targets.kubernetes.workload import namespace_of

if TYPE_CHECKING:
    from llama_infra.scaling.floor_schedule import FloorSchedule
    from llama_infra.schedules import Cron
    from llama_infra.spec import DeploymentSpec

FLOOR_PREFIX = "floor_"
FLOOR_OFFSET = 1  # in a formula: desiredReplicas = floor + 1, so an inactive trigger (1) reads as a floor of 0
FORECAST_PREFIX = "forecast_"
FORECAST_SCALE = 100  # a forecast trigger's desiredReplicas: the hour's forecast in 1/100 request/s, + FLOOR_OFFSET
MIN_FORECAST_RPS = 0.01
LOAD_TRIGGER = "floor_load"


def renders_floor(spec: DeploymentSpec) -> bool:
    """KEDA renders the predictive floor; an HPA has no schedule input."""
    return spec.target == "eks" and spec.scaling.autoscaler == "keda"


def follows_load(spec: DeploymentSpec) -> bool:
    """Whether the rendered floor follows the load: where a `scalingModifiers` formula carries it (windows, or a
    held wake-up: `queue_triggers.burst_has_formula`)."""
    return renders_floor(spec) and burst_has_formula(spec)


def follow_period_s(spec: DeploymentSpec) -> float | None:
    """How often the following floor re-reads the load: KEDA's polling interval (None: as scheduled, or none)."""
    if not follows_load(spec) or schedule_of(spec) is None:
        return None
    return float(spec.scaling.polling_interval_seconds)


def schedule_of(spec: DeploymentSpec, hourly: bool = False) -> FloorSchedule | None:
    """The floor's steps where the KEDA autoscaler renders them (None: no floor, or an HPA); `hourly`: one step per
    hour with the hour's forecast (the forecast triggers of a floor that follows the load)."""
    from llama_infra.scaling.floor_schedule import floor_schedule

    return floor_schedule(spec, follows_load=hourly) if renders_floor(spec) else None


def _trigger(step_label: str, start: Cron, end: Cron, desired_replicas: int) -> dict:
    return cron_trigger(f.identifier(FLOOR_PREFIX + step_label), start, end, desired_replicas)


def burst_floor_triggers(spec: DeploymentSpec) -> list[dict]:
    """Plain cron triggers of the burst Deployment (no formula): each step's floor less the baseline's replicas,
    for the steps the baseline does not already hold."""
    sched = schedule_of(spec)
    if sched is None:
        return []
    b = spec.capacity.baseline.count
    return [_trigger(s.label, s.start, s.end, s.min_replicas - b) for s in sched.steps if s.min_replicas > b]


def load_query(spec: DeploymentSpec) -> str:
    """Requests per second the service's servers finished over the floor's trailing window (0 while they are
    scraped but export nothing yet; an error when Prometheus has no target: `metrics.zero_while_scraped`)."""
    m = metrics.server_metrics(spec.model.framework)
    window = f"{floor_follow.WINDOW_S // 60}m"
    total = f"sum(rate({m.requests_finished}{{{metrics.selector(namespace_of(spec), spec.name)}}}[{window}]))"
    return metrics.zero_while_scraped(total, namespace_of(spec), scraped_instances(spec))


def load_trigger(spec: DeploymentSpec) -> dict:
    return prometheus_trigger(spec, LOAD_TRIGGER, load_query(spec), 1.0)  # threshold unused: the formula's applies


def _step_triggers(spec: DeploymentSpec) -> list[dict]:
    """One cron trigger per step of the floor, floor + `FLOOR_OFFSET`."""
    sched = schedule_of(spec)
    if sched is None:
        return []
    return [_trigger(s.label, s.start, s.end, s.min_replicas + FLOOR_OFFSET) for s in sched.steps]


def _forecast_triggers(spec: DeploymentSpec) -> list[dict]:
    """Where the floor follows the load: one cron trigger per hour, its forecast × `FORECAST_SCALE` +
    `FLOOR_OFFSET`."""
    hours = schedule_of(spec, hourly=True) if follows_load(spec) else None
    if hours is None:
        return []
    return [
        cron_trigger(
            f.identifier(FORECAST_PREFIX + h.label),
            h.start,
            h.end,
            round(h.forecast_rps * FORECAST_SCALE) + FLOOR_OFFSET,
        )
        for h in hours.steps
    ]


def floor_triggers(spec: DeploymentSpec) -> list[dict]:
    """Triggers a `scalingModifiers` formula reads (`floor_term`): the floor's steps; where it follows the load,
    the hourly forecasts and the load trigger."""
    steps = _step_triggers(spec)
    forecasts = _forecast_triggers(spec) if steps else []
    return steps + forecasts + ([load_trigger(spec)] if forecasts else [])


def floor_term(spec: DeploymentSpec) -> str | None:
    """The floor in force, in replicas of the whole service, as a formula term (None without a floor)."""
    steps = [t["name"] for t in _step_triggers(spec)]
    if not steps:
        return None
    scheduled = f.minus(f.largest(*steps), FLOOR_OFFSET)
    forecasts = [t["name"] for t in _forecast_triggers(spec)]
    if not forecasts:
        return scheduled
    forecast_rps = f"max(({f.minus(f.largest(*forecasts), FLOOR_OFFSET)}) / {FORECAST_SCALE}, {MIN_FORECAST_RPS:g})"
    share = f"{LOAD_TRIGGER} * {1 + floor_follow.MARGIN:g} / {forecast_rps}"
    return f"({scheduled}) * {f.smallest('1', share)}"
