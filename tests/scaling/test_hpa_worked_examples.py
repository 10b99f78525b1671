"""HPA math against the worked examples of the Kubernetes documentation.

Source: kubernetes/website, content/en/docs/tasks/run-application/horizontal-pod-autoscale.md
(https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/), sections "Algorithm details",
"Scaling policies", "Stabilization window", "Default Behavior" and "Example: limit scale down rate".
"""

import pytest

from llama_infra.scaling.hpa import (
    DEFAULT_SCALE_DOWN,
    DEFAULT_SCALE_UP,
    HpaController,
    HpaPolicy,
    ScalingPolicy,
    ScalingRules,
    external_average_value_replicas,
    raw_desired_replicas,
    scale_down_limit,
    scale_up_limit,
)
from llama_infra.spec import load_spec


def test_ratio_doubles_and_halves():
    # "if the current metric value is 200m, and the desired value is 100m, the number of replicas will be doubled
    # ... If the current value is instead 50m, you'll halve the number of replicas"
    assert raw_desired_replicas(3, 200, 100) == 6
    assert raw_desired_replicas(4, 50, 100) == 2


def test_tolerance_skips_scaling_close_to_one():
    # "The control plane skips any scaling action if the ratio is sufficiently close to 1.0 (... 0.1 by default)"
    assert raw_desired_replicas(10, 109, 100) == 10
    assert raw_desired_replicas(10, 91, 100) == 10
    assert raw_desired_replicas(10, 111, 100) == 12
    assert raw_desired_replicas(10, 89, 100) == 9


def test_external_average_value_is_total_over_target():
    assert external_average_value_replicas(2, 37, 5) == 8
    assert external_average_value_replicas(8, 41, 5) == 8  # 41/40 within tolerance


def _doc_scale_down_policy() -> ScalingRules:
    # scaleDown: policies: [{type: Pods, value: 4, periodSeconds: 60}, {type: Percent, value: 10, periodSeconds: 60}]
    return ScalingRules(0, (ScalingPolicy("Pods", 4, 60), ScalingPolicy("Percent", 10, 60)))


def test_scaling_policies_example_80_to_10():
    # "if there are 80 replicas and the target has to be scaled down to 10 replicas then during the first step 8
    # replicas will be reduced. In the next iteration when the number of replicas is 72, 10% of the pods is 7.2 but
    # the number is rounded up to 8. ... When the number of replicas falls below 40 the first policy (Pods) is
    # applied and 4 replicas will be reduced at a time."
    policy = HpaPolicy(min_replicas=1, max_replicas=100, queue_depth_target=1, scale_down=_doc_scale_down_policy())
    hpa = HpaController(policy)
    replicas, t, steps = 80, 0.0, []
    while replicas > 10:
        new = hpa.normalize(t, replicas, 10)
        steps.append(replicas - new)
        replicas = new
        t += 60.0  # one policy period later, the previous step's events no longer count
    assert steps[:2] == [8, 8]
    below_40 = [s for s, r in zip(steps, _running_counts(80, steps), strict=True) if r <= 40]
    assert below_40 and all(s == 4 for s in below_40[:-1])
    assert replicas == 10


def _running_counts(start, steps):
    out, r = [], start
    for s in steps:
        out.append(r)
        r -= s
    return out


def test_period_counts_changes_already_made():
    # periodSeconds: "the length of time in the past for which the policy must hold true"
    rules = _doc_scale_down_policy()
    assert scale_down_limit(80, rules, now=0) == 72
    assert scale_down_limit(72, rules, now=30, down_events=[(0, 8)]) == 72  # the minute's budget is spent
    assert scale_down_limit(72, rules, now=61, down_events=[(0, 8)]) == 64


def test_select_policy_min_limits_to_five_pods_per_minute():
    # "Example: limit scale down rate": Percent 10 + Pods 5, selectPolicy Min -> "no more than 5 Pods removed"
    rules = ScalingRules(300, (ScalingPolicy("Percent", 10, 60), ScalingPolicy("Pods", 5, 60)), "Min")
    assert scale_down_limit(80, rules, now=0) == 75
    assert scale_down_limit(20, rules, now=0) == 18  # 10 % of 20 is the smaller change


def test_select_policy_disabled_never_scales_that_way():
    rules = ScalingRules(0, (ScalingPolicy("Percent", 100, 15),), "Disabled")
    assert scale_down_limit(10, rules, now=0) == 10
    assert scale_up_limit(10, rules, now=0) == 10


def test_default_scale_up_is_four_pods_or_double_per_15s():
    # "There are 2 policies where 4 pods or a 100% of the currently running replicas will be added every 15 seconds"
    assert scale_up_limit(1, DEFAULT_SCALE_UP, now=0) == 5
    assert scale_up_limit(10, DEFAULT_SCALE_UP, now=0) == 20
    policy = HpaPolicy(min_replicas=1, max_replicas=100, queue_depth_target=1)
    hpa = HpaController(policy)
    seen = [1]
    for i in range(4):
        seen.append(hpa.normalize(i * 15.0, seen[-1], 50))
    assert seen == [1, 5, 10, 20, 40]


def test_default_scale_down_can_drop_to_min_at_once_after_window():
    # "allows a 100% of the currently running replicas to be removed" after the 300 s window
    assert scale_down_limit(10, DEFAULT_SCALE_DOWN, now=0) == 0
    policy = HpaPolicy(min_replicas=2, max_replicas=20, queue_depth_target=1)
    hpa = HpaController(policy)
    assert hpa.normalize(0, 10, 10) == 10
    assert hpa.normalize(15, 10, 1) == 10  # the 10 recommended at t=0 is inside the 300 s window
    assert hpa.normalize(299, 10, 1) == 10
    assert hpa.normalize(301, 10, 1) == 2  # window passed: straight to minReplicas


def test_stabilization_window_uses_highest_recent_recommendation():
    # "uses the highest value from the specified interval ... all desired states from the past 5 minutes"
    policy = HpaPolicy(
        min_replicas=1, max_replicas=20, queue_depth_target=1, scale_down=ScalingRules(60, DEFAULT_SCALE_DOWN.policies)
    )  # "change downscale window" 60 s
    hpa = HpaController(policy)
    replicas = 8
    for t, rec in [(0, 8), (15, 6), (30, 4), (45, 5)]:
        replicas = hpa.normalize(t, replicas, rec)
        assert replicas == 8
    assert hpa.normalize(61, replicas, 3) == 6  # 8 left the window; highest remaining is 6
    assert hpa.normalize(120, 6, 3) == 3


def test_behavior_manifest_and_from_spec():
    spec = load_spec("stacks/specs/prod.yaml")
    policy = HpaPolicy.from_spec(spec)
    assert policy.min_replicas == spec.min_replicas == 2
    assert policy.max_replicas == spec.max_replicas == 6
    b = policy.behavior_manifest()
    assert b["scaleDown"]["stabilizationWindowSeconds"] == spec.scaling.scale_down_stabilization_seconds
    assert b["scaleUp"]["policies"] == [
        {"type": "Percent", "value": 100, "periodSeconds": 15},
        {"type": "Pods", "value": 4, "periodSeconds": 15},
    ]


def test_invalid_rules_are_rejected():
    with pytest.raises(ValueError, match="stabilizationWindowSeconds"):
        ScalingRules(4000, ())
    with pytest.raises(ValueError, match="periodSeconds"):
        ScalingPolicy("Pods", 1, 0)
