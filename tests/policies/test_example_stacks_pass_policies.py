"""Every example environment in stacks/ passes every mandatory rule of the policy pack.

The resources are what the stacks program registers for each example spec (the program `pulumi up` runs), recorded
offline; the stack tag `llama-infra:environment` is set as a real stack would carry it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from llama_infra.diff.program import resources_for
from llama_infra.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "policies"))
from llama_infra_policies import evaluate  # noqa: E402
from llama_infra_policies.capture import from_planned  # noqa: E402

SPECS = sorted((ROOT / "stacks" / "specs").glob("*.yaml"))


@pytest.mark.parametrize("spec_file", SPECS, ids=lambda p: p.stem)
def test_example_stack_has_no_mandatory_violation(spec_file):
    spec = load_spec(spec_file)
    resources = from_planned(resources_for(spec))
    assert len(resources) > 10
    violations = evaluate(resources, stack_tags={"llama-infra:environment": spec.environment})
    assert [str(v) for v in violations if v.enforcement_level == "mandatory"] == []


def test_the_check_can_fail_a_prod_endpoint_with_one_instance():
    spec = load_spec(ROOT / "stacks" / "specs" / "prod.yaml")
    weak = spec.model_copy(update={"capacity": spec.capacity.model_copy(
        update={"baseline": spec.capacity.baseline.model_copy(update={"count": 1})})})
    violations = evaluate(from_planned(resources_for(weak)), stack_tags={"llama-infra:environment": "prod"})
    assert "prod-baseline-min-instances" in {v.policy for v in violations if v.enforcement_level == "mandatory"}
