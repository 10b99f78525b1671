"""The simulator's `spec` control plane on SageMaker runs the policy the component renders: target tracking on the
queue alone. GPU memory (pinned near 90 % by the servers) must not move its decisions."""

from __future__ import annotations

from types import SimpleNamespace

from llama_infra.capacity_plan import day_config
from llama_infra.scaling.target_tracking import TargetTrackingPolicy
from llama_infra.sim.engine import Observation
from llama_infra.sim.policies import SpecPolicy
from llama_infra.spec import parse_spec
from llama_infra.targets.sagemaker.components.autoscaling import QUEUE_METRIC, variant_scaling

SPEC = """
name: llama-8b
target: sagemaker
model: {id: meta-llama/Llama-3.1-8B-Instruct, params_b: 8, weights: {source: s3://llama-weights/llama-8b/}}
capacity: {baseline: {instance_type: ml.g5.2xlarge, count: 1}, burst: {max: 3}}
scaling: {gpu_memory_target: 0.85, queue_depth_target: 5}  # explicit: still no GPU-memory trigger
"""
# queue_depth_target stated: the component renders the stated value, and the simulator runs the same (an unstated
# one is the SLO-derived target in the simulator, tests/sim/test_examples_meet_slo.py)


def _decisions(spec, kv_cache_fraction: float) -> list[int]:
    policy = SpecPolicy()
    policy.prepare(SimpleNamespace(spec=spec))
    cfg = day_config(spec)
    out, replicas = [], spec.min_replicas
    # 10 s ticks: 10 minutes busy, then 30 idle (scale-in reads 15 one-minute averages, high resolution or not)
    for tick in range(240):
        busy = tick < 60
        obs = Observation(
            now=tick * 10.0,
            queue_depth=20.0 if busy else 0.0,
            running=30.0 if busy else 0.0,
            replicas=replicas,
            ready_replicas=replicas,
            arrivals_since_last=5 if busy else 0,
            seconds_since_last=10.0,
            kv_cache_fraction=kv_cache_fraction,
        )
        replicas = policy.desired(obs, cfg)
        out.append(replicas)
    return out


def test_sagemaker_spec_policy_is_the_components_queue_policy_and_ignores_gpu_memory():
    spec = parse_spec(SPEC)
    policy = SpecPolicy()
    policy.prepare(SimpleNamespace(spec=spec))
    rendered = variant_scaling(spec, spec.name)
    assert policy.controller.policy == TargetTrackingPolicy.from_spec(spec)
    assert policy.controller.policy.metric == rendered.queue_metric == QUEUE_METRIC
    assert policy.controller.policy.target_value == rendered.queue_target_value
    idle_memory, pinned_memory = _decisions(spec, 0.1), _decisions(spec, 0.95)
    assert idle_memory == pinned_memory
    assert max(pinned_memory) > spec.min_replicas and pinned_memory[-1] == spec.min_replicas  # out, then back in


def test_the_spec_policy_runs_the_predictive_floor_only_where_the_target_renders_it():
    """A classic variant renders the floor (scheduled actions, or the reconciler's floor schedules); an EKS HPA has no
    schedule input, so the simulator runs it without one — the floor the plan and the components show."""
    from llama_infra import targets
    from llama_infra.sim.workload import constant_rate
    from llama_infra.slo_targets import predictive_floor

    load = "load: {peak_requests_per_second: 12}\nslo: {ttft_p99_ms: 6000, tokens_per_s_per_user: 10}\n"
    sagemaker = parse_spec(SPEC + load)
    eks_hpa = parse_spec(
        """
name: llama-8b-hpa
target: eks
eks: {cluster_name: c, addons: {prometheus_adapter: true, keda: false}}
model: {id: meta-llama/Llama-3.1-8B-Instruct, params_b: 8, weights: {source: s3://llama-weights/llama-8b/}}
capacity: {baseline: {instance_type: g5.2xlarge, count: 1}, burst: {max: 3}}
scaling: {autoscaler: hpa, min_replicas: 2}
load: {peak_requests_per_second: 12}
slo: {ttft_p99_ms: 6000, tokens_per_s_per_user: 10}
"""
    )
    for spec, renders in ((sagemaker, True), (eks_hpa, False)):
        assert predictive_floor(spec)  # both specs have a floor to render
        assert targets.get(spec.target).renders_floor(spec) is renders
        policy = SpecPolicy()
        policy.prepare(SimpleNamespace(spec=spec, workload=constant_rate(1.0, 60.0, 500, 100)))
        assert bool(policy.floor) is renders, spec.name


def test_where_the_reconciler_renders_the_floor_it_follows_the_load_against_the_hours_forecast():
    """prod (windows: the reconciler owns min/max) scales its floor by the observed over the forecast rate
    (`scaling.floor_follow`), re-read at each reconciler tick; the same spec without windows renders the floor as
    scheduled actions, which cannot follow the load, and the simulator holds the scheduled floor there."""
    from datetime import timedelta
    from pathlib import Path

    from llama_infra import targets
    from llama_infra.scaling.floor_follow import following_floor
    from llama_infra.sim.workload import constant_rate
    from llama_infra.slo_targets import floor_hour_at
    from llama_infra.spec import load_spec

    prod = load_spec(Path(__file__).resolve().parents[2] / "stacks/specs/prod.yaml")
    no_windows = prod.model_copy(update={"schedules": []})
    assert targets.get("sagemaker").floor_follow_period_s(prod) == 300.0
    assert targets.get("sagemaker").floor_follow_period_s(no_windows) is None

    def floors(spec, share_of_forecast: float) -> tuple[int, int]:
        policy = SpecPolicy()
        policy.prepare(SimpleNamespace(spec=spec, workload=constant_rate(1.0, 60.0, 500, 100)))
        # the first weekday hour whose floor rises above the day minimum
        now = next(
            h * 3600.0
            for h in range(24 * 7)
            if (f := floor_hour_at(spec, policy.floor, policy.start + timedelta(hours=h))) and f.min_replicas > 2
        )
        hour = floor_hour_at(spec, policy.floor, policy.start + timedelta(seconds=now))
        got = 0
        for k in range(120):  # half an hour of 15 s ticks at `share_of_forecast` of the hour's forecast
            t = now + 15.0 * k
            arrivals = round(hour.forecast_rps * share_of_forecast * 15)
            obs = Observation(t, 0.0, 0.0, 2, 2, arrivals, 15.0, 0.0)
            got = policy.floor_in_force(obs)
        return hour.min_replicas, got

    scheduled, followed = floors(prod, 0.5)
    assert followed == following_floor(scheduled, 0.5, 1.0) < scheduled
    assert floors(prod, 1.0) == (scheduled, scheduled)
    assert floors(no_windows, 0.5)[1] == floors(no_windows, 0.5)[0]  # scheduled actions: the floor as scheduled
