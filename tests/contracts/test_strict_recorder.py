"""The strict recorder holds every registration against the cloud contracts: pulumi-aws / aws-native autonaming,
botocore's API shapes, IAM's policy grammar and the Kubernetes schemas. Each test records a small program under
`run_plan` / `run_program` (with and without preview) and reads the violations it raises."""

from __future__ import annotations

import json
import re

import pulumi
import pulumi_aws as aws
import pulumi_aws_native as aws_native
import pulumi_kubernetes as k8s
import pytest

from llama_infra.contracts import ContractError, autonaming
from llama_infra.plan.record import run_plan, run_program

PREVIEW = pytest.mark.parametrize("preview", [True, False], ids=["preview", "up"])
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def violations(program, preview: bool, *, plan: bool = True) -> list:
    try:
        (run_plan if plan else run_program)(program, preview=preview)
    except ContractError as e:
        return e.violations
    return []


@PREVIEW
@pytest.mark.parametrize("plan", [True, False], ids=["plan", "diff"])
def test_an_autonamed_event_target_id_over_64_characters_is_refused_as_eventbridge_would(preview, plan):
    name = "llama-8b-dev-eks-capacity-interruption-spot-interruption-target"  # as the EKS stacks named it

    def program():
        rule = aws.cloudwatch.EventRule("rule", event_pattern=json.dumps({"source": ["aws.ec2"]}))
        aws.cloudwatch.EventTarget(name, rule=rule.name, arn="arn:aws:sqs:us-east-1:123456789012:q")

    (v,) = violations(program, preview, plan=plan)
    assert (v.resource_type, v.resource_name, v.field) == ("aws:cloudwatch/eventTarget:EventTarget", name, "targetId")
    assert "at most 64 characters" in v.problem and "(71 characters)" in v.value
    assert "Target.Id" in v.contract


@PREVIEW
def test_an_explicit_short_target_id_passes(preview):
    def program():
        rule = aws.cloudwatch.EventRule("rule", event_pattern=json.dumps({"source": ["aws.ec2"]}))
        aws.cloudwatch.EventTarget(
            "x" * 70,
            rule=rule.name,
            arn="arn:aws:sqs:us-east-1:123456789012:q",
            target_id="karpenter-spot-interruption",
        )

    assert violations(program, preview) == []


def test_pulumi_aws_autonames_logical_name_dash_7_hex_and_refuses_beyond_the_providers_maximum():
    prop, value = autonaming.physical_name("aws:iam/role:Role", "r" * 56, {})
    assert prop == "name" and re.fullmatch("r{56}-[0-9a-f]{7}", value)  # 64: the IAM role override
    with pytest.raises(autonaming.AutoNameError, match="65 characters; it allows at most 64"):
        autonaming.physical_name("aws:iam/role:Role", "r" * 57, {})
    assert autonaming.physical_name("aws:iam/role:Role", "r" * 57, {"name": "explicit"}) is None
    prop, value = autonaming.physical_name("aws:cloudwatch/eventTarget:EventTarget", "t", {})
    assert prop == "targetId"  # pulumi-aws autonames the target id, not a `name`


def test_aws_native_shrinks_the_random_suffix_before_it_refuses():
    _, value = autonaming.physical_name("aws-native:sagemaker:InferenceComponent", "c" * 58, {})
    assert value.startswith("c" * 58 + "-") and len(value) == 62  # room for 3 of the 7 random characters
    with pytest.raises(autonaming.AutoNameError):
        autonaming.physical_name("aws-native:sagemaker:InferenceComponent", "c" * 62, {})


@PREVIEW
def test_a_role_whose_logical_name_leaves_no_room_for_the_suffix_is_a_violation(preview):
    (v,) = violations(lambda: aws.iam.Role("r" * 57, assume_role_policy=TRUST), preview)
    assert v.field == "name" and "at most 64" in v.problem and "resources.go" in v.contract


@PREVIEW
def test_botocore_shapes_catch_enums_ranges_lengths_and_patterns(preview):
    def program():
        aws.sagemaker.EndpointConfiguration(
            "cfg",
            name="bad_name!",
            production_variants=[
                aws.sagemaker.EndpointConfigurationProductionVariantArgs(
                    variant_name="v",
                    model_name="m",
                    instance_type="ml.g5.huge",
                    initial_instance_count=1,
                    container_startup_health_check_timeout_in_seconds=7200,
                )
            ],
        )

    found = {v.field: v for v in violations(program, preview)}
    assert set(found) == {
        "name",
        "productionVariants[0].instanceType",
        "productionVariants[0].containerStartupHealthCheckTimeoutInSeconds",
    }
    assert "must match" in found["name"].problem
    assert "ml.g5.12xlarge" in found["productionVariants[0].instanceType"].problem  # the enum, from botocore
    assert "between 60 and 3600" in found["productionVariants[0].containerStartupHealthCheckTimeoutInSeconds"].problem


@PREVIEW
def test_an_endpoint_config_name_over_63_characters_is_refused(preview):
    def program():
        aws.sagemaker.EndpointConfiguration(
            "c",
            name="n" * 64,
            production_variants=[
                aws.sagemaker.EndpointConfigurationProductionVariantArgs(
                    variant_name="v", model_name="m", instance_type="ml.g5.12xlarge", initial_instance_count=1
                )
            ],
        )

    (v,) = violations(program, preview)
    assert v.field == "name" and "at most 63 characters" in v.problem and "EndpointConfigName" in v.contract


@PREVIEW
def test_inputs_from_other_resources_outputs_are_not_held_against_mock_values(preview):
    def program():
        role = aws.iam.Role("role", assume_role_policy=TRUST)
        # the role's mock name/ARN is the recorder's invention: not checked; the literal is
        aws.iam.RolePolicyAttachment("attach", role=role.name, policy_arn="arn:aws:iam::aws:policy/ReadOnlyAccess")

    assert violations(program, preview) == []


@PREVIEW
def test_iam_policies_are_held_against_the_grammar_and_every_action_against_botocore(preview):
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["sagemaker:InvokeEndpoints", "sagemaker:DescribeEndpoint", "iam:PassRole", "logs:Put*"],
                    "Resource": "*",
                },
                {"Effect": "Permit", "Action": "s3:GetObject"},
            ],
        }
    )

    def program():
        role = aws.iam.Role("role", assume_role_policy=TRUST)
        aws.iam.RolePolicy("policy", role=role.name, policy=policy)

    found = {(v.field, v.problem) for v in violations(program, preview)}
    assert found == {
        ("policy.Statement[0].Action[0]", "sagemaker has no operation 'InvokeEndpoints'"),
        ("policy.Statement[1].Effect", "must be Allow or Deny"),
        ("policy.Statement[1]", "needs exactly one of Resource, NotResource"),
    }


@PREVIEW
def test_a_trust_policy_needs_a_principal(preview):
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]})
    (v,) = violations(lambda: aws.iam.Role("role", assume_role_policy=trust), preview)
    assert v.field == "assumeRolePolicy.Statement[0]" and "needs a Principal" in v.problem


@PREVIEW
def test_kubernetes_objects_are_checked_strictly_against_the_release_schema(preview):
    def program():
        k8s.core.v1.ConfigMap("ok", metadata={"name": "ok"}, data={"a": "b"})
        k8s.apps.v1.Deployment(
            "web",
            metadata={"name": "web"},
            spec={
                "replica": 2,  # typo: the API server would drop it silently
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx"}]},
                },
            },
        )

    (v,) = violations(program, preview)
    assert v.resource_type == "kubernetes:apps/v1:Deployment" and v.field == "spec"
    assert "'replica'" in v.problem and "kubernetes-validate" in v.contract


@PREVIEW
def test_an_inference_component_is_held_against_sagemaker_create_inference_component(preview):
    def program():
        aws_native.sagemaker.InferenceComponent(
            "ic",
            endpoint_name="ep",
            variant_name="AllTraffic",
            specification=aws_native.sagemaker.InferenceComponentSpecificationArgs(
                model_name="m",
                compute_resource_requirements=aws_native.sagemaker.InferenceComponentComputeResourceRequirementsArgs(
                    min_memory_required_in_mb=64
                ),
            ),
            runtime_config=aws_native.sagemaker.InferenceComponentRuntimeConfigArgs(copy_count=-1),
        )

    found = {v.field for v in violations(program, preview)}
    assert found == {"specification.computeResourceRequirements.minMemoryRequiredInMb", "runtimeConfig.copyCount"}


def test_the_strict_recorder_can_be_turned_off_for_a_deliberately_broken_program():
    from llama_infra.plan.record import RecordingMocks

    run = run_program(lambda: aws.iam.Role("r" * 80, assume_role_policy="{}"), mocks=RecordingMocks(strict=False))
    assert [r.name for r in run.resources] == ["r" * 80]


def test_the_message_names_resource_field_limit_and_value():
    def program():
        aws.cloudwatch.EventTarget("t" * 60, rule="rule", arn="arn:aws:sqs:us-east-1:123456789012:q")

    with pytest.raises(ContractError) as info:
        run_plan(program)
    text = str(info.value)
    assert text.startswith("stack plan: 1 contract violation (inputs the cloud APIs would reject at `pulumi up`)")
    assert f"aws:cloudwatch/eventTarget:EventTarget '{'t' * 60}': targetId: at most 64 characters" in text
    assert "(68 characters)" in text and "botocore events PutTargets: Target.Id" in text and "fix: " in text
    pulumi.log.debug("ok")


@PREVIEW
def test_custom_resources_are_held_against_the_pinned_crds(preview):
    """tests/conftest.py registers ../shared/data/upstream's KEDA and Karpenter CRDs (LLAMA_INFRA_CRDS)."""

    def program():
        k8s.apiextensions.CustomResource(
            "so",
            api_version="keda.sh/v1alpha1",
            kind="ScaledObject",
            metadata={"name": "so"},
            spec={
                "scaleTargetRef": {"name": "web"},
                "minReplicaCount": 1,
                "pollingInteval": 15,  # typo
                "triggers": [{"type": "prometheus", "metadata": {"query": "x", "threshold": "5"}}],
            },
        )

    (v,) = violations(program, preview)
    assert v.resource_type == "kubernetes:keda.sh/v1alpha1:ScaledObject" and v.field == "spec"
    assert "'pollingInteval'" in v.problem and v.contract == "CRD openAPIV3Schema"


@PREVIEW
def test_an_ssm_parameter_is_held_against_ssm_put_parameter(preview):
    """The downsizing workflow's record of the configuration in force is an SSM parameter (uncovered before)."""

    def program():
        aws.ssm.Parameter("ok", name="/llama-infra/x/in-force", type="String", insecure_value="{}")
        aws.ssm.Parameter("bad", name="/p", type="string", insecure_value="{}", description="d" * 1025)
        aws.ssm.Parameter("empty", name="/q", type="String", insecure_value="", tier="Premium")

    found = sorted((v.resource_name, v.field, v.problem) for v in violations(program, preview))
    assert found == [
        ("bad", "description", "at most 1024 characters"),
        ("bad", "type", "must be one of String, StringList, SecureString"),
        ("empty", "tier", "must be one of Standard, Advanced, Intelligent-Tiering"),
    ]


@PREVIEW
def test_an_ssm_parameter_without_a_value_is_refused(preview):
    (v,) = violations(lambda: aws.ssm.Parameter("p", name="/p", type="String"), preview)
    assert (v.field, v.problem) == ("value", "required by the API and missing")
    assert v.contract.endswith("PutParameterRequest.Value")


def _pod_monitor(name: str, spec: dict) -> None:
    k8s.apiextensions.CustomResource(
        name, api_version="monitoring.coreos.com/v1", kind="PodMonitor", metadata={"name": name}, spec=spec
    )


@PREVIEW
def test_pod_monitors_are_held_against_the_prometheus_operator_schema(preview):
    """No CRD of the operator is named: its published models stand in (the test extra installs them). Before, a
    misspelt field the API server drops, or an interval it refuses, passed."""

    def program():
        endpoint = {"port": "http", "path": "/metrics", "interval": "15s"}
        _pod_monitor("ok", {"selector": {"matchLabels": {"app": "llama"}}, "podMetricsEndpoints": [endpoint]})
        _pod_monitor(
            "typo", {"selector": {}, "podTargetLabel": ["app"], "podMetricsEndpoints": [endpoint]}
        )  # podTargetLabels
        _pod_monitor("interval", {"selector": {}, "podMetricsEndpoints": [{**endpoint, "interval": "15 s"}]})

    found = {(v.resource_name, v.field): v for v in violations(program, preview)}
    assert set(found) == {("typo", "spec.podTargetLabel"), ("interval", "spec.podMetricsEndpoints[0].interval")}
    assert "the API server would drop it" in found["typo", "spec.podTargetLabel"].problem
    assert "should match pattern" in found["interval", "spec.podMetricsEndpoints[0].interval"].problem
    assert all("prometheus-operator" in v.contract for v in found.values())
