"""HPA rules read from the controller's code, each on the upstream test case it comes from.

Sources (kubernetes/kubernetes, pkg/controller/podautoscaler/): horizontal.go `convertDesiredReplicasWithBehaviorRate`
and `reconcileAutoscaler`, replica_calculator.go `GetExternalPerPodMetricReplicas`; the cases are the ones of
horizontal_test.go (`TestScalingWithRules`, `TestScaleUpRCImmediately`, `TestScaleDownRCImmediately`) and
replica_calculator_test.go (`TestReplicaCalcScaleUpPerPodCMExternal`).
"""

from llama_infra.scaling.hpa import (
    HpaController,
    HpaPolicy,
    ScalingPolicy,
    ScalingRules,
    external_average_value_replicas,
    external_milli_replicas,
    metric_milli,
    target_milli,
)

NOW = 1000.0


def _events(changes: list[int], period_s: int = 120) -> list[tuple[float, int]]:
    """generateEventsUniformDistribution: the changes spread evenly over the last `period_s` seconds."""
    step = period_s / (len(changes) + 1)
    return [(NOW - period_s + step * (i + 1), n) for i, n in enumerate(changes)]


def _controller(
    min_r: int,
    max_r: int,
    up: ScalingRules | None = None,
    down: ScalingRules | None = None,
    up_events=(),
    down_events=(),
) -> HpaController:
    kw = {}
    if up:
        kw["scale_up"] = up
    if down:
        kw["scale_down"] = down
    c = HpaController(HpaPolicy(min_r, max_r, queue_depth_target=1, **kw))
    c.up_events, c.down_events = list(up_events), list(down_events)
    return c


def test_scale_up_limit_is_never_below_the_current_count():
    # "scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events":
    # events {1, 5, 9} in the last 120 s, Pods 5 per 120 s: the naive limit is 100 - 15 + 5 = 90 < 100 -> keep 100
    c = _controller(1, 1000, up=ScalingRules(0, (ScalingPolicy("Pods", 5, 120),)), up_events=_events([1, 5, 9]))
    assert c.normalize(NOW, 100, 500) == 100
    # "scaleUp with pod policy and previous scale up events": Pods 150 per 120 s -> 100 - 15 + 150 = 235
    c = _controller(1, 1000, up=ScalingRules(0, (ScalingPolicy("Pods", 150, 120),)), up_events=_events([1, 5, 9]))
    assert c.normalize(NOW, 100, 500) == 235
    # "scaleUp with percent policy and previous scale up events": 200 % per 120 s -> (100 - 15) × 3 = 255
    c = _controller(1, 1000, up=ScalingRules(0, (ScalingPolicy("Percent", 200, 120),)), up_events=_events([1, 5, 9]))
    assert c.normalize(NOW, 100, 500) == 255


def test_scale_down_limit_is_never_above_the_current_count():
    # "scaleDown with previous events preventing further scale down": events {10, 10, 10}, 10 % per 120 s:
    # (100 + 30) - 10 % = 117 > 100 -> keep 100
    c = _controller(
        1, 1000, down=ScalingRules(300, (ScalingPolicy("Percent", 10, 120),)), down_events=_events([10, 10, 10])
    )
    assert c.normalize(NOW, 100, 0) == 100


def test_out_of_range_counts_clamp_without_reading_the_metrics():
    # TestScaleUpRCImmediately: min 2, max 6, 1 replica, idle metrics -> 2 ("Current number of replicas below
    # Spec.MinReplicas"); the metrics would scale down, they are not read
    c = _controller(2, 6)
    assert c.sync(NOW, 1, queue_depth_total=0.0) == 2
    # TestScaleDownRCImmediately: min 2, max 5, 6 replicas, busy metrics -> 5 ("... above Spec.MaxReplicas")
    c = _controller(2, 5)
    assert c.sync(NOW, 6, queue_depth_total=1000.0) == 5
    # a target scaled to 0 with minReplicas != 0: "scaling is disabled since the replica count of the target is zero"
    assert _controller(1, 5).sync(NOW, 0, queue_depth_total=1000.0) == 0


def test_clamped_rescale_counts_against_the_rate_policies():
    # storeScaleEvent runs after every rescale: the +1 to minReplicas is a scale-up event of the period
    c = _controller(2, 20, up=ScalingRules(0, (ScalingPolicy("Pods", 1, 60),)))
    assert c.sync(NOW, 1, 0.0) == 2
    assert c.sync(NOW + 15, 2, 50.0) == 2  # 2 - 1 + 1 = 2: the period's budget is spent
    assert c.sync(NOW + 61, 2, 50.0) == 3


def test_initial_recommendation_holds_the_count_for_the_scale_down_window():
    # recordInitialRecommendation: the first sync stores the current count, so an idle start does not drop replicas
    # before the scale-down window (300 s by default) has passed
    c = HpaController(HpaPolicy(1, 10, queue_depth_target=5))
    assert c.sync(0, 6, 0.0) == 6
    assert c.sync(285, 6, 0.0) == 6
    assert c.sync(300, 6, 0.0) == 1


def test_external_per_pod_metric_in_integer_milli_units():
    # TestReplicaCalcScaleUpPerPodCMExternal: 3 replicas, metric 8600m, AverageValue target 2150m -> 4
    assert external_milli_replicas(3, 8600, 2150) == 4
    assert external_average_value_replicas(3, 8.6, 2.15) == 4
    # the milli conversion: KEDA / the adapter truncate the value, the target quantity rounds up
    assert metric_milli(8.6009) == 8600 and metric_milli(0.0004) == 0
    assert target_milli(2.15) == 2150 and target_milli(0.0001) == 1
    # a float ratio of 4.9999999 would ceil to 5 replicas of target 1; in milli-units 4999 / 1000 -> 5, 5000 -> 5
    assert external_average_value_replicas(1, 4.9999, 1) == 5
    assert external_average_value_replicas(1, 5.0, 1) == 5
    assert external_average_value_replicas(1, 5.0004, 1) == 5  # 5000m after truncation: not 6
