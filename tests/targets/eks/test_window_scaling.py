"""Given EKS specs with downsizing windows of every kind (another model, fewer replicas, zero) and with scale to zero,
the rendered ScaledObjects, read through the library's KEDA and HPA model (`keda_steady_state`, formulas parsed by
`expr_lang`),
give each Deployment the replicas docs/eks.md promises, by day and inside each window, for any queue."""

from __future__ import annotations

import functools
import math
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llama_infra.router.config import RouterConfig
from llama_infra.router.metrics import RouterMetrics
from llama_infra.targets.eks.manifests import all_objects
from llama_infra.targets.kubernetes import labels, router

from . import settled
from .specs import edited, floor_in_force
from .validation import validate

NIGHT_MODEL = {"id": "meta-llama/Llama-3.1-8B-Instruct", "params_b": 8, "precision": "bf16"}
# A Wednesday in UTC: 12:00 is day; 03:00 is deep inside a 01:00–05:00 window.
DAY = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)
NIGHT = datetime(2026, 1, 7, 3, 0, tzinfo=UTC)
SATURDAY_NIGHT = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)  # no predictive floor at the weekend
T, G = 5, 0.85  # the prod example's queue-depth and KV-cache targets


def window(**downsize) -> dict:
    return {"name": "quiet", "timezone": "UTC", "start": "0 1 * * *", "end": "0 5 * * *", "downsize": downsize}


ZERO_BASELINE = {
    "environment": "dev",
    "capacity.baseline": {"instance_type": "g6e.12xlarge", "count": 0},
    "scaling.scale_to_zero": True,
}
SPECS = {
    "fewer-replicas": lambda: edited(schedules=[window(min_replicas=1, max_replicas=4)]),
    "more-floor": lambda: edited(schedules=[window(min_replicas=3, max_replicas=5)]),
    "other-model": lambda: edited(
        schedules=[window(instance_type="g6e.2xlarge", model_override=NIGHT_MODEL, min_replicas=1, max_replicas=3)]
    ),
    "zero-at-night": lambda: edited(
        **ZERO_BASELINE, **{"scaling.min_replicas": 1}, schedules=[window(min_replicas=0, max_replicas=2)]
    ),
    "other-model-zero-at-night": lambda: edited(
        **ZERO_BASELINE,
        **{"scaling.min_replicas": 1},
        schedules=[window(instance_type="g6e.2xlarge", model_override=NIGHT_MODEL, min_replicas=0, max_replicas=2)],
    ),
    "scale-to-zero-no-window": lambda: edited(**ZERO_BASELINE),
}


@functools.cache
def spec_of(case: str):
    return SPECS[case]()


ROUTER_JOB = frozenset({"llama/llama-70b-eks-router"})  # Prometheus has the router's target: pipeline up


def deployments(spec, at, values, scraped=ROUTER_JOB) -> dict[str, int]:
    """Replicas per Deployment: from its ScaledObject, or its fixed count (`settled.deployments`)."""
    return settled.deployments(spec, at, values, scraped)


def need(q: float, k: float) -> int:
    return math.ceil(round(max(q / T, k / G), 9))


@pytest.mark.parametrize("case", SPECS)
def test_every_object_validates(case):
    spec = spec_of(case)
    for obj in all_objects(spec):
        validate(obj, spec.eks.kubernetes_version)


queues = st.floats(0, 300, allow_nan=False)
kv = st.floats(0, 12, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(q=queues, k=kv)
def test_by_day_the_baseline_holds_and_the_burst_covers_the_rest(q, k):
    for case in ("fewer-replicas", "more-floor", "other-model"):
        spec = spec_of(case)
        r = deployments(spec, DAY, {"queue_depth": q, "kv_cache": k})
        b, floor = spec.capacity.baseline.count, floor_in_force(spec, DAY)
        assert r[f"{spec.name}-baseline"] == b
        assert r[f"{spec.name}-burst"] == min(max(need(q, k) - b, floor - b, 0), spec.max_replicas - b), case
        assert r.get(f"{spec.name}-quiet", 0) == 0, f"{case}: night variant up by day"


@settings(max_examples=60, deadline=None)
@given(q=queues, k=kv)
def test_in_a_window_the_service_follows_the_window_bounds(q, k):
    values = {"queue_depth": q, "kv_cache": k}
    for case, lo, hi in (("fewer-replicas", 1, 4), ("more-floor", 3, 5), ("other-model", 1, 3)):
        spec = spec_of(case)
        r = deployments(spec, NIGHT, values)
        total = sum(r.values())
        assert total == min(max(need(q, k), lo, floor_in_force(spec, NIGHT)), hi), (case, r)
    r = deployments(spec_of("fewer-replicas"), NIGHT, values)
    assert r["llama-70b-eks-baseline"] == 1  # min(baseline 2, window min 1) stays on the reserved nodes
    r = deployments(spec_of("other-model"), NIGHT, values)
    assert r["llama-70b-eks-baseline"] == 0 and r["llama-70b-eks-burst"] == 0  # the night variant serves alone


@pytest.mark.parametrize(
    "case,night_deployment",
    [("zero-at-night", "llama-70b-eks-burst"), ("other-model-zero-at-night", "llama-70b-eks-quiet")],
)
def test_zero_at_night_until_a_request_arrives_then_one_replica(case, night_deployment):
    """Zero unless the predictive floor asks for replicas ahead of the load: on a weekend night the floor is off."""
    spec = spec_of(case)
    no_pod = {"queue_depth": None, "kv_cache": None, "wake": None}  # no pod, no router request yet: no series
    floor = floor_in_force(spec, NIGHT)
    assert sum(deployments(spec, NIGHT, no_pod).values()) == floor
    assert sum(deployments(spec, SATURDAY_NIGHT, no_pod).values()) == 0
    with pytest.raises(settled.TriggerError):  # Prometheus lost its targets: an error (→ fallback), not a zero
        deployments(spec, NIGHT, no_pod, scraped=frozenset())
    woken = deployments(spec, SATURDAY_NIGHT, no_pod | {"wake": 1.0})
    assert woken[night_deployment] == 1 and sum(woken.values()) == 1
    assert sum(deployments(spec, NIGHT, no_pod | {"wake": 1.0}).values()) == max(1, floor)
    # By day the service keeps its minimum of 1 (or the floor) even with no request and no queue series.
    assert sum(deployments(spec, DAY, no_pod).values()) == max(1, floor_in_force(spec, DAY))
    busy = deployments(spec, NIGHT, {"queue_depth": 100.0, "kv_cache": 0.0, "wake": 1.0})
    assert sum(busy.values()) == 2  # the window's max


def test_scale_to_zero_without_windows_wakes_on_the_router_and_reads_no_series_as_zero():
    spec = spec_of("scale-to-zero-no-window")
    (so,) = [o for o in all_objects(spec) if o["kind"] == "ScaledObject"]
    assert "scalingModifiers" not in so["spec"]["advanced"]
    prometheus = [t for t in so["spec"]["triggers"] if t["type"] == "prometheus"]
    assert {t["metadata"]["ignoreNullValues"] for t in prometheus} == {"false"}
    empty = {"queue_depth": None, "kv_cache": None, "wake": None}
    floor = floor_in_force(spec, DAY)  # plain cron triggers: a floor under the queue's replicas while active
    assert settled.replicas(so, DAY, empty, ROUTER_JOB) == floor
    assert settled.replicas(so, SATURDAY_NIGHT, empty, ROUTER_JOB) == 0
    with pytest.raises(settled.TriggerError):
        settled.replicas(so, DAY, empty)
    assert settled.replicas(so, SATURDAY_NIGHT, empty | {"wake": 1.0}, ROUTER_JOB) == 1
    assert settled.replicas(so, DAY, {"queue_depth": 12.0, "kv_cache": 0.5, "wake": 1.0}) == max(3, floor)


def test_without_scale_to_zero_an_empty_result_stays_an_error():
    spec = spec_of("fewer-replicas")
    with pytest.raises(settled.TriggerError):
        deployments(spec, DAY, {"queue_depth": None, "kv_cache": 0.0})
    assert not router.needed(spec)


@pytest.mark.parametrize("case", ["zero-at-night", "scale-to-zero-no-window"])
def test_scale_to_zero_deploys_the_router_as_entry_point_without_a_fallback(case):
    spec = spec_of(case)
    assert spec.fallback is None and router.needed(spec)
    config = RouterConfig.model_validate(router.router_config(spec))
    assert config.fallback is None and config.primary.url.startswith(f"http://{spec.name}.")
    # The wake trigger reads a series the router exports, and a PodMonitor selects the router's pods.
    monitored = {
        o["spec"]["selector"]["matchLabels"][labels.INSTANCE_LABEL]
        for o in all_objects(spec)
        if o["kind"] == "PodMonitor"
    }
    assert f"{spec.name}-router" in monitored
    triggers = [
        t
        for o in all_objects(spec)
        if o["kind"] == "ScaledObject"
        for t in o["spec"]["triggers"]
        if t["type"] == "prometheus"
    ]
    for t in triggers:  # "no pod reads 0" only while Prometheus has a target of a monitored service
        if t["name"] == "serving_replicas":
            continue  # a count of the model pods Prometheus scrapes: 0 when there is none
        (names,) = re.findall(r'up\{namespace="llama",app_kubernetes_io_instance=~"([^"]+)"\}', t["metadata"]["query"])
        assert f"{spec.name}-router" in names.split("|") and set(names.split("|")) <= monitored
        assert t["metadata"]["ignoreNullValues"] == "false"
    wake = [t for t in triggers if t["name"] == "wake"]
    exported = {m.name for m in RouterMetrics().registry.collect()}
    for t in wake:
        series = t["metadata"]["query"].split("max(")[1].split("{")[0]
        assert series in exported, series
        assert f'app_kubernetes_io_instance="{spec.name}-router"' in t["metadata"]["query"]


def test_a_night_deployment_holds_its_replicas_when_prometheus_fails():
    """KEDA scales an erroring, inactive ScaledObject with minReplicaCount 0 to zero unless it has a fallback; the
    night Deployment's fallback keeps what runs."""
    spec = spec_of("other-model")
    sos = {o["metadata"]["name"]: o for o in all_objects(spec) if o["kind"] == "ScaledObject"}
    so = sos["llama-70b-eks-quiet"]
    assert so["spec"]["minReplicaCount"] == 0
    with pytest.raises(settled.TriggerError):
        settled.replicas(so, NIGHT, {"queue_depth": None, "kv_cache": None})
    fallback = so["spec"]["fallback"]
    assert fallback["behavior"] == "currentReplicas" and fallback["replicas"] >= 1
    # The baseline's ScaledObject has only cron gates: nothing in it can fail.
    assert {t["type"] for t in sos["llama-70b-eks-baseline"]["spec"]["triggers"]} == {"cron"}


def test_the_wake_up_cost_is_a_new_node_plus_the_cold_start_of_the_model_that_wakes():
    from llama_infra import sizing
    from llama_infra.capacity_timeline import wake_up_s
    from llama_infra.provisioning import EKS_GPU_NODE as node

    # The window's 8B model downloads from the Hub (no NVMe preload); the day's 70B FP8 reads its NVMe copy.
    night_8b = sizing.cold_start(8, "bf16", nvme_preload=False)
    assert wake_up_s(spec_of("other-model-zero-at-night")) == (
        night_8b.total_low_s + node.typical_s,
        night_8b.total_high_s + node.high_s,
    )
    day_70b = sizing.cold_start(70, "fp8", nvme_preload=True)
    assert wake_up_s(spec_of("zero-at-night")) == (
        day_70b.total_low_s + node.typical_s,
        day_70b.total_high_s + node.high_s,
    )


@pytest.mark.parametrize("case", ["zero-at-night", "other-model-zero-at-night", "scale-to-zero-no-window"])
def test_where_the_service_scales_to_zero_the_router_holds_requests_for_the_wake_up(case):
    from llama_infra.capacity_timeline import wake_up_s

    spec = spec_of(case)
    config = RouterConfig.model_validate(router.router_config(spec))
    high = wake_up_s(spec)[1]
    assert config.wake_wait_seconds == min(math.ceil(high), router.MAX_WAKE_WAIT_SECONDS) > 0
    assert config.wake_wait_seconds >= high  # the whole estimate: none of these specs reaches the cap


def test_without_scale_to_zero_the_router_answers_503_at_once():
    spec = edited(
        fallback={
            "model_id": "meta-llama/Llama-3.1-8B-Instruct",
            "params_b": 8,
            "precision": "awq",
            "when_queue_depth_over": 30,
        }
    )
    assert router.needed(spec)
    assert RouterConfig.model_validate(router.router_config(spec)).wake_wait_seconds == 0


SATURDAY_NOON = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)  # by day, no predictive floor at the weekend


@settings(max_examples=40, deadline=None)
@given(q=st.floats(0, 300, allow_nan=False), held=st.floats(0, 300, allow_nan=False))
def test_only_a_queue_held_over_the_scale_up_stabilization_wakes_the_burst(q, held):
    """KEDA decides 0 → 1 itself on the value it polls, before the HPA and its scale-up window exist: a queue spike
    shorter than the stabilization woke the burst (a node and a 70B load) at every poll. While no burst replica
    serves, the formula reads the queue's least value over the window; once one serves, the queue itself."""
    spec = edited(schedules=[window(min_replicas=1, max_replicas=4)], **{"scaling.scale_up_stabilization_seconds": 120})
    hold = spec.scaling.scale_up_stabilization_seconds
    so = next(o for o in all_objects(spec) if o["kind"] == "ScaledObject" and o["metadata"]["name"].endswith("-burst"))
    (held_trigger,) = [t for t in so["spec"]["triggers"] if t["name"] == "queue_depth_held"]
    (queue_trigger,) = [t for t in so["spec"]["triggers"] if t["name"] == "queue_depth"]
    poll = so["spec"]["pollingInterval"]
    assert (
        held_trigger["metadata"]["query"] == f"min_over_time(({queue_trigger['metadata']['query']})[{hold}s:{poll}s])"
    )
    b = spec.capacity.baseline.count
    lo, hi = 0, spec.max_replicas - b

    def burst(serving: int) -> int:
        values = {"queue_depth": q, "queue_depth_held": held, "kv_cache": 0.0, "serving_replicas": serving}
        return deployments(spec, SATURDAY_NOON, values)[f"{spec.name}-burst"]

    assert burst(serving=b) == min(max(math.ceil(round(held / T, 9)) - b, lo), hi)  # asleep: the held queue
    assert burst(serving=b + 1) == min(max(math.ceil(round(q / T, 9)) - b, lo), hi)  # awake: the queue itself


def test_without_a_scale_up_stabilization_the_queue_wakes_the_burst_at_once():
    spec = edited(schedules=[window(min_replicas=1, max_replicas=4)], **{"scaling.scale_up_stabilization_seconds": 0})
    so = next(o for o in all_objects(spec) if o["kind"] == "ScaledObject" and o["metadata"]["name"].endswith("-burst"))
    names = {t["name"] for t in so["spec"]["triggers"]}
    assert not names & {"queue_depth_held", "serving_replicas"}
    assert "queue_depth_held" not in so["spec"]["advanced"]["scalingModifiers"]["formula"]


def test_without_windows_a_held_wake_up_renders_the_burst_as_one_formula_whose_floor_follows_the_load():
    """Only a `scalingModifiers` formula can make KEDA's activation read the held queue, so a spec without windows
    whose burst may be at zero gets one too: the same day term as with windows (`window_scaling.burst_scaling`),
    and its predictive floor follows the load there. A burst that never goes below one replica keeps plain
    triggers (the HPA's own scale-up window applies to every replica)."""
    from llama_infra.targets.eks.target import EksTarget
    from llama_infra.targets.kubernetes.floor_triggers import LOAD_TRIGGER

    spec = edited(**{"scaling.scale_up_stabilization_seconds": 120})
    assert not spec.schedules
    so = next(o for o in all_objects(spec) if o["kind"] == "ScaledObject" and o["metadata"]["name"].endswith("-burst"))
    formula = so["spec"]["advanced"]["scalingModifiers"]["formula"]
    b = spec.capacity.baseline.count
    assert f"(serving_replicas > {b} ? queue_depth : queue_depth_held) / {T:g} - {b}" in formula
    assert LOAD_TRIGGER in {t["name"] for t in so["spec"]["triggers"]}
    assert EksTarget().floor_follow_period_s(spec) == spec.scaling.polling_interval_seconds
    # awake on a weekday noon with the load as forecast: the floor less the baseline, or what the queue asks
    for q in (0.0, 60.0):
        values = {"queue_depth": q, "queue_depth_held": 0.0, "kv_cache": 0.0, "serving_replicas": b + 1}
        got = deployments(spec, DAY, values)[f"{spec.name}-burst"]
        assert got == min(max(need(q, 0.0) - b, floor_in_force(spec, DAY) - b, 0), spec.max_replicas - b)

    kept = edited(**{"scaling.scale_up_stabilization_seconds": 120, "scaling.min_replicas": b + 1})
    so = next(o for o in all_objects(kept) if o["kind"] == "ScaledObject" and o["metadata"]["name"].endswith("-burst"))
    assert "scalingModifiers" not in so["spec"]["advanced"] and so["spec"]["minReplicaCount"] == 1
