"""KEDA 2.17 rules, each on the upstream code path it comes from (kedacore/keda at v2.17.3):
`pkg/scaling/scale_handler.go` getScaledObjectState (activation on the formula), `pkg/scaling/modifiers/formula.go`
(the composite metric), `pkg/scaling/executor/scale_scaledobjects.go` scaleToZeroOrIdle (the cooldown comparison),
`pkg/fallback/fallback.go` GetMetricsWithFallback / doFallback (and its test file's cases)."""

from llama_infra.scaling.hpa import HpaPolicy
from llama_infra.scaling.keda import KedaController, KedaPolicy
from llama_infra.targets.kubernetes.expr_lang import evaluate


def _keda(min_count=0, fallback_replicas=1, threshold=3, target=1.0, behavior="static", max_count=8) -> KedaController:
    hpa = HpaPolicy(min_replicas=1, max_replicas=max_count, queue_depth_target=target)
    return KedaController(
        KedaPolicy(
            hpa=hpa,
            min_replica_count=min_count,
            max_replica_count=max_count,
            fallback_replicas=fallback_replicas,
            failure_threshold=threshold,
            fallback_behavior=behavior,
        )
    )


def test_activation_is_decided_on_the_whole_formula():
    # a window floor of 2 replicas in the formula keeps the ScaledObject active with no queue at all: the queue
    # trigger alone (value 0, activationThreshold 0) would be inactive, the formula (2 > activationTarget 0) is not
    formula = "(window_night > 1 ? max(queue_depth / 5, 2) : queue_depth / 5)"
    k = _keda()
    inside = evaluate(formula, {"window_night": 2, "queue_depth": 0})
    assert inside == 2 and k.is_active(inside)
    assert k.poll(0, 0, inside) == 1  # woken from zero, the HPA takes it on from there
    assert k.hpa_sync(15, 1, inside) == 2  # the floor reaches the HPA as the composite metric
    outside = evaluate(formula, {"window_night": 1, "queue_depth": 0})
    assert outside == 0 and not k.is_active(outside)
    # a wake trigger is part of the formula too: one recent request keeps it active
    assert k.is_active(evaluate("max(queue_depth / 5, wake)", {"queue_depth": 0, "wake": 1}))


def test_composite_drives_the_hpa_of_its_deployment_with_tolerance():
    # the composite (replicas of the burst Deployment) goes to the HPA as milli-units with AverageValue target 1:
    # 3 burst replicas and a composite of 3.2 is within the 10 % tolerance -> no change; 3.4 -> 4
    k = _keda(min_count=0)
    k.hpa.initialized = True
    assert k.hpa_sync(0, 3, 3.2) == 3
    assert k.hpa_sync(15, 3, 3.4) == 4


def test_cooldown_compares_strictly_as_keda_writes_it():
    # LastActiveTime.Add(cooldownPeriod).Before(now): at exactly last active + 300 s it still waits
    k = _keda()
    assert k.poll(0, 1, 1.0) == 1
    assert k.poll(300, 1, 0.0) == 1
    assert k.poll(300.001, 1, 0.0) == 0
    # never active (LastActiveTime nil, initialCooldownPeriod 0): straight to zero
    assert _keda().poll(0, 2, 0.0) == 0


def test_an_erroring_scaled_object_with_a_fallback_is_not_scaled_to_zero():
    # scale_scaledobjects.go: "isError && Fallback != nil && Fallback.Replicas != 0": logged, nothing else
    k = _keda(fallback_replicas=2)
    assert k.poll(0, 3, None) == 3
    assert k.poll(1000, 3, None) == 3


def test_fallback_starts_after_more_than_failure_threshold_hpa_requests():
    # fallback_test.go "should return a normalised metric when number of failures are beyond threshold":
    # failureThreshold 3, fallback.replicas 10, AverageValue target 10, 3 failures so far -> the 4th request gets
    # 10 × 10 = 100 (and "should bump the number of failures when metrics call fails": 1 failure, still an error)
    k = _keda(fallback_replicas=10, threshold=3, target=10, max_count=20)
    assert [k.metric_milli_for_hpa(5, None) for _ in range(3)] == [None, None, None]
    assert k.metric_milli_for_hpa(5, None) == 100 * 1000 and k.consecutive_failures == 4
    assert k.metric_milli_for_hpa(5, 2.5) == 2500 and k.consecutive_failures == 0  # a success resets the count


def test_fallback_metric_uses_the_integer_target_and_reaches_the_hpa():
    # doFallback: normalisationValue = int64(target): a 2.5 per-replica target hands the HPA 2 × 1000 × replicas
    k = _keda(fallback_replicas=4, threshold=0, target=2.5)
    assert k.metric_milli_for_hpa(1, None) == 2 * 1000 * 4
    # the HPA then divides by its own target (2500m): ceil(8000 / 2500) = 4 — here the same, with tolerance and
    # behaviour on top: from 1 replica the default scale-up (max(4 pods, 100 %) per 15 s) allows 1 -> 4 at once
    k = _keda(fallback_replicas=4, threshold=0, target=2.5)
    k.hpa.initialized = True
    assert k.hpa_sync(0, 1, None) == 4


def test_fallback_behaviors():
    # doFallback: static, currentReplicas, currentReplicasIfHigher, currentReplicasIfLower
    for behavior, current, expected in [
        ("static", 5, 3),
        ("currentReplicas", 5, 5),
        ("currentReplicasIfHigher", 5, 5),
        ("currentReplicasIfHigher", 2, 3),
        ("currentReplicasIfLower", 5, 3),
        ("currentReplicasIfLower", 2, 2),
    ]:
        k = _keda(fallback_replicas=3, threshold=0, behavior=behavior)
        assert k.metric_milli_for_hpa(current, None) == expected * 1000, behavior
