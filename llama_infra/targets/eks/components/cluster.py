"""`MinimalEksCluster`: a small EKS control plane for trying llama-infra out (the common case attaches to an
existing cluster instead). API authentication mode, the add-ons GPU serving needs (VPC CNI, CoreDNS, kube-proxy,
Pod Identity agent), and a Kubernetes provider for it. Nodes come from `EksGpuCapacity`; system pods need a
small CPU node group of your own (or EKS Auto Mode), which this deliberately does not guess."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from llama_infra import naming
from llama_infra.iam import managed_policy_arn
from llama_infra.targets.eks.components._common import COMPONENT_PREFIX, assume_role_policy, child

CLUSTER_ADDONS = ("vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent")


def kubeconfig(cluster_name: str, endpoint: str | None, ca_data: str | None, region: str) -> str:
    """A kubeconfig that authenticates with `aws eks get-token` (no long-lived credentials)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": cluster_name,
            "clusters": [
                {
                    "name": cluster_name,
                    "cluster": {"server": endpoint or "", "certificate-authority-data": ca_data or ""},
                }
            ],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "users": [
                {
                    "name": cluster_name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region],
                        }
                    },
                }
            ],
        }
    )


@dataclass
class MinimalEksClusterArgs:
    """Inputs of `MinimalEksCluster`."""

    cluster_name: str
    kubernetes_version: str
    subnet_ids: pulumi.Input[list[str]]
    region: str
    tags: dict[str, str]


class MinimalEksCluster(pulumi.ComponentResource):
    """A small EKS control plane (API auth mode, core add-ons) with a Kubernetes provider for it."""

    cluster_name: pulumi.Output[str]
    endpoint: pulumi.Output[str]

    def __init__(self, name: str, args: MinimalEksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{COMPONENT_PREFIX}MinimalEksCluster", name, None, opts)
        role = aws.iam.Role(
            naming.logical(naming.ROLE, f"{name}-role"),
            assume_role_policy=assume_role_policy("eks.amazonaws.com"),
            tags=args.tags,
            opts=child(self),
        )
        policy = aws.iam.RolePolicyAttachment(
            f"{name}-role-policy",
            role=role.name,
            policy_arn=managed_policy_arn("AmazonEKSClusterPolicy", args.region),
            opts=child(self),
        )
        self.cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=args.cluster_name,
            version=args.kubernetes_version,
            role_arn=role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(subnet_ids=args.subnet_ids, endpoint_private_access=True),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API", bootstrap_cluster_creator_admin_permissions=True
            ),
            tags=args.tags,
            opts=child(self, depends_on=[policy]),
        )
        for addon in CLUSTER_ADDONS:
            aws.eks.Addon(f"{name}-{addon}", cluster_name=self.cluster.name, addon_name=addon, opts=child(self))
        self.cluster_name = self.cluster.name
        self.endpoint = self.cluster.endpoint
        config = pulumi.Output.all(self.cluster.name, self.cluster.endpoint, self.cluster.certificate_authority).apply(
            lambda a: kubeconfig(
                a[0],
                a[1],
                (a[2] or {}).get("data") if isinstance(a[2], dict) else getattr(a[2], "data", None),
                args.region,
            )
        )
        self.provider = k8s.Provider(f"{name}-k8s", kubeconfig=config, opts=child(self))
        self.register_outputs({"cluster_name": self.cluster_name, "endpoint": self.endpoint})
