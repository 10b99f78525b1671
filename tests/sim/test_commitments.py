"""Reserved capacity is a commitment: billed around the clock whether it runs or not, the same for every control
plane, and the cost report, the plan and the simulator agree (`pricing.COMMITTED_PURCHASES`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from llama_infra import pricing, targets
from llama_infra.capacity_plan import week_plan
from llama_infra.sim.capacity import usd_per_replica_hour
from llama_infra.sim.report import attainable_share, default_assumptions, infeasibility, render_table, simulate
from llama_infra.sim.workload import constant_rate
from llama_infra.spec import DeploymentSpec, load_spec, parse_spec

PROD = "stacks/specs/prod.yaml"  # 2 reserved ml.p4d.24xlarge (a SageMaker Savings Plan), g6e overnight


def _hours(spec):
    return week_plan(spec, tuple([0.5] * 24), targets.get(spec.target).billing_units(spec))


def test_a_savings_plan_is_billed_every_hour_and_covers_the_night_type():
    spec = load_spec(PROD)
    base = spec.capacity.baseline
    commitment = base.count * pricing.hourly(base.instance_type, "sagemaker", "reserved").usd_per_hour
    week = _hours(spec)
    night = [h for h in week if h.window]
    assert night and all(h.baseline_usd == pytest.approx(commitment) for h in week)
    # the g6e replicas of the window fit in the commitment: a night hour costs the commitment, not less
    assert all(h.usd == pytest.approx(commitment) for h in night)
    report = targets.cost_report(spec)
    assert report.baseline_per_month_usd == pytest.approx(commitment * pricing.HOURS_PER_MONTH, rel=1e-4)


def test_the_simulator_bills_the_commitment_for_every_policy():
    spec = load_spec(PROD)
    base = spec.capacity.baseline
    w = constant_rate(2.0, 1800, 512, 64)  # half an hour, well under the baseline's capacity
    commitment_per_hour = base.count * usd_per_replica_hour(
        base.instance_type, "sagemaker", "reserved", spec.model.tensor_parallel_degree
    )
    results = simulate(spec, w, seed=1, dt_s=5.0)
    for r in results:
        assert r.cost_by_capacity_usd["savings-plan/commitment"] == pytest.approx(
            commitment_per_hour * 0.5, abs=0.01
        ), r.policy
        assert r.total_cost_usd >= commitment_per_hour * 0.5 - 0.01, r.policy
    # the plan's hour of baseline is the simulator's
    assert targets.cost_report(spec).baseline_usd_per_hour == pytest.approx(commitment_per_hour, abs=1e-3)


def test_reserved_instances_on_eks_are_billed_when_a_window_stops_them():
    doc = load_spec("stacks/specs/prod-eks.yaml").model_dump(mode="json", exclude_unset=True)
    doc["schedules"][0]["downsize"]["min_replicas"] = 1  # the window keeps one of the two baseline replicas
    doc["schedules"][0]["downsize"]["max_replicas"] = 2
    spec = DeploymentSpec.model_validate(doc)
    base = spec.capacity.baseline
    # an hour inside the overnight window (23:00-06:00 New York): 00:00-01:00 EDT
    w = constant_rate(0.2, 3600, 512, 64, start=datetime(2024, 5, 10, 4, 0, tzinfo=UTC))
    price = usd_per_replica_hour(base.instance_type, "eks", "reserved", spec.model.tensor_parallel_degree)
    for r in simulate(spec, w, policies=("spec", "oracle"), seed=1, dt_s=5.0):
        assert r.replica_hours["baseline/reserved"] == pytest.approx(base.count * 1.0, abs=1e-6), r.policy
        assert r.cost_by_capacity_usd["baseline/reserved"] == pytest.approx(base.count * price, abs=0.01)
        assert max(r.series["replicas"]) < base.count + 1  # what ran: the window's one replica (+ hand-over)


def test_an_slo_no_replica_can_meet_is_reported_infeasible_not_zero_percent():
    doc = load_spec(PROD).model_dump(mode="json", exclude_unset=True)
    doc["slo"]["tokens_per_s_per_user"] = 2000  # far above what one request alone on a replica decodes at
    spec = DeploymentSpec.model_validate(doc)
    w = constant_rate(1.0, 300, 512, 64)
    assert attainable_share(spec, w) == 0
    reason = infeasibility(spec, w)
    assert reason and reason.startswith("infeasible on this hardware") and "tokens/s" in reason
    assert infeasibility(load_spec(PROD), w) is None
    from io import StringIO

    from rich.console import Console

    out = StringIO()
    results = simulate(spec, w, policies=("spec",), seed=1, dt_s=5.0)
    render_table(spec, w, results, default_assumptions(spec), console=Console(file=out, width=200))
    text = out.getvalue()
    assert "infeasible on this hardware" in text and "0.0%" not in text


def test_no_commitment_no_commitment_line():
    spec = parse_spec("""
name: llama-8b
target: sagemaker
model: {id: meta-llama/Llama-3.1-8B-Instruct, params_b: 8, weights: {source: s3://llama-weights/llama-8b/}}
capacity: {baseline: {instance_type: ml.g5.2xlarge, count: 1, purchase: on-demand}, burst: {max: 2}}
""")
    r = simulate(spec, constant_rate(1.0, 600, 512, 64), policies=("spec",), seed=1, dt_s=5.0)[0]
    assert not any(k.startswith("savings-plan") for k in r.cost_by_capacity_usd)
