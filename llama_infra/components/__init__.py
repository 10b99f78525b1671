"""The Pulumi components, by name: re-exported from their targets' homes (`llama_infra/targets/<target>/components`).

`from llama_infra.components import SageMakerLlamaEndpoint, EksLlamaDeployment` keeps working for programs written
before the components moved; each name is imported on first use, so a SageMaker program never loads the EKS code.
"""

from __future__ import annotations

import importlib
from typing import Any

_SAGEMAKER = "llama_infra.targets.sagemaker.components"
_EKS = "llama_infra.targets.eks.components"
_EXPORTS: dict[str, str] = {
    **{n: _SAGEMAKER for n in ("SageMakerLlamaEndpoint", "SageMakerLlamaEndpointArgs")},
    **{
        n: _EKS
        for n in (
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
        )
    },
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'llama_infra.components' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
