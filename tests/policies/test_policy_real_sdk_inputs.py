"""Resources built with the real pulumi_aws / pulumi_kubernetes classes, recorded under mocks, then evaluated.

This pins the property names the rules read (`kmsKeyArn`, `productionVariants[].initialInstanceCount`,
`vpcConfig.endpointPublicAccess`, `metadataOptions.httpTokens`, Kubernetes objects as-is) to what the SDKs send.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest

from llama_infra.plan.record import record
from llama_infra_policies import evaluate
from llama_infra_policies.capture import from_planned

PROD = {"llama-infra:environment": "prod"}


def container(**security: object) -> k8s.core.v1.ContainerArgs:
    return k8s.core.v1.ContainerArgs(
        name="vllm",
        image="vllm/vllm-openai:v0.6.3",
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": "8", "memory": "64Gi", "nvidia.com/gpu": "4"},
            limits={"memory": "64Gi", "nvidia.com/gpu": "4"},
        ),
        readiness_probe=k8s.core.v1.ProbeArgs(http_get=k8s.core.v1.HTTPGetActionArgs(path="/health", port=8000)),
        env=[
            k8s.core.v1.EnvVarArgs(
                name="HF_TOKEN",
                value_from=k8s.core.v1.EnvVarSourceArgs(
                    secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name="hf-token", key="token")
                ),
            )
        ],
        security_context=k8s.core.v1.SecurityContextArgs(**security),
    )


def build(compliant: bool) -> list[pulumi.Resource]:
    key = aws.kms.Key("weights")
    variant = aws.sagemaker.EndpointConfigurationProductionVariantArgs(
        variant_name="baseline",
        model_name="llama",
        instance_type="ml.g6e.12xlarge",
        initial_instance_count=2 if compliant else 1,
    )
    resources: list[pulumi.Resource] = [
        key,
        # NVMe type: compliant means *no* key; the non-compliant one sets a key the API would reject.
        aws.sagemaker.EndpointConfiguration(
            "chat", production_variants=[variant], tags=PROD, kms_key_arn=None if compliant else key.arn
        ),
        aws.eks.Cluster(
            "gpu",
            role_arn="arn:aws:iam::111122223333:role/eks",
            vpc_config=aws.eks.ClusterVpcConfigArgs(subnet_ids=["subnet-a", "subnet-b"]),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                resources=["secrets"], provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=key.arn)
            )
            if compliant
            else None,
        ),
        aws.ec2.LaunchTemplate(
            "gpu-nodes",
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_tokens="required" if compliant else "optional", http_put_response_hop_limit=1
            ),
        ),
        aws.eks.NodeGroup(
            "burst",
            cluster_name="gpu",
            node_role_arn="arn:aws:iam::111122223333:role/node",
            subnet_ids=["subnet-a", "subnet-b"],
            capacity_type="SPOT",
            instance_types=["g6e.12xlarge", "g5.12xlarge"] if compliant else ["g6e.12xlarge"],
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(min_size=0, max_size=8, desired_size=0),
        ),
        aws.iam.RolePolicy(
            "weights-read",
            role="llama",
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Action": ["s3:GetObject"] if compliant else "*", "Resource": "*"}
                    ],
                }
            ),
        ),
        k8s.apps.v1.Deployment(
            "llama",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="llama"),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"app": "llama"}),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels={"app": "llama"}),
                    spec=k8s.core.v1.PodSpecArgs(containers=[container(privileged=not compliant)]),
                ),
            ),
        ),
        k8s.policy.v1.PodDisruptionBudget(
            "llama",
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                max_unavailable=1 if compliant else 0,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"app": "llama"}),
            ),
        ),
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            "llama",
            spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                max_replicas=10,
                min_replicas=2,
                scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                    api_version="apps/v1", kind="Deployment", name="llama"
                ),
                behavior=k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs(
                    scale_down=k8s.autoscaling.v2.HPAScalingRulesArgs(
                        stabilization_window_seconds=300 if compliant else 30
                    )
                ),
            ),
        ),
        k8s.apiextensions.CustomResource(
            "gpu-spot",
            api_version="karpenter.sh/v1",
            kind="NodePool",
            spec={
                "template": {
                    "spec": {
                        "requirements": [
                            {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot"]},
                            {
                                "key": "node.kubernetes.io/instance-type",
                                "operator": "In",
                                "values": ["g6e.12xlarge", "g5.12xlarge"] if compliant else ["g6e.12xlarge"],
                            },
                        ]
                    }
                }
            },
        ),
    ]
    return resources


EXPECTED_WHEN_NONCOMPLIANT = {
    ("sagemaker-kms-incompatible-with-nvme", "chat"),
    ("prod-baseline-min-instances", "chat"),
    ("eks-secrets-encrypted", "gpu"),
    ("launch-template-imdsv2", "gpu-nodes"),
    ("spot-pools-diversified", "burst"),
    ("iam-no-wildcard-actions", "weights-read"),
    ("iam-no-admin-access", "weights-read"),
    ("k8s-no-privileged-containers", "llama"),
    ("pdb-allows-disruption", "llama"),
    ("scale-down-stabilization", "llama"),
    ("spot-pools-diversified", "gpu-spot"),
}


class ArnMocks(pulumi.runtime.Mocks):
    """Every resource gets an ARN, as AWS would assign one."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        return f"{args.name}-id", {**args.inputs, "arn": f"arn:aws:mock:us-east-1:111122223333:{args.name}"}

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:
        return {}


@pytest.mark.parametrize("preview", [True, False])
@pytest.mark.parametrize("compliant", [True, False])
def test_sdk_built_resources_are_judged_by_their_real_property_names(preview: bool, compliant: bool) -> None:
    resources = from_planned(record(lambda: build(compliant), preview=preview, mocks=ArnMocks()))
    types = {t for t, _, _ in resources}
    assert (
        "kubernetes:karpenter.sh/v1:NodePool" in types
        and "aws:sagemaker/endpointConfiguration:EndpointConfiguration" in types
    )
    mandatory = {(v.policy, v.resource_name) for v in evaluate(resources) if v.enforcement_level == "mandatory"}
    if compliant:
        assert mandatory == set()
    else:
        assert mandatory == EXPECTED_WHEN_NONCOMPLIANT


@pytest.mark.parametrize("preview", [True, False])
def test_plans_recorded_by_llama_infra_diff_feed_evaluate(preview: bool) -> None:
    def program() -> None:
        key = aws.kms.Key("weights")
        variant = aws.sagemaker.EndpointConfigurationProductionVariantArgs(
            variant_name="baseline", model_name="llama", instance_type="ml.inf2.48xlarge", initial_instance_count=2
        )
        aws.sagemaker.EndpointConfiguration("chat", production_variants=[variant], kms_key_arn=key.arn)
        aws.ec2.LaunchTemplate(
            "gpu-nodes", metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(http_tokens="optional")
        )

    resources = from_planned(record(program, preview=preview))
    assert sorted(name.rsplit("::", 1)[-1] for _, _, name in resources) == ["chat", "gpu-nodes", "weights"]
    mandatory = {(v.policy, v.resource_name) for v in evaluate(resources) if v.enforcement_level == "mandatory"}
    chat = next(props for _, props, urn in resources if urn.endswith("::chat"))
    assert chat["kmsKeyArn"].startswith("arn:aws:kms:")
    assert mandatory == {("launch-template-imdsv2", "gpu-nodes")}


def test_known_after_apply_in_a_plan_reaches_the_rules_as_unknown() -> None:
    from pulumi.runtime.rpc import UNKNOWN

    from llama_infra.plan.record import UNKNOWN as PLANNED_UNKNOWN
    from llama_infra.plan.record import RecordedResource as PlannedResource

    config = PlannedResource(
        urn="urn:pulumi:prod::llama-infra::aws:sagemaker/endpointConfiguration:EndpointConfiguration::chat",
        type="aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        name="chat",
        inputs={
            "kmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/k",
            "productionVariants": [{"instanceType": PLANNED_UNKNOWN, "initialInstanceCount": 2}],
        },
    )
    [(_, props, _)] = from_planned([config])
    assert props["productionVariants"][0]["instanceType"] == UNKNOWN
    nvme_rule = [v for v in evaluate(from_planned([config])) if v.policy == "sagemaker-kms-incompatible-with-nvme"]
    assert [v.enforcement_level for v in nvme_rule] == ["advisory"]  # "can't be known during preview"
