"""Every example environment in stacks/ passes every mandatory rule of the policy pack.

The resources are what the stacks program registers for each example spec (the program `pulumi up` runs), recorded
offline; the stack tag `llama-infra:environment` is set as a real stack would carry it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from llama_infra.diff.program import resources_for
from llama_infra.spec import load_spec
from llama_infra_policies import evaluate
from llama_infra_policies.capture import from_planned

ROOT = Path(__file__).resolve().parents[2]

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
    weak = spec.model_copy(
        update={
            "capacity": spec.capacity.model_copy(
                update={"baseline": spec.capacity.baseline.model_copy(update={"count": 1})}
            )
        }
    )
    violations = evaluate(from_planned(resources_for(weak)), stack_tags={"llama-infra:environment": "prod"})
    assert "prod-baseline-min-instances" in {v.policy for v in violations if v.enforcement_level == "mandatory"}


def _prod_eks_with_window(night_min: int):
    spec = load_spec(ROOT / "stacks" / "specs" / "prod-eks.yaml")
    window = {
        "name": "overnight",
        "timezone": "America/New_York",
        "start": "0 22 * * *",
        "end": "0 6 * * *",
        "downsize": {
            "instance_type": "g6e.2xlarge",
            "min_replicas": night_min,
            "max_replicas": 3,
            "model_override": {"id": "meta-llama/Llama-3.1-8B-Instruct", "params_b": 8, "precision": "bf16"},
        },
    }
    return type(spec).model_validate(spec.model_dump() | {"schedules": [window]})


def test_the_prod_replica_floor_is_judged_by_day_and_inside_each_eks_window():
    """With a night variant every ScaledObject has minReplicaCount 0 and its floor in a formula: prod holds 2 by day
    (the baseline) and 2 at night (the window's min) — and a window minimum of 1 is caught, naming the window."""

    def floor_violations(spec):
        violations = evaluate(from_planned(resources_for(spec)), stack_tags={"llama-infra:environment": "prod"})
        return [v.message for v in violations if v.policy == "prod-serving-replica-floor"]

    assert floor_violations(_prod_eks_with_window(2)) == []
    messages = floor_violations(_prod_eks_with_window(1))
    assert messages and all("can drop to 1 replica(s)" in m and "in window overnight" in m for m in messages)


def test_validate_warns_about_exactly_the_gpu_headroom_the_policy_pack_rejects():
    """8B bf16 on 24 GB GPUs fits but leaves ~13 % free: `validate` warns on that type, and the mandatory
    gpu-memory-headroom rule fails the same plan; on 48 GB L40S neither complains."""
    from llama_infra.spec.rules import warnings

    spec = load_spec(ROOT / "stacks" / "specs" / "dev-eks.yaml")

    def with_burst(types):
        return type(spec).model_validate(
            spec.model_dump()
            | {
                "capacity": spec.capacity.model_dump()
                | {"burst": spec.capacity.burst.model_dump() | {"instance_types": types}}
            }
        )

    def headroom(s):
        warned = [w.path for w in warnings(s) if "gpu-memory-headroom" in w.problem]
        violations = evaluate(from_planned(resources_for(s)), stack_tags={"llama-infra:environment": s.environment})
        return warned, [v.policy for v in violations if v.policy == "gpu-memory-headroom"]

    assert headroom(with_burst(["g6e.xlarge", "g6e.2xlarge"])) == ([], [])
    warned, failed = headroom(with_burst(["g6e.xlarge", "g5.2xlarge"]))
    assert warned == [("capacity", "burst", "instance_types", 1)] and failed
