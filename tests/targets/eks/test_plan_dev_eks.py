"""`llama-infra plan dev-eks`: the example that shows EKS off-hours — no baseline nodes, one warm spot replica by day,
scale to zero in a weekday window (Europe/Berlin) with the router as the entry point, and the policy pack passes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from llama_infra.cli import app
from llama_infra.diff.program import resources_for
from llama_infra.plan import plan_stack
from llama_infra.plan.engine import default_stacks_dir, stack_names
from llama_infra.spec import load_spec
from llama_infra.targets.kubernetes.floor_triggers import floor_term
from llama_infra_policies import evaluate
from llama_infra_policies.capture import from_planned

ROOT = Path(__file__).resolve().parents[3]

SPEC = ROOT / "stacks" / "specs" / "dev-eks.yaml"
NAME = "llama-8b-dev-eks"


@pytest.fixture(scope="module", params=[True, False], ids=["preview", "up"])
def plan(request):
    return plan_stack("dev-eks", preview=request.param)


def by_type(plan, kind: str) -> dict[str, dict]:
    return {r.name: r.inputs for r in plan.resources if r.type == kind}


def test_dev_eks_is_one_of_the_environments_plan_shows_by_default():
    assert {"dev", "dev-eks", "staging", "prod", "prod-eks"} <= set(stack_names(default_stacks_dir()))


def test_the_router_is_the_entry_point(plan):
    deployments = {i["metadata"]["name"] for i in by_type(plan, "kubernetes:apps/v1:Deployment").values()}
    services = {i["metadata"]["name"] for i in by_type(plan, "kubernetes:core/v1:Service").values()}
    assert deployments == {f"{NAME}-burst", f"{NAME}-router"}  # no baseline, no fallback, no night variant
    assert services == {NAME, f"{NAME}-router"}
    assert plan.outputs["entry_service_name"] == f"{NAME}-router"  # what clients call (stacks/__main__.py)


def test_no_baseline_nodes_and_nothing_for_a_node_group_schedule(plan):
    types = plan.resource_types()
    assert "aws:eks/nodeGroup:NodeGroup" not in types and "aws:scheduler/schedule:Schedule" not in types
    pools = by_type(plan, "kubernetes:karpenter.sh/v1:NodePool")
    assert {i["metadata"]["name"] for i in pools.values()} == {f"{NAME}-burst-spot", f"{NAME}-burst-on-demand"}


def test_the_burst_scaled_object_has_the_window_gate_and_the_wake_trigger(plan):
    [scaled] = by_type(plan, "kubernetes:keda.sh/v1alpha1:ScaledObject").values()
    body = scaled["spec"]
    assert body["scaleTargetRef"]["name"] == f"{NAME}-burst"
    assert body["minReplicaCount"] == 0 and body["maxReplicaCount"] == 2
    formula = body["advanced"]["scalingModifiers"]["formula"]
    floor = floor_term(load_spec(SPEC))  # the predictive floor, in both terms (`floor_triggers`)
    assert floor is not None
    assert formula == (
        f"(window_off_hours > 1 ? max(queue_depth / 5, kv_cache / 0.85, 0, wake, {floor}) "
        f": max(queue_depth / 5, kv_cache / 0.85, 1, {floor}))"
    )
    triggers = {t["name"]: t for t in body["triggers"]}
    floors = {n for n in triggers if n.startswith(("floor_", "forecast_"))} - {"floor_load"}
    # the floor's steps, its hourly forecasts and the load it follows (`floor_triggers`: a spec with windows)
    assert sum(n.startswith("forecast_") for n in floors) == 24
    assert set(triggers) == {"window_off_hours", "queue_depth", "kv_cache", "wake", "floor_load", *floors} and floors
    gate = triggers["window_off_hours"]["metadata"]
    assert (gate["timezone"], gate["start"]) == ("Europe/Berlin", "0 20 * * 1-5")
    assert gate["end"].endswith(" 6 * * 1-5")  # before 07:00: the day replica comes back early by its cold start
    assert f'app_kubernetes_io_instance="{NAME}-router"' in triggers["wake"]["metadata"]["query"]


def test_the_plan_shows_the_formula_the_entry_point_and_the_cost(plan):
    summary = "\n".join(plan.target_summary)
    assert f"  {NAME}-burst (≤ 2): (window_off_hours > 1 ?" in summary
    assert f"scale to zero: {NAME}-router is the entry point" in summary
    assert "baseline node group" not in summary  # a zero baseline has none to schedule
    assert "baseline (on-demand): $0\n" in summary and "burst (spot, expected): $" in summary
    assert plan.cost["baseline_per_month_usd"] == 0
    assert 0 < plan.cost["cost_per_month_usd"] < plan.cost["day_only_cost_per_month_usd"]  # the window saves
    assert plan.warnings == []


def test_every_mandatory_policy_passes_in_a_preview():
    spec = load_spec(SPEC)
    resources = from_planned(resources_for(spec, preview=True))
    violations = evaluate(resources, stack_tags={})  # no stack tag: the resources' own environment labels decide
    assert [str(v) for v in violations if v.enforcement_level == "mandatory"] == []


def test_plan_command_prints_the_dev_eks_stack():
    result = CliRunner().invoke(app, ["plan", "dev-eks"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Window 'off-hours' (0 20 * * 1-5 → 0 7 * * 1-5, Europe/Berlin): min 0." in result.output
    assert f"{NAME}-router is the entry point" in result.output
