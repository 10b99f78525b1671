"""Every example stack plans with zero contract violations, also as `pulumi up` would run it (not preview): before
the fix, both EKS stacks autonamed their Karpenter interruption EventTargets past EventBridge's 64 characters."""

from __future__ import annotations

import pytest

from llama_infra.plan import plan_stack, stack_names
from llama_infra.plan.engine import default_stacks_dir


@pytest.mark.parametrize("stack", stack_names(default_stacks_dir()))
def test_example_stack_has_no_contract_violation_outside_preview(stack: str) -> None:
    plan = plan_stack(stack, preview=False)  # raises PlanError listing every violation
    targets = [r for r in plan.resources if r.type == "aws:cloudwatch/eventTarget:EventTarget"]
    assert all(len(r.inputs["targetId"]) <= 64 for r in targets)
