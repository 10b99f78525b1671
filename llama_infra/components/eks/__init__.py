"""EKS target: GPU capacity (reserved baseline + spot burst), the vLLM/TGI service, queue-depth autoscaling and
add-ons, as Pulumi components of type `llama-infra:index:<Class>`. See docs/eks.md."""

from __future__ import annotations

import pulumi

from llama_infra.components.eks.addons import EksAddons, EksAddonsArgs
from llama_infra.components.eks.autoscaler import QueueDepthAutoscaler, QueueDepthAutoscalerArgs
from llama_infra.components.eks.capacity import EksGpuCapacity, EksGpuCapacityArgs
from llama_infra.components.eks.cluster import MinimalEksCluster, MinimalEksClusterArgs
from llama_infra.components.eks.deployment import EksLlamaDeployment, EksLlamaDeploymentArgs
from llama_infra.components.eks.interruption_queue import KarpenterInterruptionQueue, KarpenterInterruptionQueueArgs
from llama_infra.components.eks.node_schedule import BaselineNodeSchedule, BaselineNodeScheduleArgs
from llama_infra.components.eks.overflow import OverflowRouter, OverflowRouterArgs
from llama_infra.components.eks.service import LlamaInferenceService, LlamaInferenceServiceArgs

__all__ = ["BaselineNodeSchedule", "BaselineNodeScheduleArgs", "EksAddons", "EksAddonsArgs", "EksGpuCapacity", "EksGpuCapacityArgs", "EksLlamaDeployment",
           "EksLlamaDeploymentArgs", "KarpenterInterruptionQueue", "KarpenterInterruptionQueueArgs",
           "LlamaInferenceService", "LlamaInferenceServiceArgs", "MinimalEksCluster", "MinimalEksClusterArgs",
           "OverflowRouter", "OverflowRouterArgs",
           "QueueDepthAutoscaler", "QueueDepthAutoscalerArgs", "build_eks"]


def build_eks(name: str, spec, opts: pulumi.ResourceOptions | None = None) -> EksLlamaDeployment:
    """The whole EKS deployment of a validated spec (`target: eks`), attached to `spec.eks.cluster_name`."""
    return EksLlamaDeployment(name, EksLlamaDeploymentArgs(spec=spec), opts)
