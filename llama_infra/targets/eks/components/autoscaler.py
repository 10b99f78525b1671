"""`QueueDepthAutoscaler`: scales the burst Deployment on the queue above the baseline's share.

`scaling.autoscaler: keda` renders a KEDA ScaledObject (Prometheus triggers; burst can go to zero);
`hpa` renders an autoscaling/v2 HorizontalPodAutoscaler on External metrics that prometheus-adapter serves
(its rules are in the adapter's Helm values, `EksAddons`). Both read the queries of
`llama_infra.targets.kubernetes.prometheus_metrics`.
Overnight schedules that change the type or model (issue 5) add the night variants' ScaledObjects and a cron-driven
ScaledObject on the day baseline (`llama_infra.targets.kubernetes.window_scaling`, docs/eks.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from llama_infra.spec import DeploymentSpec
from llama_infra.targets.eks.components._common import COMPONENT_PREFIX, child
from llama_infra.targets.eks.manifests import autoscaler_object
from llama_infra.targets.kubernetes import window_scaling as night_scaling


@dataclass
class QueueDepthAutoscalerArgs:
    """Inputs of `QueueDepthAutoscaler`."""

    spec: DeploymentSpec
    k8s_provider: k8s.Provider | None
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    """The burst Deployment, and the KEDA / prometheus-adapter release when we install it (CRDs, APIService)."""


class QueueDepthAutoscaler(pulumi.ComponentResource):
    """KEDA ScaledObject or HPA that scales the burst Deployment on the queue above the baseline."""

    kind: pulumi.Output[str | None]
    object_name: pulumi.Output[str | None]

    def __init__(self, name: str, args: QueueDepthAutoscalerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{COMPONENT_PREFIX}QueueDepthAutoscaler", name, None, opts)
        obj = autoscaler_object(args.spec)
        o = child(self, provider=args.k8s_provider, depends_on=args.depends_on)
        self.resource: pulumi.CustomResource | None = None
        if obj is None:
            pass
        elif obj["kind"] == "HorizontalPodAutoscaler":
            self.resource = k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}-hpa", metadata=obj["metadata"], spec=obj["spec"], opts=o
            )
        else:
            self.resource = k8s.apiextensions.CustomResource(
                f"{name}-scaled-object",
                api_version=obj["apiVersion"],
                kind=obj["kind"],
                metadata=obj["metadata"],
                spec=obj["spec"],
                opts=o,
            )
        # Night variants and the day baseline on a schedule (llama_infra.targets.kubernetes.window_scaling).
        self.schedule_resources = [
            k8s.apiextensions.CustomResource(
                f"{name}-{so['metadata']['name'].removeprefix(args.spec.name + '-')}",
                api_version=so["apiVersion"],
                kind=so["kind"],
                metadata=so["metadata"],
                spec=so["spec"],
                opts=o,
            )
            for so in night_scaling.objects(args.spec)
        ]
        self.kind = pulumi.Output.from_input(obj["kind"] if obj else None)
        self.object_name = pulumi.Output.from_input(obj["metadata"]["name"] if obj else None)
        self.register_outputs({"kind": self.kind, "object_name": self.object_name})
