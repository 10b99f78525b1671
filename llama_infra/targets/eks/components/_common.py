"""Small helpers shared by the EKS components: resource options and IAM trust policies."""

from __future__ import annotations

import json

import pulumi

from llama_infra import naming

COMPONENT_PREFIX = "llama-infra:index:"

# AWS managed policies a GPU worker node needs (EKS worker, CNI, image pulls, SSM for break-glass access).
NODE_POLICIES = {
    "worker": "AmazonEKSWorkerNodePolicy",
    "cni": "AmazonEKS_CNI_Policy",
    "ecr": "AmazonEC2ContainerRegistryPullOnly",
    "ssm": "AmazonSSMManagedInstanceCore",
}


def child(parent: pulumi.Resource, provider: pulumi.ProviderResource | None = None, **kwargs) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, provider=provider, **kwargs)


def assume_role_policy(service: str, actions: tuple[str, ...] = ("sts:AssumeRole",)) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": list(actions)}],
        }
    )


def node_role(name: str, parent: pulumi.Resource, tags: dict[str, str], region: str):
    """An EC2 node role with the managed policies of an EKS GPU worker; returns (role, attachments)."""
    import pulumi_aws as aws

    from llama_infra.iam import managed_policy_arn

    role = aws.iam.Role(
        naming.logical(naming.ROLE, name),
        assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
        tags=tags,
        opts=child(parent),
    )
    attachments = [
        aws.iam.RolePolicyAttachment(
            f"{name}-{short}", role=role.name, policy_arn=managed_policy_arn(policy_name, region), opts=child(parent)
        )
        for short, policy_name in NODE_POLICIES.items()
    ]
    return role, attachments
