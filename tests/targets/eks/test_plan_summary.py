"""What the plan shows for EKS: capacity pools with capacity types and GPU limits, and the cost split."""

from __future__ import annotations

from llama_infra.pricing import hourly
from llama_infra.targets.eks.plan_summary import capacity_pools, cost_split, plan_lines

from .specs import edited


def test_pools_name_capacity_types_instance_types_and_gpu_limits():
    pools = {p.name: p for p in capacity_pools(edited())}
    base, spot, od = (
        pools["llama-70b-eks-baseline"],
        pools["llama-70b-eks-burst-spot"],
        pools["llama-70b-eks-burst-on-demand"],
    )
    assert (base.capacity_type, base.min_nodes, base.max_nodes) == ("ON_DEMAND", 2, 2)
    assert (spot.capacity_type, spot.gpu_limit, spot.weight) == ("spot", 24, 50)
    assert (od.capacity_type, od.gpu_limit, od.weight) == ("on-demand", 24, 10)
    assert len(spot.instance_types) == 4
    lines = plan_lines(edited())
    assert any("Karpenter NodePool llama-70b-eks-burst-spot: spot" in line and "≤ 24 GPUs" in line for line in lines)
    # the on-demand fallback's replicas are the first to go (targets.kubernetes.scale_in_order), the spot ones not
    assert (od.leaves_first, spot.leaves_first) == (True, False)
    assert [line for line in lines if "leave first on scale-in" in line] == [f"  {od.describe()}"]
    # an emptied spot node waits for the next pod, the fallback's goes at once (karpenter.consolidate_after_s)
    assert (spot.empty_node_s, od.empty_node_s) == (edited().scaling.scale_down_stabilization_seconds, 0)
    assert "an emptied node goes at once" in od.describe()
    assert f"an emptied node waits {spot.empty_node_s} s for the next pod" in spot.describe()
    # an on-demand burst is one price: no pool goes first, and its emptied nodes wait like spot ones
    (_, only) = capacity_pools(edited(**{"capacity.burst.capacity": "on-demand"}))
    assert (only.capacity_type, only.leaves_first, only.empty_node_s) == ("on-demand", False, spot.empty_node_s)


def test_managed_node_group_mode_shows_the_spot_group():
    pools = capacity_pools(edited(**{"eks.karpenter": False}))
    assert [(p.kind, p.capacity_type, p.min_nodes, p.max_nodes) for p in pools] == [
        ("managed node group", "ON_DEMAND", 2, 2),
        ("managed node group", "SPOT", 0, 6),
    ]


def test_cost_split_adds_up_and_burst_is_priced_at_spot():
    spot = cost_split(edited())
    on_demand = cost_split(edited(**{"capacity.burst.capacity": "on-demand"}))
    assert abs(spot.baseline_per_month_usd + spot.burst_per_month_usd - spot.cost_per_month_usd) < 0.02
    assert spot.baseline_per_month_usd == on_demand.baseline_per_month_usd > 0
    ratio = hourly("g6e.12xlarge", "eks", "spot").usd_per_hour / hourly("g6e.12xlarge", "eks", "on-demand").usd_per_hour
    assert abs(spot.burst_per_month_usd - on_demand.burst_per_month_usd * ratio) < 1
    assert ratio < 1


def test_replica_lines_show_the_fixed_baseline_and_the_burst_query():
    lines = plan_lines(edited())
    assert "  llama-70b-eks-baseline: 2 fixed on the baseline nodes" in lines
    assert any(line.startswith("  llama-70b-eks-burst: 0–6 by KEDA ScaledObject") for line in lines)
    assert any("clamp_min(sum(vllm:num_requests_waiting" in line and "- 10, 0)" in line for line in lines)


def test_plan_shows_each_deployments_window_formula_and_the_scale_to_zero_entry_point():
    from llama_infra.targets.eks import plan_summary as summary

    night = edited(
        schedules=[
            {
                "name": "night",
                "timezone": "UTC",
                "start": "0 1 * * *",
                "end": "0 5 * * *",
                "downsize": {"min_replicas": 1, "max_replicas": 4},
            }
        ]
    )
    lines = summary.replica_lines(night)
    assert lines[0].startswith("by window") and "fixed" not in " ".join(lines)
    assert "  llama-70b-eks-baseline (≤ 2): (window_night > 1 ? 1 : 2)" in lines
    zero = edited(
        **{
            "environment": "dev",
            "capacity.baseline": {"instance_type": "g6e.12xlarge", "count": 0},
            "scaling.scale_to_zero": True,
        }
    )
    assert any(
        line.startswith("scale to zero: llama-70b-eks-router is the entry point")
        for line in summary.replica_lines(zero)
    )
