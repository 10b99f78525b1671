"""Application Auto Scaling of the endpoint's variant: a scalable target and one target-tracking policy.

The signal: `SageMakerVariantConcurrentRequestsPerModelHighResolution` — requests in flight plus queued per model
copy, at 10-second resolution — the queue-like metric SageMaker offers, aimed at
`scaling.queue_depth_target`. Cooldowns come from the spec's stabilisation windows. It is the only policy: GPU memory
is not a load signal on SageMaker (`endpoint_metrics.PREALLOCATED_GPU_MEMORY`: the servers allocate ~90 % of it at
start), so `scaling.gpu_memory_target` renders nothing here, in the downsizing workflow's re-attached policies or on
an inference component's copies (the spec warns when it is set).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

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
    )


@dataclass(frozen=True)
class ScalingResources:
    scaling: VariantScaling
    target: aws.appautoscaling.Target
    queue_policy: aws.appautoscaling.Policy


def variant_autoscaling(name: str, spec: DeploymentSpec, endpoint_name: str, *, parent: pulumi.Resource,
                        endpoint: pulumi.Resource) -> ScalingResources:
    import pulumi
    import pulumi_aws as aws

    aas = aws.appautoscaling
    tracking = aas.PolicyTargetTrackingScalingPolicyConfigurationArgs
    predefined = aas.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs
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
    return ScalingResources(s, target, queue)
