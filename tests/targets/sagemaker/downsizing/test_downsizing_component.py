"""`SageMakerDownsizing` under Pulumi mocks, with preview on and off: schedules, IAM, alarm, scale to zero."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pulumi
import pytest

from llama_infra.capacity_timeline import lead_time_minutes
from llama_infra.plan.record import ACCOUNT_ID as ACCOUNT
from llama_infra.plan.record import RecordedResource, Recording, RecordingMocks, run_program
from llama_infra.spec import load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[4]
REGION = "us-east-1"
ENDPOINT = "llama-70b-prod"
ENDPOINT_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{ENDPOINT}"


class Built:
    """What `build` registered, recorded by the library's recorder (strict: the cloud contracts hold)."""

    def __init__(self, preview: bool):
        self.preview = preview
        self.recording = Recording()

    def of_type(self, type_: str) -> list[RecordedResource]:
        return self.recording.of_type(type_)

    def named(self, name: str) -> RecordedResource:
        (found,) = [r for r in self.recording.resources if r.name == name]
        return found

    def run(self, program, *, masked: bool = False) -> None:
        """Record `program` (masked: assets and archives as digests of their content, as `llama-infra diff`)."""
        mocks = RecordingMocks(REGION, autoname=False)
        self.recording = run_program(
            program, project="llama-infra", stack="test", preview=self.preview, mocks=mocks, masked=masked
        )

    def build(self, spec, *, masked: bool = False, **overrides):
        """Construct the component in a Pulumi program run; returns once every resource is registered."""
        import pulumi_aws as aws

        from llama_infra.targets.sagemaker.components.downsizing import SageMakerDownsizing, SageMakerDownsizingArgs

        made = {}

        def program():
            day = aws.sagemaker.EndpointConfiguration(
                "day-config",
                name="llama-70b-prod-day",
                production_variants=[
                    aws.sagemaker.EndpointConfigurationProductionVariantArgs(
                        variant_name="AllTraffic",
                        model_name="llama-70b-fp16",
                        instance_type="ml.p4d.24xlarge",
                        initial_instance_count=2,
                    )
                ],
            )

            def night_config(config, parent):
                return aws.sagemaker.EndpointConfiguration(
                    f"test-{config.window}-config",
                    name=f"llama-70b-prod-{config.window}",
                    production_variants=[
                        aws.sagemaker.EndpointConfigurationProductionVariantArgs(
                            variant_name="AllTraffic",
                            model_name="llama-70b-awq",
                            instance_type=config.instance_type,
                            initial_instance_count=config.min_replicas,
                        )
                    ],
                    opts=pulumi.ResourceOptions(parent=parent),
                )

            args = dict(
                spec=spec,
                endpoint_name=ENDPOINT,
                endpoint_arn=ENDPOINT_ARN,
                day_endpoint_config=day,
                build_serving=night_config,
                day_model_name="llama-70b-fp16",
            )
            args.update(overrides)
            made["component"] = SageMakerDownsizing(f"{ENDPOINT}-downsizing", SageMakerDownsizingArgs(**args))
            return made["component"].schedule_names

        self.run(program, masked=masked)
        return made["component"]


@pytest.fixture(params=[False, True], ids=["update", "preview"])
def mocks(request: pytest.FixtureRequest) -> Built:
    return Built(request.param)


def prod():
    return load_spec(ROOT / "stacks/specs/prod.yaml")


def test_schedules_fire_the_workflow_at_local_night_start_and_lead_time_before_morning(mocks):
    spec = prod()
    mocks.build(spec)
    schedules = {r.name: r.inputs for r in mocks.of_type("aws:scheduler/schedule:Schedule")}
    lead = lead_time_minutes(spec)
    assert lead == 15  # 70B fp16 on p4d with NVMe preload: 600 s provisioning + ≈105 s cold start, rounded up
    night = schedules["llama-70b-prod-downsizing-overnight-night-schedule"]
    day = schedules["llama-70b-prod-downsizing-overnight-day-schedule"]
    assert night["scheduleExpression"] == "cron(0 22 * * ? *)"
    assert day["scheduleExpression"] == "cron(45 6 * * ? *)"  # 07:00 minus the lead time
    for s in (night, day):
        assert s["scheduleExpressionTimezone"] == "America/New_York"
        assert s["flexibleTimeWindow"] == {"mode": "OFF"}
    function = mocks.of_type("aws:lambda/function:Function")[0]
    assert night["target"]["arn"] == function.outputs["arn"]
    night_event, day_event = json.loads(night["target"]["input"]), json.loads(day["target"]["input"])
    assert (night_event["set_in_force"], day_event["set_in_force"]) == ("overnight", "day")
    # every schedule publishes every configuration: a changed one reaches the endpoint at the next tick
    tick = schedules["llama-70b-prod-downsizing-tick-schedule"]
    assert tick["scheduleExpression"] == "rate(5 minutes)" and "scheduleExpressionTimezone" not in tick
    tick_event = json.loads(tick["target"]["input"])
    assert "set_in_force" not in tick_event
    for event in (night_event, day_event, tick_event):
        published = {k: v for k, v in event.items() if k != "set_in_force"}
        assert published == tick_event
    assert tick_event["in_force_parameter"] == "/llama-infra/llama-70b-prod/downsizing/in-force"
    configs = tick_event["configurations"]
    assert {
        k: (c["endpoint_config_name"], c["min_capacity"], c["max_capacity"], c["policies"]) for k, c in configs.items()
    } == {"day": ("llama-70b-prod-day", 2, 6, None), "overnight": ("llama-70b-prod-overnight", 2, 5, None)}
    # budget: the transition time-out (≥ 30 min) + bake (600 s) + old-fleet wait (300 s) + one tick
    assert all(c["budget_s"] >= 1800 + 900 + 300 for c in configs.values())
    parameter = mocks.of_type("aws:ssm/parameter:Parameter")[0]
    assert parameter.inputs["name"] == tick_event["in_force_parameter"]
    assert json.loads(parameter.inputs["insecureValue"])["configuration"] == "day"  # not a secret: plain text


def test_lambda_ships_the_workflow_package_and_its_roles_are_least_privilege(mocks):
    from llama_infra.plan.record import _asset_digest
    from llama_infra.targets.sagemaker.components.downsizing import workflow_code

    mocks.build(prod(), masked=True)
    function = mocks.of_type("aws:lambda/function:Function")[0].inputs
    assert function["handler"] == "downsizing.handler.lambda_handler"
    assert function["runtime"] == "python3.12" and function["timeout"] == 120  # a tick never waits
    assert function["reservedConcurrentExecutions"] == 1
    code = workflow_code()  # the function ships this archive: the same content, file by file
    assert function["code"] == f"[AssetArchive sha256:{_asset_digest(code)}]"
    assert {"downsizing/workflow.py", "downsizing/handler.py"} <= set(code.assets)

    policies = {r.name: json.loads(r.inputs["policy"]) for r in mocks.of_type("aws:iam/rolePolicy:RolePolicy")}
    workflow = {s["Sid"]: s for s in policies["llama-70b-prod-downsizing-workflow-policy"]["Statement"]}
    assert workflow["ReadAndSwitchThisEndpoint"]["Resource"] == [ENDPOINT_ARN]
    assert workflow["UseTheseEndpointConfigs"]["Resource"] == [
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/llama-70b-prod-day",
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/llama-70b-prod-overnight",
    ]
    assert workflow["ChangeVariantScaling"]["Condition"]["StringEquals"] == {
        "application-autoscaling:service-namespace": "sagemaker",
        "application-autoscaling:scalable-dimension": "sagemaker:variant:DesiredInstanceCount",
    }
    assert workflow["ConfigurationInForce"]["Resource"] == [
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/llama-infra/{ENDPOINT}/downsizing/in-force"
    ]
    assert "ContinueItself" not in workflow  # no self-invocation: ticks replace continuations
    # resource "*" only where AWS has no resource type, each documented in downsizing_iam.py
    # (ReadEndpointLoad: prod's predictive floor follows the load, read from the variant's Invocations)
    assert {sid for sid, s in workflow.items() if s["Resource"] == "*"} == {
        "DescribeScaling",
        "PublishFailureMetric",
        "ReadEndpointLoad",
    }
    assert workflow["ReadEndpointLoad"]["Action"] == ["cloudwatch:GetMetricStatistics"]
    assert workflow["PublishFailureMetric"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "llama-infra/Downsizing"}
    }
    for s in workflow.values():
        assert all("*" not in a for a in s["Action"]), s
    scheduler = policies["llama-70b-prod-downsizing-scheduler-policy"]["Statement"]
    assert scheduler == [
        {
            "Sid": "InvokeDownsizingWorkflow",
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction"],
            "Resource": [f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{ENDPOINT}-downsizing"],
        }
    ]
    roles = {r.name: json.loads(r.inputs["assumeRolePolicy"]) for r in mocks.of_type("aws:iam/role:Role")}
    trust = roles["llama-70b-prod-downsizing-scheduler-role"]["Statement"][0]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_failure_alarm_watches_the_workflow_metric_and_notifies_the_topic(mocks):
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:llama-alarms"
    spec = prod().model_copy(update={"sagemaker": prod().sagemaker.model_copy(update={"alarm_topic_arn": topic})})
    mocks.build(spec)
    alarm = mocks.named("llama-70b-prod-downsizing-failed-alarm").inputs
    assert (alarm["namespace"], alarm["metricName"]) == ("llama-infra/Downsizing", "TransitionFailed")
    assert alarm["dimensions"] == {"EndpointName": ENDPOINT}
    assert alarm["alarmActions"] == [topic]
    assert mocks.named("llama-70b-prod-downsizing-workflow").inputs["environment"]["variables"] == {
        "ALARM_TOPIC_ARN": topic
    }
    statements = json.loads(mocks.named("llama-70b-prod-downsizing-workflow-policy").inputs["policy"])["Statement"]
    assert {"Sid": "NotifyFailure", "Effect": "Allow", "Action": ["sns:Publish"], "Resource": [topic]} in statements
    retries = mocks.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")[0].inputs
    assert retries["maximumRetryAttempts"] == 2  # ticks are idempotent: a retry is safe


def test_default_builder_reuses_the_day_model_when_only_the_instance_type_changes(mocks):
    # the window's model_override block (its line and the lines indented under it) removed
    text = re.sub(r"\n( +)model_override:.*\n(?:\1 .*\n)*", "\n", (ROOT / "stacks/specs/prod.yaml").read_text())
    # an 8-GPU type smaller than the day's ml.p4d.24xlarge (a window may not upsize), so the day's TP carries over
    text = text.replace("ml.g6e.12xlarge", "ml.g5.48xlarge")
    spec = parse_spec(text)
    mocks.build(spec, build_serving=None)
    [night] = [
        r for r in mocks.of_type("aws:sagemaker/endpointConfiguration:EndpointConfiguration") if r.name != "day-config"
    ]
    variant = night.inputs["productionVariants"][0]
    assert (variant["modelName"], variant["instanceType"], variant["initialInstanceCount"]) == (
        "llama-70b-fp16",
        "ml.g5.48xlarge",
        2,
    )


def test_default_builder_refuses_a_model_change_with_a_clear_message(mocks):
    with pytest.raises(Exception, match="window 'overnight' changes the model; pass build_serving"):
        mocks.build(prod(), build_serving=None)


SCALE_TO_ZERO = """
name: llama-8b-dev
environment: dev
target: sagemaker
model: {id: meta-llama/Llama-3.1-8B-Instruct, params_b: 8, weights: {source: s3://weights/llama-8b/}}
capacity:
  baseline: {instance_type: ml.g5.2xlarge, count: 0}
  burst: {max: 2}
scaling: {scale_to_zero: true, min_replicas: 0}
schedules:
  - name: overnight
    timezone: Europe/Berlin
    start: "0 20 * * 1-5"
    end: "0 8 * * 1-5"
    downsize: {min_replicas: 0, max_replicas: 1}
"""


def test_scale_to_zero_builds_inference_component_copies_from_zero_and_the_wake_up(mocks):
    spec = parse_spec(SCALE_TO_ZERO)
    mocks.build(spec, build_serving=None)
    ic = mocks.of_type("aws-native:sagemaker:InferenceComponent")[0].inputs
    assert ic["endpointName"] == ENDPOINT and ic["variantName"] == "AllTraffic"
    assert ic["specification"]["modelName"] == "llama-70b-fp16"
    assert ic["specification"]["computeResourceRequirements"]["numberOfAcceleratorDevicesRequired"] == 1
    target = mocks.of_type("aws:appautoscaling/target:Target")[0].inputs
    assert (target["resourceId"], target["scalableDimension"], target["minCapacity"], target["maxCapacity"]) == (
        f"inference-component/{ENDPOINT}-model",
        "sagemaker:inference-component:DesiredCopyCount",
        0,
        2,
    )
    policies = {
        r.name.removeprefix("llama-70b-prod-downsizing-"): r.inputs
        for r in mocks.of_type("aws:appautoscaling/policy:Policy")
    }
    step = policies["wake-up-policy"]["stepScalingPolicyConfiguration"]
    assert step["adjustmentType"] == "ChangeInCapacity"
    assert step["stepAdjustments"] == [{"metricIntervalLowerBound": "0", "scalingAdjustment": 1}]
    assert policies["copies-queue-depth-policy"]["targetTrackingScalingPolicyConfiguration"][
        "predefinedMetricSpecification"
    ]["predefinedMetricType"] == ("SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution")
    # the queue is the copies' only target-tracking signal (GPU memory is allocation, not load, on SageMaker)
    assert set(policies) == {"copies-queue-depth-policy", "wake-up-policy"}
    alarm = mocks.named("llama-70b-prod-downsizing-wake-up-alarm").inputs
    assert (alarm["metricName"], alarm["dimensions"]) == (
        "NoCapacityInvocationFailures",
        {"InferenceComponentName": f"{ENDPOINT}-model"},
    )
    assert alarm["alarmActions"] == [mocks.named("llama-70b-prod-downsizing-wake-up-policy").outputs["arn"]]
    actions = {r.name: r.inputs for r in mocks.of_type("aws:appautoscaling/scheduledAction:ScheduledAction")}
    night = actions["llama-70b-prod-downsizing-overnight-night-copies"]
    morning = actions["llama-70b-prod-downsizing-overnight-day-copies"]
    assert (night["schedule"], night["timezone"], night["scalableTargetAction"]) == (
        "cron(0 20 ? * MON-FRI *)",
        "Europe/Berlin",
        {"minCapacity": 0, "maxCapacity": 1},
    )
    assert morning["schedule"] == f"cron({60 - lead_time_minutes(spec)} 7 ? * MON-FRI *)"
    assert morning["scalableTargetAction"] == {"minCapacity": 0, "maxCapacity": 2}
    assert not mocks.of_type("aws:lambda/function:Function")  # no instance-type change: no workflow needed


def test_scale_to_zero_endpoint_config_has_no_model_and_min_instances_zero(mocks):
    from llama_infra.capacity_plan import day_config
    from llama_infra.targets.sagemaker.components.scale_to_zero import inference_component_endpoint_config

    spec = parse_spec(SCALE_TO_ZERO)

    def program():
        parent = pulumi.ComponentResource("test:index:Parent", "parent")
        return inference_component_endpoint_config(
            "ic",
            spec,
            day_config(spec),
            execution_role_arn="arn:aws:iam::123456789012:role/sagemaker-execution",
            parent=parent,
        ).arn

    mocks.run(program)
    variant = mocks.named("ic-endpoint-config").inputs["productionVariants"][0]
    assert "modelName" not in variant
    assert variant["managedInstanceScaling"] == {"status": "ENABLED", "minInstanceCount": 0, "maxInstanceCount": 2}
    assert (
        mocks.named("ic-endpoint-config").inputs["executionRoleArn"]
        == "arn:aws:iam::123456789012:role/sagemaker-execution"
    )


def test_lambda_archive_runs_as_a_top_level_package_without_the_rest_of_llama_infra(tmp_path):
    import shutil
    import subprocess
    import sys

    from llama_infra.targets.sagemaker.components.downsizing import LAMBDA_HANDLER, workflow_code

    for rel, asset in workflow_code().assets.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(asset.path, tmp_path / rel)
    module, _, func = LAMBDA_HANDLER.rpartition(".")
    check = (
        f"import sys, {module} as h; assert callable(h.{func}); "
        "leaked = [m for m in sys.modules if m.startswith(('llama_infra', 'pulumi', 'pydantic'))]; "
        "assert not leaked, leaked"
    )
    done = subprocess.run(
        [sys.executable, "-c", check],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
