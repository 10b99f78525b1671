"""`llama-infra plan prod-eks`: the stacks program run offline shows the EKS tree, the pools with their capacity
types and GPU limits, and the reserved-baseline / expected-burst cost split."""

from __future__ import annotations

from typer.testing import CliRunner

from llama_infra.cli import app
from llama_infra.plan import plan_stack


def test_plan_prod_eks_has_the_tree_pools_and_cost_split():
    plan = plan_stack("prod-eks")
    by_name = {r.name: r for r in plan.resources}
    assert plan.target == "eks" and plan.spec_name == "llama-70b-eks"
    assert by_name["llama-70b-eks-capacity-baseline"].key_inputs["capacityType"] == "ON_DEMAND"
    assert by_name["llama-70b-eks-capacity-baseline"].key_inputs["scalingConfig"] == {
        "desiredSize": 2,
        "maxSize": 2,
        "minSize": 2,
    }
    spot = by_name["llama-70b-eks-capacity-burst-spot"].key_inputs
    # (max_replicas 11 − baseline 2) burst replicas × TP 4: the example's burst is sized from its SLO
    assert spot["limits"] == {"nvidia.com/gpu": "36"} and spot["weight"] == 50
    assert by_name["llama-70b-eks-capacity-burst-spot"].parent == "llama-70b-eks-capacity"
    assert by_name["llama-70b-eks-autoscaler-scaled-object"].key_inputs["minReplicaCount"] == 0
    summary = "\n".join(plan.target_summary)
    assert "Karpenter NodePool llama-70b-eks-burst-spot: spot" in summary and "≤ 36 GPUs" in summary
    assert "baseline (reserved): $" in summary and "burst (spot, expected): $" in summary
    assert plan.cost["baseline_per_month_usd"] > 0 and plan.cost["burst_per_month_usd"] > 0
    # The overnight window caps the burst at 2 above the reserved baseline; the reserved nodes are not scaled.
    burst = by_name["llama-70b-eks-autoscaler-scaled-object"].key_inputs
    assert burst["formula"].startswith("(window_overnight > 1 ? min(max(")
    assert "baseline node group: not scaled overnight — reserved capacity" in summary
    assert "llama-70b-eks-baseline: 2 fixed on the baseline nodes" in summary


def test_plan_command_prints_the_eks_stack():
    result = CliRunner().invoke(app, ["plan", "prod-eks"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "llama-70b-eks-burst-spot" in result.output
    assert "burst (spot, expected)" in result.output


def test_the_stack_exports_what_karpenter_needs_and_uses_the_spec_region():
    plan = plan_stack("prod-eks")
    providers = [r for r in plan.resources if r.type == "pulumi:providers:aws"]
    assert [p.inputs.get("region") for p in providers] == ["us-east-1"]
    assert {"interruption_queue_name", "karpenter_node_role_name", "node_pool_names"} <= set(plan.outputs)
