"""Given a `scaling.scale_to_zero` spec, `SageMakerLlamaEndpoint` builds the inference-component endpoint.

Pulumi mocks (preview and update) for the resources and their wiring; botocore's service models (and moto, where
it implements the call) for whether AWS accepts the exact parameters.
"""

from __future__ import annotations

from typing import Any

import boto3
import botocore.session
import pytest
from botocore.validate import ParamValidator
from moto import mock_aws

from llama_infra import catalog

from .helpers import make_spec, policies_on_metrics_that_ignore_load, run_component
from .test_aws_apis_accept import to_api

TARGET = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
CONFIG = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
MODEL = "aws:sagemaker/model:Model"
ENDPOINT = "aws:sagemaker/endpoint:Endpoint"
IC = "aws-native:sagemaker:InferenceComponent"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SCHEDULED = "aws:appautoscaling/scheduledAction:ScheduledAction"

ZERO = {
    "capacity": {"baseline": {"instance_type": "ml.g5.12xlarge", "count": 0}, "burst": {"max": 3}},
    "scaling": {"scale_to_zero": True, "min_replicas": 0},
}
NIGHT = {
    "name": "overnight",
    "timezone": "Europe/Berlin",
    "start": "0 20 * * 1-5",
    "end": "0 8 * * 1-5",
    "downsize": {"min_replicas": 0, "max_replicas": 1},
}


def zero_spec(**more: Any):
    return make_spec(**ZERO, **more)


def test_no_variant_autoscaling_but_copies_from_zero_to_max(preview):
    spec = zero_spec()
    planned = run_component(spec, preview)
    (target,) = planned.of_type(TARGET)  # only the copy count; nothing on endpoint/<name>/variant/<variant>
    t = target.inputs
    assert (t["serviceNamespace"], t["resourceId"], t["scalableDimension"]) == (
        "sagemaker",
        "inference-component/llama-test-model",
        "sagemaker:inference-component:DesiredCopyCount",
    )
    assert (t["minCapacity"], t["maxCapacity"]) == (0, spec.max_replicas) == (0, 3)
    ic = planned.one(IC)
    assert ic.urn in [u for r in planned.of_type(TARGET) for u in r.depends_on]
    assert planned.outputs["scaling_target_id"] == "inference-component/llama-test-model"
    assert planned.outputs["endpoint_name"] == "llama-test"


def test_copy_count_tracks_concurrent_requests_per_copy_at_the_queue_depth_target(preview):
    spec = zero_spec()
    planned = run_component(spec, preview)
    by_name = {p.name: p for p in planned.of_type(POLICY)}
    assert {n: p.inputs["policyType"] for n, p in by_name.items()} == {
        "llama-test-copies-queue-depth-policy": "TargetTrackingScaling",
        "llama-test-wake-up-policy": "StepScaling",
    }
    for p in by_name.values():
        assert p.inputs["resourceId"] == "inference-component/llama-test-model"
        assert p.inputs["scalableDimension"] == "sagemaker:inference-component:DesiredCopyCount"
    tracking = by_name["llama-test-copies-queue-depth-policy"].inputs["targetTrackingScalingPolicyConfiguration"]
    assert tracking["predefinedMetricSpecification"]["predefinedMetricType"] == (
        "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"
    )
    assert tracking["targetValue"] == spec.scaling.queue_depth_target
    assert (tracking["scaleOutCooldown"], tracking["scaleInCooldown"]) == (45, 420)


@pytest.mark.parametrize("gpu_memory_target", [0.85, None, "default"])
def test_copies_scale_on_the_queue_alone_whatever_gpu_memory_target(preview, gpu_memory_target):
    """A copy's GPUMemoryUtilizationNormalized is allocation, not load (each copy's server takes ~90 % at start):
    no policy on it, so nothing holds copies the queue policy would take to zero."""
    scaling = {} if gpu_memory_target == "default" else {"gpu_memory_target": gpu_memory_target}
    spec = make_spec(capacity=ZERO["capacity"], scaling={**ZERO["scaling"], **scaling})
    planned = run_component(spec, preview)
    policies = planned.of_type(POLICY)
    assert {p.name for p in policies} == {"llama-test-copies-queue-depth-policy", "llama-test-wake-up-policy"}
    assert policies_on_metrics_that_ignore_load(policies) == []


def test_scale_to_zero_with_windows_builds_no_downsizing_workflow(preview):
    """A scale-to-zero endpoint's windows are scheduled actions on the copies: no workflow, no re-attached policy."""
    planned = run_component(zero_spec(schedules=[NIGHT]), preview)
    assert not planned.of_type("aws:lambda/function:Function")
    assert not planned.of_type("aws:sfn/stateMachine:StateMachine")
    assert {p.name for p in planned.of_type(POLICY)} == {
        "llama-test-copies-queue-depth-policy",
        "llama-test-wake-up-policy",
    }


def test_wake_up_alarm_fires_the_step_policy_that_adds_one_copy(preview):
    planned = run_component(zero_spec(), preview)
    step = planned.one(POLICY, "llama-test-wake-up-policy")
    config = step.inputs["stepScalingPolicyConfiguration"]
    assert config["adjustmentType"] == "ChangeInCapacity"
    assert config["stepAdjustments"] == [{"metricIntervalLowerBound": "0", "scalingAdjustment": 1}]
    alarm = planned.one(ALARM, "llama-test-wake-up-alarm").inputs
    assert (alarm["namespace"], alarm["metricName"]) == ("AWS/SageMaker", "NoCapacityInvocationFailures")
    assert alarm["dimensions"] == {"InferenceComponentName": "llama-test-model"}
    assert alarm["alarmActions"] == [step.outputs["arn"]]
    # the first failed request (Sum ≥ 1 in one period) wakes the endpoint
    assert (alarm["threshold"], alarm["comparisonOperator"], alarm["evaluationPeriods"]) == (
        1,
        "GreaterThanOrEqualToThreshold",
        1,
    )


def test_endpoint_config_has_no_model_and_managed_instances_from_zero(preview):
    spec = zero_spec()
    planned = run_component(spec, preview)
    config = planned.one(CONFIG)
    (variant,) = config.inputs["productionVariants"]
    assert "modelName" not in variant
    assert variant["managedInstanceScaling"] == {
        "status": "ENABLED",
        "minInstanceCount": 0,
        "maxInstanceCount": spec.max_replicas,
    }
    assert variant["instanceType"] == "ml.g5.12xlarge"
    role = planned.one("aws:iam/role:Role")
    assert config.inputs["executionRoleArn"] == role.outputs["arn"]
    assert planned.one(ENDPOINT).inputs["endpointConfigName"] == config.outputs["name"]


def test_inference_component_carries_the_model_and_its_compute_requirements(preview):
    spec = zero_spec()
    planned = run_component(spec, preview)
    ic = planned.one(IC)
    endpoint, model = planned.one(ENDPOINT), planned.one(MODEL)
    assert ic.inputs["inferenceComponentName"] == "llama-test-model"
    assert ic.inputs["endpointName"] == endpoint.outputs["name"] and endpoint.urn in ic.depends_on
    assert ic.inputs["variantName"] == spec.sagemaker_settings.variant_name
    s = ic.inputs["specification"]
    assert s["modelName"] == model.outputs["name"]
    compute = s["computeResourceRequirements"]
    # one model server over every GPU of the instance (the spec rules refuse a TP that leaves GPUs idle)
    assert compute["numberOfAcceleratorDevicesRequired"] == catalog.lookup("ml.g5.12xlarge").gpu_count == 4
    weights_mb = spec.model.params_b * 2 * 1000  # bf16: 2 bytes a parameter, in (decimal) MB, a lower bound
    assert weights_mb <= compute["minMemoryRequiredInMb"] <= catalog.lookup("ml.g5.12xlarge").memory_gib * 1024
    assert "runtimeConfig.copyCount" in ic.ignore_changes  # the autoscaler owns the copy count


def test_windows_change_min_max_copies_with_scheduled_actions_not_the_workflow(preview):
    spec = zero_spec(schedules=[NIGHT])
    planned = run_component(spec, preview)
    actions = {r.name: r.inputs for r in planned.of_type(SCHEDULED)}
    night = actions["llama-test-overnight-night-copies"]
    assert night["resourceId"] == "inference-component/llama-test-model"
    assert night["scalableTargetAction"] == {"minCapacity": 0, "maxCapacity": 1}
    assert actions["llama-test-overnight-day-copies"]["scalableTargetAction"] == {"minCapacity": 0, "maxCapacity": 3}
    assert not planned.of_type("aws:lambda/function:Function")
    assert not planned.of_type("aws:scheduler/schedule:Schedule")
    assert set(planned.one(TARGET).ignore_changes) == {"minCapacity", "maxCapacity"}
    assert "endpointConfigName" not in planned.one(ENDPOINT).ignore_changes  # nothing swaps the configuration


def test_a_classic_spec_still_gets_the_variant_and_no_inference_component(preview):
    planned = run_component(make_spec(), preview)
    assert not planned.of_type(IC)
    assert planned.one(TARGET).inputs["resourceId"] == "endpoint/llama-test/variant/AllTraffic"
    assert "modelName" in planned.one(CONFIG).inputs["productionVariants"][0]


# --- do the AWS APIs accept these parameters? --------------------------------------------------------------------
# moto 5 rejects `sagemaker:inference-component:DesiredCopyCount` (its RegisterScalableTarget enum predates it) and
# has no CreateInferenceComponent, so those requests are checked against botocore's service models instead: the
# request validator (required members, types, ranges) plus every enum value, which the validator does not check.


def _check_enums(shape, value, path: str = "") -> None:
    if shape.type_name == "structure":
        assert isinstance(value, dict), path
        for k, v in value.items():
            assert k in shape.members, f"{path}.{k} is not a member of {shape.name}"
            _check_enums(shape.members[k], v, f"{path}.{k}")
    elif shape.type_name == "list":
        for i, v in enumerate(value):
            _check_enums(shape.member, v, f"{path}[{i}]")
    elif shape.type_name == "string" and getattr(shape, "enum", None):
        assert value in shape.enum, f"{path}: {value!r} not in {shape.name}"


def _accepted(service: str, operation: str, params: dict) -> None:
    model = botocore.session.get_session().get_service_model(service)
    shape = model.operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    assert not report.has_errors(), report.generate_report()
    _check_enums(shape, params, operation)


def _aas_request(record) -> dict:
    request = to_api(record.inputs)
    request.pop("Region", None)
    return request


@pytest.fixture(scope="module")
def planned_zero():
    return run_component(zero_spec(schedules=[NIGHT]), preview=False)


def test_application_auto_scaling_model_accepts_target_policies_and_actions(planned_zero):
    _accepted("application-autoscaling", "RegisterScalableTarget", _aas_request(planned_zero.one(TARGET)))
    for policy in planned_zero.of_type(POLICY):
        request = _aas_request(policy)
        request["PolicyName"] = policy.name
        if "StepScalingPolicyConfiguration" in request:  # pulumi-aws carries the bounds as strings
            for step in request["StepScalingPolicyConfiguration"]["StepAdjustments"]:
                step["MetricIntervalLowerBound"] = float(step["MetricIntervalLowerBound"])
        _accepted("application-autoscaling", "PutScalingPolicy", request)
    for action in planned_zero.of_type(SCHEDULED):
        request = _aas_request(action)
        request["ScheduledActionName"] = request.pop("Name")
        _accepted("application-autoscaling", "PutScheduledAction", request)


def test_botocore_check_rejects_an_unknown_dimension_or_metric(planned_zero):
    """The check above can fail: a near-miss dimension or metric name is refused."""
    bad_target = {
        **_aas_request(planned_zero.one(TARGET)),
        "ScalableDimension": "sagemaker:inference-component:DesiredInstanceCount",
    }
    with pytest.raises(AssertionError, match="not in ScalableDimension"):
        _accepted("application-autoscaling", "RegisterScalableTarget", bad_target)
    tracking = next(p for p in planned_zero.of_type(POLICY) if p.inputs["policyType"] == "TargetTrackingScaling")
    request = {**_aas_request(tracking), "PolicyName": "p"}
    request["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]["PredefinedMetricType"] = (
        "SageMakerInferenceComponentConcurrentRequestsPerCopy"
    )
    with pytest.raises(AssertionError, match="not in MetricType"):
        _accepted("application-autoscaling", "PutScalingPolicy", request)


def test_sagemaker_model_accepts_endpoint_config_and_inference_component(planned_zero):
    config = to_api(planned_zero.one(CONFIG).inputs)
    config.pop("Region", None)
    config["Tags"] = [{"Key": k, "Value": v} for k, v in config.get("Tags", {}).items()]
    variant = config["ProductionVariants"][0]
    variant["RoutingConfig"] = variant.pop("RoutingConfigs")[0]  # pulumi-aws models it as a one-element list
    _accepted("sagemaker", "CreateEndpointConfig", {"EndpointConfigName": "config", **config})
    ic = to_api(planned_zero.one(IC).inputs)
    _accepted("sagemaker", "CreateInferenceComponent", ic)


def test_moto_cloudwatch_stores_the_wake_up_alarm_on_the_policy(planned_zero):
    alarm = planned_zero.one(ALARM, "llama-test-wake-up-alarm")
    request = to_api(alarm.inputs)
    for key in ("Region", "Tags"):
        request.pop(key, None)
    request["AlarmName"] = "wake-up"
    request["Dimensions"] = [{"Name": k, "Value": v} for k, v in request["Dimensions"].items()]
    request["TreatMissingData"] = alarm.inputs["treatMissingData"]
    _accepted("cloudwatch", "PutMetricAlarm", request)
    with mock_aws():
        cw = boto3.client("cloudwatch", region_name="us-east-1")
        cw.put_metric_alarm(**request)
        (stored,) = cw.describe_alarms(AlarmNames=["wake-up"])["MetricAlarms"]
    assert stored["MetricName"] == "NoCapacityInvocationFailures"
    assert stored["AlarmActions"] == [planned_zero.one(POLICY, "llama-test-wake-up-policy").outputs["arn"]]


# --- `llama-infra plan` for such a spec ----------------------------------------------------------------------------


def test_plan_states_the_wake_up_cold_start_and_plans_the_inference_component(tmp_path):
    import json
    import shutil
    from pathlib import Path

    from ruamel.yaml import YAML
    from typer.testing import CliRunner

    from llama_infra.capacity_timeline import wake_up_s
    from llama_infra.cli import app

    spec = zero_spec(schedules=[NIGHT])
    stacks = tmp_path / "stacks"
    (stacks / "specs").mkdir(parents=True)
    shutil.copy(Path(__file__).resolve().parents[3] / "stacks" / "__main__.py", stacks / "__main__.py")
    with (stacks / "specs" / "zero.yaml").open("w") as f:
        YAML(typ="safe").dump(spec.model_dump(mode="json", exclude_defaults=True), f)
    (stacks / "Pulumi.zero.yaml").write_text("config:\n  llama-infra:spec: specs/zero.yaml\n")

    result = CliRunner().invoke(app, ["plan", "zero", "--json", "--stacks-dir", str(stacks)])
    assert result.exit_code == 0, result.output
    (plan,) = json.loads(result.output)["plans"]
    low, high = wake_up_s(spec)
    assert plan["timeline"]["wake_up_s"] == [low, high] and 0 < low < high
    assert any("scale to zero: the first request after idle waits" in line for line in plan["timeline"]["lines"])
    types = {r["type"] for r in plan["resources"]}
    assert IC in types and "aws:lambda/function:Function" not in types

    human = CliRunner().invoke(app, ["plan", "zero", "--stacks-dir", str(stacks)], terminal_width=200)
    assert human.exit_code == 0, human.output
    assert f"≈{low / 60:.0f}–{high / 60:.0f} min" in human.output
    assert "NoCapacityInvocationFailures" in human.output
