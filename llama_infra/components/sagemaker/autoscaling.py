"""Application Auto Scaling of the endpoint's variant: a scalable target and target-tracking policies.

Primary signal: `SageMakerVariantConcurrentRequestsPerModelHighResolution` — requests in flight plus queued per
model copy, at 10-second resolution — the queue-like metric SageMaker offers (DESIGN.md), aimed at
`scaling.queue_depth_target`. Second trigger (when `scaling.gpu_memory_target` is set): the variant's
`GPUMemoryUtilization`, which SageMaker reports in percent summed over the instance's GPUs (0–100 × GPUs).
With two target-tracking policies Application Auto Scaling scales out when either asks and in only when both
agree. Cooldowns come from the spec's stabilisation windows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from llama_infra import catalog
from llama_infra.scaling.endpoint_metrics import EndpointMetrics, Metric
from llama_infra.scaling.target import ScalingTarget
from llama_infra.scaling.target_tracking import TargetTrackingPolicy

if TYPE_CHECKING:
    import pulumi
    import pulumi_aws as aws

    from llama_infra.spec import DeploymentSpec

QUEUE_METRIC = "SageMakerVariantConcurrentRequestsPerModelHighResolution"  # = TargetTrackingPolicy.from_spec's


@dataclass(frozen=True)
class VariantScaling:
    """The numbers the scaling resources carry (pure; the plan and the simulator read the same values)."""

    target: ScalingTarget
    min_capacity: int
    max_capacity: int
    queue_metric: str
    queue_target_value: float
    scale_out_cooldown_s: int
    scale_in_cooldown_s: int
    gpu_memory_target_percent: float | None  # summed over the instance's GPUs, as SageMaker reports it


def gpu_memory_target_percent(spec: DeploymentSpec, instance_type: str) -> float | None:
    """The GPU-memory policy's target on `instance_type`: SageMaker sums GPUMemoryUtilization over its GPUs."""
    if spec.scaling.gpu_memory_target is None:
        return None
    inst = catalog.lookup(instance_type)
    return round(spec.scaling.gpu_memory_target * 100 * (inst.gpu_count if inst else 1), 1)


def gpu_memory_metric(spec: DeploymentSpec, endpoint_name: str) -> Metric:
    """The GPU-memory policy's metric: the variant's GPUMemoryUtilization (namespace and dimensions from
    `EndpointMetrics`), for the component's policy and the downsizing workflow's re-attached one alike."""
    where = EndpointMetrics.variant(endpoint_name, spec.sagemaker_settings.variant_name)
    return where.metric(where.gpu_memory_metric_name)


def variant_scaling(spec: DeploymentSpec, endpoint_name: str) -> VariantScaling:
    """The numbers of the variant's scaling; the queue policy is `TargetTrackingPolicy.from_spec`, the same
    definition the simulator runs."""
    policy = TargetTrackingPolicy.from_spec(spec)
    return VariantScaling(
        target=ScalingTarget.sagemaker_variant(endpoint_name, spec.sagemaker_settings.variant_name),
        # A real-time variant cannot scale to 0 instances (scale to zero needs inference components).
        min_capacity=policy.min_capacity,
        max_capacity=max(policy.min_capacity, policy.max_capacity),
        queue_metric=policy.metric,
        queue_target_value=float(policy.target_value),
        scale_out_cooldown_s=policy.scale_out_cooldown_seconds,
        scale_in_cooldown_s=policy.scale_in_cooldown_seconds,
        gpu_memory_target_percent=gpu_memory_target_percent(spec, spec.capacity.baseline.instance_type),
    )


@dataclass(frozen=True)
class ScalingResources:
    scaling: VariantScaling
    target: aws.appautoscaling.Target
    queue_policy: aws.appautoscaling.Policy
    gpu_memory_policy: aws.appautoscaling.Policy | None


def variant_autoscaling(name: str, spec: DeploymentSpec, endpoint_name: str, *, parent: pulumi.Resource,
                        endpoint: pulumi.Resource) -> ScalingResources:
    import pulumi
    import pulumi_aws as aws

    aas = aws.appautoscaling
    tracking = aas.PolicyTargetTrackingScalingPolicyConfigurationArgs
    custom = aas.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationArgs
    predefined = aas.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs
    dimension = aas.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationDimensionArgs
    s = variant_scaling(spec, endpoint_name)
    # Scheduled actions of the downsizing windows own min/max at night; a refresh + up must not undo them.
    owned_by_schedule = ["minCapacity", "maxCapacity"] if spec.schedules else []
    target = aas.Target(
        f"{name}-scaling-target",
        service_namespace=s.target.service_namespace,
        resource_id=s.target.resource_id,
        scalable_dimension=s.target.scalable_dimension,
        min_capacity=s.min_capacity,
        max_capacity=s.max_capacity,
        region=spec.region,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[endpoint], ignore_changes=owned_by_schedule),
    )
    queue = aas.Policy(
        f"{name}-queue-depth-policy",
        policy_type="TargetTrackingScaling",
        service_namespace=target.service_namespace,
        resource_id=target.resource_id,
        scalable_dimension=target.scalable_dimension,
        target_tracking_scaling_policy_configuration=tracking(
            target_value=s.queue_target_value,
            predefined_metric_specification=predefined(
                predefined_metric_type=s.queue_metric,
            ),
            scale_out_cooldown=s.scale_out_cooldown_s,
            scale_in_cooldown=s.scale_in_cooldown_s,
        ),
        region=spec.region,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    gpu = None
    if s.gpu_memory_target_percent is not None:
        gpu_metric = gpu_memory_metric(spec, endpoint_name)
        gpu = aas.Policy(
            f"{name}-gpu-memory-policy",
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            resource_id=target.resource_id,
            scalable_dimension=target.scalable_dimension,
            target_tracking_scaling_policy_configuration=tracking(
                target_value=s.gpu_memory_target_percent,
                customized_metric_specification=custom(
                    metric_name=gpu_metric.name,
                    namespace=gpu_metric.namespace,
                    statistic="Average",
                    dimensions=[dimension(name=d["Name"], value=d["Value"]) for d in gpu_metric.api_dimensions],
                ),
                scale_out_cooldown=s.scale_out_cooldown_s,
                scale_in_cooldown=s.scale_in_cooldown_s,
            ),
            region=spec.region,
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[queue]),
        )
    return ScalingResources(s, target, queue, gpu)
