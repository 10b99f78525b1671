"""The project's CrossGuard pack, run over what the EKS components register: no mandatory violation, and only the
advisories we accept knowingly (upstream vLLM/TGI images run as root with a writable root filesystem)."""

from __future__ import annotations

import pytest

from llama_infra.plan.record import record
from llama_infra.targets.eks.components import build_eks
from llama_infra_policies import evaluate
from llama_infra_policies.capture import from_planned

from .specs import variants

# policy-exemption-audit lists every exemption: ours is the burst autoscaler's prod floor (the baseline holds it).
ACCEPTED_ADVISORIES = {"k8s-read-only-root-filesystem", "k8s-run-as-non-root", "policy-exemption-audit"}
VARIANTS = variants()


@pytest.mark.parametrize("variant", ["prod-keda-karpenter", "managed-node-groups-only", "hpa-prometheus-adapter"])
def test_eks_program_passes_the_policy_pack(variant):
    resources = from_planned(record(lambda: build_eks("p", VARIANTS[variant]), preview=True))
    assert len(resources) > 30
    violations = evaluate(resources, stack_tags={})
    assert [str(v) for v in violations if v.enforcement_level == "mandatory"] == []
    assert {v.policy for v in violations} <= ACCEPTED_ADVISORIES
    audited = [v for v in violations if v.policy == "policy-exemption-audit"]
    assert [v.resource_type.rsplit(":", 1)[-1] for v in audited] in (["ScaledObject"], ["HorizontalPodAutoscaler"])
    assert all("prod-baseline-min-instances" in v.message for v in audited)
