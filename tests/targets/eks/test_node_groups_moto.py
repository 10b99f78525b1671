"""EKS's API (moto's model of it, with botocore's parameter validation) accepts the node groups we plan:
CreateNodegroup with SPOT / ON_DEMAND, GPU taints and labels, and the scaling config."""

from __future__ import annotations

import boto3
import botocore.session
import pytest
from moto import mock_aws

from llama_infra.targets.eks.node_groups import baseline_node_group, spot_node_group

from .specs import edited

ROLE = "arn:aws:iam::123456789012:role/llama-node"


def enum_violations(shape, value, path="") -> list[str]:
    """Values outside the EKS service model's enums (botocore's client checks types, not enum members)."""
    if shape.type_name == "structure":
        return [
            v
            for k, sub in value.items()
            if k in shape.members
            for v in enum_violations(shape.members[k], sub, f"{path}.{k}")
        ]
    if shape.type_name == "list":
        return [v for i, item in enumerate(value) for v in enum_violations(shape.member, item, f"{path}[{i}]")]
    if shape.type_name == "string" and shape.enum and value not in shape.enum:
        return [f"{path}: {value!r} not in {shape.enum}"]
    return []


def create_nodegroup_shape():
    return botocore.session.get_session().get_service_model("eks").operation_model("CreateNodegroup").input_shape


@pytest.fixture()
def eks():
    with mock_aws():
        client = boto3.client(
            "eks", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        client.create_cluster(
            name="ml-prod",
            roleArn="arn:aws:iam::123456789012:role/eks",
            resourcesVpcConfig={"subnetIds": ["subnet-0a", "subnet-0b"]},
        )
        yield client


def test_baseline_and_spot_node_groups_are_accepted(eks):
    spec = edited(**{"eks.karpenter": False})
    plans = {"baseline": baseline_node_group(spec), "burst": spot_node_group(spec)}
    for role, plan in plans.items():
        params = plan.eks_api("ml-prod", f"llama-70b-eks-{role}", ROLE, ["subnet-0a", "subnet-0b"])
        assert enum_violations(create_nodegroup_shape(), params) == []
        eks.create_nodegroup(**plan.eks_api("ml-prod", f"llama-70b-eks-{role}", ROLE, ["subnet-0a", "subnet-0b"]))
    got = {
        role: eks.describe_nodegroup(clusterName="ml-prod", nodegroupName=f"llama-70b-eks-{role}")["nodegroup"]
        for role in plans
    }
    assert got["burst"]["capacityType"] == "SPOT"
    assert got["baseline"]["capacityType"] == "ON_DEMAND"
    assert got["burst"]["scalingConfig"] == {"minSize": 0, "maxSize": 6, "desiredSize": 0}
    assert got["baseline"]["scalingConfig"] == {"minSize": 2, "maxSize": 2, "desiredSize": 2}
    for role in plans:
        assert got[role]["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
        assert got[role]["labels"]["llama-infra.io/capacity"] == role
        assert got[role]["amiType"] == "AL2023_x86_64_NVIDIA"
    assert got["burst"]["instanceTypes"] == ["g6e.12xlarge", "g6e.24xlarge", "g6e.48xlarge", "p4d.24xlarge"]


def test_the_kubernetes_spelling_of_a_taint_effect_is_caught():
    """EKS spells taint effects NO_SCHEDULE; the Kubernetes spelling would be rejected by the real API."""
    params = baseline_node_group(edited()).eks_api("ml-prod", "bad", ROLE, ["subnet-0a"])
    params["taints"] = [{**params["taints"][0], "effect": "NoSchedule"}]
    params["capacityType"] = "spot"
    assert enum_violations(create_nodegroup_shape(), params) == [
        ".capacityType: 'spot' not in ['ON_DEMAND', 'SPOT', 'CAPACITY_BLOCK']",
        ".taints[0].effect: 'NoSchedule' not in ['NO_SCHEDULE', 'NO_EXECUTE', 'PREFER_NO_SCHEDULE']",
    ]
