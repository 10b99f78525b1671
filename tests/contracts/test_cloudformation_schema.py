"""The inference component (pulumi-aws-native) held against the CloudFormation resource schema it is created through.

pulumi-aws-native creates `aws-native:sagemaker:InferenceComponent` with the Cloud Control API, which validates the
desired state against CloudFormation's `AWS::SageMaker::InferenceComponent` schema: the pinned copy is in
`../shared/data/upstream/aws-sagemaker-inferencecomponent.json`. Pulumi's input names are that schema's property
names with a lower-case first letter.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from targets.sagemaker.helpers import make_spec, run_component
from targets.sagemaker.test_aws_apis_accept import to_api

from llama_infra.contracts import autonaming

IC = "aws-native:sagemaker:InferenceComponent"
UPSTREAM = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "upstream"
SCHEMA = json.loads((UPSTREAM / "aws-sagemaker-inferencecomponent.json").read_text())
ZERO = {
    "capacity": {"baseline": {"instance_type": "ml.g5.12xlarge", "count": 0}, "burst": {"max": 3}},
    "scaling": {"scale_to_zero": True, "min_replicas": 0},
}


def problems(properties: dict) -> list[str]:
    """What CloudFormation would refuse in these properties (read-only ones are the service's to set)."""
    validator = jsonschema.Draft7Validator(SCHEMA)
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(properties))


@pytest.fixture(scope="module")
def properties() -> dict:
    return to_api(run_component(make_spec(**ZERO), preview=False).one(IC).inputs)


def test_the_inference_component_is_what_cloudformation_accepts(properties):
    assert problems(properties) == []
    read_only = {p.removeprefix("/properties/") for p in SCHEMA["readOnlyProperties"]}
    assert not {p for p in read_only if "/" not in p} & set(properties)  # nothing the service sets is sent


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda p: p.update(InferenceComponentName="x" * 64), "InferenceComponentName: 'xxx"),
        (lambda p: p.update(EndpointName="llama_test"), "EndpointName: 'llama_test' does not match"),
        (lambda p: p["RuntimeConfig"].update(CopyCount=-1), "RuntimeConfig/CopyCount: -1 is less than the minimum"),
        (lambda p: p["Specification"].update(ModelNam="m"), "Specification: Additional properties are not allowed"),
        (lambda p: p.pop("Specification"), ": 'Specification' is a required property"),
    ],
)
def test_the_check_refuses_what_cloudformation_would(properties, change, expected):
    broken = copy.deepcopy(properties)
    change(broken)
    assert any(expected in p for p in problems(broken)), problems(broken)


def test_the_autonaming_limit_is_the_schemas():
    rule = autonaming.AUTONAMED[IC]
    assert rule.max_length == SCHEMA["definitions"]["InferenceComponentName"]["maxLength"] == 63
