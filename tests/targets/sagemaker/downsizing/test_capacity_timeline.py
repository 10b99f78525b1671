"""Schedules in local time across daylight-saving changes, cron per service, lead time and the 24-hour timeline."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

from llama_infra import capacity_timeline, targets
from llama_infra.capacity_plan import window_of
from llama_infra.capacity_timeline import lead_time_minutes, render, transitions, wake_up_s
from llama_infra.spec import load_spec, parse_spec
from llama_infra.targets import cost_report

ROOT = Path(__file__).resolve().parents[4]
UTC = UTC


def aws_cron_firings(expression: str, tz: str, start: datetime, end: datetime) -> list[datetime]:
    """An independent reading of EventBridge Scheduler's `cron(min hour dom month dow year)` in an IANA zone.

    Day-of-week arrives as names (SUN..SAT) or `?`; the year must be `*`. Evaluated in local wall-clock time.
    """
    m = re.fullmatch(r"cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)", expression)
    assert m, expression
    minute, hour, dom, month, dow, year = m.groups()
    assert year == "*" and "?" in (dom, dow) and (dom, dow) != ("?", "?")
    five = " ".join([minute, hour, "*" if dom == "?" else dom, month, "*" if dow == "?" else dow])
    it = croniter(five, start.astimezone(ZoneInfo(tz)))
    out = []
    while (t := it.get_next(datetime)) < end:
        out.append(t)
    return out


SPEC = """
name: llama-70b-{zone_slug}
target: sagemaker
model: {{id: meta-llama/Llama-3.1-70B-Instruct, params_b: 70, precision: fp16,
        weights: {{source: s3://weights/llama-70b/, preload: nvme}}}}
capacity:
  baseline: {{instance_type: ml.p4d.24xlarge, count: 2}}
  burst: {{max: 4}}
schedules:
  - name: overnight
    timezone: {zone}
    start: "0 22 * * *"
    end: "0 7 * * *"
    downsize: {{instance_type: ml.g6e.12xlarge, model_override: {{precision: awq}}, min_replicas: 2, max_replicas: 3}}
"""

# (zone, a date before and after each change): spring forward and fall back of 2026.
DST_CHANGES = [
    ("America/New_York", "2026-03-08", "spring"),
    ("America/New_York", "2026-11-01", "fall"),
    ("Europe/Berlin", "2026-03-29", "spring"),
    ("Europe/Berlin", "2026-10-25", "fall"),
]


def timeline(spec, now):
    """The plan's timeline of `spec` at `now`, with its target's cost and facts (as `llama-infra plan` builds it)."""
    return capacity_timeline.timeline(
        spec, now, cost=cost_report(spec), facts=targets.get(spec.target).timeline_facts(spec)
    )


@pytest.mark.parametrize(("zone", "day", "change"), DST_CHANGES, ids=[f"{z}-{c}" for z, _, c in DST_CHANGES])
def test_schedules_fire_at_the_intended_local_time_across_daylight_saving(zone: str, day: str, change: str):
    spec = parse_spec(SPEC.format(zone=zone, zone_slug=zone.split("/")[1].lower().replace("_", "-")))
    lead = lead_time_minutes(spec)
    center = datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(zone))
    start, end = center - timedelta(days=3), center + timedelta(days=3)
    by_direction = {t.direction: t for t in transitions(spec)}
    night = aws_cron_firings(by_direction["night"].cron.as_aws(), by_direction["night"].cron.timezone, start, end)
    morning = aws_cron_firings(by_direction["day"].cron.as_aws(), by_direction["day"].cron.timezone, start, end)
    assert len(night) == 6 and len(morning) == 6
    assert {(t.hour, t.minute) for t in night} == {(22, 0)}
    assert {(t.hour, t.minute) for t in morning} == {(6, 60 - lead)}  # 07:00 minus the lead time, local
    # the UTC instant moves by an hour across the change, in the right direction
    offsets = [t.utcoffset() for t in night]
    assert len(set(offsets)) == 2
    assert (offsets[-1] > offsets[0]) == (change == "spring")
    # the night across the change is an hour shorter (spring) or longer (fall) in real time
    window = window_of(spec.schedules[0])
    lengths = {round((f - b).total_seconds() / 3600) for b, f in window.occurrences(start, end) if b >= start}
    assert lengths == ({9, 8} if change == "spring" else {9, 10})


def test_each_service_gets_its_own_cron_form():
    spec = parse_spec(
        SPEC.format(zone="America/New_York", zone_slug="ny")
        .replace('"0 22 * * *"', '"0 23 * * 1-5"')
        .replace('"0 7 * * *"', '"30 0 * * 2-6"')
    )  # 90 min: room for a switch
    by_direction = {t.direction: t for t in transitions(spec)}
    night, day = by_direction["night"].cron, by_direction["day"].cron
    # Kubernetes / KEDA / Karpenter: 5 fields, numeric day-of-week as written
    assert night.as_kubernetes() == "0 23 * * 1-5"
    # EventBridge Scheduler / Application Auto Scaling: 6 fields, `?` for the unused day field, named days
    assert night.as_aws() == "cron(0 23 ? * MON-FRI *)"
    # the morning run moves 15 minutes earlier, across midnight: one day earlier too
    assert lead_time_minutes(spec) == 15
    assert day.as_kubernetes() == "15 0 * * 2-6"
    assert by_direction["day"].lead_time_minutes == 15
    late = parse_spec(SPEC.format(zone="UTC", zone_slug="utc").replace('"0 7 * * *"', '"5 0 * * 1-5"'))
    shifted = {t.direction: t for t in transitions(late)}["day"].cron
    assert shifted.as_kubernetes() == "50 23 * * 0-4"
    assert shifted.as_aws() == "cron(50 23 ? * SUN-THU *)"


def test_timeline_shows_the_day_in_local_time_the_next_transitions_and_the_saving():
    spec = load_spec(ROOT / "stacks/specs/prod.yaml")
    now = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # 06:00 in New York
    tl = timeline(spec, now)
    assert [(s.start.strftime("%H:%M"), s.end.strftime("%H:%M"), s.config.window) for s in tl.segments] == [
        ("00:00", "07:00", "overnight"),
        ("07:00", "22:00", None),
        ("22:00", "00:00", "overnight"),
    ]
    assert sum(s.hours for s in tl.segments) == 24
    assert [(u.at.isoformat(), u.transition.direction) for u in tl.upcoming] == [
        ("2026-11-23T06:45:00-05:00", "day"),
        ("2026-11-23T22:00:00-05:00", "night"),
        ("2026-11-24T06:45:00-05:00", "day"),
        ("2026-11-24T22:00:00-05:00", "night"),
    ]
    report = cost_report(spec)
    assert tl.schedule_saving_per_month_usd == pytest.approx(report.schedule_saving_per_month_usd, abs=0.01)
    assert tl.schedule_saving_per_month_usd >= 0  # a Savings Plan baseline is billed whatever runs at night
    text = "\n".join(render(tl))
    assert "Mon 2026-11-23 06:45 EST (11:45 UTC)" in text and "starts 15 min early" in text
    assert f"the schedule saves {report.schedule_saving_per_month_usd:,.2f} USD" in text


@pytest.mark.parametrize(("day", "hours"), [("2026-03-08", 23), ("2026-11-01", 25)])
def test_timeline_of_a_daylight_saving_day_has_its_real_length(day: str, hours: int):
    spec = load_spec(ROOT / "stacks/specs/prod.yaml")
    tl = timeline(spec, datetime.fromisoformat(day).replace(hour=12, tzinfo=ZoneInfo("America/New_York")))
    assert sum(s.hours for s in tl.segments) == hours
    assert [s.config.window for s in tl.segments] == ["overnight", None, "overnight"]


def test_a_spec_without_schedules_runs_the_day_configuration_all_day():
    spec = load_spec(ROOT / "stacks/specs/dev.yaml")
    tl = timeline(spec, datetime(2026, 11, 23, 11, 0, tzinfo=UTC))
    assert len(tl.segments) == 1 and tl.segments[0].config.window is None and tl.segments[0].hours == 24
    assert tl.upcoming == [] and tl.schedule_saving_per_month_usd == 0
    assert "00:00–24:00" in render(tl)[1]


def test_scale_to_zero_states_the_wake_up_cost():
    spec = parse_spec("""
name: llama-8b-dev
target: sagemaker
model: {id: meta-llama/Llama-3.1-8B-Instruct, params_b: 8, weights: {source: s3://weights/llama-8b/}}
capacity: {baseline: {instance_type: ml.g5.2xlarge, count: 0}, burst: {max: 2}}
scaling: {scale_to_zero: true, min_replicas: 0}
""")
    low, high = wake_up_s(spec)
    assert 300 < low < high <= 900  # minutes, not seconds: provisioning dominates an 8B model's cold start
    tl = timeline(spec, datetime(2026, 11, 23, 11, 0, tzinfo=UTC))
    assert tl.wake_up_s == (low, high)
    assert f"≈{low / 60:.0f}–{high / 60:.0f} min" in render(tl)[-1]
    assert render(tl)[-1].endswith(
        "(instance + model cold start); meanwhile requests fail with NoCapacityInvocationFailures"
    )


def test_scale_to_zero_on_eks_says_the_router_answers_while_it_wakes():
    spec = load_spec(ROOT / "stacks/specs/dev-eks.yaml")
    tl = timeline(spec, datetime(2026, 11, 23, 11, 0, tzinfo=UTC))
    assert tl.wake_up_s is not None
    assert render(tl)[-1].endswith("(GPU node + model cold start); meanwhile the router answers 503 + Retry-After")
    assert "NoCapacityInvocationFailures" not in "\n".join(render(tl))  # a SageMaker metric, not on EKS
