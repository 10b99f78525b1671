"""moto, completed for the downsizing workflow.

moto 5 has no UpdateEndpoint and checks SageMaker instance types against an old list. The `aws` fixture adds
UpdateEndpoint with SageMaker's semantics — the endpoint must be InService, the new configuration must exist, an
instance-type change on a variant that is still an Application Auto Scaling target is rejected, the endpoint goes
`Updating` and only after a number of DescribeEndpoint polls becomes `InService` on the new configuration (or rolls
back to the old one with a FailureReason) — and checks instance types against botocore's own enum. As the SageMaker
guide says autoscaling is blocked while an update is in progress, registering a variant's scalable target while its
endpoint updates is rejected too (stricter than moto, never looser than AWS).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.session
import pytest
from moto import mock_aws
from moto.applicationautoscaling import models as aas_models
from moto.applicationautoscaling.exceptions import AWSValidationException
from moto.core.common_models import BaseModel  # noqa: F401  (moto's base, imported for clarity of what we patch)
from moto.sagemaker import models as sm_models
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.responses import ActionResult, SageMakerResponse

REGION = "us-east-1"
ENDPOINT = "llama-70b-prod"
VARIANT = "AllTraffic"
DAY_CONFIG = "llama-70b-prod-day"
NIGHT_CONFIG = "llama-70b-prod-overnight"
RESOURCE_ID = f"endpoint/{ENDPOINT}/variant/{VARIANT}"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
DAY_MIN, DAY_MAX = 2, 6
NIGHT_MIN, NIGHT_MAX = 2, 3
IN_FORCE_PARAMETER = f"/llama-infra/{ENDPOINT}/downsizing/in-force"

# An endpoint as found: `gpu-memory` stands for the GPU-memory policy llama-infra attached before it stopped (GPU
# memory is not a load signal on SageMaker); the workflow keeps what it finds when given no policies, and
# removes it when the component's policies are passed (test_endpoint_wiring.py).
DAY_POLICIES = [
    {
        "PolicyName": "gpu-memory",
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": 85.0,
            "ScaleInCooldown": 300,
            "ScaleOutCooldown": 0,
            "CustomizedMetricSpecification": {
                "MetricName": "GPUMemoryUtilization",
                "Namespace": "/aws/sagemaker/Endpoints",
                "Dimensions": [{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": VARIANT}],
                "Statistic": "Average",
            },
        },
    },
    {
        "PolicyName": "queue-depth",
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": 5.0,
            "ScaleInCooldown": 300,
            "ScaleOutCooldown": 0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantConcurrentRequestsPerModelHighResolution"
            },
        },
    },
]

_INSTANCE_TYPES = (
    botocore.session.get_session().get_service_model("sagemaker").shape_for("ProductionVariantInstanceType").enum
)


@dataclass
class FakeClock:
    """Wall clock for the workflow's waits: `sleep` advances it instead of sleeping."""

    now: float = 1_767_600_000.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class SageMakerUpdates:
    """The fixture's UpdateEndpoint state: how updates progress, and what the workflow could observe."""

    polls_until_in_service: int = 3
    # With `update_s` set, an update lasts that many seconds of `clock` instead of a number of polls (so that looking
    # at the endpoint does not move it along).
    update_s: float | None = None
    clock: FakeClock | None = None
    mode: str = "succeed"  # "succeed" | "rollback" (SageMaker rolls the update back) | "stuck" (never settles)
    update_calls: list[str] = field(default_factory=list)
    # Whether each UpdateEndpoint kept the endpoint's deployment config (canary + alarm rollback): SageMaker reuses
    # it only when the call passes DeploymentConfig or RetainDeploymentConfig=True.
    kept_deployment_config: list[bool] = field(default_factory=list)
    observed: list[tuple[str, str]] = field(default_factory=list)  # (status, config) seen by DescribeEndpoint
    register_calls: list[tuple[str, str, int, int]] = field(default_factory=list)  # (status, config, min, max)
    _pending: dict[str, list[Any]] = field(default_factory=dict)
    _fail_once: dict[str, str] = field(default_factory=dict)

    # -- injected failures -----------------------------------------------------------------------------------------
    def fail_once(self, operation: str) -> None:
        self._fail_once[operation] = "injected failure"

    def _maybe_fail(self, operation: str, error: type[Exception]) -> None:
        if operation in self._fail_once:
            message = self._fail_once.pop(operation)
            raise error(f"{operation}: {message}")

    # -- moto backend extensions -----------------------------------------------------------------------------------
    def update_endpoint(
        self,
        backend: Any,
        endpoint_name: str,
        config_name: str,
        deployment_config: Any = None,
        retain_deployment_config: Any = None,
    ) -> str:
        self._maybe_fail("UpdateEndpoint", ValidationError)
        endpoint = backend.endpoints.get(endpoint_name)
        if endpoint is None:
            raise ValidationError(message=f"Could not find endpoint '{endpoint_name}'.")
        if endpoint.endpoint_status != "InService":
            raise ValidationError(message=f"Cannot update in-progress endpoint '{endpoint.arn}'.")
        new = backend.describe_endpoint_config(config_name)  # raises for an unknown configuration
        old = backend.describe_endpoint_config(endpoint.endpoint_config_name)
        old_types = {v["VariantName"]: v.get("InstanceType") for v in old["ProductionVariants"]}
        aas = aas_models.applicationautoscaling_backends[backend.account_id][backend.region_name]
        for v in new["ProductionVariants"]:
            rid = f"endpoint/{endpoint_name}/variant/{v['VariantName']}"
            if old_types.get(v["VariantName"]) != v.get("InstanceType") and aas._scalable_target_exists(rid, DIMENSION):
                raise ValidationError(
                    message=f"The variant {v['VariantName']} is registered with Application Auto "
                    "Scaling; deregister it before changing its instance type."
                )
        self.update_calls.append(config_name)
        self.kept_deployment_config.append(bool(deployment_config) or str(retain_deployment_config).lower() == "true")
        endpoint.endpoint_status = "Updating"
        self._pending[endpoint_name] = [
            config_name,
            self.polls_until_in_service,
            self.mode,
            (self.clock.now + self.update_s) if self.update_s is not None and self.clock else None,
        ]
        return endpoint.arn

    def on_describe(self, backend: Any, endpoint_name: str) -> None:
        self._maybe_fail("DescribeEndpoint", ValidationError)
        endpoint = backend.endpoints.get(endpoint_name)
        pending = self._pending.get(endpoint_name)
        if endpoint is not None and pending is not None:
            config_name, polls, mode, done_at = pending
            if done_at is not None:
                pending[1] = 0 if mode != "stuck" and self.clock.now >= done_at else 1
            elif mode != "stuck":
                pending[1] = polls - 1
            if pending[1] <= 0:
                del self._pending[endpoint_name]
                endpoint.endpoint_status = "InService"
                if mode == "rollback":
                    endpoint.failure_reason = "Insufficient capacity for ml.g6e.12xlarge; update rolled back"
                else:
                    config = backend.describe_endpoint_config(config_name)
                    endpoint.endpoint_config_name = config_name
                    endpoint.production_variants = endpoint._process_production_variants(config["ProductionVariants"])
                    endpoint.failure_reason = None
        if endpoint is not None:
            self.observed.append((endpoint.endpoint_status, endpoint.endpoint_config_name))


@dataclass
class World:
    sagemaker: Any
    autoscaling: Any
    cloudwatch: Any
    sns: Any
    sqs: Any
    ssm: Any
    topic_arn: str
    queue_url: str
    updates: SageMakerUpdates
    clock: FakeClock

    def state(self) -> tuple[str, str, tuple[int, int] | None, list[dict[str, Any]]]:
        ep = self.sagemaker.describe_endpoint(EndpointName=ENDPOINT)
        targets = self.autoscaling.describe_scalable_targets(
            ServiceNamespace="sagemaker", ResourceIds=[RESOURCE_ID], ScalableDimension=DIMENSION
        )["ScalableTargets"]
        policies = self.autoscaling.describe_scaling_policies(
            ServiceNamespace="sagemaker", ResourceId=RESOURCE_ID, ScalableDimension=DIMENSION
        )["ScalingPolicies"]
        target = (targets[0]["MinCapacity"], targets[0]["MaxCapacity"]) if targets else None
        kept = [
            {k: p[k] for k in ("PolicyName", "PolicyType", "TargetTrackingScalingPolicyConfiguration")}
            for p in sorted(policies, key=lambda p: p["PolicyName"])
        ]
        return ep["EndpointStatus"], ep["EndpointConfigName"], target, kept

    def alarm_datapoints(self) -> float:
        stats = self.cloudwatch.get_metric_statistics(
            Namespace="llama-infra/Downsizing",
            MetricName="TransitionFailed",
            Dimensions=[{"Name": "EndpointName", "Value": ENDPOINT}],
            StartTime="2000-01-01T00:00:00Z",
            EndTime="2100-01-01T00:00:00Z",
            Period=60,
            Statistics=["Sum"],
        )
        return sum(d["Sum"] for d in stats["Datapoints"])

    def notifications(self) -> list[str]:
        msgs = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        return [m["Body"] for m in msgs]


def _patch_moto(monkeypatch: pytest.MonkeyPatch, updates: SageMakerUpdates) -> None:
    def validate_instance_type(self: Any, instance_type: str) -> None:
        if instance_type not in _INSTANCE_TYPES:
            raise ValidationError(
                message=f"Value '{instance_type}' at 'instanceType' failed to satisfy constraint: "
                "Member must satisfy enum value set (botocore ProductionVariantInstanceType)"
            )

    monkeypatch.setattr(sm_models.FakeEndpointConfig, "validate_instance_type", validate_instance_type)

    def backend_update_endpoint(
        self: Any,
        endpoint_name: str,
        endpoint_config_name: str,
        deployment_config: Any = None,
        retain_deployment_config: Any = None,
    ) -> str:
        return updates.update_endpoint(
            self, endpoint_name, endpoint_config_name, deployment_config, retain_deployment_config
        )

    monkeypatch.setattr(sm_models.SageMakerModelBackend, "update_endpoint", backend_update_endpoint, raising=False)

    def response_update_endpoint(self: Any) -> ActionResult:
        arn = self.sagemaker_backend.update_endpoint(
            self._get_param("EndpointName"),
            self._get_param("EndpointConfigName"),
            self._get_param("DeploymentConfig"),
            self._get_param("RetainDeploymentConfig"),
        )
        return ActionResult({"EndpointArn": arn})

    monkeypatch.setattr(SageMakerResponse, "update_endpoint", response_update_endpoint, raising=False)

    original_describe = sm_models.SageMakerModelBackend.describe_endpoint

    def describe_endpoint(self: Any, endpoint_name: str) -> dict[str, Any]:
        updates.on_describe(self, endpoint_name)
        return original_describe(self, endpoint_name)

    monkeypatch.setattr(sm_models.SageMakerModelBackend, "describe_endpoint", describe_endpoint)

    backend_cls = aas_models.ApplicationAutoscalingBackend
    original_register = backend_cls.register_scalable_target

    def register(
        self: Any,
        namespace: str,
        r_id: str,
        dimension: str,
        min_capacity: Any,
        max_capacity: Any,
        role_arn: str,
        suspended_state: str,
    ) -> Any:
        updates._maybe_fail("RegisterScalableTarget", AWSValidationException)
        if namespace == "sagemaker" and r_id.startswith("endpoint/"):
            sm = sm_models.sagemaker_backends[self.account_id][self.region_name]
            ep = sm.endpoints.get(r_id.split("/")[1])
            if ep is not None:
                if ep.endpoint_status != "InService":
                    raise AWSValidationException(
                        f"Endpoint {ep.endpoint_name} is {ep.endpoint_status}: automatic "
                        "scaling is blocked while an update is in progress"
                    )
                updates.register_calls.append((ep.endpoint_status, ep.endpoint_config_name, min_capacity, max_capacity))
        return original_register(
            self, namespace, r_id, dimension, min_capacity, max_capacity, role_arn, suspended_state
        )

    monkeypatch.setattr(backend_cls, "register_scalable_target", register)
    for op, name in (
        ("DeregisterScalableTarget", "deregister_scalable_target"),
        ("PutScalingPolicy", "put_scaling_policy"),
        ("DeleteScalingPolicy", "delete_scaling_policy"),
    ):
        original = getattr(backend_cls, name)

        def wrapped(self: Any, *args: Any, _op: str = op, _original: Any = original, **kwargs: Any) -> Any:
            updates._maybe_fail(_op, AWSValidationException)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(backend_cls, name, wrapped)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A day-configured, autoscaled 70B endpoint in moto, plus a night configuration, SNS topic and queue."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    clock = FakeClock()
    updates = SageMakerUpdates(clock=clock)
    with mock_aws():
        _patch_moto(monkeypatch, updates)
        sm = boto3.client("sagemaker", region_name=REGION)
        aas = boto3.client("application-autoscaling", region_name=REGION)
        role = "arn:aws:iam::123456789012:role/llama-sagemaker"
        for model, image in (("llama-70b-fp16", "vllm:70b"), ("llama-70b-awq", "vllm:70b-awq")):
            sm.create_model(
                ModelName=model,
                ExecutionRoleArn=role,
                PrimaryContainer={"Image": f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{image}"},
            )
        for config, model, itype, count in (
            (DAY_CONFIG, "llama-70b-fp16", "ml.p4d.24xlarge", DAY_MIN),
            (NIGHT_CONFIG, "llama-70b-awq", "ml.g6e.12xlarge", NIGHT_MIN),
        ):
            sm.create_endpoint_config(
                EndpointConfigName=config,
                ProductionVariants=[
                    {"VariantName": VARIANT, "ModelName": model, "InstanceType": itype, "InitialInstanceCount": count}
                ],
            )
        sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=DAY_CONFIG)
        aas.register_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId=RESOURCE_ID,
            ScalableDimension=DIMENSION,
            MinCapacity=DAY_MIN,
            MaxCapacity=DAY_MAX,
        )
        for p in DAY_POLICIES:
            aas.put_scaling_policy(
                ServiceNamespace="sagemaker", ResourceId=RESOURCE_ID, ScalableDimension=DIMENSION, **p
            )
        updates.register_calls.clear()
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        topic = sns.create_topic(Name="llama-alarms")["TopicArn"]
        queue = sqs.create_queue(QueueName="llama-alarms")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        ssm = boto3.client("ssm", region_name=REGION)
        from llama_infra.targets.sagemaker.downsizing.desired import initial_record

        ssm.put_parameter(Name=IN_FORCE_PARAMETER, Value=initial_record(), Type="String")
        yield World(
            sm, aas, boto3.client("cloudwatch", region_name=REGION), sns, sqs, ssm, topic, queue, updates, clock
        )
