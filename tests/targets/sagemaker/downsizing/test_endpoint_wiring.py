"""The endpoint component plugs the downsizing in: prod's overnight window, end to end under Pulumi mocks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llama_infra.plan.record import run_plan
from llama_infra.spec import load_spec

ROOT = Path(__file__).resolve().parents[4]
DOWNSIZING = "llama-infra:index:SageMakerDownsizing"


@pytest.fixture(params=[True, False], ids=["preview", "update"])
def planned(request):
    from llama_infra.targets.sagemaker.components import SageMakerLlamaEndpoint, SageMakerLlamaEndpointArgs

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
    assert {r.type for r in children} >= {
        "aws:lambda/function:Function",
        "aws:scheduler/schedule:Schedule",
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        "aws:sagemaker/model:Model",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
    }
    assert set(planned.component_outputs[downsizing.urn]) >= {"function_arn", "alarm_name", "schedule_names"}


def events(planned) -> dict[str, dict]:
    return {r.name: json.loads(r.inputs["target"]["input"]) for r in planned.of_type("aws:scheduler/schedule:Schedule")}


def test_the_schedules_publish_every_configuration_and_its_policies(planned):
    configs = {r.name: r for r in planned.of_type("aws:sagemaker/endpointConfiguration:EndpointConfiguration")}
    night = configs["llama-70b-prod-overnight-endpoint-config"].inputs["productionVariants"][0]
    assert (night["instanceType"], night["initialInstanceCount"]) == ("ml.g6e.12xlarge", 2)
    endpoint = one(planned, "aws:sagemaker/endpoint:Endpoint")
    assert endpoint.ignore_changes == ["endpointConfigName"]  # the workflow moves it, to the names published
    # a replaced configuration (and its model) stays in AWS: the live endpoint may still run on it
    for r in [*configs.values(), *planned.of_type("aws:sagemaker/model:Model")]:
        assert r.retain_on_delete, r.name

    by_name = events(planned)
    tick = by_name["llama-70b-prod-downsizing-tick-schedule"]
    assert by_name["llama-70b-prod-downsizing-overnight-night-schedule"] == {**tick, "set_in_force": "overnight"}
    assert by_name["llama-70b-prod-downsizing-overnight-day-schedule"] == {**tick, "set_in_force": "day"}
    published = tick["configurations"]
    assert (
        published["overnight"]["endpoint_config_name"]
        == configs["llama-70b-prod-overnight-endpoint-config"].outputs["name"]
    )
    assert published["day"]["endpoint_config_name"] == configs["llama-70b-prod-endpoint-config"].outputs["name"]
    assert endpoint.inputs["endpointConfigName"] == published["day"]["endpoint_config_name"]
    # exactly the policies the endpoint attaches: its queue policy, nothing else, each configuration at its own
    # effective target (the day's is the attached one)
    from llama_infra.slo_targets import effective_targets

    targets = effective_targets(load_spec(ROOT / "stacks" / "specs" / "prod.yaml"))
    policies = planned.of_type("aws:appautoscaling/policy:Policy")
    (queue,) = policies
    attached = queue.inputs["targetTrackingScalingPolicyConfiguration"]
    assert attached["targetValue"] == targets[None].queue_depth_target
    for name, config in published.items():
        assert config["policies"] == [
            {
                "PolicyName": queue.outputs["name"],
                "PolicyType": queue.inputs["policyType"],
                "TargetTrackingScalingPolicyConfiguration": {
                    "TargetValue": targets[None if name == "day" else name].queue_depth_target,
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": attached["predefinedMetricSpecification"]["predefinedMetricType"]
                    },
                    "ScaleOutCooldown": attached["scaleOutCooldown"],
                    "ScaleInCooldown": attached["scaleInCooldown"],
                },
            }
        ]


def test_without_windows_pulumi_moves_the_endpoint_and_deletes_replaced_configurations():
    from llama_infra.targets.sagemaker.components import SageMakerLlamaEndpoint, SageMakerLlamaEndpointArgs

    spec = load_spec(ROOT / "stacks/specs/prod.yaml").model_copy(update={"schedules": []})
    run = run_plan(
        lambda: SageMakerLlamaEndpoint(spec.name, SageMakerLlamaEndpointArgs(spec)).endpoint_arn,
        project="llama-infra",
        stack="prod",
        preview=False,
        region=spec.region,
    )
    assert one(run, "aws:sagemaker/endpoint:Endpoint").ignore_changes == []
    assert not any(r.retain_on_delete for r in run.of_type("aws:sagemaker/endpointConfiguration:EndpointConfiguration"))


def test_the_workflow_leaves_exactly_the_endpoint_policies_even_where_a_gpu_memory_policy_was(planned, aws):
    """The published configurations run through the workflow (moto): on an endpoint deployed while llama-infra still
    attached a GPU-memory policy, night and morning each leave exactly the endpoint's policies (the workflow deletes
    the rest), so no switch brings the retired policy back."""
    from downsizing_world import DAY_CONFIG, ENDPOINT, IN_FORCE_PARAMETER, NIGHT_CONFIG, VARIANT

    from llama_infra.targets.sagemaker.downsizing import Clients, tick
    from llama_infra.targets.sagemaker.downsizing.handler import desired_from_event

    event = events(planned)["llama-70b-prod-downsizing-tick-schedule"]
    assert (event["endpoint_name"], event["variant_name"], event["in_force_parameter"]) == (
        ENDPOINT,
        VARIANT,
        IN_FORCE_PARAMETER,
    )
    # the moto world's configurations stand in for the autonamed ones
    event["configurations"]["overnight"]["endpoint_config_name"] = NIGHT_CONFIG
    event["configurations"]["day"]["endpoint_config_name"] = DAY_CONFIG
    desired = desired_from_event(event)
    clients = Clients(aws.sagemaker, aws.autoscaling, aws.cloudwatch, aws.ssm, aws.sns)
    assert "gpu-memory" in [p["PolicyName"] for p in aws.state()[3]]  # the legacy policy is there before
    for window, config in (("overnight", NIGHT_CONFIG), ("day", DAY_CONFIG)):
        out = tick(desired, clients, set_in_force=window, clock=aws.clock)
        while not out.converged:
            out = tick(desired, clients, clock=aws.clock)
        published = event["configurations"][window]
        assert aws.state() == (
            "InService",
            config,
            (published["min_capacity"], published["max_capacity"]),
            published["policies"],
        )
        left = aws.state()[3]
        assert [p["PolicyName"] for p in left] == ["llama-70b-prod-queue-depth-policy"]  # the mocks' physical name
        assert not any("CustomizedMetricSpecification" in p["TargetTrackingScalingPolicyConfiguration"] for p in left)


def test_schedules_wait_for_the_endpoint_scaling_they_take_over(planned):
    target = one(planned, "aws:appautoscaling/target:Target")
    for schedule in planned.of_type("aws:scheduler/schedule:Schedule"):
        assert target.urn in schedule.depends_on


@pytest.mark.parametrize("preview", [True, False], ids=["preview", "update"])
def test_a_scale_to_zero_spec_goes_to_zero_at_night_without_the_workflow(preview):
    from llama_infra.spec import parse_spec
    from llama_infra.targets.sagemaker.components import SageMakerLlamaEndpoint

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
    run = run_plan(
        lambda: SageMakerLlamaEndpoint(spec.name, spec).endpoint_arn,
        project="llama-infra",
        stack="dev",
        preview=preview,
        region=spec.region,
    )
    assert run.of_type("aws-native:sagemaker:InferenceComponent")  # copies of the model, from zero
    assert not run.of_type("aws:scheduler/schedule:Schedule")  # no instance-type change: no workflow
    actions = {r.name: r.inputs for r in run.of_type("aws:appautoscaling/scheduledAction:ScheduledAction")}
    night = actions["llama-8b-dev-overnight-night-copies"]
    assert night["scalableTargetAction"] == {"minCapacity": 0, "maxCapacity": 1}
