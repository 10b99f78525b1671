"""The predictive floor on EKS: KEDA `cron` triggers, one per step of the floor, Monday–Friday.

`scaling.floor_schedule` groups `slo_targets.predictive_floor` (replicas of the whole service per weekday hour, in
the plan timezone) into steps of equal hours. Each step becomes a cron trigger (`floor_07_13`: timezone, start
`0 7 * * 1-5`, end `0 13 * * 1-5`). KEDA's cron scaler reports `desiredReplicas` while its interval is active and
1 outside it (`pkg/scalers/cron_scaler.go`); it is active from its start to the next end, so Saturday and Sunday
have no floor. Two renderings, by the ScaledObject's shape:

- **Plain triggers** (the burst Deployment of a spec without windows, `burst_floor_triggers`): KEDA hands the HPA
  one metric per trigger and the HPA takes the largest recommendation, so an active cron trigger is a floor under
  the queue's and the KV cache's. It counts burst replicas: desiredReplicas = floor − baseline, and a step whose
  floor the baseline already holds gets no trigger. An inactive trigger's 1 asks for nothing the HPA would not
  keep anyway (its minimum is 1 whenever KEDA has activated the Deployment); an active one also activates a burst
  at `minReplicaCount: 0`.
- **In a `scalingModifiers` formula** (the ScaledObjects of a spec with windows, `floor_triggers` + `floor_term`):
  the composite replaces the per-trigger metrics, so the floor is a term of the formula in replicas of the whole
  service, less what the other Deployments run (`window_scaling._serving`). There the inactive value must read
  as no floor: a trigger carries the step's floor **plus one** (`FLOOR_OFFSET`) and the formula reads
  `max(floor_00_07, floor_07_13, …) - 1` — the step's replicas on a weekday, 0 at the weekend (a plain 1 would hold
  a replica through every weekend night of a configuration that may scale to zero).

Only KEDA renders it: an HPA (`scaling.autoscaler: hpa`) has no schedule input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_infra.targets.kubernetes import keda_formula as f
from llama_infra.targets.kubernetes.queue_triggers import cron_trigger

if TYPE_CHECKING:
    from llama_infra.scaling.floor_schedule import FloorSchedule
    from llama_infra.schedules import Cron
    from llama_infra.spec import DeploymentSpec

FLOOR_PREFIX = "floor_"
FLOOR_OFFSET = 1  # in a formula: desiredReplicas = floor + 1, so an inactive trigger (1) reads as a floor of 0


def renders_floor(spec: DeploymentSpec) -> bool:
    """KEDA renders the predictive floor; an HPA has no schedule input."""
    return spec.target == "eks" and spec.scaling.autoscaler == "keda"


def schedule_of(spec: DeploymentSpec) -> FloorSchedule | None:
    """The floor's steps where the KEDA autoscaler renders them (None: no floor, or an HPA)."""
    from llama_infra.scaling.floor_schedule import floor_schedule

    return floor_schedule(spec) if renders_floor(spec) else None


def _trigger(step_label: str, start: Cron, end: Cron, desired_replicas: int) -> dict:
    return cron_trigger(f.identifier(FLOOR_PREFIX + step_label), start, end, desired_replicas)


def burst_floor_triggers(spec: DeploymentSpec) -> list[dict]:
    """Plain cron triggers of the burst Deployment (no windows): each step's floor less the baseline's replicas,
    for the steps the baseline does not already hold."""
    sched = schedule_of(spec)
    if sched is None:
        return []
    b = spec.capacity.baseline.count
    return [_trigger(s.label, s.start, s.end, s.min_replicas - b) for s in sched.steps if s.min_replicas > b]


def floor_triggers(spec: DeploymentSpec) -> list[dict]:
    """Cron triggers a `scalingModifiers` formula reads (`floor_term`): one per step, floor + `FLOOR_OFFSET`."""
    sched = schedule_of(spec)
    if sched is None:
        return []
    return [_trigger(s.label, s.start, s.end, s.min_replicas + FLOOR_OFFSET) for s in sched.steps]


def floor_term(spec: DeploymentSpec) -> str | None:
    """The floor in force, in replicas of the whole service, as a formula term (None without a floor)."""
    names = [t["name"] for t in floor_triggers(spec)]
    if not names:
        return None
    return f.minus(f.largest(*names), FLOOR_OFFSET)


def is_floor_trigger(trigger_name: str) -> bool:
    return trigger_name.startswith(FLOOR_PREFIX)
