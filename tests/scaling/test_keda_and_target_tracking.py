"""KEDA activation/cooldown/fallback and SageMaker target-tracking alarms and cooldowns."""

from llama_infra.scaling.hpa import HpaPolicy
from llama_infra.scaling.keda import KedaController, KedaPolicy
from llama_infra.scaling.target_tracking import TargetTrackingController, TargetTrackingPolicy
from llama_infra.spec import load_spec


def _keda(min_count=0, fallback_replicas=1) -> KedaController:
    hpa = HpaPolicy(min_replicas=1, max_replicas=8, queue_depth_target=5)
    return KedaController(
        KedaPolicy(hpa=hpa, min_replica_count=min_count, max_replica_count=8, fallback_replicas=fallback_replicas)
    )


def test_keda_activates_from_zero_and_cools_down_to_zero():
    k = _keda()
    assert k.poll(0, 0, 0.0) == 0  # nothing waiting: stays at zero
    assert k.poll(30, 0, 3.0) == 1  # above activationThreshold 0: KEDA wakes the workload
    assert k.hpa_sync(45, 1, 30.0) == 5  # then the HPA scales 1 -> 5 (default 4 pods / 15 s)
    assert k.poll(60, 5, 0.0) == 5  # idle, but the 300 s cooldown runs from the last active poll (30 s)
    assert k.poll(320, 5, 0.0) == 5
    assert k.poll(330, 5, 0.0) == 5  # lastActiveTime + cooldown is not *before* now yet (equal)
    assert k.poll(360, 5, 0.0) == 0


def test_keda_without_scale_to_zero_keeps_min():
    k = _keda(min_count=2)
    assert k.poll(1000, 2, 0.0) == 2


def test_keda_fallback_after_more_than_failure_threshold_hpa_requests():
    k = _keda(fallback_replicas=6)
    assert [k.hpa_sync(15 * i, 4, None) for i in range(3)] == [4, 4, 4]  # 3 failures = failureThreshold: no change
    assert k.poll(30, 4, None) == 4  # KEDA's own loop does not count failures, nor scale an erroring target to 0
    assert k.hpa_sync(45, 4, None) == 6  # the 4th failure: fallback.replicas, reaching the HPA as 5 × 6 = 30


def test_keda_from_spec():
    spec = load_spec("stacks/specs/prod.yaml")
    p = KedaPolicy.from_spec(spec)
    fields = p.scaled_object_fields()
    assert fields["pollingInterval"] == spec.scaling.polling_interval_seconds
    assert fields["minReplicaCount"] == spec.min_replicas
    assert (
        fields["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"]
        == 300
    )


def test_high_resolution_metric_detects_six_times_faster():
    hi = TargetTrackingPolicy("SageMakerVariantConcurrentRequestsPerModelHighResolution", 5, 1, 10)
    std = TargetTrackingPolicy.invocations_per_instance(70, 1, 10)
    assert hi.scale_out_detection_seconds == 30
    assert std.scale_out_detection_seconds == 180
    assert std.scale_out_detection_seconds / hi.scale_out_detection_seconds == 6


def test_scale_out_needs_three_datapoints_then_is_proportional():
    c = TargetTrackingController(
        TargetTrackingPolicy("SageMakerVariantConcurrentRequestsPerModelHighResolution", 10, 1, 20, 300, 300)
    )
    assert c.evaluate(0, 2, 25) == 2
    assert c.evaluate(10, 2, 25) == 2
    assert c.evaluate(20, 2, 25) == 5  # ceil(2 x 25 / 10)
    # in the scale-out cooldown the capacity already asked for counts: the same load does not scale out twice
    # while the new instances start, a larger scale-out still goes through
    assert c.evaluate(30, 2, 25) == 2
    assert c.evaluate(40, 2, 40) == 8


def test_scale_in_needs_fifteen_minutes_below_ninety_percent_and_respects_cooldown():
    # a standard (60 s) metric: one datapoint per minute, AlarmLow after 15 of them
    c = TargetTrackingController(TargetTrackingPolicy.invocations_per_instance(10, 1, 20))
    out = [c.evaluate(i * 60, 6, 9.5) for i in range(20)]  # 95 % of target: above the 90 % low threshold
    assert set(out) == {6}
    out = [c.evaluate(1200 + i * 60, 6, 2.0) for i in range(15)]
    assert out[:14] == [6] * 14 and out[14] == 2  # ceil(6 x 2 / 10)
    assert c.evaluate(2100, 2, 1.0) == 2  # scale-in cooldown 300 s


def test_target_tracking_from_spec_renders_aws_configuration():
    spec = load_spec("stacks/specs/prod.yaml")
    p = TargetTrackingPolicy.from_spec(spec)
    cfg = p.to_aws()
    assert (
        cfg["PredefinedMetricSpecification"]["PredefinedMetricType"]
        == "SageMakerVariantConcurrentRequestsPerModelHighResolution"
    )
    assert cfg["TargetValue"] == spec.scaling.queue_depth_target
    assert cfg["ScaleInCooldown"] == spec.scaling.scale_down_stabilization_seconds
    assert (p.min_capacity, p.max_capacity) == (spec.min_replicas, spec.max_replicas)
