"""Queue-depth autoscaling of the burst Deployment: an HPA (External metrics from prometheus-adapter) or a KEDA
ScaledObject (Prometheus triggers), plus the adapter's rules. How Prometheus finds the pods is
`monitoring`; the triggers and the ScaledObject shape they share with the window Deployments', `queue_triggers`.

Every metric name and query comes from `prometheus_metrics`, so the monitors' keep-list, the adapter rule and the
HPA / ScaledObject cannot disagree. The math is in `prometheus_metrics` and docs/eks.md: the External metric is
the queue above what the baseline absorbs, with an `AverageValue` target of the per-replica queue, so
desired burst replicas = ceil(total queue / target) − baseline replicas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_infra.capacity_plan import scales_to_zero
from llama_infra.scaling.keda import KedaPolicy
from llama_infra.targets.kubernetes import labels
from llama_infra.targets.kubernetes import prometheus_metrics as metrics
from llama_infra.targets.kubernetes.floor_triggers import burst_floor_triggers
from llama_infra.targets.kubernetes.queue_triggers import (
    autoscaler_query,
    behavior,
    burst_has_formula,
    keda_scaled_object,
    prometheus_triggers,
    scaling_queries,
    scraped_instances,
    wake_trigger,
)
from llama_infra.targets.kubernetes.window_scaling import burst_scaling
from llama_infra.targets.kubernetes.workload import burst_replica_bounds, namespace_of

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec


def quantity(x: float) -> str:
    """A Kubernetes quantity: 5 → "5", 0.85 → "850m"."""
    if float(x).is_integer():
        return str(int(x))
    return f"{round(x * 1000)}m"


def burst_name(spec: DeploymentSpec) -> str:
    return f"{spec.name}-burst"


def _metadata(spec: DeploymentSpec) -> dict:
    meta: dict = {
        "name": burst_name(spec),
        "namespace": namespace_of(spec),
        "labels": {labels.INSTANCE_LABEL: spec.name, **labels.common(spec)},
    }
    b = spec.capacity.baseline.count
    if b >= 2:
        # The policy pack's prod floor is for an autoscaler that owns every replica; this one owns only the burst.
        meta["annotations"] = {
            labels.POLICY_EXEMPT_ANNOTATION: (
                f"prod-baseline-min-instances:the baseline Deployment {spec.name}-baseline keeps {b} replicas on "
                "reserved nodes; this autoscaler scales only the burst above it"
            )
        }
    return meta


def horizontal_pod_autoscaler(spec: DeploymentSpec) -> dict | None:
    lo, hi = burst_replica_bounds(spec)
    if hi == 0:
        return None
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(spec),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": burst_name(spec)},
            "minReplicas": max(1, lo),  # the spec rejects hpa with a zero burst minimum
            "maxReplicas": hi,
            "metrics": [
                {
                    "type": "External",
                    "external": {
                        "metric": {"name": q.external_metric_name},
                        "target": {"type": "AverageValue", "averageValue": quantity(q.target_per_replica)},
                    },
                }
                for q in scaling_queries(spec)
            ],
            "behavior": behavior(spec),
        },
    }


def keda_fallback_replicas(spec: DeploymentSpec) -> int:
    """Burst replicas KEDA holds when Prometheus cannot answer: what the stated peak load needs (capacity plan),
    within the burst bounds, so a broken metric pipeline neither drops the burst nor buys the maximum."""
    from llama_infra.capacity_plan import peak_demand_replicas

    lo, hi = burst_replica_bounds(spec)
    return min(hi, max(lo, 1, peak_demand_replicas(spec) - spec.capacity.baseline.count))


def scaled_object(spec: DeploymentSpec) -> dict | None:
    """The burst's ScaledObject: the queue above the baseline (plus the router's wake-up when the service may run no
    replica) and the predictive floor's cron triggers (`floor_triggers.burst_floor_triggers`); with downsizing
    windows, or where a queue must hold before it wakes the burst from zero, one `scalingModifiers` formula
    (`window_scaling.burst_scaling`, `queue_triggers.burst_has_formula`)."""
    assert spec.eks is not None
    lo, hi = burst_replica_bounds(spec)
    modifiers = None
    if burst_has_formula(spec):
        windowed = burst_scaling(spec)
        if windowed is None:
            return None
        hi, triggers, modifiers = windowed
        lo = 0  # each window's floor is in the formula
    else:
        triggers = (
            prometheus_triggers(spec)
            + ([wake_trigger(spec)] if scales_to_zero(spec) else [])
            + burst_floor_triggers(spec)
        )
    if hi == 0:
        return None
    keda = KedaPolicy.from_spec(spec)
    fallback = {"failureThreshold": keda.failure_threshold, "replicas": keda_fallback_replicas(spec)}
    return keda_scaled_object(spec, _metadata(spec), lo, hi, triggers, fallback=fallback, modifiers=modifiers)


def adapter_external_rules(spec: DeploymentSpec) -> list[dict]:
    """prometheus-adapter `rules.external` entries serving each query under its External metric name.

    The adapter serves an external metric only once its `seriesQuery` found a series (relisted every
    `metricsRelistInterval`). Discovering on the pods' `up` series, which exists from the moment Prometheus has a
    target, keeps the metric available while the servers still load (the query then reads 0)."""
    return [
        {
            "seriesQuery": metrics.scraped(namespace_of(spec), scraped_instances(spec)),
            "resources": {"namespaced": False},
            "name": {"matches": "^up$", "as": q.external_metric_name},
            "metricsQuery": autoscaler_query(spec, q),
        }
        for q in scaling_queries(spec)
    ]


__all__ = [
    "adapter_external_rules",
    "autoscaler_query",
    "behavior",
    "burst_name",
    "horizontal_pod_autoscaler",
    "keda_fallback_replicas",
    "keda_scaled_object",
    "prometheus_triggers",
    "quantity",
    "scaled_object",
    "scaling_queries",
    "scraped_instances",
    "wake_trigger",
]
