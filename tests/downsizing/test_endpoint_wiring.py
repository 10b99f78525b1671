"""The endpoint component plugs the downsizing in: prod's overnight window, end to end under Pulumi mocks."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest

from llama_infra.plan.record import run_plan
from llama_infra.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
DOWNSIZING = "llama-infra:index:SageMakerDownsizing"


@pytest.fixture(params=[True, False], ids=["preview", "update"])
def planned(request):
    from llama_infra.components.sagemaker import SageMakerLlamaEndpoint, SageMakerLlamaEndpointArgs

    spec = load_spec(ROOT / "stacks/specs/prod.yaml")

    def program():
        ep = SageMakerLlamaEndpoint(spec.name, SageMakerLlamaEndpointArgs(spec))
        return ep.endpoint_arn

    return run_plan(program, project="llama-infra", stack="prod", preview=request.param, region=spec.region)


def one(run, type_, name=None):
    found = [r for r in run.of_type(type_) if name is None or r.name == name]
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def test_downsizing_is_a_child_of_the_endpoint_component_with_its_own_children(planned):
    endpoint_component = one(planned, "llama-infra:index:SageMakerLlamaEndpoint")
    downsizing = one(planned, DOWNSIZING)
    assert downsizing.name == "llama-70b-prod-downsizing"
    assert downsizing.parent_urn == endpoint_component.urn
    children = [r for r in planned.resources if r.parent_urn == downsizing.urn]
    assert {r.type for r in children} >= {"aws:lambda/function:Function", "aws:scheduler/schedule:Schedule",
                                          "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
                                          "aws:sagemaker/model:Model", "aws:cloudwatch/metricAlarm:MetricAlarm"}
    assert set(planned.component_outputs[downsizing.urn]) >= {"function_arn", "alarm_name", "schedule_names"}


def test_night_configuration_and_the_events_of_both_transitions(planned):
    configs = {r.name: r for r in planned.of_type("aws:sagemaker/endpointConfiguration:EndpointConfiguration")}
    night = configs["llama-70b-prod-overnight-endpoint-config"].inputs["productionVariants"][0]
    assert (night["instanceType"], night["initialInstanceCount"]) == ("ml.g6e.12xlarge", 2)
    endpoint = one(planned, "aws:sagemaker/endpoint:Endpoint")
    assert endpoint.ignore_changes == ["endpointConfigName"]  # the workflow owns it at night

    schedules = {r.name: r.inputs for r in planned.of_type("aws:scheduler/schedule:Schedule")}
    night_event = json.loads(schedules["llama-70b-prod-downsizing-overnight-night-schedule"]["target"]["input"])
    day_event = json.loads(schedules["llama-70b-prod-downsizing-overnight-day-schedule"]["target"]["input"])
    assert night_event["target_config_name"] == configs["llama-70b-prod-overnight-endpoint-config"].outputs["name"]
    assert day_event["target_config_name"] == configs["llama-70b-prod-endpoint-config"].outputs["name"]
    # the same two policies the endpoint attaches, by name; GPU memory is summed over each type's GPUs
    policies = {r.name: r for r in planned.of_type("aws:appautoscaling/policy:Policy")}
    queue = policies["llama-70b-prod-queue-depth-policy"]
    gpu = policies["llama-70b-prod-gpu-memory-policy"]
    for event, gpus in ((night_event, 4), (day_event, 8)):  # g6e.12xlarge: 4 L40S; p4d.24xlarge: 8 A100
        by_name = {p["PolicyName"]: p for p in event["policies"]}
        assert set(by_name) == {queue.outputs["name"], gpu.outputs["name"]}
        tracking = by_name[gpu.outputs["name"]]["TargetTrackingScalingPolicyConfiguration"]
        assert tracking["TargetValue"] == round(0.85 * 100 * gpus, 1)
        # the same metric, namespace and dimensions as the endpoint's own GPU-memory policy
        attached = gpu.inputs["targetTrackingScalingPolicyConfiguration"]["customizedMetricSpecification"]
        assert tracking["CustomizedMetricSpecification"] == {
            "MetricName": attached["metricName"], "Namespace": attached["namespace"], "Statistic": "Average",
            "Dimensions": [{"Name": d["name"], "Value": d["value"]} for d in attached["dimensions"]]}
        assert attached["namespace"] == "/aws/sagemaker/Endpoints" and attached["dimensions"] == [
            {"name": "EndpointName", "value": "llama-70b-prod"}, {"name": "VariantName", "value": "AllTraffic"}]
        assert by_name[queue.outputs["name"]]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == (
            queue.inputs["targetTrackingScalingPolicyConfiguration"]["targetValue"])
    day_gpu = gpu.inputs["targetTrackingScalingPolicyConfiguration"]["targetValue"]
    assert day_gpu == round(0.85 * 100 * 8, 1)  # the day event re-attaches exactly what the endpoint attached


def test_schedules_wait_for_the_endpoint_scaling_they_take_over(planned):
    target = one(planned, "aws:appautoscaling/target:Target")
    for schedule in planned.of_type("aws:scheduler/schedule:Schedule"):
        assert target.urn in schedule.depends_on


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_a_scale_to_zero_spec_goes_to_zero_at_night_without_the_workflow(preview):
    from llama_infra.components.sagemaker import SageMakerLlamaEndpoint
    from llama_infra.spec import parse_spec

    spec = parse_spec("""
name: llama-8b-dev
target: sagemaker
model: {id: meta-llama/Llama-3.1-8B-Instruct, params_b: 8, weights: {source: s3://weights/llama-8b/}}
capacity: {baseline: {instance_type: ml.g5.2xlarge, count: 0}, burst: {max: 2}}
scaling: {scale_to_zero: true, min_replicas: 0}
schedules:
  - {name: overnight, timezone: Europe/Berlin, start: "0 20 * * 1-5", end: "0 8 * * 1-5",
     downsize: {min_replicas: 0, max_replicas: 1}}
""")
    run = run_plan(lambda: SageMakerLlamaEndpoint(spec.name, spec).endpoint_arn, project="llama-infra",
                      stack="dev", preview=preview, region=spec.region)
    assert run.of_type("aws-native:sagemaker:InferenceComponent")  # copies of the model, from zero
    assert not run.of_type("aws:scheduler/schedule:Schedule")  # no instance-type change: no workflow
    actions = {r.name: r.inputs for r in run.of_type("aws:appautoscaling/scheduledAction:ScheduledAction")}
    night = actions["llama-8b-dev-overnight-night-copies"]
    assert night["scalableTargetAction"] == {"minCapacity": 0, "maxCapacity": 1}
