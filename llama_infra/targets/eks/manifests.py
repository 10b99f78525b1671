"""Every Kubernetes object of a spec's EKS deployment, in apply order (for tests, the plan and `kubectl diff`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_infra.targets.eks import karpenter
from llama_infra.targets.kubernetes import autoscaling, fallback, monitoring, router, scale_in_order, workload
from llama_infra.targets.kubernetes import window_scaling as night_scaling
from llama_infra.targets.kubernetes import window_variants as night

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec


def karpenter_objects(spec: DeploymentSpec, node_role_name: str) -> list[dict]:
    assert spec.eks is not None
    if not spec.eks.karpenter or not karpenter.node_pools(spec):
        return []
    return [karpenter.ec2_node_class(spec, node_role_name), *karpenter.node_pools(spec)]


def workload_objects(spec: DeploymentSpec) -> list[dict]:
    objs = [
        workload.service_account(spec),
        *scale_in_order.rbac_objects(spec),
        workload.baseline_deployment(spec),
        workload.burst_deployment(spec),
        *night.deployments(spec),
        workload.service(spec),
        workload.pod_disruption_budget(spec),
        *fallback.objects(spec),
        *router.objects(spec),
        *monitoring.objects(spec),
    ]
    return [o for o in objs if o is not None]


def autoscaler_object(spec: DeploymentSpec) -> dict | None:
    if spec.scaling.autoscaler == "hpa":
        return autoscaling.horizontal_pod_autoscaler(spec)
    return autoscaling.scaled_object(spec)


def all_objects(spec: DeploymentSpec, node_role_name: str = "llama-infra-karpenter-node") -> list[dict]:
    objs = [
        workload.namespace(spec),
        *karpenter_objects(spec, node_role_name),
        *workload_objects(spec),
        autoscaler_object(spec),
        *night_scaling.objects(spec),
    ]
    return [o for o in objs if o is not None]
