"""Managed node groups of the EKS target as data: the reserved baseline, and the SPOT burst group of
managed-node-group-only mode (`eks.karpenter: false`).

Field names follow the EKS API (`CreateNodegroup`), so the same dict feeds the Pulumi component (translated to
pulumi-aws argument names there) and the moto test that proves EKS accepts it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from llama_infra import catalog, sizing
from llama_infra.targets.kubernetes import labels

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec

CapacityType = Literal["ON_DEMAND", "SPOT", "CAPACITY_BLOCK"]
AMI_TYPE = "AL2023_x86_64_NVIDIA"  # EKS-optimised AL2023 with NVIDIA drivers; nodeadm reads NodeConfig user data
ROOT_DEVICE = "/dev/xvda"
_BASE_ROOT_GIB = 100  # OS + container images (the vLLM image alone is ~10 GB compressed)
_USER_DATA_BOUNDARY = "//LLAMA-INFRA"


def replicas_per_node(spec: DeploymentSpec, instance_type: str) -> int:
    inst = catalog.lookup(instance_type)
    return max(1, (inst.gpu_count if inst else 1) // spec.tp_degree)


def baseline_nodes(spec: DeploymentSpec) -> int:
    """Instances the baseline replicas need (several replicas share an instance when TP < its GPUs)."""
    base = spec.capacity.baseline
    return math.ceil(base.count / replicas_per_node(spec, base.instance_type))


def root_volume_gib(spec: DeploymentSpec) -> int:
    """Root EBS size: images, plus the weights when they are not preloaded onto NVMe instance storage."""
    if spec.model.weights.preload == "nvme":
        return _BASE_ROOT_GIB
    return _BASE_ROOT_GIB + math.ceil(sizing.weights_gb(spec.model.params_b, spec.model.precision) * 1.2)


def nvme_raid0(spec: DeploymentSpec, instance_types: list[str]) -> bool:
    """RAID0 the instance stores (and put kubelet/containerd ephemeral storage on them) for weight preload."""
    if spec.model.weights.preload != "nvme":
        return False
    return all((g := catalog.lookup(t)) is not None and g.has_nvme for t in instance_types)


def al2023_user_data(raid0: bool) -> str | None:
    """MIME multi-part user data with an AL2023 nodeadm NodeConfig (EKS merges it with its own)."""
    if not raid0:
        return None
    node_config = "\n".join(
        [
            "apiVersion: node.eks.aws/v1alpha1",
            "kind: NodeConfig",
            "spec:",
            "  instance:",
            "    localStorage:",
            "      strategy: RAID0",
        ]
    )
    return "\n".join(
        [
            "MIME-Version: 1.0",
            f'Content-Type: multipart/mixed; boundary="{_USER_DATA_BOUNDARY}"',
            "",
            f"--{_USER_DATA_BOUNDARY}",
            "Content-Type: application/node.eks.aws",
            "",
            node_config,
            "",
            f"--{_USER_DATA_BOUNDARY}--",
            "",
        ]
    )


@dataclass(frozen=True)
class LaunchTemplatePlan:
    """EC2 launch template data (EC2 API field names) of a node group."""

    root_volume_gib: int
    user_data: str | None
    capacity_reservation_id: str | None = None
    capacity_block: bool = False

    def data(self) -> dict:
        out: dict = {
            # IMDSv2 only, hop limit 1: pods cannot reach the node's credentials (they use EKS Pod Identity).
            "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 1, "HttpEndpoint": "enabled"},
            "BlockDeviceMappings": [
                {
                    "DeviceName": ROOT_DEVICE,
                    "Ebs": {
                        "VolumeSize": self.root_volume_gib,
                        "VolumeType": "gp3",
                        "Encrypted": True,
                        "DeleteOnTermination": True,
                    },
                }
            ],
        }
        if self.capacity_reservation_id:
            out["CapacityReservationSpecification"] = {
                "CapacityReservationTarget": {"CapacityReservationId": self.capacity_reservation_id}
            }
        if self.capacity_block:
            out["InstanceMarketOptions"] = {"MarketType": "capacity-block"}
        return out


@dataclass(frozen=True)
class NodeGroupPlan:
    role: Literal["baseline", "burst"]
    capacity_type: CapacityType
    instance_types: list[str]
    min_size: int
    max_size: int
    desired_size: int
    labels: dict[str, str]
    taints: list[dict[str, str]]  # EKS API form: effect NO_SCHEDULE
    launch_template: LaunchTemplatePlan
    tags: dict[str, str] = field(default_factory=dict)
    # Tags cluster-autoscaler reads from the Auto Scaling group to scale a group up from zero nodes.
    asg_tags: dict[str, str] = field(default_factory=dict)
    ami_type: str = AMI_TYPE

    def eks_api(self, cluster_name: str, nodegroup_name: str, node_role_arn: str, subnets: list[str]) -> dict:
        """Keyword arguments of EKS `CreateNodegroup` (boto3) for this group (launch template left out)."""
        return {
            "clusterName": cluster_name,
            "nodegroupName": nodegroup_name,
            "nodeRole": node_role_arn,
            "subnets": subnets,
            "capacityType": self.capacity_type,
            "instanceTypes": self.instance_types,
            "amiType": self.ami_type,
            "labels": self.labels,
            "taints": self.taints,
            "tags": self.tags,
            "scalingConfig": {"minSize": self.min_size, "maxSize": self.max_size, "desiredSize": self.desired_size},
        }


_EKS_TAINT = {"key": labels.GPU_TAINT_KEY, "value": labels.GPU_TAINT_VALUE, "effect": "NO_SCHEDULE"}


def baseline_node_group(spec: DeploymentSpec) -> NodeGroupPlan:
    base = spec.capacity.baseline
    nodes = baseline_nodes(spec)
    capacity: CapacityType = "CAPACITY_BLOCK" if base.purchase == "capacity-block" else "ON_DEMAND"
    return NodeGroupPlan(
        role="baseline",
        capacity_type=capacity,
        instance_types=[base.instance_type],
        min_size=nodes,
        max_size=max(nodes, 1),
        desired_size=nodes,
        labels=labels.node_labels(spec.name, "baseline"),
        taints=[dict(_EKS_TAINT)],
        launch_template=LaunchTemplatePlan(
            root_volume_gib(spec),
            al2023_user_data(nvme_raid0(spec, [base.instance_type])),
            base.capacity_reservation_id,
            capacity_block=base.purchase == "capacity-block",
        ),
        tags={**labels.aws_tags(spec), "llama-infra:capacity": "baseline"},
    )


def spot_node_group(spec: DeploymentSpec) -> NodeGroupPlan | None:
    """Managed-node-group-only mode: a SPOT group from zero, scaled by cluster-autoscaler."""
    assert spec.eks is not None
    burst = spec.capacity.burst
    if spec.eks.karpenter or burst.max == 0:
        return None
    types = spec.burst_instance_types
    cluster = spec.eks.cluster_name
    node_labels = labels.node_labels(spec.name, "burst")
    gpus = min(g.gpu_count for t in types if (g := catalog.lookup(t)))
    template = "k8s.io/cluster-autoscaler/node-template"
    asg_tags = {
        "k8s.io/cluster-autoscaler/enabled": "true",
        f"k8s.io/cluster-autoscaler/{cluster}": "owned",
        **{f"{template}/label/{k}": v for k, v in node_labels.items()},
        f"{template}/taint/{labels.GPU_TAINT_KEY}": f"{labels.GPU_TAINT_VALUE}:NoSchedule",
        f"{template}/resources/{labels.GPU_RESOURCE}": str(gpus),
    }
    return NodeGroupPlan(
        role="burst",
        capacity_type="SPOT" if burst.capacity == "spot" else "ON_DEMAND",
        instance_types=types,
        min_size=0,
        max_size=burst.max,
        desired_size=0,
        labels=node_labels,
        taints=[dict(_EKS_TAINT)],
        launch_template=LaunchTemplatePlan(root_volume_gib(spec), al2023_user_data(nvme_raid0(spec, types))),
        tags={**labels.aws_tags(spec), "llama-infra:capacity": "burst"},
        asg_tags=asg_tags,
    )
