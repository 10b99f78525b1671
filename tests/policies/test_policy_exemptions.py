"""Exemptions skip exactly one rule, say why, and show up in the preview; malformed ones are violations."""

from __future__ import annotations

import pytest
from policy_cases import DEPLOYMENT, EC, endpoint_config, with_security
from policy_helpers import run_rule
from pulumi_policy.policy import _NotApplicableError

from llama_infra_policies import analyze


def test_exempted_rule_reports_not_applicable_with_reason() -> None:
    props = endpoint_config(
        kms=False, tags={"llama-infra:policy-exempt": "sagemaker-endpoint-config-kms:sandbox, no data"}
    )
    with pytest.raises(_NotApplicableError) as raised:
        run_rule("sagemaker-endpoint-config-kms", EC, props)
    assert raised.value.reason == "exempt via llama-infra:policy-exempt: sandbox, no data"


def test_exemption_through_the_analyzer_skips_only_the_named_rule() -> None:
    props = endpoint_config(
        count=1,
        kms=False,
        tags={
            "llama-infra:environment": "prod",
            "llama-infra:policy-exempt": "sagemaker-endpoint-config-kms:sandbox account without customer data",
        },
    )
    analysis = analyze([(EC, props, "chat")])
    assert [(n.policy, n.reason) for n in analysis.not_applicable] == [
        ("sagemaker-endpoint-config-kms", "exempt via llama-infra:policy-exempt: sandbox account without customer data")
    ]
    fired = {v.policy for v in analysis.violations}
    assert "sagemaker-endpoint-config-kms" not in fired
    assert "prod-baseline-min-instances" in fired  # other rules still apply
    audit = [v for v in analysis.violations if v.policy == "policy-exemption-audit"]
    assert [v.enforcement_level for v in audit] == ["advisory"]
    assert "exempt from sagemaker-endpoint-config-kms: sandbox account" in audit[0].message


def test_exemption_without_reason_does_not_exempt() -> None:
    props = endpoint_config(kms=False, tags={"llama-infra:policy-exempt": "sagemaker-endpoint-config-kms:"})
    analysis = analyze([(EC, props, "chat")])
    fired = {(v.policy, v.enforcement_level) for v in analysis.violations}
    assert ("sagemaker-endpoint-config-kms", "mandatory") in fired
    assert ("policy-exemption-valid", "mandatory") in fired
    assert analysis.not_applicable == []


def test_kubernetes_annotation_and_suffixed_keys_exempt_several_rules() -> None:
    props = with_security(privileged=True, readOnlyRootFilesystem=False)
    props["metadata"]["annotations"] = {
        "llama-infra.io/policy-exempt": "k8s-no-privileged-containers:GPU operator validator needs it",
        "llama-infra.io/policy-exempt.2": "k8s-read-only-root-filesystem:Triton writes to /opt",
    }
    analysis = analyze([(DEPLOYMENT, props, "gpu-operator")])
    assert {n.policy for n in analysis.not_applicable} == {
        "k8s-no-privileged-containers",
        "k8s-read-only-root-filesystem",
    }
    fired = {v.policy for v in analysis.violations}
    assert fired.isdisjoint({"k8s-no-privileged-containers", "k8s-read-only-root-filesystem", "policy-exemption-valid"})
    assert run_rule("policy-exemption-audit", DEPLOYMENT, props) == [
        "exempt from k8s-no-privileged-containers: GPU operator validator needs it (llama-infra.io/policy-exempt)",
        "exempt from k8s-read-only-root-filesystem: Triton writes to /opt (llama-infra.io/policy-exempt.2)",
    ]


def test_exempted_pdb_is_skipped_by_the_stack_rule_and_audited() -> None:
    from policy_cases import HPA, PDB, deployment, hpa, pdb

    budget = pdb(minAvailable=2)
    budget["metadata"]["annotations"] = {
        "llama-infra.io/policy-exempt": "pdb-min-available-below-replica-floor:single-tenant batch, drains scheduled"
    }
    analysis = analyze(
        [(DEPLOYMENT, deployment(), "llama"), (HPA, hpa(min_replicas=2), "llama"), (PDB, budget, "llama")]
    )
    fired = {v.policy for v in analysis.violations}
    assert "pdb-min-available-below-replica-floor" not in fired
    assert "policy-exemption-audit" in fired
