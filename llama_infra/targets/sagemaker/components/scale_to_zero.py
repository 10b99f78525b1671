"""Scale to zero on SageMaker: an inference-component endpoint that runs no instance while idle.

Four pieces, all required (SageMaker guide, "Scale an endpoint to zero instances"):
1. the endpoint configuration's variant has no model and `ManagedInstanceScaling` with `MinInstanceCount: 0`
   (`inference_component_endpoint_config`; `scale_to_zero_serving` builds it with the Model for
   `SageMakerLlamaEndpoint` when `scaling.scale_to_zero` is set);
2. the model runs as an inference component (`pulumi_aws_native.sagemaker.InferenceComponent`: pulumi-aws has no
   such resource). pulumi-aws-native (~240 MB) is the extra `scale-to-zero`, imported only here, when a component
   is built: the spec rule `targets/sagemaker/rules.scale_to_zero_installed` makes a spec that asks for scale to zero
   without it a located error, and `aws_native()` names the extra to any other caller;
3. its copy count `inference-component/<name>` / `sagemaker:inference-component:DesiredCopyCount` is a scalable
   target with min 0, target-tracking on concurrent requests per copy (the queue-like metric);
4. a step-scaling policy (+1 copy) on an alarm on `NoCapacityInvocationFailures`: target tracking cannot leave zero
   (it cannot divide by zero copies). Requests fail while the first copy starts: `capacity_timeline.wake_up_s`.
Windows on such an endpoint change only min/max copies, with Application Auto Scaling scheduled actions.

The queue policy is the copies' only target-tracking policy: GPU memory is not a load signal on SageMaker
(`endpoint_metrics.PREALLOCATED_GPU_MEMORY`: each copy's server allocates ~90 % of its memory at start, so a policy
on `GPUMemoryUtilizationNormalized` would hold copies up and keep the count from ever reaching 0). Scale-in, to zero
included, follows the queue alone; `scaling.gpu_memory_target` renders nothing here (the spec warns when it is set).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from llama_infra import naming, sizing
from llama_infra.capacity_plan import Config, day_config
from llama_infra.capacity_timeline import transitions
from llama_infra.targets.sagemaker.cloudwatch_metrics import EndpointMetrics
from llama_infra.targets.sagemaker.components.alarms import first_occurrence_alarm
from llama_infra.targets.sagemaker.components.autoscaling import queue_target_value
from llama_infra.targets.sagemaker.components.serving_config import ServingConfig, serving_model
from llama_infra.targets.sagemaker.components.variant import variant_plan
from llama_infra.targets.sagemaker.scaling_target import ScalingTarget

if TYPE_CHECKING:
    import pulumi_aws_native

    from llama_infra.spec import DeploymentSpec

COPY_METRIC = "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"
NO_CAPACITY_METRIC = "NoCapacityInvocationFailures"
WAKE_UP_ALARM_PERIOD_S = 60
WAKE_UP_COOLDOWN_S = 60
_MB_PER_GB = 1024
_MAX_COMPONENT_NAME = 63


def aws_native():
    """pulumi-aws-native, or an ImportError that names the extra that installs it."""
    from llama_infra.targets.sagemaker.rules import SCALE_TO_ZERO_EXTRA, missing_for_scale_to_zero

    try:
        import pulumi_aws_native
    except ImportError:
        raise ImportError(missing_for_scale_to_zero() + f": pip install 'llama-infra[{SCALE_TO_ZERO_EXTRA}]'") from None
    return pulumi_aws_native


def component_name_for(endpoint_name: str) -> str:
    """The inference component's name: `<endpoint>-model`, within SageMaker's 63 characters."""
    suffix = "-model"
    return f"{endpoint_name[: _MAX_COMPONENT_NAME - len(suffix)]}{suffix}"


def inference_component_endpoint_config(
    name: str, spec: DeploymentSpec, config: Config, *, execution_role_arn: pulumi.Input[str], parent: pulumi.Resource
) -> aws.sagemaker.EndpointConfiguration:
    """Variant without a model, managed instance scaling from 0 to max replicas (one copy per instance)."""
    plan = variant_plan(spec, config)
    return aws.sagemaker.EndpointConfiguration(
        naming.logical(naming.ENDPOINT_CONFIG, f"{name}-endpoint-config"),
        execution_role_arn=execution_role_arn,  # required on inference-component endpoints
        production_variants=[
            aws.sagemaker.EndpointConfigurationProductionVariantArgs(
                variant_name=spec.sagemaker_settings.variant_name,
                instance_type=config.instance_type,
                initial_instance_count=1,
                managed_instance_scaling=aws.sagemaker.EndpointConfigurationProductionVariantManagedInstanceScalingArgs(
                    status="ENABLED", min_instance_count=0, max_instance_count=max(1, config.max_replicas)
                ),
                routing_configs=[
                    aws.sagemaker.EndpointConfigurationProductionVariantRoutingConfigArgs(
                        routing_strategy="LEAST_OUTSTANDING_REQUESTS"
                    )
                ],
                volume_size_in_gb=plan.volume_size_gb,
            )
        ],
        kms_key_arn=plan.kms_key_arn,
        region=spec.region,
        tags=spec.tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def scale_to_zero_serving(
    name: str,
    spec: DeploymentSpec,
    config: Config,
    *,
    role: aws.iam.Role,
    parent: pulumi.Resource,
    depends_on: list[pulumi.Resource] | None = None,
) -> ServingConfig:
    """The Model (the same as a classic variant's, `serving_model`) and the model-less endpoint configuration;
    the model reaches the endpoint through the inference component (`scale_to_zero`)."""
    plan, model = serving_model(name, spec, config, role=role, parent=parent, depends_on=depends_on)
    endpoint_config = inference_component_endpoint_config(
        name, spec, config, execution_role_arn=role.arn, parent=parent
    )
    return ServingConfig(config, plan, model, endpoint_config)


@dataclass(frozen=True)
class ScaleToZeroResources:
    inference_component: pulumi_aws_native.sagemaker.InferenceComponent
    target: aws.appautoscaling.Target
    tracking_policy: aws.appautoscaling.Policy
    wake_up_policy: aws.appautoscaling.Policy
    wake_up_alarm: aws.cloudwatch.MetricAlarm
    scheduled_actions: list[aws.appautoscaling.ScheduledAction]


def scale_to_zero(
    name: str,
    spec: DeploymentSpec,
    *,
    endpoint_name: pulumi.Input[str],
    model_name: pulumi.Input[str],
    metrics: EndpointMetrics,
    parent: pulumi.Resource,
    depends_on: list[pulumi.Resource] | None = None,
) -> ScaleToZeroResources:
    """The inference component and its copy-count scaling, wake-up and window schedules, children of `parent`.

    `metrics` names the component (`metrics.inference_component_name`) and places the wake-up alarm's metric;
    `endpoint_name` may be the Endpoint's output so that the component waits for it."""
    component_name = metrics.inference_component_name
    if component_name is None:
        raise ValueError(
            "scale_to_zero needs the metrics of an inference component: "
            "EndpointMetrics.inference_component(endpoint, variant, component)"
        )
    day = day_config(spec)
    plan = variant_plan(spec, day)  # the TP degree and start-up timeouts a classic variant would get
    memory_mb = int(sizing.weights_gb(day.params_b, day.precision) * _MB_PER_GB)
    child = pulumi.ResourceOptions(parent=parent)
    native = aws_native()
    ic = native.sagemaker.InferenceComponent(
        f"{name}-inference-component",
        inference_component_name=component_name,
        endpoint_name=endpoint_name,
        variant_name=spec.sagemaker_settings.variant_name,
        specification=native.sagemaker.InferenceComponentSpecificationArgs(
            model_name=model_name,
            compute_resource_requirements=native.sagemaker.InferenceComponentComputeResourceRequirementsArgs(
                number_of_accelerator_devices_required=plan.tp_degree, min_memory_required_in_mb=memory_mb
            ),
            startup_parameters=native.sagemaker.InferenceComponentStartupParametersArgs(
                model_data_download_timeout_in_seconds=plan.model_data_download_timeout_s,
                container_startup_health_check_timeout_in_seconds=plan.startup_health_check_timeout_s,
            ),
        ),
        runtime_config=native.sagemaker.InferenceComponentRuntimeConfigArgs(copy_count=1),
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=depends_on or [],
            # the autoscaler owns the copy count once it runs
            ignore_changes=["runtimeConfig.copyCount"],
        ),
    )
    aas = aws.appautoscaling
    copies = ScalingTarget.sagemaker_inference_component(component_name)
    target = aws.appautoscaling.Target(
        f"{name}-copies-target",
        service_namespace=copies.service_namespace,
        resource_id=copies.resource_id,
        scalable_dimension=copies.scalable_dimension,
        min_capacity=0,
        max_capacity=max(1, spec.max_replicas),
        region=spec.region,
        # scheduled actions of the windows change min/max; a `pulumi up` at night must not undo them
        opts=pulumi.ResourceOptions(
            parent=parent, depends_on=[ic], ignore_changes=["minCapacity", "maxCapacity"] if spec.schedules else None
        ),
    )
    tracking = aws.appautoscaling.Policy(
        f"{name}-copies-queue-depth-policy",
        policy_type="TargetTrackingScaling",
        service_namespace=target.service_namespace,
        resource_id=target.resource_id,
        scalable_dimension=target.scalable_dimension,
        target_tracking_scaling_policy_configuration=aas.PolicyTargetTrackingScalingPolicyConfigurationArgs(
            target_value=queue_target_value(spec),
            predefined_metric_specification={"predefined_metric_type": COPY_METRIC},
            scale_out_cooldown=spec.scaling.scale_up_stabilization_seconds,
            scale_in_cooldown=spec.scaling.scale_down_stabilization_seconds,
        ),
        region=spec.region,
        opts=child,
    )
    wake = aws.appautoscaling.Policy(
        f"{name}-wake-up-policy",
        policy_type="StepScaling",
        service_namespace=target.service_namespace,
        resource_id=target.resource_id,
        scalable_dimension=target.scalable_dimension,
        step_scaling_policy_configuration=aws.appautoscaling.PolicyStepScalingPolicyConfigurationArgs(
            adjustment_type="ChangeInCapacity",
            metric_aggregation_type="Maximum",
            cooldown=WAKE_UP_COOLDOWN_S,
            step_adjustments=[
                aws.appautoscaling.PolicyStepScalingPolicyConfigurationStepAdjustmentArgs(
                    metric_interval_lower_bound="0", scaling_adjustment=1
                )
            ],
        ),
        region=spec.region,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[tracking]),
    )
    no_capacity = metrics.metric(NO_CAPACITY_METRIC)
    # the first failed request wakes the endpoint (the guide's example, GreaterThan 1, needs two)
    alarm = first_occurrence_alarm(
        f"{name}-wake-up-alarm",
        description="A request found no copy of the model (scaled to zero): add one copy.",
        namespace=no_capacity.namespace,
        metric_name=no_capacity.name,
        dimensions=no_capacity.dimension_map,
        actions=[wake.arn],
        spec=spec,
        opts=child,
        period_s=WAKE_UP_ALARM_PERIOD_S,
        datapoints_to_alarm=1,
    )
    actions = []
    for t in transitions(spec):
        actions.append(
            aws.appautoscaling.ScheduledAction(
                f"{name}-{t.window}-{t.direction}-copies",
                name=f"{component_name}-{t.window}-{t.direction}",
                service_namespace=target.service_namespace,
                resource_id=target.resource_id,
                scalable_dimension=target.scalable_dimension,
                schedule=t.cron.as_aws(),
                timezone=t.cron.timezone,
                scalable_target_action=aws.appautoscaling.ScheduledActionScalableTargetActionArgs(
                    min_capacity=t.config.min_replicas, max_capacity=max(1, t.config.max_replicas)
                ),
                region=spec.region,
                opts=child,
            )
        )
    return ScaleToZeroResources(ic, target, tracking, wake, alarm, actions)
