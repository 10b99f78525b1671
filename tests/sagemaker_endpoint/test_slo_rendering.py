"""The SageMaker component renders what the plan and the simulator assume: the predictive floor of the SLO
(`slo_targets.predictive_floor`) as scheduled minimum capacity, and nothing new for a spec that states no load."""

from __future__ import annotations

import json

from llama_infra.scaling.floor_schedule import floor_schedule
from llama_infra.slo_targets import predictive_floor

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
    spec = make_spec(**P4D_70B, schedules=WINDOW)
    sched = floor_schedule(spec)
    assert sched is not None and sched.timezone == "America/New_York"
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
    weekend = floors[f"{spec.name}-floor-weekend"]
    assert (
        weekend["scheduleExpression"] == "cron(0 0 ? * SAT *)"
        and json.loads(weekend["target"]["input"])["set_floor"] == 0
    )
