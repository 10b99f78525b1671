"""The predictive floor as schedule steps: grouped hours, crons in the plan timezone, the weekend reset."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from llama_infra.scaling.floor_schedule import floor_schedule, steps_of
from llama_infra.slo_targets import FloorHour, predictive_floor
from llama_infra.spec import parse_spec

SPEC = """
name: llama-70b-floor
target: sagemaker
model: {id: meta-llama/Llama-3.1-70B-Instruct, params_b: 70, precision: fp16,
        weights: {source: "s3://bucket/llama-70b/"}}
slo: {ttft_p99_ms: 1500, tokens_per_s_per_user: 20}
capacity:
  baseline: {instance_type: ml.p4d.24xlarge, count: 1, purchase: reserved}
  burst: {max: 30}
"""
RAMP = [0.05] * 9 + [1.0] * 10 + [0.05] * 5  # a ramp at 09:00, down at 19:00
WINDOW = """schedules:
  - name: overnight
    timezone: America/New_York
    start: "0 22 * * *"
    end: "0 6 * * *"
    downsize: {min_replicas: 1, max_replicas: 2}
"""


def ramp_spec(extra: str = ""):
    return parse_spec(SPEC + extra + f"load: {{peak_requests_per_second: 10, daily_shape: {RAMP}}}\n")


def test_steps_group_equal_hours_and_cover_the_day_from_midnight():
    floor = [FloorHour(h, "day", 2 if h < 7 or h >= 20 else 5) for h in range(24)]
    steps = steps_of(floor, "UTC")
    assert [(s.start_hour, s.end_hour, s.min_replicas) for s in steps] == [(0, 7, 2), (7, 20, 5), (20, 24, 2)]
    assert steps[1].start.as_aws() == "cron(0 7 ? * MON-FRI *)"
    assert steps[1].end.as_aws() == "cron(0 20 ? * MON-FRI *)"
    assert steps[2].end.as_aws() == "cron(0 0 ? * TUE-SAT *)"  # midnight after a weekday


def test_the_schedule_is_the_predictive_floor_hour_by_hour_on_weekdays_and_none_at_weekends():
    spec = ramp_spec()
    sched = floor_schedule(spec)
    floor = predictive_floor(spec)
    assert sched is not None and sched.timezone == "UTC" and len(sched.steps) >= 2
    for day in range(7):
        for f in floor:
            assert sched.at(day, f.hour) == (f.min_replicas if day < 5 else None)
    assert sched.weekend_reset.as_aws() == "cron(0 0 ? * SAT *)"


def test_steps_fire_at_the_same_local_hour_across_daylight_saving():
    sched = floor_schedule(ramp_spec(WINDOW))
    assert sched is not None and sched.timezone == "America/New_York"
    rise = next(s for s in sched.steps if s.min_replicas == sched.highest)
    for monday in (datetime(2026, 1, 5), datetime(2026, 7, 6)):  # EST, then EDT
        local = ZoneInfo("America/New_York")
        (fired,) = rise.start.firings(monday.replace(tzinfo=local), (monday + timedelta(days=1)).replace(tzinfo=local))
        assert (fired.hour, fired.minute) == (rise.start_hour, 0)
        assert fired.astimezone(ZoneInfo("UTC")).hour == (rise.start_hour + (5 if monday.month == 1 else 4)) % 24


def test_no_schedule_without_a_stated_peak_or_when_the_floor_never_rises_above_the_minimum():
    assert floor_schedule(parse_spec(SPEC)) is None
    flat = parse_spec(SPEC + "load: {peak_requests_per_second: 0.01}\n")  # one replica carries it all day
    assert all(f.min_replicas == flat.min_replicas for f in predictive_floor(flat))
    assert floor_schedule(flat) is None
