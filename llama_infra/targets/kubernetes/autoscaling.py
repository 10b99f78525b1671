"""Queue-depth autoscaling of the burst Deployment: an HPA (External metrics from prometheus-adapter) or a KEDA
ScaledObject (Prometheus triggers), plus the adapter's rules. How Prometheus finds the pods is
`llama_infra.targets.kubernetes.monitoring`.

Every metric name and query comes from `llama_infra.targets.kubernetes.prometheus_metrics`, so the monitors' keep-list, the adapter rule and the
HPA / ScaledObject cannot disagree. The math is in `llama_infra.targets.kubernetes.prometheus_metrics` and docs/eks.md: the External metric is
the queue above what the baseline absorbs, with an `AverageValue` target of the per-replica queue, so
desired burst replicas = ceil(total queue / target) − baseline replicas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_infra.targets.kubernetes import prometheus_metrics as metrics
from llama_infra.capacity_plan import scales_to_zero
from llama_infra.targets.kubernetes import labels
from llama_infra.targets.kubernetes.workload import burst_replica_bounds, namespace_of
from llama_infra.scaling.hpa import HpaPolicy
from llama_infra.scaling.keda import KedaPolicy

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec


def scaling_queries(spec: DeploymentSpec, baseline_replicas: int | None = None) -> list[metrics.ScalingQuery]:
    """The burst's queries (the queue above the baseline's share); `baseline_replicas=0` for the whole service."""
    sc = spec.scaling
    b = spec.capacity.baseline.count if baseline_replicas is None else baseline_replicas
    return metrics.scaling_queries(spec.model.framework, namespace_of(spec), spec.name, b,
                                   sc.queue_depth_target, sc.gpu_memory_target)


def scraped_instances(spec: DeploymentSpec) -> list[str]:
    """The services whose Prometheus targets show the metric pipeline works: the model servers, and the router
    (which always runs) where the service may have no model pod at all."""
    from llama_infra.targets.kubernetes import router

    return [spec.name, *([router.name_of(spec)] if router.needed(spec) else [])]


def autoscaler_query(spec: DeploymentSpec, q: metrics.ScalingQuery) -> str:
    """What KEDA and prometheus-adapter run: the query, 0 while it is empty but the pods are scraped (start-up,
    scaled to zero), still empty (an error) when Prometheus has no target (`metrics.zero_while_scraped`)."""
    return metrics.zero_while_scraped(q.promql, namespace_of(spec), scraped_instances(spec))


def prometheus_triggers(spec: DeploymentSpec, baseline_replicas: int | None = None) -> list[dict]:
    """KEDA Prometheus triggers of `scaling_queries`, named so a `scalingModifiers` formula can use them.

    An empty metric at start-up (servers loading) or with no model pod reads 0, so it neither pins the burst at the
    fallback nor wakes a service scaled to zero; an empty result with no scraped target is an error (→ fallback
    after `failureThreshold` polls), not a zero that would hide a broken pipeline (`autoscaler_query`)."""
    assert spec.eks is not None
    return [{
        "type": "prometheus", "name": q.trigger_name, "metricType": "AverageValue",
        "metadata": {"serverAddress": spec.eks.prometheus_url, "query": autoscaler_query(spec, q),
                     "threshold": _num(q.target_per_replica), "activationThreshold": "0",
                     "ignoreNullValues": "false"},
    } for q in scaling_queries(spec, baseline_replicas)]


def wake_trigger(spec: DeploymentSpec) -> dict:
    """1 replica while the router saw a request in the last `metrics.WAKE_IDLE_SECONDS` (threshold 1, value 0/1):
    wakes a Deployment scaled to zero and keeps it while light traffic never queues."""
    assert spec.eks is not None
    from llama_infra.targets.kubernetes import router

    return {"type": "prometheus", "name": "wake", "metricType": "AverageValue",
            "metadata": {"serverAddress": spec.eks.prometheus_url,
                         "query": metrics.recent_request_query(namespace_of(spec), router.name_of(spec)),
                         "threshold": "1", "activationThreshold": "0", "ignoreNullValues": "false"}}


def quantity(x: float) -> str:
    """A Kubernetes quantity: 5 → "5", 0.85 → "850m"."""
    if float(x).is_integer():
        return str(int(x))
    return f"{round(x * 1000)}m"


def behavior(spec: DeploymentSpec) -> dict:
    """HPA `behavior` (also KEDA's HPA config): the same `HpaPolicy` the simulator runs."""
    return HpaPolicy.from_spec(spec).behavior_manifest()


def burst_name(spec: DeploymentSpec) -> str:
    return f"{spec.name}-burst"


def _metadata(spec: DeploymentSpec) -> dict:
    meta: dict = {"name": burst_name(spec), "namespace": namespace_of(spec),
                  "labels": {labels.INSTANCE_LABEL: spec.name, **labels.common(spec)}}
    b = spec.capacity.baseline.count
    if b >= 2:
        # The policy pack's prod floor is for an autoscaler that owns every replica; this one owns only the burst.
        meta["annotations"] = {labels.POLICY_EXEMPT_ANNOTATION: (
            f"prod-baseline-min-instances:the baseline Deployment {spec.name}-baseline keeps {b} replicas on "
            "reserved nodes; this autoscaler scales only the burst above it")}
    return meta


def horizontal_pod_autoscaler(spec: DeploymentSpec) -> dict | None:
    lo, hi = burst_replica_bounds(spec)
    if hi == 0:
        return None
    return {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(spec),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": burst_name(spec)},
            "minReplicas": max(1, lo),  # the spec rejects hpa with a zero burst minimum
            "maxReplicas": hi,
            "metrics": [{"type": "External", "external": {
                "metric": {"name": q.external_metric_name},
                "target": {"type": "AverageValue", "averageValue": quantity(q.target_per_replica)}}}
                for q in scaling_queries(spec)],
            "behavior": behavior(spec),
        },
    }


def keda_fallback_replicas(spec: DeploymentSpec) -> int:
    """Burst replicas KEDA holds when Prometheus cannot answer: what the stated peak load needs (capacity plan),
    within the burst bounds, so a broken metric pipeline neither drops the burst nor buys the maximum."""
    from llama_infra.capacity_plan import peak_demand_replicas

    lo, hi = burst_replica_bounds(spec)
    return min(hi, max(lo, 1, peak_demand_replicas(spec) - spec.capacity.baseline.count))


def keda_scaled_object(spec: DeploymentSpec, metadata: dict, lo: int, hi: int, triggers: list[dict], *,
                       fallback: dict | None = None, modifiers: dict | None = None) -> dict:
    """A KEDA ScaledObject on the Deployment `metadata` names: polling, cooldown and HPA behaviour from the spec
    (`KedaPolicy`, `HpaPolicy`, what the simulator runs), the same for the burst and the window Deployments."""
    target = metadata["name"]
    keda = KedaPolicy.from_spec(spec)
    advanced: dict = {"horizontalPodAutoscalerConfig": {"name": f"{target}-keda", "behavior": behavior(spec)}}
    if modifiers:
        advanced["scalingModifiers"] = modifiers
    body: dict = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
        "minReplicaCount": lo, "maxReplicaCount": hi,
        "pollingInterval": keda.polling_interval_seconds,
        "cooldownPeriod": keda.cooldown_period_seconds,  # last replica → 0 after this long inactive
    }
    if fallback:
        body["fallback"] = fallback
    body |= {"advanced": advanced, "triggers": triggers}
    return {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": metadata, "spec": body}


def scaled_object(spec: DeploymentSpec) -> dict | None:
    """The burst's ScaledObject: the queue above the baseline (plus the router's wake-up when the service may run no
    replica); with downsizing windows, one `scalingModifiers` formula per window (`night_scaling.burst_scaling`)."""
    assert spec.eks is not None
    lo, hi = burst_replica_bounds(spec)
    modifiers = None
    if spec.schedules:
        from llama_infra.targets.kubernetes.window_scaling import burst_scaling

        windowed = burst_scaling(spec)
        if windowed is None:
            return None
        hi, triggers, modifiers = windowed
        lo = 0  # each window's floor is in the formula
    else:
        triggers = prometheus_triggers(spec) + ([wake_trigger(spec)] if scales_to_zero(spec) else [])
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
    return [{
        "seriesQuery": metrics.scraped(namespace_of(spec), scraped_instances(spec)),
        "resources": {"namespaced": False},
        "name": {"matches": "^up$", "as": q.external_metric_name},
        "metricsQuery": autoscaler_query(spec, q),
    } for q in scaling_queries(spec)]


def _num(x: float) -> str:
    return f"{x:g}"
