"""Application Auto Scaling target tracking on SageMaker, each rule on the AWS documentation it comes from:
SageMaker developer guide "Define a scaling policy" (high-resolution metrics) and "Scale an endpoint to zero
instances"; Application Auto Scaling user guide "Define cooldown periods"; SageMaker "metrics in CloudWatch"
(ConcurrentRequestsPerModel / PerCopy are published by the serving containers)."""

from llama_infra.scaling.target_tracking import (
    COPY_METRIC,
    TargetTrackingController,
    TargetTrackingPolicy,
    WakeOnNoCapacity,
    per_container_average,
)
from llama_infra.spec import parse_spec

HIGH_RES = "SageMakerVariantConcurrentRequestsPerModelHighResolution"


def test_high_resolution_scales_out_in_30_s_but_in_at_the_standard_15_minutes():
    p = TargetTrackingPolicy(HIGH_RES, 10, 1, 20, 0, 0)
    assert p.scale_out_detection_seconds == 30 and p.scale_in_detection_seconds == 15 * 60
    c = TargetTrackingController(p)
    out = [c.evaluate(i * 10, 6, 2.0) for i in range(15 * 6)]  # 15 minutes of 10 s datapoints at 20 % of target
    assert set(out) == {6}  # 14 full minutes have closed; the 15th is still open
    assert c.evaluate(900, 6, 2.0) == 2  # the 15th minute closes: ceil(6 × 2 / 10)
    c = TargetTrackingController(p)
    assert [c.evaluate(i * 10, 2, 25.0) for i in range(3)] == [2, 2, 5]  # out after 3 × 10 s


def test_scale_in_reads_minute_averages_not_single_datapoints():
    # a minute whose 10 s datapoints average below 90 % counts as low even with one datapoint above the target
    c = TargetTrackingController(TargetTrackingPolicy(HIGH_RES, 10, 1, 20, 0, 0))
    minute = [12.0, 1.0, 1.0, 1.0, 1.0, 1.0]  # average 2.83
    out = [c.evaluate(m * 60 + i * 10, 6, v) for m in range(16) for i, v in enumerate(minute)]
    assert out[-6:] != [6] * 6 and min(out) == 2


def test_a_scale_out_ends_the_scale_in_cooldown():
    # "If a scale-out activity is triggered during a scale-in cooldown ... the scale-in cooldown stops": with a
    # 30-minute scale-in cooldown, a scale-in at minute 14 would block the next one until minute 44; a scale-out at
    # minute 17 ends it, and the next 15 quiet minutes scale in at minute 32
    p = TargetTrackingPolicy("SageMakerVariantInvocationsPerInstance", 10, 1, 20, 0, 1800)
    c = TargetTrackingController(p)
    replicas = 8
    history = []
    for minute in range(40):
        load = 30.0 if minute in (15, 16, 17) else 1.0
        replicas = c.evaluate(minute * 60, replicas, load)
        history.append(replicas)
    assert history[14] == 1  # ceil(8 × 1 / 10)
    assert history[17] == 3  # three datapoints above target: ceil(1 × 30 / 10)
    assert history[31] == 3 and history[32] == 1  # 15 low minutes (18..32), no cooldown left from minute 14


def test_inference_component_copies_scale_to_zero_and_wake_on_no_capacity():
    spec = parse_spec("""
name: llama-8b-dev
environment: dev
target: sagemaker
model: {id: meta-llama/Llama-3.1-8B-Instruct, params_b: 8, weights: {source: s3://llama-weights/llama-8b/}}
capacity: {baseline: {instance_type: ml.g5.2xlarge, count: 0}, burst: {max: 2}}
scaling: {scale_to_zero: true}
""")
    p = TargetTrackingPolicy.from_spec(spec)
    assert p.metric == COPY_METRIC and p.min_capacity == 0
    c = TargetTrackingController(p)
    # idle for 15 minutes of one-minute averages: the copy goes to 0
    out = [c.evaluate(i * 10, 1, 0.0) for i in range(15 * 6 + 1)]
    assert out[-1] == 0
    # with no copy there is no per-copy datapoint: target tracking cannot leave zero
    assert c.evaluate(1000, 0, per_container_average(3, 0)) == 0
    wake = WakeOnNoCapacity()
    assert wake.evaluate(1000, 0, no_capacity_failures=0, max_capacity=2) == 0
    assert wake.evaluate(1010, 0, no_capacity_failures=1, max_capacity=2) == 1  # the first failed request: +1 copy
    assert wake.evaluate(1020, 0, no_capacity_failures=1, max_capacity=2) == 0  # 60 s step cooldown
    assert wake.evaluate(1071, 0, no_capacity_failures=1, max_capacity=2) == 1


def test_per_container_metric_counts_only_serving_containers():
    # 12 concurrent requests on 2 serving instances while 2 more still start: the datapoint is 6, not 3
    assert per_container_average(12, 2) == 6
    assert per_container_average(12, 0) is None


def test_a_scale_out_under_way_or_cooling_down_counts_toward_the_next_one():
    # "While the cooldown period is in effect, the capacity added by the initiating scale-out activity is calculated
    # as part of the desired capacity for the next scale-out activity" (ScaleOutCooldown; the step-scaling Cooldown's
    # example: +2, then an alarm asking for +3 adds 1). The cooldown runs after the activity completes: a SageMaker
    # scale-out completes when its instances serve.
    c = TargetTrackingController(TargetTrackingPolicy(HIGH_RES, 10, 1, 20, 300, 300))
    assert [c.evaluate(t, 2, 20.0, in_service=2) for t in (0, 10, 20)] == [2, 2, 4]  # ceil(2 x 20 / 10): +2
    # the 2 new instances start; the 2 that serve still read 20 per container: not another ceil(4 x 20 / 10) = 8
    assert [c.evaluate(t, 4, 20.0, in_service=2) for t in range(30, 400, 10)] == [4] * 37
    # a burst asks for ceil(2 x 25 / 10) = 5 from the 2 the scale-out started from: 1 more, not ceil(4 x 25 / 10)
    assert c.evaluate(400, 4, 25.0, in_service=2) == 5
    assert [c.evaluate(t, 5, 25.0, in_service=2) for t in (410, 420)] == [5, 5]
    # the 5 serve at t = 600, the cooldown runs 300 s from there: the same reading scales out again only after it
    assert c.evaluate(600, 5, 25.0, in_service=5) == 5
    assert c.evaluate(890, 5, 25.0, in_service=5) == 5
    assert c.evaluate(900, 5, 25.0, in_service=5) == 13  # ceil(5 x 25 / 10)


def test_with_no_cooldown_a_scale_out_still_waits_for_its_instances_before_compounding():
    # prod's scale-up stabilization of 0 renders ScaleOutCooldown 0: the activity itself still has to complete
    c = TargetTrackingController(TargetTrackingPolicy(HIGH_RES, 5.85, 2, 6, 0, 300))
    assert [c.evaluate(t, 2, 9.0, in_service=2) for t in (0, 10, 20)] == [2, 2, 4]  # ceil(2 x 9 / 5.85)
    assert [c.evaluate(t, 4, 9.0, in_service=2) for t in range(30, 300, 10)] == [4] * 27
    assert c.evaluate(300, 4, 9.0, in_service=4) == 6  # served: ceil(4 x 9 / 5.85) = 7, capped at 6


def test_a_scale_out_capped_below_what_it_asked_for_completes_when_the_capped_capacity_serves():
    # the caller holds the capacity below the scale-out's ask (a window's lower maximum): once that capacity serves,
    # the activity is over and its cooldown runs, so a later burst is worked out from the capacity then in force
    c = TargetTrackingController(TargetTrackingPolicy(HIGH_RES, 10, 1, 20, 0, 300))
    assert [c.evaluate(t, 2, 30.0, in_service=2) for t in (0, 10, 20)] == [2, 2, 6]  # ceil(2 x 30 / 10)
    assert c.evaluate(30, 4, 30.0, in_service=4) == 12  # 4 in force and serving: ceil(4 x 30 / 10)
