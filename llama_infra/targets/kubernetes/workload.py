"""The serving workload as Kubernetes objects: baseline and burst Deployments, Service, PDB, ServiceAccount.

Two Deployments share the pod label `app.kubernetes.io/instance=<name>` (the Service, the PDB and the metric
queries select on it):
- `<name>-baseline`: fixed replicas = capacity.baseline.count, `nodeSelector` capacity=baseline (the reserved
  managed node group). Nothing autoscales it, so the reserved GPUs are always serving.
- `<name>-burst`: scaled by the HPA / KEDA on the queue above what the baseline absorbs
  (`llama_infra.targets.kubernetes.prometheus_metrics`);
  required on burst nodes, preferring spot (Karpenter then falls back to the on-demand pool).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_infra import catalog, sizing
from llama_infra.targets.kubernetes import labels, scale_in_order, server

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec


def namespace_of(spec: DeploymentSpec) -> str:
    assert spec.eks is not None
    return spec.eks.namespace


def _meta(spec: DeploymentSpec, name: str, extra_labels: dict | None = None) -> dict:
    return {
        "name": name,
        "namespace": namespace_of(spec),
        "labels": {labels.INSTANCE_LABEL: spec.name, **labels.common(spec), **(extra_labels or {})},
    }


def burst_replica_bounds(spec: DeploymentSpec) -> tuple[int, int]:
    """(min, max) replicas of the burst Deployment: the spec's totals minus the baseline."""
    b = spec.capacity.baseline.count
    return max(0, spec.min_replicas - b), max(0, spec.max_replicas - b)


def namespace(spec: DeploymentSpec) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": namespace_of(spec), "labels": labels.common(spec)},
    }


def service_account(spec: DeploymentSpec) -> dict:
    """Pods read the weights from S3 through EKS Pod Identity bound to this account (no node credentials)."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(spec, spec.name),
        "automountServiceAccountToken": False,
    }


def _pod_template(spec: DeploymentSpec, tier: str, instance_types: list[str]) -> dict:
    pod_labels = labels.pod_labels(spec.name, tier)
    pod_spec: dict = {
        "serviceAccountName": spec.name,
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "terminationGracePeriodSeconds": server.TERMINATION_GRACE_SECONDS,
        "tolerations": [dict(labels.GPU_TOLERATION)],
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": labels.ZONE,
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {labels.INSTANCE_LABEL: spec.name, labels.TIER_LABEL: tier}},
            }
        ],
        "initContainers": server.init_containers(spec),
        "containers": [server.container(spec, instance_types)],
        "volumes": server.volumes(spec),
    }
    if tier == "baseline":
        pod_spec["nodeSelector"] = {labels.CAPACITY_LABEL: "baseline"}
    else:
        pod_spec["affinity"] = {"nodeAffinity": _burst_affinity(spec)}
    return {
        "metadata": {
            "labels": pod_labels,
            "annotations": {
                # Karpenter never evicts a serving (or still loading) replica to consolidate or replace a node;
                # spot interruptions are involuntary and still drain it within the grace period.
                labels.DO_NOT_DISRUPT: "true",
                # No prometheus.io/* annotations: kube-prometheus-stack ignores them, and a Prometheus that reads
                # them would scrape the pod a second time next to its PodMonitor, doubling every sum.
            },
        },
        "spec": pod_spec,
    }


def _burst_affinity(spec: DeploymentSpec) -> dict:
    assert spec.eks is not None
    required = {
        "nodeSelectorTerms": [
            {"matchExpressions": [{"key": labels.CAPACITY_LABEL, "operator": "In", "values": ["burst"]}]}
        ]
    }
    if spec.eks.karpenter:
        prefer = {"key": labels.KARPENTER_CAPACITY_TYPE, "operator": "In", "values": ["spot"]}
    else:
        prefer = {"key": labels.EKS_CAPACITY_TYPE, "operator": "In", "values": ["SPOT"]}
    return {
        "requiredDuringSchedulingIgnoredDuringExecution": required,
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "preference": {"matchExpressions": [prefer]}}
        ],
    }


def gpu_memory_headroom(spec: DeploymentSpec, instance_types: list[str]) -> float:
    """Planned free GPU memory fraction of a replica (weights + overhead on TP GPUs), the tightest type first."""
    m = spec.model
    fits = [
        sizing.fit(m.params_b, m.precision, g, spec.tp_degree, m.memory_overhead_fraction)
        for t in instance_types
        if (g := catalog.lookup(t))
    ]
    return min(f.headroom_fraction for f in fits)


def _rollout(tier: str) -> dict:
    """Burst: surge one replica before removing one (Karpenter adds a node; a replica takes minutes to load).
    Baseline: replace one at a time: the reserved nodes are full, a surge pod would wait forever for a GPU and the
    rollout would never progress; the burst autoscaler covers the replica being replaced."""
    if tier == "baseline":
        return {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}
    return {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}


def model_deployment(
    spec: DeploymentSpec, tier: str, replicas: int, instance_types: list[str], name: str | None = None
) -> dict:
    """A model-server Deployment of `spec`'s model. `tier` baseline runs on the reserved nodes, any other tier
    (burst, fallback, a night variant) on burst capacity. Default name: `<spec.name>-<tier>`."""
    selector = {labels.INSTANCE_LABEL: spec.name, labels.TIER_LABEL: tier}
    metadata = _meta(spec, name or f"{spec.name}-{tier}", {labels.TIER_LABEL: tier})
    metadata["annotations"] = {labels.GPU_HEADROOM_ANNOTATION: f"{gpu_memory_headroom(spec, instance_types):.2f}"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector},
            "strategy": _rollout(tier),
            "progressDeadlineSeconds": max(
                600, server.startup_failure_threshold(spec) * server.STARTUP_PROBE_PERIOD_SECONDS + 300
            ),
            "template": _pod_template(spec, tier, instance_types),
        },
    }


def baseline_deployment(spec: DeploymentSpec) -> dict | None:
    if spec.capacity.baseline.count == 0:
        return None
    return model_deployment(spec, "baseline", spec.capacity.baseline.count, [spec.capacity.baseline.instance_type])


def burst_deployment(spec: DeploymentSpec) -> dict | None:
    """Initial replicas = the burst minimum; afterwards the autoscaler owns `spec.replicas`. On spot with an on-demand
    fallback, on-demand replicas leave first when it scales in (`scale_in_order`)."""
    lo, hi = burst_replica_bounds(spec)
    if hi == 0:
        return None
    return scale_in_order.add_to(spec, model_deployment(spec, "burst", lo, spec.burst_instance_types))


def service(spec: DeploymentSpec) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(spec, spec.name),
        "spec": {
            "type": "ClusterIP",
            "selector": {labels.INSTANCE_LABEL: spec.name},
            "ports": [{"name": "http", "port": 80, "targetPort": server.PORT_NAME, "protocol": "TCP"}],
        },
    }


def pod_disruption_budget(spec: DeploymentSpec) -> dict:
    """One voluntary disruption at a time across both tiers; replicas still loading (not ready) may always be
    evicted, so a stuck start cannot block a node drain."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(spec, spec.name),
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": {labels.INSTANCE_LABEL: spec.name}},
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
    }
