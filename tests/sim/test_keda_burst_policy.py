"""The simulator's `spec` control plane on EKS with KEDA runs the ScaledObjects the EKS renderer builds: the burst
Deployment's HPA acts on the burst count (tolerance and behaviour on the burst, not on the whole service), and with
downsizing windows the formula — floors included — is what activates it and what that HPA sees."""

from __future__ import annotations

from types import SimpleNamespace

from llama_infra.capacity_plan import day_config
from llama_infra.sim.engine import Observation
from llama_infra.sim.policies import SpecPolicy
from llama_infra.spec import DeploymentSpec, load_spec
from llama_infra.targets.kubernetes.autoscaling import scaled_object


def _obs(now: float, replicas: int, queue: float, kv: float = 0.0) -> Observation:
    return Observation(
        now=now,
        queue_depth=queue,
        running=0.0,
        replicas=replicas,
        ready_replicas=replicas,
        arrivals_since_last=1,
        seconds_since_last=15.0,
        kv_cache_fraction=kv,
    )


def _without_windows(path: str) -> DeploymentSpec:
    doc = load_spec(path).model_dump(mode="json", exclude_unset=True)
    doc["schedules"] = []
    doc["scaling"]["queue_depth_target"] = 5  # the numbers below are worked out for a target of 5 per replica
    doc["scaling"]["scale_up_stabilization_seconds"] = 0  # and act on the first recommendation
    return DeploymentSpec.model_validate(doc)


def test_tolerance_applies_to_the_burst_deployment_not_the_service():
    spec = _without_windows("stacks/specs/prod-eks.yaml")  # baseline 2, queue target 5 per replica
    so = scaled_object(spec)["spec"]
    assert "clamp_min" in so["triggers"][0]["metadata"]["query"]  # the burst's share: the queue above 2 × 5
    policy = SpecPolicy()
    policy.prepare(SimpleNamespace(spec=spec))
    cfg = day_config(spec)
    policy.desired(_obs(0, 3, 10.0), cfg)  # 2 baseline + 1 burst, the burst's queue share is 0: at its minimum
    # 15.75 waiting: the burst's share is 5.75 for 1 burst replica, 15 % above its target -> 2 burst replicas.
    # On the whole service (3 replicas, 15.75 / 15 = 1.05) the HPA's 10 % tolerance would have kept 3.
    assert policy.desired(_obs(15, 3, 15.75), cfg) == 4


def test_the_wake_term_of_the_formula_activates_the_burst_from_zero():
    spec = load_spec("stacks/specs/dev-eks.yaml")  # scale to zero, an off-hours window, no baseline
    policy = SpecPolicy()
    policy.prepare(SimpleNamespace(spec=spec))
    cfg = day_config(spec)
    scaled = policy.keda_objects[None]
    assert scaled.formula is not None and "wake" in scaled.formula
    # no queue, but a request just arrived: the wake term of the formula (1) activates the burst from zero
    assert policy.desired(_obs(0, 0, 0.0), cfg) == 1


def test_hpa_autoscaler_scales_the_burst_deployment_too():
    doc = load_spec("stacks/specs/prod-eks.yaml").model_dump(mode="json", exclude_unset=True)
    doc["schedules"] = []
    doc["scaling"].update(autoscaler="hpa", min_replicas=3, queue_depth_target=5, scale_up_stabilization_seconds=0)
    doc["eks"].setdefault("addons", {}).update(prometheus_adapter=True, keda=False)
    doc["eks"]["preinstalled"] = [p for p in doc["eks"].get("preinstalled", []) if p != "keda"]
    spec = DeploymentSpec.model_validate(doc)
    policy = SpecPolicy()
    policy.prepare(SimpleNamespace(spec=spec))
    cfg = day_config(spec)
    assert policy.hpa.policy.min_replicas == 1 and policy.hpa.policy.max_replicas == spec.max_replicas - 2
    policy.desired(_obs(0, 3, 10.0), cfg)
    assert policy.desired(_obs(15, 3, 15.75), cfg) == 4  # as with KEDA: the tolerance is the burst's


def test_a_queue_spike_shorter_than_the_scale_up_stabilization_does_not_wake_the_burst():
    """prod-eks (2 baseline replicas, a 120 s scale-up stabilization): KEDA wakes the burst from zero on what it polls,
    before any HPA window applies, so the rendered formula reads the queue held over the stabilization while no burst
    replica serves; the simulator runs that formula."""
    spec = load_spec("stacks/specs/prod-eks.yaml")
    hold = spec.scaling.scale_up_stabilization_seconds
    policy = SpecPolicy()
    policy.prepare(SimpleNamespace(spec=spec))
    cfg = day_config(spec)
    poll = policy.keda_objects[None].controller.policy.polling_interval_seconds
    quiet = [policy.desired(_obs(t, 2, 0.0), cfg) for t in range(0, hold, poll)]
    assert quiet == [2] * len(quiet)
    spike = [policy.desired(_obs(t, 2, 30.0 if t < 1.5 * hold else 0.0), cfg) for t in range(hold, 3 * hold, poll)]
    assert spike == [2] * len(spike)  # 30 waiting for a minute: the baseline stays alone
    # the polls go on: 30 waiting from 3 windows on, for longer than the window, wakes the burst
    held = [policy.desired(_obs(t, 2, 30.0), cfg) for t in range(3 * hold, 4 * hold + 2 * poll, poll)]
    assert held[0] == 2 and held[-1] > 2


def _with_night_variant() -> DeploymentSpec:
    """prod-eks with an overnight window that changes the model: a night Deployment with its own ScaledObject."""
    doc = load_spec("stacks/specs/prod-eks.yaml").model_dump(mode="json", exclude_unset=True)
    doc["schedules"][0]["downsize"] = {
        "min_replicas": 1,
        "max_replicas": 3,
        "model_override": {
            "id": "hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4",
            "precision": "awq",
            "weights": {"source": "s3://llama-infra-weights-prod/llama-3.1-70b-instruct-awq/"},
        },
    }
    return DeploymentSpec.model_validate(doc)


def test_a_night_deployment_reads_the_queue_held_from_before_its_window():
    """The held queue is one Prometheus series for the service (`metrics.held` over the service's pods), so at a
    window edge the night Deployment's ScaledObject sees the polls from before it: a queue that appears at the edge
    has not held yet. (Each ScaledObject keeping its own samples made it look held on its first poll.)"""
    from llama_infra.capacity_plan import window_config

    spec = _with_night_variant()
    policy = SpecPolicy()
    policy.prepare(SimpleNamespace(spec=spec))
    night = policy.keda_objects["overnight"]
    assert night is not None and "queue_depth_held" in (night.formula or "")
    hold = spec.scaling.scale_up_stabilization_seconds
    poll = night.controller.policy.polling_interval_seconds
    day, window = day_config(spec), window_config(spec, spec.schedules[0])
    for t in range(0, hold, poll):  # by day, nothing waits
        policy.desired(_obs(t, 2, 0.0), day)
    policy.desired(_obs(hold, 2, 30.0), window)  # the window begins as a queue appears
    assert night.trigger_values(_obs(hold, 2, 30.0), "overnight")["queue_depth_held"] == 0.0
    for t in range(hold + poll, 2 * hold + poll, poll):  # the queue stays for the whole hold
        policy.desired(_obs(t, 2, 30.0), window)
    assert night.trigger_values(_obs(2 * hold, 2, 30.0), "overnight")["queue_depth_held"] == 30.0
