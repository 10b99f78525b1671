"""The SageMaker component renders what the plan and the simulator assume: each configuration's target-tracking
target (`slo_targets.effective_targets`: stated wins, else derived from its SLO envelope) and the predictive floor
of the SLO (`slo_targets.predictive_floor`) as scheduled minimum capacity, and no floor for a spec that states no
load."""

from __future__ import annotations

import json

from llama_infra.scaling.floor_schedule import floor_schedule
from llama_infra.slo_targets import effective_targets, predictive_floor
from llama_infra.spec import DeploymentSpec

from .helpers import make_spec, run_component

RAMP = [0.05] * 9 + [1.0] * 10 + [0.05] * 5  # a ramp at 09:00, down at 19:00
P4D_70B = dict(
    model={
        "id": "meta-llama/Llama-3.1-70B-Instruct",
        "params_b": 70,
        "precision": "fp16",
        "framework": "vllm",
        "max_model_len": 8192,
    },
    capacity={"baseline": {"instance_type": "ml.p4d.24xlarge", "count": 1}, "burst": {"max": 30}},
    slo={"ttft_p99_ms": 1500, "tokens_per_s_per_user": 20},
    load={"peak_requests_per_second": 10, "daily_shape": RAMP},
)
WINDOW = [
    {
        "name": "overnight",
        "timezone": "America/New_York",
        "start": "0 22 * * *",
        "end": "0 6 * * *",
        "downsize": {"min_replicas": 1, "max_replicas": 2},
    }
]


def _floor_by_hour(spec) -> dict[int, int]:
    return {f.hour: f.min_replicas for f in predictive_floor(spec)}


def test_without_windows_the_floor_is_one_scheduled_action_per_step_and_a_weekend_reset(preview):
    spec = make_spec(**P4D_70B)
    floor = _floor_by_hour(spec)
    assert max(floor.values()) > spec.min_replicas  # the ramp needs more than the minimum: there is a floor
    planned = run_component(spec, preview)
    actions = {
        a.inputs["name"]: a.inputs for a in planned.of_type("aws:appautoscaling/scheduledAction:ScheduledAction")
    }
    target = planned.one("aws:appautoscaling/target:Target")
    steps = floor_schedule(spec).steps
    assert len(actions) == len(steps) + 1
    for s in steps:
        a = actions[f"{spec.name}-floor-{s.label}"]
        assert a["schedule"] == f"cron(0 {s.start_hour} ? * MON-FRI *)" and a["timezone"] == "UTC"
        assert a["scalableTargetAction"] == {"minCapacity": floor[s.start_hour]}
        assert a["resourceId"] == target.inputs["resourceId"]
        assert all(floor[h] == floor[s.start_hour] for h in range(s.start_hour, s.end_hour))
    weekend = actions[f"{spec.name}-floor-weekend"]
    assert weekend["schedule"] == "cron(0 0 ? * SAT *)"
    assert weekend["scalableTargetAction"] == {"minCapacity": target.inputs["minCapacity"]}


def test_a_spec_without_load_renders_no_floor(preview):
    planned = run_component(make_spec(), preview)
    assert planned.of_type("aws:appautoscaling/scheduledAction:ScheduledAction") == []
    assert not [s for s in planned.of_type("aws:scheduler/schedule:Schedule") if "floor" in s.inputs["name"]]


def test_with_windows_the_floor_reaches_the_reconciler_through_its_own_schedules(preview):
    from llama_infra.scaling import floor_follow
    from llama_infra.slo_targets import predictive_floor

    spec = make_spec(**P4D_70B, schedules=WINDOW)
    sched = floor_schedule(spec, follows_load=True)
    assert sched is not None and sched.timezone == "America/New_York"
    # one schedule per weekday hour, each with the hour's forecast: the reconciler follows the load against it
    assert [(s.start_hour, s.min_replicas, s.forecast_rps) for s in sched.steps] == [
        (f.hour, f.min_replicas, f.forecast_rps) for f in predictive_floor(spec)
    ]
    assert all(f.forecast_rps > 0 for f in predictive_floor(spec))
    planned = run_component(spec, preview)
    # no scheduled action: the reconciler's re-registration at each switch would delete it, its ticks undo it
    assert planned.of_type("aws:appautoscaling/scheduledAction:ScheduledAction") == []
    floors = {
        s.inputs["name"]: s.inputs
        for s in planned.of_type("aws:scheduler/schedule:Schedule")
        if "-floor-" in s.inputs["name"]
    }
    assert len(floors) == len(sched.steps) + 1
    for step in sched.steps:
        s = floors[f"{spec.name}-floor-{step.label}"]
        assert s["scheduleExpression"] == f"cron(0 {step.start_hour} ? * MON-FRI *)"
        assert s["scheduleExpressionTimezone"] == "America/New_York"
        event = json.loads(s["target"]["input"])
        assert event["set_floor"] == step.min_replicas and set(event["configurations"]) == {"day", "overnight"}
        assert event["set_forecast_rps"] == step.forecast_rps
        assert (
            event["set_floor_carries_rps"] == list(step.carries_rps) and len(step.carries_rps) == step.min_replicas - 1
        )
        assert event["floor_follow"] == {"window_s": floor_follow.WINDOW_S, "margin": floor_follow.MARGIN}
    weekend = floors[f"{spec.name}-floor-weekend"]
    assert weekend["scheduleExpression"] == "cron(0 0 ? * SAT *)"
    weekend_input = json.loads(weekend["target"]["input"])
    assert tuple(weekend_input[k] for k in ("set_floor", "set_forecast_rps", "set_floor_carries_rps")) == (0, 0.0, [])


def _unstated_target(**changes) -> DeploymentSpec:
    """`make_spec(**changes)` without `scaling.queue_depth_target` (BASE states 7): the derived target applies."""
    doc = make_spec(**changes).model_dump(exclude_unset=True)
    doc["scaling"].pop("queue_depth_target")
    return DeploymentSpec.model_validate(doc)


def _tracking(planned) -> dict:
    return planned.one("aws:appautoscaling/policy:Policy").inputs["targetTrackingScalingPolicyConfiguration"]


def test_a_spec_that_states_no_target_renders_each_configurations_derived_one(preview):
    spec = _unstated_target(**P4D_70B, schedules=WINDOW)
    targets = effective_targets(spec)
    assert {t.queue_depth_target_source for t in targets.values()} == {"derived"}
    # the envelope's targets differ from the field's default and from each other (the window's fleet is smaller)
    assert targets[None].queue_depth_target != spec.scaling.queue_depth_target
    assert targets[None].queue_depth_target != targets["overnight"].queue_depth_target
    planned = run_component(spec, preview)
    assert _tracking(planned)["targetValue"] == targets[None].queue_depth_target
    # the reconciler owns the value at night: `pulumi up` must not put the day's back
    policy = planned.one("aws:appautoscaling/policy:Policy")
    assert policy.ignore_changes == ["targetTrackingScalingPolicyConfiguration.targetValue"]
    # the reconciler re-attaches each configuration's own policy when it switches
    tick = next(s for s in planned.of_type("aws:scheduler/schedule:Schedule") if s.inputs["name"].endswith("-tick"))
    published = json.loads(tick.inputs["target"]["input"])["configurations"]
    for key, window in (("day", None), ("overnight", "overnight")):
        (policy,) = published[key]["policies"]
        assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == targets[window].queue_depth_target
    # the queue alarm is relative to the highest configuration's target
    alarm = next(a for a in planned.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if "queue" in a.name)
    assert alarm.inputs["threshold"] == 2 * max(t.queue_depth_target for t in targets.values())


def test_a_stated_target_wins_in_every_configuration(preview):
    spec = make_spec(**P4D_70B, schedules=WINDOW)  # BASE states queue_depth_target: 7
    assert {t.queue_depth_target_source for t in effective_targets(spec).values()} == {"spec"}
    planned = run_component(spec, preview)
    assert _tracking(planned)["targetValue"] == 7
    assert planned.one("aws:appautoscaling/policy:Policy").ignore_changes == []  # one target: Pulumi keeps it
    tick = next(s for s in planned.of_type("aws:scheduler/schedule:Schedule") if s.inputs["name"].endswith("-tick"))
    for config in json.loads(tick.inputs["target"]["input"])["configurations"].values():
        assert config["policies"][0]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 7


def test_a_spec_without_load_runs_the_target_its_default_request_sizes_derive(preview):
    """One rule (`effective_targets`) for the components and the simulator: the SLO envelope needs request sizes
    (the documented default trace without a `load`), not a peak, so a spec without `load` gets the derived target
    too, where its SLO is in reach."""
    spec = _unstated_target(**{k: v for k, v in P4D_70B.items() if k != "load"})
    day = effective_targets(spec)[None]
    assert day.queue_depth_target_source == "derived" and day.queue_depth_target != spec.scaling.queue_depth_target
    assert _tracking(run_component(spec, preview))["targetValue"] == day.queue_depth_target
