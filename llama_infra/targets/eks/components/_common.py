"""Small helpers shared by the EKS components: resource options, IAM trust policies, and the Pulumi resource that
applies a rendered Kubernetes object of a built-in kind."""

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


def kubernetes_resource(name: str, obj: dict, opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """The Pulumi resource that applies `obj`, a rendered object of a built-in kind (`llama_infra.targets.kubernetes`
    builds them as plain data)."""
    import pulumi_kubernetes as k8s

    m = obj["metadata"]
    kinds = {
        "ServiceAccount": lambda: k8s.core.v1.ServiceAccount(
            name, metadata=m, automount_service_account_token=obj.get("automountServiceAccountToken"), opts=opts
        ),
        "Deployment": lambda: k8s.apps.v1.Deployment(name, metadata=m, spec=obj["spec"], opts=opts),
        "Service": lambda: k8s.core.v1.Service(name, metadata=m, spec=obj["spec"], opts=opts),
        "ConfigMap": lambda: k8s.core.v1.ConfigMap(name, metadata=m, data=obj["data"], opts=opts),
        "PodDisruptionBudget": lambda: k8s.policy.v1.PodDisruptionBudget(name, metadata=m, spec=obj["spec"], opts=opts),
        "NetworkPolicy": lambda: k8s.networking.v1.NetworkPolicy(name, metadata=m, spec=obj["spec"], opts=opts),
        "ClusterRole": lambda: k8s.rbac.v1.ClusterRole(name, metadata=m, rules=obj["rules"], opts=opts),
        "Role": lambda: k8s.rbac.v1.Role(name, metadata=m, rules=obj["rules"], opts=opts),
        "ClusterRoleBinding": lambda: k8s.rbac.v1.ClusterRoleBinding(
            name, metadata=m, role_ref=obj["roleRef"], subjects=obj["subjects"], opts=opts
        ),
        "RoleBinding": lambda: k8s.rbac.v1.RoleBinding(
            name, metadata=m, role_ref=obj["roleRef"], subjects=obj["subjects"], opts=opts
        ),
    }
    return kinds[obj["kind"]]()


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
