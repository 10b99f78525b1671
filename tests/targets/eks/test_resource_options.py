"""Resource options the mocks' inputs do not show, read from the registrations (llama_infra.plan's recorder):
autoscaler-owned counts are ignored by Pulumi, and the workload waits for its namespace."""

from __future__ import annotations

from llama_infra.plan.record import run_plan
from llama_infra.targets.eks.components import build_eks

from .specs import variants


def _run():
    return run_plan(
        lambda: build_eks("o", variants()["managed-node-groups-only"]),
        project="llama-infra",
        stack="test",
        preview=True,
    )


def test_autoscaler_owned_counts_are_in_ignore_changes_and_the_namespace_comes_first():
    run = _run()
    by_name = {r.name: r for r in run.resources}
    assert by_name["o-capacity-baseline"].ignore_changes == ["scalingConfig.desiredSize"]
    assert by_name["o-capacity-burst"].ignore_changes == ["scalingConfig.desiredSize"]
    assert by_name["o-service-burst"].ignore_changes == ["spec.replicas"]
    assert by_name["o-service-baseline"].ignore_changes == []  # the baseline count is ours, not an autoscaler's
    namespace_urn = by_name["o-namespace"].urn
    for child in (
        "o-service-baseline",
        "o-service-burst",
        "o-service-service",
        "o-service-pdb",
        "o-service-service-account",
        "o-service-server-pod-monitor",
    ):
        assert namespace_urn in by_name[child].depends_on, child
