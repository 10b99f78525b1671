"""The queue-depth signal as the autoscalers read it: the queries, KEDA's Prometheus, wake and cron triggers, the HPA
behaviour, and the ScaledObject shape that the burst and every window Deployment share.

`autoscaling` builds the burst's HPA or ScaledObject from these; `window_scaling` the window Deployments'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_infra.scaling.hpa import HpaPolicy
from llama_infra.scaling.keda import KedaPolicy
from llama_infra.targets.kubernetes import prometheus_metrics as metrics
from llama_infra.targets.kubernetes.workload import burst_replica_bounds, namespace_of

if TYPE_CHECKING:
    from llama_infra.schedules import Cron
    from llama_infra.spec import DeploymentSpec


def scaling_queries(
    spec: DeploymentSpec, baseline_replicas: int | None = None, configuration: str | None = None
) -> list[metrics.ScalingQuery]:
    """The burst's queries (the queue above the baseline's share); `baseline_replicas=0` for the whole service.
    Their per-replica targets are the configuration's (None: the day's) effective targets
    (`slo_targets.effective_targets`, what the simulator runs): the spec's `queue_depth_target` and
    `gpu_memory_target` where it states them, else the ones derived from that configuration's SLO envelope."""
    from llama_infra.slo_targets import effective_targets

    targets = effective_targets(spec)
    t = targets.get(configuration, targets[None])
    b = spec.capacity.baseline.count if baseline_replicas is None else baseline_replicas
    return metrics.scaling_queries(
        spec.model.framework, namespace_of(spec), spec.name, b, t.queue_depth_target, t.kv_cache_target
    )


def scraped_instances(spec: DeploymentSpec) -> list[str]:
    """The services whose Prometheus targets show the metric pipeline works: the model servers, and the router
    (which always runs) where the service may have no model pod at all."""
    from llama_infra.targets.kubernetes import router

    return [spec.name, *([router.name_of(spec)] if router.needed(spec) else [])]


def autoscaler_query(spec: DeploymentSpec, q: metrics.ScalingQuery) -> str:
    """What KEDA and prometheus-adapter run: the query, 0 while it is empty but the pods are scraped (start-up,
    scaled to zero), still empty (an error) when Prometheus has no target (`metrics.zero_while_scraped`)."""
    return metrics.zero_while_scraped(q.promql, namespace_of(spec), scraped_instances(spec))


def prometheus_triggers(
    spec: DeploymentSpec, baseline_replicas: int | None = None, configurations: tuple[str | None, ...] = (None,)
) -> list[dict]:
    """KEDA Prometheus triggers of `scaling_queries`, named so a `scalingModifiers` formula can use them: one per
    signal any of `configurations` scales on (a formula divides each by its configuration's own target; the
    trigger's `threshold` is the first configuration's).

    An empty metric at start-up (servers loading) or with no model pod reads 0, so it neither pins the burst at the
    fallback nor wakes a service scaled to zero; an empty result with no scraped target is an error (→ fallback
    after `failureThreshold` polls), not a zero that would hide a broken pipeline (`autoscaler_query`)."""
    return [
        prometheus_trigger(spec, q.trigger_name, autoscaler_query(spec, q), q.target_per_replica)
        for q in _union(spec, baseline_replicas, configurations)
    ]


def prometheus_trigger(spec: DeploymentSpec, name: str, query: str, threshold: float) -> dict:
    """A KEDA Prometheus trigger on the spec's Prometheus: active above 0, an empty result an error
    (`ignoreNullValues: false`, see `prometheus_triggers`)."""
    assert spec.eks is not None
    return {
        "type": "prometheus",
        "name": name,
        "metricType": "AverageValue",
        "metadata": {
            "serverAddress": spec.eks.prometheus_url,
            "query": query,
            "threshold": _num(threshold),
            "activationThreshold": "0",
            "ignoreNullValues": "false",
        },
    }


def _union(
    spec: DeploymentSpec, baseline_replicas: int | None, configurations: tuple[str | None, ...]
) -> list[metrics.ScalingQuery]:
    seen: dict[str, metrics.ScalingQuery] = {}
    for c in configurations:
        for q in scaling_queries(spec, baseline_replicas, c):
            seen.setdefault(q.trigger_name, q)
    return list(seen.values())


QUEUE_HELD_TRIGGER = "queue_depth_held"
SERVING_TRIGGER = "serving_replicas"


def wake_hold_seconds(spec: DeploymentSpec) -> int:
    """How long the queue must hold before it wakes a Deployment that has no serving replica: the spec's scale-up
    stabilization (0: at once). KEDA decides 0 → 1 itself, on the value it polls, before any HPA exists, so the
    HPA's scale-up window never applies to the first replica; a formula reads the held queue there instead."""
    return spec.scaling.scale_up_stabilization_seconds


def burst_has_formula(spec: DeploymentSpec) -> bool:
    """Whether the burst's ScaledObject is one `scalingModifiers` formula: with downsizing windows (their gates), or
    where a queue must hold before it wakes a burst that may be at zero (`wake_hold_seconds`: KEDA's activation
    reads the one composite, so only a formula can make it read the held queue). Otherwise plain triggers."""
    if spec.target != "eks" or spec.scaling.autoscaler != "keda":
        return False
    return bool(spec.schedules) or (wake_hold_seconds(spec) > 0 and burst_replica_bounds(spec)[0] == 0)


def held_queue_triggers(spec: DeploymentSpec, configurations: tuple[str | None, ...] = (None,)) -> list[dict]:
    """With a hold (`wake_hold_seconds`): the whole service's queue as its least value over the hold
    (`metrics.held`, sampled at KEDA's polling interval) and the count of serving model pods
    (`metrics.serving_pods_query`), the two values a formula's queue term chooses between
    (`window_scaling._need`). None (an empty list) without a hold."""
    hold = wake_hold_seconds(spec)
    if hold <= 0:
        return []
    queue = next(q for q in _union(spec, 0, configurations) if q.role == "queue-depth")
    resolution = KedaPolicy.from_spec(spec).polling_interval_seconds

    return [
        prometheus_trigger(
            spec,
            QUEUE_HELD_TRIGGER,
            metrics.held(autoscaler_query(spec, queue), hold, resolution),
            queue.target_per_replica,
        ),
        prometheus_trigger(spec, SERVING_TRIGGER, metrics.serving_pods_query(namespace_of(spec), spec.name), 1.0),
    ]


def cron_trigger(name: str, start: Cron, end: Cron, desired_replicas: int) -> dict:
    """A KEDA cron trigger in the crons' IANA timezone (5 fields): `desiredReplicas` while active, 1 otherwise
    (window gates, `window_scaling`; the predictive floor, `floor_triggers`)."""
    assert start.timezone == end.timezone
    return {
        "type": "cron",
        "name": name,
        "metadata": {
            "timezone": start.timezone,
            "start": start.as_kubernetes(),
            "end": end.as_kubernetes(),
            "desiredReplicas": str(desired_replicas),
        },
    }


def wake_trigger(spec: DeploymentSpec) -> dict:
    """1 replica while the router saw a request in the last `metrics.WAKE_IDLE_SECONDS` (threshold 1, value 0/1):
    wakes a Deployment scaled to zero and keeps it while light traffic never queues."""
    from llama_infra.targets.kubernetes import router

    query = metrics.recent_request_query(namespace_of(spec), router.name_of(spec))
    return prometheus_trigger(spec, "wake", query, 1.0)


def behavior(spec: DeploymentSpec) -> dict:
    """HPA `behavior` (also KEDA's HPA config): the same `HpaPolicy` the simulator runs."""
    return HpaPolicy.from_spec(spec).behavior_manifest()


def keda_scaled_object(
    spec: DeploymentSpec,
    metadata: dict,
    lo: int,
    hi: int,
    triggers: list[dict],
    *,
    fallback: dict | None = None,
    modifiers: dict | None = None,
) -> dict:
    """A KEDA ScaledObject on the Deployment `metadata` names: polling, cooldown and HPA behaviour from the spec
    (`KedaPolicy`, `HpaPolicy`, what the simulator runs), the same for the burst and the window Deployments."""
    target = metadata["name"]
    keda = KedaPolicy.from_spec(spec)
    advanced: dict = {"horizontalPodAutoscalerConfig": {"name": f"{target}-keda", "behavior": behavior(spec)}}
    if modifiers:
        advanced["scalingModifiers"] = modifiers
    body: dict = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
        "minReplicaCount": lo,
        "maxReplicaCount": hi,
        "pollingInterval": keda.polling_interval_seconds,
        "cooldownPeriod": keda.cooldown_period_seconds,  # last replica → 0 after this long inactive
    }
    if fallback:
        body["fallback"] = fallback
    body |= {"advanced": advanced, "triggers": triggers}
    return {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": metadata, "spec": body}


def _num(x: float) -> str:
    return f"{x:g}"
