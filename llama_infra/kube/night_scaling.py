"""KEDA ScaledObjects that switch between the day and night variants (`llama_infra.kube.night`).

- `<name>-<schedule>` (night Deployment): a cron trigger for the window (started early by the night lead time)
  with desired = the window's min replicas, and the whole-service queue-depth / KV-cache triggers, so a busy night
  still scales up to the window's max. KEDA runs the HPA on the largest of the triggers.
- `<name>-baseline` (day baseline Deployment): one cron trigger per night variant for the day (started early by the
  day lead time), desired = capacity.baseline.count; at night every trigger is inactive and KEDA scales the baseline
  to zero after `cooldownPeriod`.

The burst Deployment keeps its ScaledObject (queue above B·t). At night the baseline is gone, so a queue above B·t
also adds burst replicas of the day model beside the night ones: spikes are over-served, never under-served.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_infra.kube import labels, night
from llama_infra.kube.autoscaling import behavior, prometheus_triggers
from llama_infra.kube.workload import namespace_of
from llama_infra.scaling.keda import KedaPolicy
from llama_infra.schedules import Cron

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec


def cron_trigger(name: str, start: Cron, end: Cron, desired_replicas: int) -> dict:
    assert start.timezone == end.timezone
    return {"type": "cron", "name": name, "metadata": {
        "timezone": start.timezone, "start": start.as_kubernetes(), "end": end.as_kubernetes(),
        "desiredReplicas": str(desired_replicas)}}


def _scaled_object(spec: DeploymentSpec, target: str, lo: int, hi: int, triggers: list[dict]) -> dict:
    keda = KedaPolicy.from_spec(spec)
    return {
        "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
        "metadata": {"name": target, "namespace": namespace_of(spec),
                     "labels": {labels.INSTANCE_LABEL: spec.name, **labels.common(spec)}},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
            "minReplicaCount": lo, "maxReplicaCount": hi,
            "pollingInterval": keda.polling_interval_seconds,
            "cooldownPeriod": keda.cooldown_period_seconds,
            "advanced": {"horizontalPodAutoscalerConfig": {"name": f"{target}-keda", "behavior": behavior(spec)}},
            "triggers": triggers,
        },
    }


def night_scaled_object(spec: DeploymentSpec, v: night.NightVariant) -> dict:
    start, end = night.night_crons(spec, v)
    desired = max(1, v.config.min_replicas)
    hi = max(desired, v.config.max_replicas)
    triggers = [cron_trigger("night-window", start, end, desired), *prometheus_triggers(spec, baseline_replicas=0)]
    return _scaled_object(spec, f"{spec.name}-{v.deployment_name}", 0, hi, triggers)


def baseline_scaled_object(spec: DeploymentSpec) -> dict | None:
    """The day baseline on a schedule; None without night variants or without a baseline."""
    vs = night.variants(spec)
    b = spec.capacity.baseline.count
    if not vs or b == 0:
        return None
    triggers = []
    for v in vs:
        start, end = night.day_crons(spec, v)
        triggers.append(cron_trigger(f"day-{v.schedule.name}", start, end, b))
    return _scaled_object(spec, f"{spec.name}-baseline", 0, b, triggers)


def objects(spec: DeploymentSpec) -> list[dict]:
    objs = [night_scaled_object(spec, v) for v in night.variants(spec)]
    base = baseline_scaled_object(spec)
    return objs + ([base] if base else [])
