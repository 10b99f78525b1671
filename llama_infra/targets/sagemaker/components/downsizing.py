"""`SageMakerDownsizing`: overnight vertical downsizing (and scale to zero) of a SageMaker endpoint.

Per schedule window: the night EndpointConfiguration (built by the endpoint component's `serving_config`, or by the
thin default here when only the instance type or counts change) and EventBridge Scheduler schedules for the night
start and the lead-time-shifted morning that put the window's or the day configuration in force
(`components/scheduler.py`, shared with the EKS node-group schedule). Once per endpoint: the SSM parameter holding
the configuration in force, a `rate(5 minutes)` tick schedule, the reconciler Lambda
(`llama_infra/targets/sagemaker/downsizing/`, packaged with `pulumi.AssetArchive`), least-privilege roles
(`downsizing_iam.py`) and alarms on the workflow's `TransitionFailed` metric and on the function's own errors. The
predictive floor (`scaling.floor_schedule`) adds one schedule per weekday hour and one on Saturday 00:00, which
record the floor in force, the hour's forecast and its capacity steps for the reconciler: it follows the load
(`scaling.floor_follow`, reading the variant's CloudWatch `Invocations` at every tick). Every schedule's input carries
every configuration's name, limits and policies, so a `pulumi up` that replaces one reaches the endpoint at the next
tick. Scale to zero
(`scaling.scale_to_zero`) lives in `scale_to_zero.py`.

The endpoint component calls `build_night_windows(ctx)`; other programs construct the component directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import pulumi
import pulumi_aws as aws

from llama_infra import naming, sizing
from llama_infra.capacity_plan import Config, day_config
from llama_infra.capacity_timeline import Transition, switch_budget_s, transitions
from llama_infra.scaling import floor_follow
from llama_infra.scaling.floor_schedule import floor_schedule
from llama_infra.schedules import Cron
from llama_infra.spec import DeploymentSpec
from llama_infra.targets.aws.scheduler import schedule, scheduler_role
from llama_infra.targets.sagemaker.components.alarms import first_occurrence_alarm
from llama_infra.targets.sagemaker.components.autoscaling import queue_target_value
from llama_infra.targets.sagemaker.components.downsizing_iam import (
    WorkflowArns,
    assume_role_policy,
    scheduler_policy,
    workflow_policy,
)
from llama_infra.targets.sagemaker.downsizing.alarm import METRIC_DIMENSION, METRIC_NAME, METRIC_NAMESPACE
from llama_infra.targets.sagemaker.downsizing.desired import DAY, in_force_parameter_name, initial_record

TYPE_TOKEN = "llama-infra:index:SageMakerDownsizing"
LAMBDA_RUNTIME = "python3.12"
LAMBDA_HANDLER = "downsizing.handler.lambda_handler"
LAMBDA_TIMEOUT_S = 120  # a tick is a few API calls; it never waits for an update (the next tick does)
TICK_MINUTES = 5  # how often the workflow compares the endpoint with the configuration in force
RETRY_ATTEMPTS = 2
LOG_RETENTION_DAYS = 90

# Returns the EndpointConfiguration that serves a window's Config, as a child of the given parent.
ServingBuilder = Callable[[Config, pulumi.Resource], aws.sagemaker.EndpointConfiguration]
# PutScalingPolicy fields (PolicyName, PolicyType, …Configuration) for a Config; values may be Pulumi outputs.
PolicyBuilder = Callable[[Config], list[dict[str, Any]]]


@dataclass(frozen=True)
class SageMakerDownsizingArgs:
    spec: DeploymentSpec
    """The validated spec; its `schedules` drive everything here."""
    endpoint_name: str
    """Name of the endpoint to switch (as created: the scaling resource id uses it)."""
    endpoint_arn: pulumi.Input[str]
    day_endpoint_config: aws.sagemaker.EndpointConfiguration
    """The day configuration the morning run switches back to."""
    build_serving: ServingBuilder | None = None
    """Builds a window's EndpointConfiguration (+ Model). Default: reuse `day_model_name` (instance type / count
    changes only)."""
    day_model_name: pulumi.Input[str] | None = None
    policies: PolicyBuilder | None = None
    """Scaling policies to attach in each configuration. Default: re-attach the policies the variant has."""
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    """Resources the first transition must wait for (the endpoint's scalable target and policies)."""
    inference_component_name: str | None = None
    """Scale to zero: name of the inference component; default `<endpoint_name>-model`."""
    inference_components: bool | None = None
    """Whether the endpoint hosts inference components (default: `scaling.scale_to_zero`). False on a classic
    variant endpoint: its windows then go through the workflow, with at least one instance."""


class SageMakerDownsizing(pulumi.ComponentResource):
    function_arn: pulumi.Output[str | None]
    alarm_name: pulumi.Output[str | None]
    night_endpoint_config_names: pulumi.Output[dict[str, str]]
    schedule_names: pulumi.Output[list[str]]
    inference_component_name: pulumi.Output[str | None]

    def __init__(self, name: str, args: SageMakerDownsizingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE_TOKEN, name, None, opts)
        self._name, self._args = name, args
        on_components = args.inference_components
        if on_components is None:
            on_components = args.spec.scaling.scale_to_zero
        if on_components:
            self._build_scale_to_zero()
        else:
            self._build_workflow()
        self.register_outputs(
            {
                "function_arn": self.function_arn,
                "alarm_name": self.alarm_name,
                "night_endpoint_config_names": self.night_endpoint_config_names,
                "schedule_names": self.schedule_names,
                "inference_component_name": self.inference_component_name,
            }
        )

    def _build_scale_to_zero(self) -> None:
        """Inference component with copies from zero; windows change min/max copies with scheduled actions."""
        from llama_infra.targets.sagemaker.cloudwatch_metrics import EndpointMetrics
        from llama_infra.targets.sagemaker.components.scale_to_zero import component_name_for, scale_to_zero

        a = self._args
        if a.day_model_name is None:
            raise ValueError("scale to zero needs day_model_name: the model the inference component runs")
        metrics = EndpointMetrics.inference_component(
            a.endpoint_name,
            a.spec.sagemaker_settings.variant_name,
            a.inference_component_name or component_name_for(a.endpoint_name),
        )
        z = scale_to_zero(
            self._name,
            a.spec,
            endpoint_name=a.endpoint_name,
            model_name=a.day_model_name,
            metrics=metrics,
            parent=self,
            depends_on=a.depends_on,
        )
        self.function_arn = pulumi.Output.from_input(None)
        self.alarm_name = pulumi.Output.from_input(None)
        self.night_endpoint_config_names = pulumi.Output.from_input({})
        self.schedule_names = pulumi.Output.all(*(s.name for s in z.scheduled_actions))
        self.inference_component_name = z.inference_component.inference_component_name

    def _build_workflow(self) -> None:
        args, name = self._args, self._name
        spec = args.spec
        child = pulumi.ResourceOptions(parent=self)
        plan = transitions(spec)
        configs = self._window_configs(plan)
        settings = spec.sagemaker_settings
        topic = settings.alarm_topic_arn
        account = pulumi.Output.from_input(args.endpoint_arn).apply(lambda arn: arn.split(":")[4])

        function_name = naming.fit(f"{args.endpoint_name}-downsizing", naming.FUNCTION_NAME_MAX, keep="-downsizing")
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{function_name}",
            retention_in_days=LOG_RETENTION_DAYS,
            region=spec.region,
            tags=spec.tags,
            opts=child,
        )
        # Which configuration is in force: the window schedules write it, every tick reads it. Pulumi creates it
        # and then leaves its value to the workflow (an `up` at night must not put the day back in force).
        in_force = aws.ssm.Parameter(
            f"{name}-in-force",
            name=in_force_parameter_name(args.endpoint_name),
            type="String",
            insecure_value=initial_record(),
            description=f"llama-infra downsizing: configuration in force on "
            f"{args.endpoint_name} (written by the workflow)"[:1024],
            region=spec.region,
            tags=spec.tags,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["insecureValue"]),
        )
        role = aws.iam.Role(
            naming.logical(naming.ROLE, f"{name}-workflow-role"),
            assume_role_policy=json.dumps(assume_role_policy("lambda.amazonaws.com")),
            description=f"llama-infra downsizing workflow of {args.endpoint_name}",
            tags=spec.tags,
            opts=child,
        )
        function = aws.lambda_.Function(
            f"{name}-workflow",
            name=function_name,
            runtime=LAMBDA_RUNTIME,
            handler=LAMBDA_HANDLER,
            code=workflow_code(),
            role=role.arn,
            timeout=LAMBDA_TIMEOUT_S,
            memory_size=256,
            # One tick at a time per endpoint: a concurrent invocation is throttled and Lambda retries it later.
            reserved_concurrent_executions=1,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables={"ALARM_TOPIC_ARN": topic or ""}),
            region=spec.region,
            tags=spec.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group]),
        )
        config_arns = [args.day_endpoint_config.arn, *(c.arn for c in configs.values())]
        policy_doc = pulumi.Output.all(
            args.endpoint_arn, function.arn, log_group.arn, in_force.arn, *config_arns
        ).apply(
            lambda v: json.dumps(
                workflow_policy(
                    WorkflowArns(
                        endpoint_arn=v[0],
                        function_arn=v[1],
                        log_group_arn=v[2],
                        in_force_parameter_arn=v[3],
                        endpoint_config_arns=tuple(v[4:]),
                        variant_name=settings.variant_name,
                        alarm_topic_arn=topic,
                        reads_load=floor_follow_period_s(spec) is not None,
                    ),
                    args.endpoint_name,
                )
            )
        )
        role_policy = aws.iam.RolePolicy(f"{name}-workflow-policy", role=role.id, policy=policy_doc, opts=child)
        # Every tick is idempotent (it reads the state before each step), so Lambda may retry a failed one.
        aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-workflow-retries",
            function_name=function.name,
            maximum_retry_attempts=RETRY_ATTEMPTS,
            region=spec.region,
            opts=child,
        )

        scheduler = scheduler_role(
            f"{name}-scheduler",
            account=account,
            policy=function.arn.apply(lambda arn: json.dumps(scheduler_policy(arn))),
            description=f"EventBridge Scheduler: start the downsizing workflow of {args.endpoint_name}",
            tags=spec.tags,
            parent=self,
        )

        published = self._configurations(plan, configs, in_force.name)
        schedules = []
        for t in plan:
            schedules.append(
                schedule(
                    f"{name}-{t.window}-{t.direction}-schedule",
                    # shortened with a digest when long, keeping `-<window>-<direction>`'s end: day and night differ
                    schedule_name=naming.fit(
                        f"{args.endpoint_name}-{t.window}-{t.direction}",
                        naming.SCHEDULE_NAME_MAX,
                        keep=f"-{t.direction}",
                    ),
                    description=_describe(t),
                    cron=t.cron,
                    target_arn=function.arn,
                    role=scheduler,
                    input=pulumi.Output.json_dumps(
                        {**published, "set_in_force": DAY if t.direction == "day" else t.window}
                    ),
                    region=spec.region,
                    parent=self,
                    depends_on=[role_policy, *args.depends_on],
                )
            )
        floor = floor_schedule(spec, follows_load=True)
        # The predictive floor: the reconciler owns min/max here, so the floor's hours reach it as schedules (in the
        # plan timezone) that record the floor in force, the hour's forecast and its capacity steps; it raises each
        # configuration's minimum to the floor, followed by the load it observes against the forecast
        # (`scaling.floor_follow`).
        steps: list[tuple[str, Cron, int, float, list[float]]] = (
            [(f"floor-{s.label}", s.start, s.min_replicas, s.forecast_rps, list(s.carries_rps)) for s in floor.steps]
            + [("floor-weekend", floor.weekend_reset, 0, 0.0, [])]
            if floor
            else []
        )
        for role, cron, n, forecast, carries in steps:
            schedules.append(
                schedule(
                    f"{name}-{role}-schedule",
                    schedule_name=naming.fit(f"{args.endpoint_name}-{role}", naming.SCHEDULE_NAME_MAX, keep=f"-{role}"),
                    description=(
                        f"llama-infra: predictive floor of {args.endpoint_name}: at least {n} instances "
                        f"from {cron.fields[1]}:00 {cron.timezone} on weekdays, scaled by the load against "
                        f"{forecast:g} requests/s"
                        if n
                        else f"llama-infra: predictive floor of {args.endpoint_name} ends for the weekend"
                    )[:512],
                    cron=cron,
                    target_arn=function.arn,
                    role=scheduler,
                    input=pulumi.Output.json_dumps(
                        {**published, "set_floor": n, "set_forecast_rps": forecast, "set_floor_carries_rps": carries}
                    ),
                    region=spec.region,
                    parent=self,
                    depends_on=[role_policy, *args.depends_on],
                )
            )
        schedules.append(
            schedule(
                f"{name}-tick-schedule",
                schedule_name=naming.fit(
                    f"{args.endpoint_name}-downsizing-tick", naming.SCHEDULE_NAME_MAX, keep="-downsizing-tick"
                ),
                description=f"llama-infra: every {TICK_MINUTES} min, move {args.endpoint_name} one safe step toward "
                "the configuration in force"[:512],
                rate_minutes=TICK_MINUTES,
                target_arn=function.arn,
                role=scheduler,
                input=pulumi.Output.json_dumps(published),
                region=spec.region,
                parent=self,
                depends_on=[role_policy, *args.depends_on],
            )
        )

        alarm_actions = [topic] if topic else None
        alarm = first_occurrence_alarm(
            f"{name}-failed-alarm",
            name=f"{args.endpoint_name}-downsizing-failed",
            description="A downsizing switch has not converged within its budget, kept rolling back, or found "
            "the endpoint deleted or failed; the serving fleet keeps its own limits and policies. "
            "Read the function's JSON logs (event transition_failed).",
            namespace=METRIC_NAMESPACE,
            metric_name=METRIC_NAME,
            dimensions={METRIC_DIMENSION: args.endpoint_name},
            actions=alarm_actions,
            spec=spec,
            opts=child,
        )
        first_occurrence_alarm(
            f"{name}-errors-alarm",
            name=f"{args.endpoint_name}-downsizing-errors",
            description="The downsizing function itself failed (crash, timeout, or it could not read or "
            "write the configuration in force).",
            namespace="AWS/Lambda",
            metric_name="Errors",
            dimensions={"FunctionName": function.name},
            actions=alarm_actions,
            spec=spec,
            opts=child,
        )

        self.function_arn = function.arn
        self.alarm_name = alarm.name
        self.night_endpoint_config_names = (
            pulumi.Output.all(**{w: c.name for w, c in configs.items()}) if configs else pulumi.Output.from_input({})
        )
        self.schedule_names = pulumi.Output.all(*(s.name for s in schedules))
        self.inference_component_name = pulumi.Output.from_input(None)

    def _window_configs(self, plan: list[Transition]) -> dict[str, aws.sagemaker.EndpointConfiguration]:
        build = self._args.build_serving or self._reuse_day_model
        return {t.window: build(t.config, self) for t in plan if t.direction == "night"}

    def _reuse_day_model(self, config: Config, parent: pulumi.Resource) -> aws.sagemaker.EndpointConfiguration:
        """Thin default: the day model on the window's instance type and count (no model change)."""
        a, spec = self._args, self._args.spec
        day = day_config(spec)
        if (config.model_id, config.params_b, config.precision) != (day.model_id, day.params_b, day.precision):
            raise ValueError(
                f"window '{config.window}' changes the model; pass build_serving (the endpoint "
                "component's serving_config) so its Model is built with the right container settings"
            )
        if a.day_model_name is None:
            raise ValueError("SageMakerDownsizingArgs needs build_serving or day_model_name")
        cold = sizing.cold_start(config.params_b, config.precision, spec.model.weights.preload == "nvme")
        return aws.sagemaker.EndpointConfiguration(
            naming.logical(naming.ENDPOINT_CONFIG, f"{self._name}-{config.window}-endpoint-config"),
            production_variants=[
                aws.sagemaker.EndpointConfigurationProductionVariantArgs(
                    variant_name=spec.sagemaker_settings.variant_name,
                    model_name=a.day_model_name,
                    instance_type=config.instance_type,
                    initial_instance_count=max(1, config.min_replicas),
                    container_startup_health_check_timeout_in_seconds=cold.startup_health_check_timeout_s,
                    model_data_download_timeout_in_seconds=cold.model_download_timeout_s,
                )
            ],
            region=spec.region,
            tags=spec.tags,
            opts=pulumi.ResourceOptions(parent=parent),
        )

    def _configurations(
        self,
        plan: list[Transition],
        configs: dict[str, aws.sagemaker.EndpointConfiguration],
        parameter_name: pulumi.Output[str],
    ) -> dict[str, Any]:
        """The schedules' common input: every configuration the workflow may put in force (`downsizing.handler`)."""
        a = self._args
        published: dict[str, Any] = {}
        for t in plan:
            key = DAY if t.direction == "day" else t.window
            ec = a.day_endpoint_config if t.direction == "day" else configs[t.window]
            published[key] = {
                "endpoint_config_name": ec.name,
                "min_capacity": max(1, t.config.min_replicas),  # a real-time variant keeps ≥ 1 instance
                "max_capacity": max(1, t.config.max_replicas),
                "policies": a.policies(t.config) if a.policies else None,
                "budget_s": switch_budget_s(a.spec, t.config) + TICK_MINUTES * 60,
            }
        out = {
            "endpoint_name": a.endpoint_name,
            "variant_name": a.spec.sagemaker_settings.variant_name,
            "in_force_parameter": parameter_name,
            "configurations": published,
        }
        if floor_follow_period_s(a.spec) is not None:
            out["floor_follow"] = {"window_s": floor_follow.WINDOW_S, "margin": floor_follow.MARGIN}
        return out


def _describe(t: Transition) -> str:
    c = t.config
    early = f", {t.lead_time_minutes} min before the window ends" if t.lead_time_minutes else ""
    return (
        f"llama-infra: switch to the {t.direction} configuration of '{t.window}' ({c.instance_type}, "
        f"{c.params_b:g}B {c.precision}, {c.min_replicas}-{c.max_replicas}){early}"
    )[:512]


def floor_follow_period_s(spec: DeploymentSpec) -> float | None:
    """How often the reconciler re-reads the load its predictive floor follows: every tick, where this component
    renders a floor (downsizing windows on a classic variant, with a floor that rises above the minimums)."""
    if not spec.schedules or spec.scaling.scale_to_zero or floor_schedule(spec) is None:
        return None
    return TICK_MINUTES * 60.0


def workflow_code() -> pulumi.AssetArchive:
    """The `llama_infra/targets/sagemaker/downsizing` package as the function's top-level `downsizing` package (.py
    files only). Its `floor_follow` is the library's rule itself (`llama_infra/scaling/floor_follow.py`, stdlib
    only), shipped in place of the module that re-exports it in the repository."""
    package = resources.files("llama_infra.targets.sagemaker.downsizing")
    files = {p.name: p for p in package.iterdir() if p.name.endswith(".py")}
    files["floor_follow.py"] = resources.files("llama_infra.scaling").joinpath("floor_follow.py")
    return pulumi.AssetArchive({f"downsizing/{n}": pulumi.FileAsset(str(files[n])) for n in sorted(files)})


def build_night_windows(ctx: Any) -> SageMakerDownsizing:
    """The `SageMakerLlamaEndpoint` extension point (`EndpointContext` → this component, parented to it).

    Windows are served by the endpoint component's own `serving_config` (Model + EndpointConfiguration, same role),
    and each configuration gets exactly the endpoint's policies (`endpoint_policies`).
    """
    from llama_infra.targets.sagemaker.components.serving_config import serving_config

    def build(config: Config, parent: pulumi.Resource) -> aws.sagemaker.EndpointConfiguration:
        return serving_config(
            ctx.name, ctx.spec, config, role=ctx.role, parent=parent, depends_on=[ctx.role_policy]
        ).endpoint_config

    scaling = ctx.scaling
    depends_on = [scaling.target, scaling.queue_policy]
    args = SageMakerDownsizingArgs(
        spec=ctx.spec,
        endpoint_name=ctx.endpoint_name,
        endpoint_arn=ctx.endpoint.arn,
        day_endpoint_config=ctx.day.endpoint_config,
        build_serving=build,
        day_model_name=ctx.day.model.name,
        policies=lambda config: endpoint_policies(ctx, config),
        depends_on=depends_on,
        # Only classic variants come here: a scale-to-zero endpoint schedules its copies itself (scale_to_zero.py).
        inference_components=False,
    )
    return SageMakerDownsizing(f"{ctx.name}-downsizing", args, opts=pulumi.ResourceOptions(parent=ctx.component))


def endpoint_policies(ctx: Any, config: Config) -> list[dict[str, Any]]:
    """PutScalingPolicy fields of the endpoint component's policies for the variant running `config`: its queue
    policy, the only one it attaches (`autoscaling.py`; GPU memory is no signal on SageMaker), with that
    configuration's own target (`autoscaling.queue_target_value`: stated, else derived from its SLO envelope).
    The workflow puts these and deletes any other policy it finds on the variant."""
    s = ctx.scaling.scaling
    return [
        {
            "PolicyName": ctx.scaling.queue_policy.name,
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": queue_target_value(ctx.spec, config.window),
                "PredefinedMetricSpecification": {"PredefinedMetricType": s.queue_metric},
                "ScaleOutCooldown": s.scale_out_cooldown_s,
                "ScaleInCooldown": s.scale_in_cooldown_s,
            },
        }
    ]
