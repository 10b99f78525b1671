"""How long new GPU capacity takes to exist before the model starts loading: the assumptions, in one place.

No AWS figure exists for either; both are stated as ranges. The typical value drives the simulator (what usually
happens when an autoscaler asks for capacity); the high value drives lead times, time-outs and the worst-case
wake-up (what must be covered for capacity to serve on time). The model's own load time is `sizing.cold_start`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Delay:
    typical_s: float
    high_s: float


# EKS: Karpenter (or a managed node group) launches a GPU instance, it joins the cluster and the NVIDIA device plugin
# advertises its GPUs; the image pull is part of the cold start.
EKS_GPU_NODE = Delay(typical_s=120, high_s=300)
# SageMaker: ML instances added to a variant, or a new fleet for a blue/green update: 5–10 minutes.
SAGEMAKER_INSTANCES = Delay(typical_s=300, high_s=600)


def for_target(target: str) -> Delay:
    return SAGEMAKER_INSTANCES if target == "sagemaker" else EKS_GPU_NODE
