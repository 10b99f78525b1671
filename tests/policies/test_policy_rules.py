"""Every rule: a resource that passes, one that fails with the expected message, through the SDK's args."""

from __future__ import annotations

import pytest
from policy_cases import CASES, STACK_CASES, Case, StackCase
from policy_helpers import RULES_BY_NAME, run_rule

from llama_infra_policies import evaluate


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule_passes_compliant_resource(case: Case) -> None:
    assert run_rule(case.rule, case.resource_type, case.passing) == []


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule_fails_noncompliant_resource(case: Case) -> None:
    messages = run_rule(case.rule, case.resource_type, case.failing)
    assert messages, f"{case.rule} reported nothing"
    assert any(case.expect in m for m in messages), messages


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule_ignores_other_resource_types(case: Case) -> None:
    assert (
        run_rule(case.rule, "aws:s3/bucket:Bucket", case.failing) == [] or not RULES_BY_NAME[case.rule].resource_types
    )


@pytest.mark.parametrize("case", STACK_CASES, ids=lambda c: c.id)
def test_stack_rule_passes_and_fails(case: StackCase) -> None:
    rule = [RULES_BY_NAME[case.rule]]
    assert evaluate(case.passing, policies=rule) == []
    violations = evaluate(case.failing, policies=rule)
    assert [(v.policy, v.resource_type, v.resource_name) for v in violations] == [
        (case.rule, resource_type, name) for resource_type, name in case.reported
    ]
    assert case.expect in violations[0].message


def test_every_rule_has_a_passing_and_a_failing_case() -> None:
    covered = {case.rule for case in CASES} | {case.rule for case in STACK_CASES}
    assert sorted(set(RULES_BY_NAME) - covered) == []


def test_prod_is_also_read_from_the_stack_name_and_stack_tag() -> None:
    from policy_cases import DEPLOYMENT, HPA, deployment, hpa

    def floor_violations(stack: str, stack_tags=None) -> list[str]:
        resources = [
            (DEPLOYMENT, deployment(), f"urn:pulumi:{stack}::llama-infra::{DEPLOYMENT}::llama"),
            (HPA, hpa(min_replicas=1), f"urn:pulumi:{stack}::llama-infra::{HPA}::llama"),
        ]
        rule = [RULES_BY_NAME["prod-serving-replica-floor"]]
        return [v.resource_name for v in evaluate(resources, policies=rule, stack_tags=stack_tags)]

    assert floor_violations("prod") == ["llama"]
    assert floor_violations("prod-eks") == ["llama"]  # environment-prefixed stack names (stacks/Pulumi.prod-eks.yaml)
    assert floor_violations("dev") == [] and floor_violations("dev-eks") == [] and floor_violations("production") == []
    assert floor_violations("team-a-1", stack_tags={"llama-infra:environment": "prod"}) == ["llama"]
