"""EKS target: GPU capacity (reserved baseline + spot burst), the vLLM/TGI service, queue-depth autoscaling and
add-ons, as Pulumi components of type `llama-infra:index:<Class>`. See docs/eks.md."""

from __future__ import annotations

import pulumi

from llama_infra.targets.eks.components.addons import EksAddons, EksAddonsArgs
from llama_infra.targets.eks.components.autoscaler import QueueDepthAutoscaler, QueueDepthAutoscalerArgs
from llama_infra.targets.eks.components.baseline_node_schedule import BaselineNodeSchedule, BaselineNodeScheduleArgs
from llama_infra.targets.eks.components.capacity import EksGpuCapacity, EksGpuCapacityArgs
from llama_infra.targets.eks.components.cluster import MinimalEksCluster, MinimalEksClusterArgs
from llama_infra.targets.eks.components.deployment import EksLlamaDeployment, EksLlamaDeploymentArgs
from llama_infra.targets.eks.components.interruption_queue import (
    KarpenterInterruptionQueue,
    KarpenterInterruptionQueueArgs,
)
from llama_infra.targets.eks.components.overflow import OverflowRouter, OverflowRouterArgs
from llama_infra.targets.eks.components.service import LlamaInferenceService, LlamaInferenceServiceArgs

__all__ = [
    "BaselineNodeSchedule",
    "BaselineNodeScheduleArgs",
    "EksAddons",
    "EksAddonsArgs",
    "EksGpuCapacity",
    "EksGpuCapacityArgs",
    "EksLlamaDeployment",
    "EksLlamaDeploymentArgs",
    "KarpenterInterruptionQueue",
    "KarpenterInterruptionQueueArgs",
    "LlamaInferenceService",
    "LlamaInferenceServiceArgs",
    "MinimalEksCluster",
    "MinimalEksClusterArgs",
    "OverflowRouter",
    "OverflowRouterArgs",
    "QueueDepthAutoscaler",
    "QueueDepthAutoscalerArgs",
    "build_eks",
]


def build_eks(name: str, spec, opts: pulumi.ResourceOptions | None = None) -> EksLlamaDeployment:
    """The whole EKS deployment of a validated spec (`target: eks`), attached to `spec.eks.cluster_name`."""
    return EksLlamaDeployment(name, EksLlamaDeploymentArgs(spec=spec), opts)
