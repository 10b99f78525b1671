"""Application Auto Scaling of the endpoint's variant: a scalable target and one target-tracking policy.

The signal: `SageMakerVariantConcurrentRequestsPerModelHighResolution` — requests in flight plus queued per model
copy, at 10-second resolution — the queue-like metric SageMaker offers, aimed at each configuration's effective
target (`queue_target_value`: `slo_targets.effective_targets`, what the simulator's spec policy runs — the stated
`scaling.queue_depth_target`, else the one derived from that configuration's SLO envelope; the downsizing
reconciler re-attaches each window's own when it switches). Cooldowns come from the spec's stabilisation windows.
It is the only policy: GPU memory is not a load signal on SageMaker (`endpoint_metrics.PREALLOCATED_GPU_MEMORY`:
the servers allocate ~90 % of it at start), so `scaling.gpu_memory_target` renders nothing here, in the downsizing
workflow's re-attached policies or on an inference component's copies (the spec warns when it is set).

The **predictive floor** (`scaling.floor_schedule`): without downsizing windows, one Application Auto Scaling
scheduled action per step of the floor (`cron(0 <hour> ? * MON-FRI *)` in the plan timezone, ScalableTargetAction
MinCapacity only) and one on Saturday 00:00 back to the variant's own minimum; the target's min capacity is then the
schedule's (`ignore_changes`). With windows the downsizing reconciler owns min/max — it re-registers the target at
every switch (which deletes a target's scheduled actions) and at every tick resets limits that differ from the
configuration's — so there the floor reaches it through its own schedules (`downsizing.py`). A scale-to-zero
endpoint gets no floor (its minimum is 0 copies by design).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from llama_infra.scaling.target_tracking import TargetTrackingPolicy
from llama_infra.schedules import Cron
from llama_infra.targets.sagemaker.scaling_target import ScalingTarget

if TYPE_CHECKING:
    import pulumi
    import pulumi_aws as aws

    from llama_infra.spec import DeploymentSpec

QUEUE_METRIC = "SageMakerVariantConcurrentRequestsPerModelHighResolution"  # = TargetTrackingPolicy.from_spec's


def queue_target_value(spec: DeploymentSpec, window: str | None = None) -> float:
    """Target tracking's `TargetValue` for one configuration (None: the day): its `slo_targets.effective_targets`
    queue-depth target — the spec's where it states one, else derived from the configuration's SLO envelope (the
    field's default where the SLO is out of reach)."""
    from llama_infra.slo_targets import effective_targets

    targets = effective_targets(spec)
    return float(targets.get(window, targets[None]).queue_depth_target)


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
        queue_target_value=queue_target_value(spec),
        scale_out_cooldown_s=policy.scale_out_cooldown_seconds,
        scale_in_cooldown_s=policy.scale_in_cooldown_seconds,
    )


@dataclass(frozen=True)
class FloorAction:
    """One scheduled action of the predictive floor: at `schedule`, the variant's minimum becomes `min_capacity`."""

    role: str  # `floor-07-13`, `floor-weekend`: the logical and the action's name suffix
    schedule: Cron
    min_capacity: int


def renders_floor(spec: DeploymentSpec) -> bool:
    """Whether the endpoint renders a predictive floor: a classic variant does (scheduled actions, or the downsizing
    reconciler's floor schedules with windows); a scale-to-zero endpoint's copies do not (their minimum is 0)."""
    return not spec.scaling.scale_to_zero


def floor_actions(spec: DeploymentSpec) -> list[FloorAction]:
    """The predictive floor as scheduled actions on the variant (empty with downsizing windows: the reconciler owns
    min/max there; with scale to zero; or without a floor)."""
    from llama_infra.scaling.floor_schedule import floor_schedule

    floor = None if spec.schedules or not renders_floor(spec) else floor_schedule(spec)
    if floor is None:
        return []
    own_min = TargetTrackingPolicy.from_spec(spec).min_capacity
    return [
        *(FloorAction(f"floor-{s.label}", s.start, max(s.min_replicas, own_min)) for s in floor.steps),
        FloorAction("floor-weekend", floor.weekend_reset, own_min),
    ]


@dataclass(frozen=True)
class ScalingResources:
    scaling: VariantScaling
    target: aws.appautoscaling.Target
    queue_policy: aws.appautoscaling.Policy
    floor_actions: list[aws.appautoscaling.ScheduledAction]


def variant_autoscaling(
    name: str, spec: DeploymentSpec, endpoint_name: str, *, parent: pulumi.Resource, endpoint: pulumi.Resource
) -> ScalingResources:
    import pulumi
    import pulumi_aws as aws

    aas = aws.appautoscaling
    tracking = aas.PolicyTargetTrackingScalingPolicyConfigurationArgs
    predefined = aas.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs
    s = variant_scaling(spec, endpoint_name)
    floor = floor_actions(spec)
    # The downsizing windows own min/max at night, the floor's scheduled actions the minimum; a refresh + up must not
    # undo them.
    owned_by_schedule = ["minCapacity", "maxCapacity"] if spec.schedules else ["minCapacity"] if floor else []
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
        # A window with its own target: the downsizing reconciler re-attaches this policy with it at night; a
        # `pulumi up` then must not put the day's back (the reconciler publishes both and owns the value).
        opts=pulumi.ResourceOptions(
            parent=parent,
            ignore_changes=["targetTrackingScalingPolicyConfiguration.targetValue"]
            if any(queue_target_value(spec, w.name) != s.queue_target_value for w in spec.schedules)
            else None,
        ),
    )
    actions = [
        aas.ScheduledAction(
            f"{name}-{a.role}",
            name=f"{endpoint_name}-{a.role}",
            service_namespace=target.service_namespace,
            resource_id=target.resource_id,
            scalable_dimension=target.scalable_dimension,
            schedule=a.schedule.as_aws(),
            timezone=a.schedule.timezone,
            scalable_target_action=aas.ScheduledActionScalableTargetActionArgs(min_capacity=a.min_capacity),
            region=spec.region,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for a in floor
    ]
    return ScalingResources(s, target, queue, actions)
