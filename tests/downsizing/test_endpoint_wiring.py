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
    # exactly the policies the endpoint attaches, with the same configuration: its queue policy, nothing else
    policies = planned.of_type("aws:appautoscaling/policy:Policy")
    (queue,) = policies
    attached = queue.inputs["targetTrackingScalingPolicyConfiguration"]
    for event in (night_event, day_event):
        assert event["policies"] == [{
            "PolicyName": queue.outputs["name"], "PolicyType": queue.inputs["policyType"],
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": attached["targetValue"],
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": attached["predefinedMetricSpecification"]["predefinedMetricType"]},
                "ScaleOutCooldown": attached["scaleOutCooldown"], "ScaleInCooldown": attached["scaleInCooldown"]}}]


def test_the_workflow_leaves_exactly_the_endpoint_policies_even_where_a_gpu_memory_policy_was(planned, aws):
    """The events' policies run through the workflow (moto): on an endpoint deployed while llama-infra still attached
    a GPU-memory policy, night and morning each leave exactly the endpoint's policies (the workflow deletes the rest),
    so no transition brings the retired policy back."""
    from downsizing_world import DAY_CONFIG, ENDPOINT, NIGHT_CONFIG, VARIANT

    from llama_infra.downsizing import transition
    from llama_infra.downsizing.workflow import Clients

    schedules = {r.name: r.inputs for r in planned.of_type("aws:scheduler/schedule:Schedule")}
    events = [json.loads(schedules[f"llama-70b-prod-downsizing-overnight-{d}-schedule"]["target"]["input"])
              for d in ("night", "day")]
    assert "gpu-memory" in [p["PolicyName"] for p in aws.state()[3]]  # the legacy policy is there before
    for event, config in zip(events, (NIGHT_CONFIG, DAY_CONFIG)):
        assert (event["endpoint_name"], event["variant_name"]) == (ENDPOINT, VARIANT)
        out = transition(ENDPOINT, VARIANT, config, event["min_capacity"], event["max_capacity"], event["policies"],
                         clients=Clients(aws.sagemaker, aws.autoscaling, aws.cloudwatch, aws.sns), clock=aws.clock,
                         sleep=aws.clock.sleep)
        assert out.status == "done"
        assert aws.state() == ("InService", config, (event["min_capacity"], event["max_capacity"]), event["policies"])
        left = aws.state()[3]
        assert [p["PolicyName"] for p in left] == ["llama-70b-prod-queue-depth-policy"]  # the mocks' physical name
        assert not any("CustomizedMetricSpecification" in p["TargetTrackingScalingPolicyConfiguration"] for p in left)


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
