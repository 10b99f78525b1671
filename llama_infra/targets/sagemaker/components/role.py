"""The endpoint's execution role, least privilege: what SageMaker needs to start and run this model, no more.

`execution_policy(...)` is pure (a dict, easy to test); `execution_role(...)` creates the Role and its inline
policy. No action is a wildcard, and every statement names its resources except where AWS mandates `"*"`:
`ecr:GetAuthorizationToken` has no resource-level permissions (it only issues a registry login token; the pull is
limited to the image's repository), and `cloudwatch:PutMetricData` has no resource type (a `cloudwatch:namespace`
condition scopes it instead).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llama_infra import naming
from llama_infra.targets.sagemaker.components.image import EcrImage

if TYPE_CHECKING:
    import pulumi
    import pulumi_aws as aws

SAGEMAKER_METRICS_NAMESPACE = "/aws/sagemaker/Endpoints"
# Actions for which AWS only accepts "Resource": "*" (see the module docstring).
RESOURCE_WILDCARD_ALLOWED = frozenset({"ecr:GetAuthorizationToken", "cloudwatch:PutMetricData"})


def partition_of(region: str) -> str:
    from llama_infra.iam import partition

    return partition(region)


def log_group_name(endpoint_name: str) -> str:
    return f"/aws/sagemaker/Endpoints/{endpoint_name}"


@dataclass(frozen=True)
class S3Prefix:
    bucket: str
    prefix: str  # without leading '/', with trailing '/' when not empty

    @classmethod
    def parse(cls, uri: str) -> S3Prefix:
        rest = uri.removeprefix("s3://")
        bucket, _, prefix = rest.partition("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return cls(bucket, prefix)


def secret_arn_pattern(secret: str, *, partition: str, region: str, account_id: str) -> str:
    """A secret ARN as given, or the ARN of a secret name (Secrets Manager appends '-' and 6 characters)."""
    if secret.startswith("arn:"):
        return secret
    return f"arn:{partition}:secretsmanager:{region}:{account_id}:secret:{secret}-??????"


def execution_policy(
    *,
    region: str,
    account_id: str,
    endpoint_name: str,
    weights_sources: list[str],
    images: list[str],
    hf_token_secret: str | None,
) -> dict:
    p = partition_of(region)
    statements: list[dict] = []
    for source in sorted(set(weights_sources)):
        if not source.startswith("s3://"):
            continue
        loc = S3Prefix.parse(source)
        statements.append(
            {
                "Sid": f"ReadWeights{len(statements)}",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:{p}:s3:::{loc.bucket}/{loc.prefix}*"],
            }
        )
        statements.append(
            {
                "Sid": f"ListWeights{len(statements)}",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [f"arn:{p}:s3:::{loc.bucket}"],
                "Condition": {"StringLike": {"s3:prefix": [loc.prefix, f"{loc.prefix}*"]}},
            }
        )
    repos = sorted({EcrImage.parse(i).repository_arn(p) for i in images})
    statements.append(
        {
            "Sid": "PullImage",
            "Effect": "Allow",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": repos,
        }
    )
    statements.append(
        {"Sid": "RegistryLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"}
    )  # AWS-mandated: the action supports no resource-level permissions
    group = f"arn:{p}:logs:{region}:{account_id}:log-group:{log_group_name(endpoint_name)}"
    statements.append(
        {
            "Sid": "WriteLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            "Resource": [group, f"{group}:log-stream:*"],
        }
    )
    statements.append(
        {
            "Sid": "PutMetrics",
            "Effect": "Allow",
            "Action": ["cloudwatch:PutMetricData"],
            "Resource": "*",  # PutMetricData has no resource type; the namespace condition scopes it
            "Condition": {"StringEquals": {"cloudwatch:namespace": SAGEMAKER_METRICS_NAMESPACE}},
        }
    )
    if hf_token_secret:
        statements.append(
            {
                "Sid": "ReadHfToken",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": [secret_arn_pattern(hf_token_secret, partition=p, region=region, account_id=account_id)],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def trust_policy(account_id: str) -> dict:
    """SageMaker may assume the role, only on behalf of this account (confused-deputy guard)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ],
    }


def execution_role(
    name: str,
    *,
    region: str,
    endpoint_name: str,
    weights_sources: list[str],
    images: list[str],
    hf_token_secret: str | None,
    account_id: pulumi.Output[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
    import pulumi
    import pulumi_aws as aws

    role = aws.iam.Role(
        naming.logical(naming.ROLE, f"{name}-execution-role"),
        assume_role_policy=account_id.apply(lambda a: json.dumps(trust_policy(a))),
        description=f"SageMaker execution role of endpoint {endpoint_name} (llama-infra)",
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    policy = aws.iam.RolePolicy(
        f"{name}-execution-policy",
        role=role.id,
        policy=account_id.apply(
            lambda a: json.dumps(
                execution_policy(
                    region=region,
                    account_id=a,
                    endpoint_name=endpoint_name,
                    weights_sources=weights_sources,
                    images=images,
                    hf_token_secret=hf_token_secret,
                )
            )
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return role, policy
