"""Application Auto Scaling of the endpoint's variant: a scalable target and target-tracking policies.

Primary signal: `SageMakerVariantConcurrentRequestsPerModelHighResolution` — requests in flight plus queued per
model copy, at 10-second resolution — the queue-like metric SageMaker offers (DESIGN.md), aimed at
`scaling.queue_depth_target`. Second trigger (when `scaling.gpu_memory_target` is set): the variant's
`GPUMemoryUtilization`, which SageMaker reports in percent summed over the instance's GPUs (0–100 × GPUs).
With two target-tracking policies Application Auto Scaling scales out when either asks and in only when both
agree. Cooldowns come from the spec's stabilisation windows. The GPU-memory policy is one definition
(`GpuMemoryTracking`, built by `gpu_memory_tracking`) for this variant, the downsizing workflow's re-attached copy,
and an inference component's copies (`scale_to_zero.py`: the per-copy, 0–100 % metric, scale-out only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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


def gpu_memory_target_percent(spec: DeploymentSpec, instance_type: str, metric: Metric | None = None) -> float | None:
    """The GPU-memory policy's target for `metric` on `instance_type` (default metric: the variant's
    GPUMemoryUtilization): ×100 for a percentage, × the instance's GPUs when SageMaker sums the metric over them
    (`Metric.summed_over_gpus`); an inference component's per-copy metric is 0–100 whatever the instance."""
    if spec.scaling.gpu_memory_target is None:
        return None
    gpus = 1
    if metric is None or metric.summed_over_gpus:
        inst = catalog.lookup(instance_type)
        gpus = inst.gpu_count if inst else 1
    return round(spec.scaling.gpu_memory_target * 100 * gpus, 1)


def gpu_memory_metric(spec: DeploymentSpec, endpoint_name: str) -> Metric:
    """The GPU-memory policy's metric: the variant's GPUMemoryUtilization (namespace and dimensions from
    `EndpointMetrics`), for the component's policy and the downsizing workflow's re-attached one alike."""
    where = EndpointMetrics.variant(endpoint_name, spec.sagemaker_settings.variant_name)
    return where.metric(where.gpu_memory_metric_name)


@dataclass(frozen=True)
class GpuMemoryTracking:
    """The GPU-memory target-tracking policy on a customized metric: one definition for the variant's policy, the
    downsizing workflow's re-attached copy of it, and an inference component's copy-count policy."""

    metric: Metric
    target_percent: float
    scale_out_cooldown_s: int
    scale_in_cooldown_s: int
    disable_scale_in: bool = False
    statistic: str = "Average"  # the utilisation metrics document no statistic; AWS's own examples use Average

    def __post_init__(self) -> None:
        if not self.metric.accepts(self.statistic):
            raise ValueError(f"AWS documents no '{self.statistic}' statistic for {self.metric.name}")

    def to_aws(self) -> dict[str, Any]:
        """TargetTrackingScalingPolicyConfiguration of PutScalingPolicy (the downsizing workflow re-attaches it)."""
        out: dict[str, Any] = {
            "TargetValue": self.target_percent,
            "CustomizedMetricSpecification": {
                "MetricName": self.metric.name, "Namespace": self.metric.namespace, "Statistic": self.statistic,
                "Dimensions": self.metric.api_dimensions},
            "ScaleOutCooldown": self.scale_out_cooldown_s, "ScaleInCooldown": self.scale_in_cooldown_s}
        if self.disable_scale_in:
            out["DisableScaleIn"] = True
        return out

    def to_pulumi(self) -> aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs:
        import pulumi_aws as aws

        aas = aws.appautoscaling
        dimension = aas.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationDimensionArgs
        return aas.PolicyTargetTrackingScalingPolicyConfigurationArgs(
            target_value=self.target_percent,
            customized_metric_specification=(
                aas.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationArgs(
                    metric_name=self.metric.name,
                    namespace=self.metric.namespace,
                    statistic=self.statistic,
                    dimensions=[dimension(name=d["Name"], value=d["Value"]) for d in self.metric.api_dimensions],
                )),
            scale_out_cooldown=self.scale_out_cooldown_s,
            scale_in_cooldown=self.scale_in_cooldown_s,
            disable_scale_in=True if self.disable_scale_in else None,
        )


def gpu_memory_tracking(spec: DeploymentSpec, metric: Metric, instance_type: str, *,
                        disable_scale_in: bool = False) -> GpuMemoryTracking | None:
    """The spec's GPU-memory policy on `metric` (None without `scaling.gpu_memory_target`); cooldowns are the
    spec's stabilisation windows, as for the queue policy."""
    target = gpu_memory_target_percent(spec, instance_type, metric)
    if target is None:
        return None
    return GpuMemoryTracking(metric, target, spec.scaling.scale_up_stabilization_seconds,
                             spec.scaling.scale_down_stabilization_seconds, disable_scale_in=disable_scale_in)


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
    gpu = None
    tracking_gpu = gpu_memory_tracking(spec, gpu_memory_metric(spec, endpoint_name),
                                       spec.capacity.baseline.instance_type)
    if tracking_gpu is not None:
        gpu = aas.Policy(
            f"{name}-gpu-memory-policy",
            policy_type="TargetTrackingScaling",
            service_namespace=target.service_namespace,
            resource_id=target.resource_id,
            scalable_dimension=target.scalable_dimension,
            target_tracking_scaling_policy_configuration=tracking_gpu.to_pulumi(),
            region=spec.region,
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[queue]),
        )
    return ScalingResources(s, target, queue, gpu)
