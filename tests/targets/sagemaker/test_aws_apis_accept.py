"""The exact parameters the component sets are accepted by the AWS APIs (botocore's request validation + moto).

The Pulumi inputs recorded under mocks are translated to API requests (Pulumi's camelCase → the API's PascalCase,
with the few renames pulumi-aws makes, listed in `RENAMES`), then sent to moto's Application Auto Scaling,
SageMaker, CloudWatch and IAM.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import botocore.session
import pytest
from moto import mock_aws
from moto.sagemaker.models import FakeEndpointConfig

from .helpers import make_spec, run_component

# pulumi-aws input name -> API name, where they differ by more than the first letter's case.
RENAMES = {"s3DataSources": "S3DataSource", "kmsKeyArn": "KmsKeyId"}
_LISTS_THAT_ARE_SINGLE = {"s3DataSources"}  # pulumi-aws models S3DataSource as a one-element list


def to_api(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in _LISTS_THAT_ARE_SINGLE:
                (v,) = v
            out[RENAMES.get(k, k[0].upper() + k[1:])] = to_api(v)
        return out
    if isinstance(value, list):
        return [to_api(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # Pulumi's wire format carries every number as a double
    return value


@pytest.fixture
def aws():
    """moto with SageMaker's instance-type check widened to botocore's current enum (moto's list is old).

    Only that check is replaced; our own validation (catalog + spec rules) is untouched.
    """
    enum = botocore.session.get_session().get_service_model("sagemaker").shape_for("ProductionVariantInstanceType").enum

    def validate_instance_type(self, instance_type: str) -> None:
        if instance_type not in enum:
            from moto.sagemaker.exceptions import ValidationError

            raise ValidationError(message=f"Value '{instance_type}' at 'instanceType' failed to satisfy constraint")

    original = FakeEndpointConfig.validate_instance_type
    FakeEndpointConfig.validate_instance_type = validate_instance_type
    try:
        with mock_aws():
            yield
    finally:
        FakeEndpointConfig.validate_instance_type = original


SPECS = {
    "tgi-g5": make_spec(),
    "vllm-p4d": make_spec(
        model={"id": "meta-llama/Llama-3.1-70B-Instruct", "params_b": 70, "precision": "fp16", "framework": "vllm"},
        capacity={"baseline": {"instance_type": "ml.p4d.24xlarge", "count": 2}},
    ),
    "lmi-g6e-one": make_spec(
        model={"id": "meta-llama/Llama-3.1-70B-Instruct", "params_b": 70, "precision": "awq", "framework": "lmi"},
        capacity={"baseline": {"instance_type": "ml.g6e.12xlarge", "count": 1}, "burst": {"max": 2}},
    ),
}


@pytest.mark.parametrize("spec_key", sorted(SPECS))
def test_application_auto_scaling_accepts_target_and_policies(aws, spec_key):
    planned = run_component(SPECS[spec_key], preview=False)
    client = boto3.client("application-autoscaling", region_name="us-east-1")
    target = to_api(planned.one("aws:appautoscaling/target:Target").inputs)
    del target["Region"]
    client.register_scalable_target(**target)
    for policy in planned.of_type("aws:appautoscaling/policy:Policy"):
        request = to_api(policy.inputs)
        del request["Region"]
        request["PolicyName"] = policy.name
        client.put_scaling_policy(**request)
    (registered,) = client.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
    assert registered["ResourceId"] == f"endpoint/{SPECS[spec_key].name}/variant/AllTraffic"
    assert (registered["MinCapacity"], registered["MaxCapacity"]) == (target["MinCapacity"], target["MaxCapacity"])
    policies = client.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"]
    queue = next(p for p in policies if p["PolicyName"].endswith("queue-depth-policy"))
    tracking = queue["TargetTrackingScalingPolicyConfiguration"]
    assert (
        tracking["PredefinedMetricSpecification"]["PredefinedMetricType"]
        == "SageMakerVariantConcurrentRequestsPerModelHighResolution"
    )
    assert tracking["TargetValue"] == SPECS[spec_key].scaling.queue_depth_target


@pytest.mark.parametrize("spec_key", sorted(SPECS))
def test_sagemaker_accepts_model_endpoint_config_and_endpoint(aws, spec_key):
    planned = run_component(SPECS[spec_key], preview=False)
    sm = boto3.client("sagemaker", region_name="us-east-1")
    model = to_api(planned.one("aws:sagemaker/model:Model").inputs)
    model_name = "model-" + spec_key
    sm.create_model(
        ModelName=model_name,
        ExecutionRoleArn=model["ExecutionRoleArn"],
        PrimaryContainer=model["PrimaryContainer"],
        Tags=_tags(model),
    )
    config = to_api(planned.one("aws:sagemaker/endpointConfiguration:EndpointConfiguration").inputs)
    variants = [{**v, "ModelName": model_name} for v in config["ProductionVariants"]]
    extra = {"KmsKeyId": config["KmsKeyId"]} if "KmsKeyId" in config else {}
    sm.create_endpoint_config(EndpointConfigName="config-" + spec_key, ProductionVariants=variants, **extra)
    endpoint = to_api(planned.one("aws:sagemaker/endpoint:Endpoint").inputs)
    sm.create_endpoint(
        EndpointName=endpoint["Name"],
        EndpointConfigName="config-" + spec_key,
        DeploymentConfig=endpoint["DeploymentConfig"],
    )
    described = sm.describe_endpoint_config(EndpointConfigName="config-" + spec_key)["ProductionVariants"][0]
    assert described["InstanceType"] == SPECS[spec_key].capacity.baseline.instance_type
    source = sm.describe_model(ModelName=model_name)["PrimaryContainer"]["ModelDataSource"]["S3DataSource"]
    assert (source["S3DataType"], source["CompressionType"]) == ("S3Prefix", "None")


def test_cloudwatch_accepts_alarms_and_dashboard(aws):
    planned = run_component(SPECS["vllm-p4d"], preview=False)
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    for alarm in planned.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        request = to_api(alarm.inputs)
        request["AlarmName"] = request.pop("Name")
        request["Dimensions"] = [{"Name": k, "Value": v} for k, v in request["Dimensions"].items()]
        for key in ("Region", "Tags", "TreatMissingData"):
            request.pop(key, None)
        cw.put_metric_alarm(**request, TreatMissingData=alarm.inputs["treatMissingData"])
    stored = {a["AlarmName"]: a for a in cw.describe_alarms()["MetricAlarms"]}
    assert set(stored) == {"llama-test-p99-latency", "llama-test-5xx-errors", "llama-test-queue-depth"}
    queue = stored["llama-test-queue-depth"]
    assert (queue["MetricName"], queue["Statistic"]) == ("ConcurrentRequestsPerModel", "Maximum")
    enum = botocore.session.get_session().get_service_model("cloudwatch").shape_for("Statistic").enum
    assert all(a["Statistic"] in enum for a in stored.values() if "Statistic" in a)
    dashboard = planned.one("aws:cloudwatch/dashboard:Dashboard").inputs
    cw.put_dashboard(DashboardName=dashboard["dashboardName"], DashboardBody=dashboard["dashboardBody"])
    assert cw.list_dashboards()["DashboardEntries"][0]["DashboardName"] == "llama-test"


def test_iam_accepts_role_and_least_privilege_policy(aws):
    planned = run_component(SPECS["tgi-g5"], preview=False)
    iam = boto3.client("iam", region_name="us-east-1")
    role = planned.one("aws:iam/role:Role").inputs
    iam.create_role(RoleName="exec", AssumeRolePolicyDocument=role["assumeRolePolicy"])
    policy = planned.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"]
    iam.put_role_policy(RoleName="exec", PolicyName="exec", PolicyDocument=policy)
    stored = iam.get_role_policy(RoleName="exec", PolicyName="exec")["PolicyDocument"]
    assert stored == json.loads(policy)


def _tags(resource: dict) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in resource.get("Tags", {}).items()]
