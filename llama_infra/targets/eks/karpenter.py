"""Karpenter burst capacity as data: one EC2NodeClass and two NodePools (karpenter.sh/v1, karpenter.k8s.aws/v1).

- `<name>-burst-spot` (weight 50): capacity-type spot over the spec's diversified GPU types.
- `<name>-burst-on-demand` (weight 10, only with `on_demand_fallback`): the same types on demand. Karpenter tries
  the higher-weight pool first; when every spot offering is unavailable (insufficient capacity is cached for a few
  minutes) the pending burst pods fit only the lower-weight pool, so it launches on demand.
Both pools cap `nvidia.com/gpu` at the GPUs the burst replicas can request ((max_replicas − baseline) × TP):
Karpenter drops instance types that would cross the limit, so a runaway scale-up cannot buy more GPUs than that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_infra.targets.eks.node_groups import ROOT_DEVICE, nvme_raid0, root_volume_gib
from llama_infra.targets.kubernetes import fallback, labels
from llama_infra.targets.kubernetes import window_variants as night

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec

SPOT_WEIGHT = 50
ON_DEMAND_WEIGHT = 10
# Nodes are replaced after 30 days (AMI and kernel patches); a pod blocking drain gets one hour before the node goes.
EXPIRE_AFTER = "720h"
TERMINATION_GRACE_PERIOD = "1h"
DEFAULT_AMI_ALIAS = "al2023@latest"  # pin (e.g. al2023@v20250505) in production: see docs/eks.md


def node_class_name(spec: DeploymentSpec) -> str:
    return f"{spec.name}-gpu"


def nodepool_name(spec: DeploymentSpec, capacity: str) -> str:
    return f"{spec.name}-burst-{capacity}"


def burst_gpu_limit(spec: DeploymentSpec) -> int:
    """GPUs the burst replicas can request, plus the fallback model's replicas when the spec has one."""
    gpus = max(0, spec.max_replicas - spec.capacity.baseline.count) * spec.tp_degree
    if spec.fallback is not None:
        gpus += fallback.FALLBACK_REPLICAS * fallback.tp_degree(spec)
    return gpus + night.gpu_limit(spec)


def pool_instance_types(spec: DeploymentSpec) -> list[str]:
    """The burst types, the fallback model's and the night variants' types (they run on burst capacity too)."""
    types = list(spec.burst_instance_types)
    types += [t for t in night.instance_types(spec) if t not in types]
    if spec.fallback is not None and fallback.instance_type(spec) not in types:
        types.append(fallback.instance_type(spec))
    return types


def ec2_node_class(spec: DeploymentSpec, node_role_name: str, ami_alias: str = DEFAULT_AMI_ALIAS) -> dict:
    assert spec.eks is not None
    cluster_name = spec.eks.cluster_name

    def discovery() -> list[dict]:
        return [{"tags": {labels.KARPENTER_DISCOVERY: cluster_name}}]

    node_spec: dict = {
        "amiSelectorTerms": [{"alias": ami_alias}],
        "role": node_role_name,
        "subnetSelectorTerms": discovery(),
        "securityGroupSelectorTerms": discovery(),
        # IMDSv2 only, hop limit 1: pods cannot reach the node role's credentials.
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpProtocolIPv6": "disabled",
            "httpPutResponseHopLimit": 1,
            "httpTokens": "required",
        },
        "blockDeviceMappings": [
            {
                "deviceName": ROOT_DEVICE,
                "rootVolume": True,
                "ebs": {
                    "volumeSize": f"{root_volume_gib(spec)}Gi",
                    "volumeType": "gp3",
                    "encrypted": True,
                    "deleteOnTermination": True,
                },
            }
        ],
        "tags": labels.aws_tags(spec),
    }
    if nvme_raid0(spec, spec.burst_instance_types):
        node_spec["instanceStorePolicy"] = "RAID0"  # kubelet + containerd ephemeral storage on the NVMe RAID0
    return {
        "apiVersion": "karpenter.k8s.aws/v1",
        "kind": "EC2NodeClass",
        "metadata": {"name": node_class_name(spec), "labels": labels.common(spec)},
        "spec": node_spec,
    }


def consolidate_after_s(spec: DeploymentSpec, capacity: str) -> int:
    """How long an emptied burst node of `capacity` (spot or on-demand) stays, billed, before Karpenter removes it:
    the autoscaler's scale-down stabilization, so a scale-up soon after a scale-in finds its node still there (a
    pending pod binds to an empty node before Karpenter launches one). The on-demand pool that backs a spot burst
    (`on_demand_fallback`) goes at once (0): kept, its empty node would take the next burst pod at about twice the
    spot price instead of a new spot node."""
    if capacity == "on-demand" and spec.capacity.burst.capacity == "spot":
        return 0
    return spec.scaling.scale_down_stabilization_seconds


def node_pool(spec: DeploymentSpec, capacity: str) -> dict:
    """`capacity` is the Karpenter capacity type: spot or on-demand."""
    return {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": nodepool_name(spec, capacity), "labels": labels.common(spec)},
        "spec": {
            "weight": SPOT_WEIGHT if capacity == "spot" else ON_DEMAND_WEIGHT,
            "template": {
                "metadata": {"labels": labels.node_labels(spec.name, "burst")},
                "spec": {
                    "nodeClassRef": {
                        "group": "karpenter.k8s.aws",
                        "kind": "EC2NodeClass",
                        "name": node_class_name(spec),
                    },
                    "requirements": [
                        {"key": labels.INSTANCE_TYPE, "operator": "In", "values": pool_instance_types(spec)},
                        {"key": labels.KARPENTER_CAPACITY_TYPE, "operator": "In", "values": [capacity]},
                        {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
                    ],
                    "taints": [dict(labels.GPU_TAINT)],
                    "expireAfter": EXPIRE_AFTER,
                    "terminationGracePeriod": TERMINATION_GRACE_PERIOD,
                },
            },
            "limits": {labels.GPU_RESOURCE: str(burst_gpu_limit(spec))},
            "disruption": {
                # Serving pods are never consolidated away (do-not-disrupt); only nodes the autoscaler emptied go.
                "consolidationPolicy": "WhenEmpty",
                "consolidateAfter": f"{consolidate_after_s(spec, capacity)}s",
                "budgets": [
                    {"nodes": "100%", "reasons": ["Empty"]},
                    {"nodes": "1", "reasons": ["Drifted", "Underutilized"]},
                ],
            },
        },
    }


def node_pools(spec: DeploymentSpec) -> list[dict]:
    burst = spec.capacity.burst
    if burst.max == 0 and spec.fallback is None and not night.variants(spec):
        return []
    if burst.capacity == "on-demand":
        return [node_pool(spec, "on-demand")]
    pools = [node_pool(spec, "spot")]
    if burst.on_demand_fallback:
        pools.append(node_pool(spec, "on-demand"))
    return pools
