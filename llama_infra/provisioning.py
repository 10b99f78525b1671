"""How long new GPU capacity takes to exist before the model starts loading, by target.

No AWS figure exists for either; both are stated as ranges, with their reasoning, in each target's facts
(`llama_infra.target_facts`, `TargetFacts.provisioning`). The typical value drives the simulator (what usually
happens when an autoscaler asks for capacity); the high value drives lead times, time-outs and the worst-case
wake-up (what must be covered for capacity to serve on time). The model's own load time is `sizing.cold_start`.
"""

from __future__ import annotations

from llama_infra.target_facts import EKS, SAGEMAKER, Delay, of

__all__ = ["EKS_GPU_NODE", "SAGEMAKER_INSTANCES", "Delay", "for_target"]

# EKS: a GPU node launched, joined and advertising its GPUs; SageMaker: ML instances added to a variant or a new fleet.
EKS_GPU_NODE = EKS.provisioning
SAGEMAKER_INSTANCES = SAGEMAKER.provisioning


def for_target(target: str) -> Delay:
    return of(target).provisioning
