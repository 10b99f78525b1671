"""Given an EKS spec whose window swaps type and model overnight, an on-demand baseline node group follows the window:
EventBridge Scheduler scales it in after the baseline pods are gone and out when the day pods are scheduled; reserved,
Capacity Block and ODCR baselines are not scaled and the plan says why; the cost counts idle nodes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from llama_infra.capacity_plan import window_config
from llama_infra.plan.record import run_plan
from llama_infra.pricing import HOURS_PER_MONTH, hourly
from llama_infra.schedules import Cron, zone
from llama_infra.spec.errors import SpecRuleErrors
from llama_infra.targets import cost_report
from llama_infra.targets.eks import baseline_node_schedule as node_schedule
from llama_infra.targets.eks.components import build_eks
from llama_infra.targets.eks.plan_summary import plan_lines
from llama_infra.targets.kubernetes import server
from llama_infra.targets.kubernetes import window_scaling as night_scaling
from llama_infra.targets.kubernetes import window_variants as night

from .specs import edited

NIGHT_MODEL = {"id": "meta-llama/Llama-3.1-8B-Instruct", "params_b": 8, "precision": "bf16"}
ON_DEMAND = {"instance_type": "g6e.12xlarge", "count": 2, "purchase": "on-demand"}
SCHEDULE = "aws:scheduler/schedule:Schedule"


def night_spec(
    baseline=ON_DEMAND, start="0 22 * * 1-5", end="0 6 * * 2-6", tz="America/New_York", downsize=None, **edits
):
    window = {"instance_type": "g6e.2xlarge", "model_override": NIGHT_MODEL, "min_replicas": 1, "max_replicas": 3}
    return edited(
        schedules=[{"name": "night", "timezone": tz, "start": start, "end": end, "downsize": downsize or window}],
        **{"capacity.baseline": baseline, **edits},
    )


# --- when, and how many nodes ---------------------------------------------------------------------------------


def test_on_demand_baseline_leaves_after_the_keda_cooldown_and_returns_with_the_day_cron():
    spec = night_spec()
    (v,) = night.variants(spec)
    evening, morning = node_schedule.steps(spec)
    # 300 s KEDA cooldown + 100 s termination grace = 400 s, rounded up to 10 min
    assert node_schedule.scale_in_delay_minutes(spec) == 10 and server.TERMINATION_GRACE_SECONDS == 100
    assert (evening.direction, evening.cron, evening.nodes, evening.max_nodes) == (
        "night",
        Cron("10 22 * * 1-5", "America/New_York"),
        0,
        2,
    )
    assert (morning.direction, morning.cron, morning.nodes, morning.max_nodes) == (
        "day",
        Cron("50 5 * * 2-6", "America/New_York"),
        2,
        2,
    )
    # the baseline's KEDA gate closes (the day comes back) at the same instant
    assert morning.cron == night.morning_cron(spec, v.schedule)
    (gate,) = night_scaling.baseline_scaled_object(spec)["spec"]["triggers"]
    assert gate["metadata"]["end"] == morning.cron.expression
    assert evening.update_input("ml-prod", "ng") == {
        "ClusterName": "ml-prod",
        "NodegroupName": "ng",
        "ScalingConfig": {"MinSize": 0, "MaxSize": 2, "DesiredSize": 0},
    }


def test_the_delay_follows_the_keda_cooldown_and_may_cross_midnight():
    spec = night_spec(start="55 23 * * 1-5", **{"scaling.scale_down_stabilization_seconds": 600})
    # 600 s cooldown + 100 s grace = 700 s → 15 min: Monday 23:55 → Tuesday 00:10
    assert node_schedule.scale_in_delay_minutes(spec) == 15
    assert node_schedule.steps(spec)[0].cron.expression == "10 0 * * 2-6"


def test_a_day_of_month_window_the_delay_pushes_past_midnight_is_a_spec_error():
    with pytest.raises(SpecRuleErrors) as e:
        night_spec(tz="UTC", start="55 23 1 * *", end="0 6 2 * *")
    assert (
        "schedules[0].start: the on-demand baseline node group scales in 10 min after the window starts "
        "(KEDA cooldown + pod termination grace), but cron '55 23 1 * *' is a day-of-month schedule and firing "
        "10 min later crosses midnight into another day" in str(e.value)
    )
    assert "start the window at 23:50 or earlier" in str(e.value)
    # the same window on a reserved baseline schedules nothing, so it is valid
    assert (
        node_schedule.steps(
            night_spec({**ON_DEMAND, "purchase": "reserved"}, tz="UTC", start="55 23 1 * *", end="0 6 2 * *")
        )
        == []
    )


@pytest.mark.parametrize(
    "baseline,reason",
    [
        ({**ON_DEMAND, "purchase": "reserved"}, "reserved capacity (Savings Plan / Reserved Instance) is billed"),
        (
            {**ON_DEMAND, "purchase": "capacity-block", "capacity_reservation_id": "cr-0123456789abcdef0"},
            "a Capacity Block is paid for its whole duration",
        ),
        (
            {**ON_DEMAND, "capacity_reservation_id": "cr-0123456789abcdef0"},
            "the On-Demand Capacity Reservation cr-0123456789abcdef0 is billed whether instances run in it or not",
        ),
    ],
    ids=["reserved", "capacity-block", "odcr"],
)
def test_capacity_billed_whether_it_runs_or_not_is_not_scaled_and_the_plan_says_so_in_one_line(baseline, reason):
    spec = night_spec(baseline)
    assert node_schedule.steps(spec) == []
    (line,) = node_schedule.plan_lines(spec)
    assert line.startswith("baseline node group: not scaled overnight — ") and reason in line
    assert line in plan_lines(spec)


def test_a_bounds_only_window_scales_the_nodes_its_baseline_replicas_leave():
    keeps_all = night_spec(downsize={"min_replicas": 2, "max_replicas": 4})
    assert node_schedule.steps(keeps_all) == []
    (w,) = node_schedule.plan(keeps_all)
    assert "its baseline replicas need all 2 nodes" in w.kept_because and w.billed_nodes == 2
    # min(baseline 2, window min 1) = 1 replica, one per g6e.12xlarge (TP 4 of 4 GPUs): one node overnight.
    keeps_one = night_spec(downsize={"min_replicas": 1, "max_replicas": 4})
    (w,) = node_schedule.plan(keeps_one)
    assert w.scheduled and [s.nodes for s in w.steps] == [1, 2] and w.billed_nodes == 1
    no_windows = edited(**{"capacity.baseline": ON_DEMAND})
    assert node_schedule.plan(no_windows) == [] and node_schedule.plan_lines(no_windows) == []


def test_a_window_shorter_than_delay_plus_lead_keeps_its_nodes():
    spec = night_spec(start="0 22 * * *", end="15 22 * * *")
    assert node_schedule.steps(spec) == []
    assert "too short" in node_schedule.plan(spec)[0].kept_because


def test_plan_shows_local_times_and_node_counts():
    lines = plan_lines(night_spec())
    i = lines.index("baseline node group schedule (EventBridge Scheduler → eks:UpdateNodegroupConfig, local time):")
    assert lines[i + 1] == (
        "  night: 22:10 America/New_York (cron '10 22 * * 1-5') → 0 nodes (10 min after the "
        "window starts: KEDA cooldown + pod termination grace)"
    )
    assert lines[i + 2] == (
        "         05:50 America/New_York (cron '50 5 * * 2-6') → 2 nodes (10 min before the "
        "window ends, with the day baseline's KEDA cron)"
    )


# --- daylight saving: the schedules fire at local time, with the window ------------------------------------------


@pytest.mark.parametrize("change", [datetime(2026, 3, 8), datetime(2026, 11, 1)], ids=["spring", "autumn"])
def test_schedules_fire_at_local_time_with_the_window_across_new_york_dst(change):
    spec = night_spec(start="0 22 * * *", end="0 6 * * *")
    evening, morning = node_schedule.steps(spec)
    tz = zone("America/New_York")
    since, until = (change - timedelta(days=2)).replace(tzinfo=tz), (change + timedelta(days=2)).replace(tzinfo=tz)
    (window,) = spec.schedules
    starts, ends = Cron(window.start, window.timezone), Cron(window.end, window.timezone)
    offsets = set()
    for fired in evening.cron.firings(since, until):
        assert (fired.hour, fired.minute) == (22, 10)
        began = starts.firings(fired - timedelta(hours=1), fired)[-1]
        assert fired.astimezone(UTC) - began.astimezone(UTC) == timedelta(minutes=10)
        offsets.add(fired.utcoffset())
    for fired in morning.cron.firings(since, until):
        assert (fired.hour, fired.minute) == (5, 50)
        ends_at = ends.next_after(fired)
        assert ends_at.astimezone(UTC) - fired.astimezone(UTC) == timedelta(minutes=10)
        offsets.add(fired.utcoffset())
    assert len(offsets) == 2  # both sides of the change were walked


# --- cost: idle nodes are billed ---------------------------------------------------------------------------------


def test_on_demand_nodes_are_not_billed_at_night_reserved_ones_are():
    scheduled = cost_report(night_spec(start="0 22 * * *", end="0 6 * * *"))
    reserved = cost_report(night_spec({**ON_DEMAND, "purchase": "reserved"}, start="0 22 * * *", end="0 6 * * *"))
    node_hour = hourly("g6e.12xlarge", "eks", "on-demand").usd_per_hour
    # 2 nodes for 16 of 24 hours (the hourly week counts the window from 22:00 to 06:00)
    assert scheduled.baseline_per_month_usd == pytest.approx(2 * node_hour * 16 / 24 * HOURS_PER_MONTH, abs=0.05)
    # reserved: billed every hour of the month although KEDA scales its pods to zero at night
    assert reserved.baseline_per_month_usd == pytest.approx(reserved.baseline_usd_per_hour * HOURS_PER_MONTH, rel=1e-6)
    night_hours = [h for h in reserved.week if h.window == "night"]
    assert night_hours and all(h.baseline_replicas == 0 for h in night_hours)


def test_without_the_schedule_an_on_demand_group_is_billed_all_night():
    keeps_all = night_spec(start="0 22 * * *", end="0 6 * * *", downsize={"min_replicas": 2, "max_replicas": 4})
    report = cost_report(keeps_all)
    assert all(h.baseline_usd == report.week[0].baseline_usd > 0 for h in report.week)


# --- Pulumi: resources, parents, inputs, IAM -----------------------------------------------------------------


def _run(spec, preview: bool):
    run = run_plan(lambda: build_eks("n", spec), project="llama-infra", stack="test", preview=preview)
    names = {r.urn: r.name for r in run.resources}
    return run, {r.name: r for r in run.resources}, names


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_schedules_are_children_of_their_component_with_the_crons_inputs_and_least_privilege(preview):
    run, by_name, names = _run(night_spec(), preview)
    component = by_name["n-capacity-baseline-schedule"]
    assert component.type == "llama-infra:index:BaselineNodeSchedule"
    assert names[component.parent_urn] == "n-capacity"
    schedules = {r.name: r.inputs for r in run.of_type(SCHEDULE)}
    assert set(schedules) == {"n-capacity-baseline-schedule-night-night", "n-capacity-baseline-schedule-night-day"}
    for name in [
        *schedules,
        "n-capacity-baseline-schedule-scheduler-role",
        "n-capacity-baseline-schedule-scheduler-policy",
    ]:
        assert names[by_name[name].parent_urn] == "n-capacity-baseline-schedule", name
    evening = schedules["n-capacity-baseline-schedule-night-night"]
    morning = schedules["n-capacity-baseline-schedule-night-day"]
    assert evening["scheduleExpression"] == "cron(10 22 ? * MON-FRI *)"
    assert morning["scheduleExpression"] == "cron(50 5 ? * TUE-SAT *)"
    role_arn = "arn:aws:iam::123456789012:role/n-capacity-baseline-schedule-scheduler-role"
    for s in (evening, morning):
        assert s["scheduleExpressionTimezone"] == "America/New_York"
        assert s["flexibleTimeWindow"] == {"mode": "OFF"}
        assert s["target"]["arn"] == "arn:aws:scheduler:::aws-sdk:eks:updateNodegroupConfig"
        assert s["target"]["roleArn"] == role_arn
        assert s["target"]["retryPolicy"] == {"maximumRetryAttempts": 2, "maximumEventAgeInSeconds": 900}
    if not preview:  # the node group's name is known once it exists
        assert json.loads(evening["target"]["input"]) == {
            "ClusterName": "ml-prod",
            "NodegroupName": "n-capacity-baseline",
            "ScalingConfig": {"MinSize": 0, "MaxSize": 2, "DesiredSize": 0},
        }
        assert json.loads(morning["target"]["input"])["ScalingConfig"] == {"MinSize": 2, "MaxSize": 2, "DesiredSize": 2}
    group = by_name["n-capacity-baseline"]
    assert group.ignore_changes == ["scalingConfig.desiredSize", "scalingConfig.minSize"]
    policy = json.loads(by_name["n-capacity-baseline-schedule-scheduler-policy"].inputs["policy"])
    assert policy["Statement"] == [
        {
            "Sid": "ScaleBaselineNodeGroup",
            "Effect": "Allow",
            "Action": ["eks:UpdateNodegroupConfig"],
            "Resource": ["arn:aws:eks:us-east-1:123456789012:nodegroup/n-capacity-baseline"],
        }
    ]
    trust = json.loads(by_name["n-capacity-baseline-schedule-scheduler-role"].inputs["assumeRolePolicy"])["Statement"]
    assert trust == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "scheduler.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
        }
    ]
    capacity_outputs = next(v for k, v in run.component_outputs.items() if k.endswith("::n-capacity"))
    assert capacity_outputs["baseline_node_schedule_names"] == [
        "llama-70b-eks-night-nodes-night",
        "llama-70b-eks-night-nodes-day",
    ]


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_reserved_baseline_gets_no_schedule_and_pulumi_keeps_owning_its_minimum(preview):
    run, by_name, _ = _run(night_spec({**ON_DEMAND, "purchase": "reserved"}), preview)
    assert run.of_type(SCHEDULE) == [] and "n-capacity-baseline-schedule" not in by_name
    assert by_name["n-capacity-baseline"].ignore_changes == ["scalingConfig.desiredSize"]
    capacity_outputs = next(v for k, v in run.component_outputs.items() if k.endswith("::n-capacity"))
    assert capacity_outputs["baseline_node_schedule_names"] == []


def test_window_config_of_the_sample_runs_no_baseline_replicas():
    """The contract the schedule follows (capacity_plan.baseline_replicas_in): none in a type/model window."""
    spec = night_spec()
    assert node_schedule.nodes_in(spec, window_config(spec, spec.schedules[0])) == 0
