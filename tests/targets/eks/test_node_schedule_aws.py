"""The node-group schedule's Input is a valid EKS UpdateNodegroupConfig request (botocore's EKS service model), EKS
applies it to a node group (moto), and EventBridge Scheduler accepts the rendered schedules and role (moto)."""

from __future__ import annotations

import json

import boto3
import botocore.session
import pytest
from botocore.validate import ParamValidator
from moto import mock_aws

from llama_infra.plan.record import run_plan
from llama_infra.targets.eks import baseline_node_schedule as node_schedule
from llama_infra.targets.eks.components import build_eks
from llama_infra.targets.eks.node_groups import baseline_node_group

from .test_node_schedule import night_spec

ROLE = "arn:aws:iam::123456789012:role/llama-node"
CREDENTIALS = {"region_name": "us-east-1", "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def sdk_to_api(value):
    """The universal target's SDK member names (PascalCase) as botocore's service model spells them (camelCase)."""
    if isinstance(value, dict):
        return {k[0].lower() + k[1:]: sdk_to_api(v) for k, v in value.items()}
    return value


def validate_update(params: dict) -> str:
    shape = botocore.session.get_session().get_service_model("eks").operation_model("UpdateNodegroupConfig").input_shape
    report = ParamValidator().validate(sdk_to_api(params), shape)
    return report.generate_report() if report.has_errors() else ""


def test_every_step_input_is_a_valid_update_nodegroup_config_request():
    steps = node_schedule.steps(night_spec())
    assert len(steps) == 2
    for step in steps:
        assert validate_update(step.update_input("ml-prod", "llama-70b-eks-baseline")) == ""


def test_the_validator_catches_a_misspelled_member():
    params = node_schedule.steps(night_spec())[0].update_input("ml-prod", "ng")
    params["ScalingConfig"]["Desired"] = params["ScalingConfig"].pop("DesiredSize")
    assert 'Unknown parameter in scalingConfig: "desired"' in validate_update(params)


@pytest.fixture()
def aws():
    with mock_aws():
        yield {svc: boto3.client(svc, **CREDENTIALS) for svc in ("eks", "iam", "scheduler")}


def test_eks_applies_the_evening_and_morning_inputs_to_the_node_group(aws):
    eks = aws["eks"]
    spec = night_spec()
    eks.create_cluster(
        name="ml-prod",
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={"subnetIds": ["subnet-0a", "subnet-0b"]},
    )
    eks.create_nodegroup(**baseline_node_group(spec).eks_api("ml-prod", "baseline", ROLE, ["subnet-0a"]))
    evening, morning = node_schedule.steps(spec)
    for step, expected in (
        (evening, {"minSize": 0, "maxSize": 2, "desiredSize": 0}),
        (morning, {"minSize": 2, "maxSize": 2, "desiredSize": 2}),
    ):
        eks.update_nodegroup_config(**sdk_to_api(step.update_input("ml-prod", "baseline")))
        got = eks.describe_nodegroup(clusterName="ml-prod", nodegroupName="baseline")["nodegroup"]["scalingConfig"]
        assert got == expected


def test_scheduler_accepts_the_rendered_schedules_and_their_role(aws):
    run = run_plan(lambda: build_eks("n", night_spec()), project="llama-infra", stack="test", preview=False)
    by_name = {r.name: r.inputs for r in run.resources}
    role_inputs = by_name["n-capacity-baseline-schedule-scheduler-role"]
    role = aws["iam"].create_role(
        RoleName="scheduler-role",
        AssumeRolePolicyDocument=role_inputs["assumeRolePolicy"],
        Description=role_inputs["description"],
    )["Role"]
    aws["iam"].put_role_policy(
        RoleName="scheduler-role",
        PolicyName="scale-baseline",
        PolicyDocument=by_name["n-capacity-baseline-schedule-scheduler-policy"]["policy"],
    )
    for s in (r.inputs for r in run.resources if r.type == "aws:scheduler/schedule:Schedule"):
        t = s["target"]
        aws["scheduler"].create_schedule(
            Name=s["name"],
            Description=s["description"],
            ScheduleExpression=s["scheduleExpression"],
            ScheduleExpressionTimezone=s["scheduleExpressionTimezone"],
            FlexibleTimeWindow={"Mode": s["flexibleTimeWindow"]["mode"]},
            Target={
                "Arn": t["arn"],
                "RoleArn": role["Arn"],
                "Input": t["input"],
                "RetryPolicy": {
                    "MaximumRetryAttempts": int(t["retryPolicy"]["maximumRetryAttempts"]),
                    "MaximumEventAgeInSeconds": int(t["retryPolicy"]["maximumEventAgeInSeconds"]),
                },
            },
        )
        got = aws["scheduler"].get_schedule(Name=s["name"])
        assert got["ScheduleExpression"] == s["scheduleExpression"]
        assert got["ScheduleExpressionTimezone"] == "America/New_York"
        assert got["Target"]["Arn"] == "arn:aws:scheduler:::aws-sdk:eks:updateNodegroupConfig"
        assert validate_update(json.loads(got["Target"]["Input"])) == ""
    names = [s["Name"] for s in aws["scheduler"].list_schedules()["Schedules"]]
    assert sorted(names) == ["llama-70b-eks-night-nodes-day", "llama-70b-eks-night-nodes-night"]
