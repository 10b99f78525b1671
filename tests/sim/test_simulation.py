"""Simulator behaviour: determinism, the oracle as a lower bound, closed-form replica counts, spot, schedules,
overflow."""

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from llama_infra.capacity_plan import day_config
from llama_infra.sim.capacity import ORACLE_EPSILON, Assumptions, perf_for, saturation_rps
from llama_infra.sim.engine import Simulation
from llama_infra.sim.policies import SageMakerInvocations
from llama_infra.sim.policy_registry import make_policy
from llama_infra.sim.report import attainable_share, default_assumptions, simulate
from llama_infra.sim.workload import (
    RATE_PROFILE_START,
    Workload,
    constant_rate,
    load_rate_profile,
    load_trace,
    synthesize,
)
from llama_infra.spec import load_spec

SPEC = Path("tests/data/sim/eks-8b-spot.yaml")
SLICE = Path("tests/data/traces/azure_code_first_10min.csv")


@pytest.fixture(scope="module")
def spec():
    return load_spec(SPEC)


@pytest.fixture(scope="module")
def slice_results(spec):
    return simulate(spec, load_trace(SLICE), seed=3)


def test_same_seed_same_results(spec, slice_results):
    again = simulate(spec, load_trace(SLICE), seed=3)
    for a, b in zip(slice_results, again, strict=True):
        assert (a.policy, a.total_cost_usd, a.ttft_p99_ms, a.slo_attainment, a.dropped) == (
            b.policy,
            b.total_cost_usd,
            b.ttft_p99_ms,
            b.slo_attainment,
            b.dropped,
        )


def test_oracle_is_never_costlier_than_a_policy_that_meets_the_slo(slice_results):
    oracle = next(r for r in slice_results if r.policy == "oracle")
    meeting = [r for r in slice_results if r.policy != "oracle" and r.meets_slo]
    assert meeting, "the test spec must let at least one policy meet its SLO, or this test proves nothing"
    for r in meeting:
        assert r.total_cost_usd >= oracle.total_cost_usd, r.policy
    assert oracle.ratio_to_oracle == 1.0


def test_oracle_attains_as_much_as_any_policy_within_epsilon(slice_results):
    # the oracle is the cheapest capacity for the BEST attainable quality, so no policy does better than it by
    # more than the oracle's per-interval epsilon (the slice has prompts too long for the TTFT target at any scale)
    oracle = next(r for r in slice_results if r.policy == "oracle")
    for r in slice_results:
        assert oracle.slo_attainment >= r.slo_attainment - ORACLE_EPSILON, r.policy


def test_each_policy_is_compared_with_the_oracle_at_its_own_attainment(slice_results):
    """The ratio's oracle is a point of its cost–attainment frontier measured by the engine: at least the policy's
    attainment, never costlier than the oracle's own run; policies below the oracle get a widened run, not its own."""
    from llama_infra.sim.report import FRONTIER_TOLERANCE

    oracle = next(r for r in slice_results if r.policy == "oracle")
    lower = [r for r in slice_results if r.slo_attainment < oracle.slo_attainment - FRONTIER_TOLERANCE]
    assert lower, "the slice must have policies below the oracle's attainment, or this test proves nothing"
    for r in slice_results:
        assert r.oracle_attainment_compared >= r.slo_attainment - FRONTIER_TOLERANCE, r.policy
        assert r.oracle_cost_compared_usd <= oracle.total_cost_usd, r.policy
        assert r.ratio_to_oracle == round(r.total_cost_usd / r.oracle_cost_compared_usd, 3), r.policy
    for r in lower:
        assert r.oracle_attainment_compared < oracle.slo_attainment, r.policy


def _step_trace(rates_rps: list[float], seconds_each: float) -> Workload:
    """Evenly spaced requests at each rate in turn; every 4th prompt too long for a 3 s TTFT at any scale."""
    arrivals = np.concatenate(
        [i * seconds_each + np.arange(int(rps * seconds_each)) / rps for i, rps in enumerate(rates_rps)]
    )
    prompt = np.full(len(arrivals), 2048, np.int32)
    prompt[::4] = 30_000
    return Workload(
        arrivals,
        prompt,
        np.full(len(arrivals), 64, np.int32),
        RATE_PROFILE_START,
        seconds_each * len(rates_rps),
        "step trace",
    )


def test_oracle_uses_no_more_replicas_at_the_trough_than_at_the_peak(spec):
    w = _step_trace([0.5, 5.0, 0.5], 1200.0)
    oracle = make_policy("oracle")
    oracle.prepare(Simulation(spec, w, oracle, default_assumptions(spec), seed=1, dt_s=1.0))
    per_minute = oracle.need[:60]
    trough = np.concatenate((per_minute[1:19], per_minute[41:59]))  # away from the steps' edges
    peak = per_minute[21:39]
    assert trough.max() <= peak.min()
    assert trough.max() < peak.max()  # the load matters: the trough is cheaper, not just no dearer
    # and it still serves everything that can be served at the trough: nothing forces the ceiling down
    res = simulate(spec, w, policies=("oracle",), seed=1)[0]
    assert res.slo_attainment >= attainable_share(spec, w) - ORACLE_EPSILON


def test_invocations_target_tracking_reaches_the_closed_form_count(spec):
    # InvocationsPerInstance = 60 x rate / instances; target tracking settles at ceil(60 x rate / target)
    w = constant_rate(rps=10.0, duration_s=2 * 3600, prompt_tokens=2048, output_tokens=64)
    policy = SageMakerInvocations()
    sim = Simulation(spec, w, policy, default_assumptions(spec), seed=1, dt_s=1.0).run()
    target = policy.controller.policy.target_value
    expected = math.ceil(60 * 10.0 / target)
    assert spec.min_replicas < expected <= spec.max_replicas  # the answer is not just a bound
    assert sim.series["replicas"][-5] == expected
    # and the target came from the replica model: max rate per replica x 0.5 x 60 (SageMaker's recipe)
    cfg = day_config(spec)
    assert target == pytest.approx(60 * 0.5 * saturation_rps(perf_for(cfg, None), 2048, 64, 10))


def test_spot_interruptions_are_replaced_and_fall_back_to_on_demand(spec):
    # enough load for spot burst above the reserved baseline of 2 (peers run on the spec's baseline too): what 4
    # replicas saturate at
    one = saturation_rps(
        perf_for(day_config(spec), spec.model.tensor_parallel_degree), 512, 64, spec.slo.tokens_per_s_per_user
    )
    w = constant_rate(rps=round(4 * one, 1), duration_s=3600, prompt_tokens=512, output_tokens=64)
    stormy = replace(default_assumptions(spec), spot_interruptions_per_hour=6.0, spot_unavailable_probability=0.5)
    sim = Simulation(spec, w, make_policy("skyserve-qps"), stormy, seed=2, dt_s=1.0).run()
    stats = sim.primary.stats
    assert stats.interruptions > 0
    assert stats.on_demand_fallbacks > 0
    assert stats.replica_hours.get("burst/on-demand", 0) > 0
    launched = len(sim.primary.retired) + len(sim.primary.replicas)
    assert launched >= stats.interruptions + 1  # every notice launched a replacement
    assert np.mean(sim.series["ready"] >= 1) > 0.8  # which keeps the service mostly up through a storm


def _prod_eks(karpenter: bool = True):
    """The prod-eks example, its burst on Karpenter or (False) on a cluster-autoscaler's SPOT node group."""
    spec = load_spec(Path(__file__).resolve().parents[2] / "stacks/specs/prod-eks.yaml")
    assert spec.eks is not None
    return spec.model_copy(update={"eks": spec.eks.model_copy(update={"karpenter": karpenter})})


def _pool_at_start(spec, policy, assumptions=None, duration_s: float = 60.0):
    """The primary pool of `policy` prepared on `spec` (as `run` does first), its configuration set at t = 0, and one
    replica's rates: for tests that place replicas by hand."""
    assumptions = assumptions or default_assumptions(spec)
    sim = Simulation(spec, constant_rate(1.0, duration_s, 500, 100), policy, assumptions, seed=1, dt_s=1.0)
    policy.prepare(sim)
    pool = sim.primary
    pool.config = sim.config_at(0.0)
    return pool, perf_for(pool.config, sim.tp_degree, sim.context_tokens)


@pytest.mark.parametrize("karpenter", [True, False], ids=["karpenter", "cluster-autoscaler"])
def test_a_burst_replica_that_leaves_is_billed_until_its_node_goes(karpenter):
    """Karpenter removes an emptied spot node after the NodePool's consolidateAfter (the scale-down stabilization), a
    cluster-autoscaler after its scale-down-unneeded-time: the spec's policy pays for the node until then, the
    baseline's nodes stay anyway."""
    from llama_infra.sim.engine import DRAIN_S, Replica
    from llama_infra.sim.policies import SpecPolicy
    from llama_infra.targets.eks.karpenter import consolidate_after_s
    from llama_infra.targets.eks.target import CLUSTER_AUTOSCALER_UNNEEDED_S

    spec = _prod_eks(karpenter)
    pool, perf = _pool_at_start(spec, SpecPolicy(), duration_s=3600.0)
    base = Replica(pool.config, perf, "on-demand", "baseline", 0.0, 10.0, 3.0)
    burst = Replica(pool.config, perf, "spot", "burst", 0.0, 10.0, 2.0)
    pool.replicas = [base, burst]
    for r in (base, burst):
        pool.retire(r, 600.0)
    pool.advance(600.0 + DRAIN_S)
    pool.close(3600.0)
    empty_s = float(consolidate_after_s(spec, "spot")) if karpenter else CLUSTER_AUTOSCALER_UNNEEDED_S
    assert empty_s > 0
    hours = pool.stats.replica_hours
    assert hours["burst/spot"] == pytest.approx((600.0 + DRAIN_S + empty_s) / 3600)
    assert hours["baseline/on-demand"] == pytest.approx((600.0 + DRAIN_S) / 3600)
    assert pool.stats.cost_usd["burst/spot"] == pytest.approx(2.0 * (600.0 + DRAIN_S + empty_s) / 3600)


def test_an_emptied_on_demand_fallback_node_and_a_reclaimed_spot_node_go_at_once():
    """With a spot burst on Karpenter, the on-demand fallback NodePool removes its empty nodes at once
    (consolidateAfter 0s), and a spot node interrupted under its replica is reclaimed: neither is billed beyond the
    replica, nor taken by the next burst pod."""
    from llama_infra.sim.engine import DRAIN_S, SPOT_NOTICE_S, Replica
    from llama_infra.sim.policies import SpecPolicy

    spec = _prod_eks()
    pool, perf = _pool_at_start(spec, SpecPolicy(), duration_s=3600.0)
    fallback = Replica(pool.config, perf, "on-demand", "burst", 0.0, 10.0, 4.0)
    spot = Replica(pool.config, perf, "spot", "burst", 0.0, 10.0, 2.0, notice_at=600.0)
    pool.replicas = [fallback, spot]
    pool.retire(fallback, 600.0)
    pool.advance(600.0)  # the notice: the spot replica drains and a replacement is asked for
    pool.advance(600.0 + max(DRAIN_S, SPOT_NOTICE_S))
    assert fallback not in pool.replicas and spot not in pool.replicas
    assert pool.empty_nodes == []
    hours = pool.stats.replica_hours
    assert hours["burst/on-demand"] == pytest.approx((600.0 + DRAIN_S) / 3600)
    assert hours["burst/spot"] == pytest.approx((600.0 + SPOT_NOTICE_S) / 3600)


def test_a_burst_pod_asked_for_while_an_emptied_node_waits_takes_it():
    """kube-scheduler binds a pending pod to a node that fits before Karpenter launches one: the new burst replica
    runs on the waiting node (its purchase, price and interruption clock, no spot draw), starts without the node's
    provisioning time, and the node is billed once, without a gap or an overlap."""
    from llama_infra.sim.capacity import startup_s
    from llama_infra.sim.engine import DRAIN_S, Replica
    from llama_infra.sim.policies import SpecPolicy

    spec = _prod_eks()
    no_spot = replace(default_assumptions(spec), spot_unavailable_probability=1.0)  # a new launch would fall back
    pool, perf = _pool_at_start(spec, SpecPolicy(), no_spot, duration_s=3600.0)
    old = Replica(pool.config, perf, "spot", "burst", 0.0, 10.0, 2.0, notice_at=5000.0)
    pool.replicas = [old]
    pool.retire(old, 600.0)
    pool.advance(600.0 + DRAIN_S)
    assert [r for _, r in pool.empty_nodes] == [old]
    new = pool.launch(700.0, pool.config, "burst", "spot")
    assert new.capacity == "spot" and new.usd_per_hour == 2.0 and new.notice_at == 5000.0
    assert pool.stats.on_demand_fallbacks == 0 and pool.stats.empty_nodes_reused == 1
    sim = pool.sim
    full = startup_s(pool.config, sim.assumptions.provisioning_s, sim.nvme_preload)
    assert new.ready_at - 700.0 == pytest.approx(full - sim.assumptions.provisioning_s)
    assert pool.empty_nodes == []
    pool.retire(new, 1000.0)
    pool.advance(1000.0 + DRAIN_S)
    pool.close(1100.0)  # the node waits again, until the end
    assert pool.stats.replica_hours["burst/spot"] == pytest.approx(1100.0 / 3600)
    # a node already removed is not taken: the launch is a new one (here: an on-demand fallback)
    pool.empty_nodes = [(800.0, Replica(pool.config, perf, "spot", "burst", 0.0, 10.0, 2.0, retire_at=500.0))]
    assert pool.launch(900.0, pool.config, "burst", "spot").capacity == "on-demand"


def test_skyserve_replaces_an_on_demand_fallback_once_a_spot_replica_is_ready_in_its_place(spec):
    """SkyServe's dynamic on-demand fallback: each on-demand burst replica gets a spot replacement, not counted
    beside it; when the replacement is ready the on-demand one drains; a fallback that leaves first takes its
    starting replacement with it."""
    from llama_infra.sim.engine import Replica

    policy = make_policy("skyserve-qps")
    always_spot = replace(default_assumptions(spec), spot_unavailable_probability=0.0)
    pool, perf = _pool_at_start(spec, policy, always_spot)
    assert policy.replaces_on_demand_fallbacks
    base = Replica(pool.config, perf, "reserved", "baseline", 0.0, 10.0, 0.0)
    on_demand = Replica(pool.config, perf, "on-demand", "burst", 0.0, 100.0, 2.0)
    pool.replicas = [base, on_demand]
    pool.reconcile(200.0, 2, baseline_count=1)
    spot = on_demand.replacement
    assert spot is not None and spot.capacity == "spot" and spot.replaces is on_demand
    assert pool.current() == [base, on_demand]  # the replacement is not a third replica
    pool.reconcile(201.0, 2, baseline_count=1)
    assert len(pool.replicas) == 3  # asked for once
    pool.advance(spot.ready_at)
    assert on_demand.draining and pool.current() == [base, spot]

    # scaled in before its replacement is ready: both go
    on_demand = Replica(pool.config, perf, "on-demand", "burst", 0.0, 100.0, 2.0)
    pool.replicas = [base, on_demand]
    pool.reconcile(200.0, 2, baseline_count=1)
    pending = on_demand.replacement
    assert pending is not None
    pool.reconcile(300.0, 1, baseline_count=1)
    assert on_demand.draining and pending.draining


def test_skyserve_runs_on_demand_only_until_spot_is_back(spec):
    """Where spot launches fail half the time, SkyServe's on-demand hours are those of the replicas waiting for a
    spot replacement: far fewer than if each fallback ran until a scale-in."""
    one = saturation_rps(
        perf_for(day_config(spec), spec.model.tensor_parallel_degree), 512, 64, spec.slo.tokens_per_s_per_user
    )
    w = constant_rate(rps=round(4 * one, 1), duration_s=3600, prompt_tokens=512, output_tokens=64)
    scarce = replace(default_assumptions(spec), spot_unavailable_probability=0.5)
    hours = {}
    for replaces in (True, False):
        policy = make_policy("skyserve-qps")
        prepare = policy.prepare

        def prepared(sim, prepare=prepare, policy=policy, replaces=replaces):
            prepare(sim)
            policy.replaces_on_demand_fallbacks = replaces

        policy.prepare = prepared  # type: ignore[method-assign]
        sim = Simulation(spec, w, policy, scarce, seed=2, dt_s=1.0).run()
        assert sim.primary.stats.on_demand_fallbacks > 0
        hours[replaces] = sim.primary.stats.replica_hours.get("burst/on-demand", 0.0)
    assert hours[True] < 0.5 * hours[False]


def test_schedule_switches_instance_config_overnight():
    spec = load_spec("stacks/specs/prod.yaml")  # overnight 22:00-07:00 New York: g6e.12xlarge, 70B FP8
    w = synthesize(load_rate_profile(), load_trace(SLICE), peak_rps=1.0, days=1, seed=1)
    sim = Simulation(spec, w, make_policy("spec"), default_assumptions(spec), seed=1, dt_s=5.0).run()
    types = {r.config.instance_type for r in sim.primary.retired + sim.primary.replicas}
    assert types == {"ml.p4d.24xlarge", "ml.g6e.12xlarge"}
    night = [r for r in sim.primary.retired + sim.primary.replicas if r.config.window == "overnight"]
    assert night and all(r.config.precision == spec.schedules[0].downsize.model_override.precision for r in night)


def test_a_window_that_changes_only_the_bounds_keeps_the_running_replicas():
    """prod-eks's overnight window caps the burst (max 4) on the same instance type and model: the same pods keep
    serving across both edges (the ScaledObject's gate changes, no Deployment rolls), so nothing is launched or
    drained at an edge; before, every replica was replaced at every edge and billed twice through the hand-over."""
    spec = load_spec("stacks/specs/prod-eks.yaml")
    assert spec.schedules[0].downsize.instance_type is None and spec.schedules[0].downsize.model_override is None
    w = synthesize(load_rate_profile(), load_trace(SLICE), peak_rps=1.0, days=2, seed=1)
    sim = Simulation(spec, w, make_policy("spec"), default_assumptions(spec), seed=1, dt_s=5.0).run()
    replicas = sim.primary.retired + sim.primary.replicas
    windows_seen = {sim.config_at(t).window for t in range(0, int(w.duration_s), 600)}
    assert windows_seen == {None, "overnight"}  # the run crosses the window's edges
    baseline = [r for r in replicas if r.role == "baseline"]
    assert len(baseline) == spec.capacity.baseline.count  # launched once, at the start, never handed over
    assert all(r.launched_at == 0.0 and not r.draining for r in baseline)


def test_on_sagemaker_every_window_switches_the_endpoint_and_hands_the_instances_over():
    """SageMaker's downsizing workflow switches the endpoint to the window's endpoint configuration (UpdateEndpoint,
    blue/green) even when only the bounds change: new instances come up before the old ones go."""
    from llama_infra.spec import DeploymentSpec

    doc = load_spec("stacks/specs/prod.yaml").model_dump(mode="json", exclude_unset=True)
    doc["schedules"][0]["downsize"] = {"min_replicas": 2, "max_replicas": 3}
    spec = DeploymentSpec.model_validate(doc)
    w = synthesize(load_rate_profile(), load_trace(SLICE), peak_rps=1.0, days=2, seed=1)
    sim = Simulation(spec, w, make_policy("spec"), default_assumptions(spec), seed=1, dt_s=5.0).run()
    baseline = [r for r in sim.primary.retired + sim.primary.replicas if r.role == "baseline"]
    assert len(baseline) > spec.capacity.baseline.count
    assert {r.config.window for r in baseline} == {None, "overnight"}


def test_overflow_sends_requests_to_the_fallback_model_when_the_queue_is_long(spec):
    w = constant_rate(rps=40.0, duration_s=600, prompt_tokens=2048, output_tokens=32)
    sim = Simulation(spec, w, make_policy("spec"), default_assumptions(spec), seed=1, dt_s=1.0).run()
    assert (sim.status == 1).sum() > 0
    base = Simulation(spec, w, make_policy("hpa-running"), default_assumptions(spec), seed=1, dt_s=1.0).run()
    assert (base.status == 1).sum() == 0  # peers have no router


def test_keda_scales_to_zero_and_back(spec):
    doc = spec.model_dump(mode="json", exclude_unset=True)
    doc["capacity"]["baseline"]["count"] = 0
    doc["scaling"].update(scale_to_zero=True, min_replicas=0)
    doc["schedules"] = []
    from llama_infra.spec import DeploymentSpec

    zero = DeploymentSpec.model_validate(doc)
    arrivals = np.concatenate([np.arange(0, 300, 0.5), np.arange(1500, 1800, 0.5)])
    w = replace(
        constant_rate(2.0, 2400, 256, 16),
        arrival_s=arrivals,
        prompt_tokens=np.full(len(arrivals), 256, np.int32),
        output_tokens=np.full(len(arrivals), 16, np.int32),
    )
    sim = Simulation(zero, w, make_policy("spec"), Assumptions(provisioning_s=60), seed=1, dt_s=1.0).run()
    replicas = sim.series["replicas"]
    # the rendered wake trigger holds a replica for 600 s after the last request (300 s), KEDA's 300 s cooldown runs
    # from the last active poll after that: zero from about 1200 s, not before 900 s
    assert replicas[14] >= 1 and replicas[21:25].max() == 0
    assert replicas[27:30].max() >= 1  # woken by the second burst


def test_the_oracle_may_use_every_burst_instance_type_the_spec_allows(spec):
    """A cheaper type in the burst list is an option for the clairvoyant fleet too (here A10G beside the L40S
    baseline, on-demand, no commitment): the oracle picks it for a light load and costs less than without it."""
    from llama_infra.sim.policies import Oracle
    from llama_infra.sim.report import summarise

    with_g5 = spec.model_copy(
        update={
            "capacity": spec.capacity.model_copy(
                update={
                    "baseline": spec.capacity.baseline.model_copy(update={"purchase": "on-demand"}),
                    "burst": spec.capacity.burst.model_copy(update={"instance_types": ["g6e.xlarge", "g5.xlarge"]}),
                }
            ),
            "schedules": [],
            "fallback": None,
        }
    )
    without = with_g5.model_copy(
        update={"capacity": with_g5.capacity.model_copy(update={"burst": spec.capacity.burst.model_copy()})}
    )
    light = constant_rate(0.2, 1800, 256, 64)
    runs = {}
    for name, s in (("with", with_g5), ("without", without)):
        oracle = Oracle()
        sim = Simulation(s, light, oracle, default_assumptions(s), 1, 1.0).run()
        runs[name] = (oracle, sim)
    assert "g5.xlarge" in {c.instance_type for c in runs["with"][0].configs}
    assert "g5.xlarge" not in {c.instance_type for c in runs["without"][0].configs}
    cost = {k: summarise(sim, 0).total_cost_usd for k, (_, sim) in runs.items()}
    assert cost["with"] < cost["without"]


def test_the_oracle_prices_a_baseline_replica_its_commitment_does_not_cover_as_it_chose_it():
    """A lower bound pays its cheapest price for every replica the commitment does not cover. Under a heavy load the
    clairvoyant fleet of prod-eks runs on p4d.24xlarge spot (two 4-GPU replicas per instance, cheaper per replica
    than the reserved g6e.12xlarge plus spot beside them); its first replicas take the baseline's role but not its
    price. They were billed on demand while the oracle chose the type at its spot price, so a policy with real cold
    starts on the spec's own type undercut the bound (prod-eks at 20 requests/s on the shared week)."""
    from llama_infra.sim.capacity import usd_per_replica_hour
    from llama_infra.sim.policies import Oracle

    spec = load_spec(Path(__file__).resolve().parents[2] / "stacks/specs/prod-eks.yaml").model_copy(
        update={"schedules": []}
    )
    oracle = Oracle()
    sim = Simulation(spec, constant_rate(40.0, 600, 1500, 100), oracle, default_assumptions(spec), 1, 1.0).run()
    base_type = spec.capacity.baseline.instance_type
    other = [r for r in sim.primary.replicas + sim.primary.retired if r.config.instance_type != base_type]
    assert "baseline" in {r.role for r in other}, "the oracle must run the baseline's role on another type here"
    tp = spec.model.tensor_parallel_degree
    for r in other:
        assert r.capacity == oracle.cheapest
        assert r.usd_per_hour == usd_per_replica_hour(r.config.instance_type, spec.target, oracle.cheapest, tp)


def test_the_cold_start_bound_has_its_replicas_ready_when_a_step_in_the_load_arrives_and_pays_for_it():
    """`oracle-cold-start` launches each replica one start-up time before the minute that needs it: when the load
    steps from 2 to 20 requests/s, the replicas the oracle needs for the step are ready as it arrives (not a
    start-up later), so it attains what the oracle does — and it bills them from their launch, so it costs more."""
    from llama_infra.sim.capacity import startup_s
    from llama_infra.sim.engine import SERIES_STEP_S
    from llama_infra.sim.policies import ColdStartOracle, Oracle
    from llama_infra.sim.report import summarise
    from llama_infra.sim.workload import Workload

    spec = load_spec(Path(__file__).resolve().parents[2] / "stacks/specs/prod-eks.yaml").model_copy(
        update={"schedules": []}
    )
    quiet, busy = constant_rate(2.0, 1800, 1500, 100), constant_rate(20.0, 1800, 1500, 100)
    step = Workload(
        np.concatenate([quiet.arrival_s, busy.arrival_s + 1800]),
        np.concatenate([quiet.prompt_tokens, busy.prompt_tokens]),
        np.concatenate([quiet.output_tokens, busy.output_tokens]),
        quiet.start,
        3600,
        "2 then 20 req/s",
    )
    runs = {}
    for policy in (Oracle(), ColdStartOracle()):
        sim = Simulation(spec, step, policy, default_assumptions(spec), 1, 1.0).run()
        runs[type(policy).__name__] = (policy, sim, summarise(sim, 0))
    oracle, _, plain = runs["Oracle"]
    _, sim, warm = runs["ColdStartOracle"]
    need_at_step = int(oracle.need[30])
    assert need_at_step > int(oracle.need[29]), "the load must step up at minute 30"
    ready = np.asarray(sim.series["ready"])
    assert ready[int(1800 / SERIES_STEP_S)] >= need_at_step
    lead_s = startup_s(day_config(spec), default_assumptions(spec).provisioning_s, sim.nvme_preload)
    assert np.asarray(sim.series["replicas"])[int((1800 - lead_s) / SERIES_STEP_S)] >= need_at_step
    assert warm.slo_attainment >= plain.slo_attainment - 0.001
    assert warm.total_cost_usd > plain.total_cost_usd


@pytest.mark.parametrize("karpenter", [True, False], ids=["deletion-cost", "default-order"])
def test_scale_in_retires_replicas_as_the_replicaset_controller_picks_pods(karpenter):
    """Not yet ready first, then the lower pod-deletion-cost, then the most recently ready (Kubernetes'
    `ActivePodsWithRanks`); the baseline last. On-demand fallbacks carry the lower cost where the spec renders it
    (`targets.kubernetes.scale_in_order`: a Karpenter on-demand pool), and otherwise the purchase option plays no
    part."""
    from llama_infra.sim.engine import Replica
    from llama_infra.sim.policies import SpecPolicy

    policy = SpecPolicy()
    pool, perf = _pool_at_start(_prod_eks(karpenter), policy)
    assert policy.retires_on_demand_first is karpenter

    def replica(role: str, capacity: str, launched: float, ready: float) -> Replica:
        return Replica(pool.config, perf, capacity, role, launched, ready, 1.0)

    base = replica("baseline", "reserved", 0.0, 10.0)
    on_demand = replica("burst", "on-demand", 20.0, 100.0)  # a spot fallback, ready first
    spot = replica("burst", "spot", 30.0, 200.0)  # ready later
    starting = replica("burst", "spot", 900.0, 5000.0)
    pool.replicas = [base, on_demand, spot, starting]
    pool.reconcile(1000.0, 3, baseline_count=1)
    assert starting.draining and not (spot.draining or on_demand.draining)
    pool.reconcile(1000.0, 2, baseline_count=1)
    leaves, stays = (on_demand, spot) if karpenter else (spot, on_demand)
    assert leaves.draining and not stays.draining
    pool.reconcile(1000.0, 0, baseline_count=1)
    assert stays.draining and base.draining
