"""ARNs carry the region's partition (from botocore's endpoint data), not a hard-coded `arn:aws:`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llama_infra.iam import managed_policy_arn, partition, s3_arn
from llama_infra.plan.record import run_plan
from llama_infra.spec import parse_spec
from llama_infra.targets.eks.baseline_node_schedule import scheduler_target_arn

SPECS = Path(__file__).resolve().parents[1] / "stacks" / "specs"


@pytest.mark.parametrize(
    ("region", "expected"),
    [("us-east-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"), ("us-iso-east-1", "aws-iso")],
)
def test_partition_of_a_region(region, expected):
    assert partition(region) == expected
    assert managed_policy_arn("AmazonEKS_CNI_Policy", region) == f"arn:{expected}:iam::aws:policy/AmazonEKS_CNI_Policy"
    assert s3_arn("b", "p/*", region) == f"arn:{expected}:s3:::b/p/*"
    assert scheduler_target_arn(region).startswith(f"arn:{expected}:scheduler:::aws-sdk:eks:")


def _arns(value) -> list[str]:
    if isinstance(value, dict):
        return [a for v in value.values() for a in _arns(v)]
    if isinstance(value, list):
        return [a for v in value for a in _arns(v)]
    if isinstance(value, str):
        if value.startswith("{"):
            try:
                return _arns(json.loads(value))
            except ValueError:
                return []
        return [value] if value.startswith("arn:") else []
    return []


def test_an_eks_stack_in_govcloud_writes_no_commercial_partition_arn():
    from llama_infra import program

    text = (SPECS / "prod-eks.yaml").read_text().replace("region: us-east-1", "region: us-gov-west-1")
    spec = parse_spec(text, "prod-eks-gov.yaml")
    run = run_plan(
        lambda: program.deploy(spec, "prod-eks-gov.yaml"), project="llama-infra", stack="gov", region=spec.region
    )
    written = [a for r in run.resources for a in _arns(r.inputs)]
    ours = [a for a in written if ":123456789012:" not in a]  # the offline mocks' own answers aside
    assert any(a.startswith("arn:aws-us-gov:iam::aws:policy/") for a in ours)
    assert not [a for a in ours if a.startswith("arn:aws:")], ours


@pytest.mark.parametrize("stack", sorted(p.stem for p in SPECS.glob("*.yaml")))
def test_every_example_planned_in_govcloud_has_no_commercial_arn_in_inputs_or_offline_answers(stack):
    """The offline answers (an endpoint's ARN, getPartition, the caller) are the region's too, so ARNs built from them
    (the SageMaker window-switch workflow's policy reads the endpoint's) carry its partition."""
    from llama_infra import program

    text = (SPECS / f"{stack}.yaml").read_text().replace("us-east-1", "us-gov-west-1")
    spec = parse_spec(text.replace("arn:aws:", "arn:aws-us-gov:"), f"{stack}-gov.yaml")
    run = run_plan(
        lambda: program.deploy(spec, f"{stack}-gov.yaml"), project="llama-infra", stack="gov", region=spec.region
    )
    arns = [a for r in run.resources for a in _arns(r.inputs) + _arns(r.outputs)]
    assert arns and all(a.startswith("arn:aws-us-gov:") for a in arns), [a for a in arns if "aws-us-gov" not in a]


@pytest.mark.parametrize(
    ("region", "expected"),
    [("us-east-1", ("aws", "amazonaws.com")), ("cn-north-1", ("aws-cn", "amazonaws.com.cn"))],
)
def test_the_offline_get_partition_answers_the_regions_partition_and_dns_suffix(region, expected):
    from types import SimpleNamespace

    from llama_infra.plan.record import RecordingMocks

    answer, _ = RecordingMocks(region=region).call(
        SimpleNamespace(token="aws:index/getPartition:getPartition", args={})
    )
    assert (answer["partition"], answer["dnsSuffix"]) == expected
