"""`SageMakerLlamaEndpoint`: a real-time SageMaker endpoint serving a Llama model, built from a validated spec.

Two shapes, chosen by `scaling.scale_to_zero`:
- classic (default): the model on the production variant, ≥ 1 instance, variant autoscaling (`autoscaling.py`),
  overnight windows through the downsizing workflow;
- scale to zero: a model-less variant with managed instance scaling from 0, the model as an inference component
  whose copy count scales from 0 with a wake-up alarm; windows change min/max copies (`scale_to_zero.py`).

Translate only: every number comes from the spec or the pure modules (`variant.py`, `autoscaling.py`,
`alarms.py`), every metric's namespace and dimensions from one `EndpointMetrics` (the variant's or the inference
component's) shared by the alarms, the dashboard and the wake-up alarm; the spec layer has already validated
everything, so nothing is re-checked here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from llama_infra.blue_green import BAKE_TIME_S, OLD_FLEET_WAIT_S
from llama_infra.capacity_plan import day_config, window_config
from llama_infra.spec import DeploymentSpec
from llama_infra.targets.sagemaker.cloudwatch_metrics import EndpointMetrics
from llama_infra.targets.sagemaker.components.alarms import alarm_specs, endpoint_alarms
from llama_infra.targets.sagemaker.components.args import SageMakerLlamaEndpointArgs
from llama_infra.targets.sagemaker.components.autoscaling import ScalingResources, variant_autoscaling
from llama_infra.targets.sagemaker.components.dashboard import dashboard_url, endpoint_dashboard
from llama_infra.targets.sagemaker.components.role import execution_role
from llama_infra.targets.sagemaker.components.scale_to_zero import (
    ScaleToZeroResources,
    component_name_for,
    scale_to_zero,
    scale_to_zero_serving,
)
from llama_infra.targets.sagemaker.components.serving_config import ServingConfig, serving_config, switched_by_workflow
from llama_infra.targets.sagemaker.components.variant import variant_plan

TYPE_TOKEN = "llama-infra:index:SageMakerLlamaEndpoint"


@dataclass(frozen=True)
class EndpointContext:
    """What the night-window extension (downsizing.py) needs from the component that called it."""

    component: SageMakerLlamaEndpoint
    name: str
    spec: DeploymentSpec
    endpoint_name: str
    role: aws.iam.Role
    role_policy: aws.iam.RolePolicy
    day: ServingConfig
    endpoint: aws.sagemaker.Endpoint
    scaling: ScalingResources | None  # the variant's; None on a scale-to-zero endpoint
    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    metrics: EndpointMetrics  # where the endpoint's CloudWatch metrics live (variant or inference component)
    scale_to_zero: ScaleToZeroResources | None = None


class SageMakerLlamaEndpoint(pulumi.ComponentResource):
    """A real-time SageMaker endpoint for a Llama model: execution role, Model, EndpointConfiguration, Endpoint
    (blue/green, rollback on alarms), queue-depth autoscaling, CloudWatch alarms and dashboard. With
    `scaling.scale_to_zero` the model runs as an inference component whose copies (and instances) go to zero.

    `args` is a `SageMakerLlamaEndpointArgs` or, for short, a validated `DeploymentSpec`.
    """

    endpoint_name: pulumi.Output[str]
    endpoint_arn: pulumi.Output[str]
    scaling_target_id: pulumi.Output[str]
    dashboard_url: pulumi.Output[str]

    def __init__(
        self, name: str, args: SageMakerLlamaEndpointArgs | DeploymentSpec, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__(TYPE_TOKEN, name, None, opts)
        if isinstance(args, DeploymentSpec):
            args = SageMakerLlamaEndpointArgs(args)
        spec = args.spec
        endpoint_name = args.endpoint_name or name
        day = day_config(spec)
        windows = [window_config(spec, s) for s in spec.schedules]
        # The role may pull every image and read every weights prefix any configuration (day or window) uses.
        plans = [variant_plan(spec, c) for c in (day, *windows)]
        account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        role, role_policy = execution_role(
            name,
            region=spec.region,
            endpoint_name=endpoint_name,
            weights_sources=[p.weights_source for p in plans],
            images=[p.image_uri for p in plans],
            hf_token_secret=spec.model.weights.hf_token_secret,
            account_id=account_id,
            tags=spec.tags,
            parent=self,
        )
        build = scale_to_zero_serving if spec.scaling.scale_to_zero else serving_config
        day_serving = build(name, spec, day, role=role, parent=self, depends_on=[role_policy])
        variant = spec.sagemaker_settings.variant_name
        metrics = (
            EndpointMetrics.inference_component(endpoint_name, variant, component_name_for(endpoint_name))
            if spec.scaling.scale_to_zero
            else EndpointMetrics.variant(endpoint_name, variant)
        )
        alarms = endpoint_alarms(name, spec, metrics, parent=self)
        endpoint = aws.sagemaker.Endpoint(
            f"{name}-endpoint",
            name=endpoint_name,
            endpoint_config_name=day_serving.endpoint_config.name,
            deployment_config=self._deployment_config(spec, metrics, day_serving, alarms),
            region=spec.region,
            tags=spec.tags,
            # With downsizing windows the workflow moves the endpoint to the configuration in force (the stack
            # publishes every configuration's name to it); an `up` must not fight it. (A scale-to-zero endpoint keeps
            # its configuration: its windows change only the copy count.)
            opts=pulumi.ResourceOptions(
                parent=self, ignore_changes=["endpointConfigName"] if (switched_by_workflow(spec)) else None
            ),
        )
        dashboard = endpoint_dashboard(name, spec, metrics, parent=self)
        if spec.scaling.scale_to_zero:
            # Copies from zero, the wake-up alarm, and the windows as scheduled min/max changes of the copies.
            zero = scale_to_zero(
                name, spec, endpoint_name=endpoint.name, model_name=day_serving.model.name, metrics=metrics, parent=self
            )
            self.context = EndpointContext(
                self, name, spec, endpoint_name, role, role_policy, day_serving, endpoint, None, alarms, metrics, zero
            )
            target = zero.target
        else:
            scaling = variant_autoscaling(name, spec, endpoint_name, parent=self, endpoint=endpoint)
            self.context = EndpointContext(
                self, name, spec, endpoint_name, role, role_policy, day_serving, endpoint, scaling, alarms, metrics
            )
            self.add_night_windows(self.context)
            target = scaling.target

        self.endpoint_name = endpoint.name
        self.endpoint_arn = endpoint.arn
        self.scaling_target_id = target.id
        self.dashboard_url = dashboard.dashboard_name.apply(lambda n: dashboard_url(spec.region, n))
        self.register_outputs(
            {
                "endpoint_name": self.endpoint_name,
                "endpoint_arn": self.endpoint_arn,
                "scaling_target_id": self.scaling_target_id,
                "dashboard_url": self.dashboard_url,
            }
        )

    @staticmethod
    def _deployment_config(
        spec: DeploymentSpec,
        metrics: EndpointMetrics,
        day: ServingConfig,
        alarms: dict[str, aws.cloudwatch.MetricAlarm],
    ) -> aws.sagemaker.EndpointDeploymentConfigArgs:
        """Blue/green with auto-rollback on the latency and 5xx alarms.

        With two or more instances a one-instance canary takes traffic first (the canary must be ≤ 50 % of the
        fleet); with one instance the shift is all at once, after the same bake time.
        """
        sm = aws.sagemaker
        canary = day.plan.initial_instance_count >= 2
        routing = sm.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationArgs(
            type="CANARY" if canary else "ALL_AT_ONCE",
            wait_interval_in_seconds=BAKE_TIME_S,
            canary_size=sm.EndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationCanarySizeArgs(
                type="INSTANCE_COUNT", value=1
            )
            if canary
            else None,
        )
        start_s = day.plan.model_data_download_timeout_s + day.plan.startup_health_check_timeout_s
        return sm.EndpointDeploymentConfigArgs(
            blue_green_update_policy=sm.EndpointDeploymentConfigBlueGreenUpdatePolicyArgs(
                traffic_routing_configuration=routing,
                termination_wait_in_seconds=OLD_FLEET_WAIT_S,
                # The new fleet must start (download + health check) and bake within this; AWS allows 600–14400.
                maximum_execution_timeout_in_seconds=min(14400, max(600, start_s + 2 * BAKE_TIME_S)),
            ),
            auto_rollback_configuration=sm.EndpointDeploymentConfigAutoRollbackConfigurationArgs(
                alarms=[
                    sm.EndpointDeploymentConfigAutoRollbackConfigurationAlarmArgs(alarm_name=alarms[a.role].name)
                    for a in alarm_specs(spec, metrics)
                    if a.guards_deployment
                ],
            ),
        )

    def add_night_windows(self, ctx: EndpointContext) -> None:
        """Extension point for `spec.schedules`: overnight vertical downsizing.

        `llama_infra/targets/sagemaker/components/downsizing.py` builds, per window, a Model + EndpointConfiguration
        with
        `serving_config(ctx.name, ctx.spec, window_config(ctx.spec, schedule), role=ctx.role, parent=self)`, and
        the scheduler + workflow that swaps the endpoint between them while keeping it autoscaled. It plugs in
        by defining `build_night_windows(ctx: EndpointContext) -> None`; until it exists, nothing is added.
        """
        if not ctx.spec.schedules:
            return
        import importlib

        module = "llama_infra.targets.sagemaker.components.downsizing"
        try:
            downsizing = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name != module:
                raise
            return
        downsizing.build_night_windows(ctx)
