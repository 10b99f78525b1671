"""Labels, taints and annotations that tie nodes, pods and autoscalers together (one definition each)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_infra.targets.kubernetes.prometheus_metrics import SERVICE_LABEL

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec

CAPACITY_LABEL = "llama-infra.io/capacity"  # baseline | burst, on nodes and pods
TIER_LABEL = "llama-infra.io/tier"  # baseline | burst, on pods (selects each Deployment's pods)
DEPLOYMENT_LABEL = "llama-infra.io/deployment"  # the spec name, on nodes
NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = SERVICE_LABEL  # the spec name, on every serving pod of both tiers
MANAGED_BY = {"app.kubernetes.io/managed-by": "llama-infra"}
# Markers the policy pack reads (docs/policies.md): Kubernetes label/annotations, AWS tags.
ENVIRONMENT_LABEL = "llama-infra.io/environment"
GPU_HEADROOM_ANNOTATION = "llama-infra.io/gpu-memory-headroom"
POLICY_EXEMPT_ANNOTATION = "llama-infra.io/policy-exempt"
ENVIRONMENT_TAG = "llama-infra:environment"
DEPLOYMENT_TAG = "llama-infra:deployment"
# The NVIDIA device plugin chart's default node affinity matches this label (or NFD's PCI labels): our GPU nodes
# carry it so the plugin runs there without node-feature-discovery.
GPU_PRESENT_LABEL = "nvidia.com/gpu.present"

GPU_RESOURCE = "nvidia.com/gpu"
GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_TAINT_VALUE = "true"
GPU_TAINT = {"key": GPU_TAINT_KEY, "value": GPU_TAINT_VALUE, "effect": "NoSchedule"}
GPU_TOLERATION = {"key": GPU_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}

KARPENTER_CAPACITY_TYPE = "karpenter.sh/capacity-type"  # spot | on-demand | reserved
EKS_CAPACITY_TYPE = "eks.amazonaws.com/capacityType"  # ON_DEMAND | SPOT | CAPACITY_BLOCK (managed node groups)
DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"
# the ReplicaSet controller removes the pod with the lower cost first when it scales in (default 0)
POD_DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
ZONE = "topology.kubernetes.io/zone"
INSTANCE_TYPE = "node.kubernetes.io/instance-type"
KARPENTER_DISCOVERY = "karpenter.sh/discovery"  # subnet / security-group tag Karpenter selects by


def common(spec: DeploymentSpec) -> dict[str, str]:
    """Labels on every object we create: who manages it, which environment (prod rules key on it)."""
    return {**MANAGED_BY, ENVIRONMENT_LABEL: spec.environment}


def aws_tags(spec: DeploymentSpec) -> dict[str, str]:
    return {**spec.tags, ENVIRONMENT_TAG: spec.environment, DEPLOYMENT_TAG: spec.name}


def node_labels(name: str, capacity: str) -> dict[str, str]:
    return {CAPACITY_LABEL: capacity, DEPLOYMENT_LABEL: name, GPU_PRESENT_LABEL: "true"}


def pod_labels(name: str, tier: str) -> dict[str, str]:
    return {NAME_LABEL: "llama-server", INSTANCE_LABEL: name, TIER_LABEL: tier, **MANAGED_BY}
