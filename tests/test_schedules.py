"""Cron value objects: AWS 6-field rendering, lead-time shifts, and wall-clock behaviour across DST."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llama_infra import targets
from llama_infra.capacity_plan import WEEK_START, config_at, week_plan
from llama_infra.schedules import Cron, ScheduleError, Window
from llama_infra.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("five", "aws"),
    [
        ("0 22 * * *", "cron(0 22 * * ? *)"),  # every day: day-of-week becomes '?'
        ("30 21 1 * *", "cron(30 21 1 * ? *)"),  # day-of-month set: day-of-week '?'
        ("0 22 * * 1-5", "cron(0 22 ? * MON-FRI *)"),  # weekdays: day-of-month '?', 1=MON in 5-field
        ("0 22 * * 0", "cron(0 22 ? * SUN *)"),  # 0 = Sunday ...
        ("0 22 * * 7", "cron(0 22 ? * SUN *)"),  # ... and so is 7
        ("0 8 * * 0,6", "cron(0 8 ? * SUN,SAT *)"),  # lists
        ("0 8 * * 6-7", "cron(0 8 ? * SAT-SUN *)"),
        ("0 22 * * mon-fri", "cron(0 22 ? * MON-FRI *)"),  # names, any case
        ("0 7 * * TUE,THU", "cron(0 7 ? * TUE,THU *)"),
        ("0 22 * 1-6 5", "cron(0 22 ? 1-6 FRI *)"),
    ],
)
def test_as_aws_renders_the_6_field_form_with_one_question_mark(five, aws):
    rendered = Cron(five, "UTC").as_aws()
    assert rendered == aws
    fields = rendered.removeprefix("cron(").removesuffix(")").split()
    assert len(fields) == 6 and (fields[2] == "?") != (fields[4] == "?")
    assert Cron(five, "UTC").as_kubernetes() == five


def test_setting_both_day_fields_is_an_error_with_a_fix():
    with pytest.raises(ScheduleError) as e:
        Cron("0 22 1 * 1-5", "UTC")
    assert "both day-of-month and day-of-week" in e.value.problem and e.value.fix == "set one of them to '*'"


@pytest.mark.parametrize(
    ("expression", "fix", "aws"),
    [
        ("0 22 ? * MON-FRI *", "write '0 22 * * MON-FRI'", "cron(0 22 ? * MON-FRI *)"),
        ("0 22 ? * 2-6 *", "write '0 22 * * 1-5'", "cron(0 22 ? * MON-FRI *)"),  # AWS 2-6 = MON-FRI (1=SUN)
        ("0 7 1 * ? *", "write '0 7 1 * *'", "cron(0 7 1 * ? *)"),
    ],
)
def test_a_6_field_aws_cron_is_rejected_with_its_5_field_translation(expression, fix, aws):
    with pytest.raises(ScheduleError) as e:
        Cron(expression, "UTC")
    assert e.value.fix == fix
    translated = fix.removeprefix("write '").removesuffix("'")
    assert Cron(translated, "UTC").as_aws() == aws  # the translation renders back to what the user meant


def test_invalid_cron_names_the_field():
    with pytest.raises(ScheduleError, match=r"hour '25' must be 0–23"):
        Cron("0 25 * * *", "UTC")


def test_unknown_timezone_suggests_the_right_spelling():
    with pytest.raises(ScheduleError) as e:
        Cron("0 22 * * *", "Europe/Berln")
    assert e.value.fix == "did you mean 'Europe/Berlin'?"


def _shift_holds(original: Cron, shifted: Cron, minutes: int) -> None:
    since = datetime(2026, 1, 5, tzinfo=ZoneInfo(original.timezone))
    first = original.firings(since + timedelta(days=1), since + timedelta(days=15))
    second = shifted.firings(
        since + timedelta(days=1) - timedelta(minutes=minutes), since + timedelta(days=15) - timedelta(minutes=minutes)
    )
    assert [t - timedelta(minutes=minutes) for t in first] == second


@pytest.mark.parametrize(
    ("expression", "minutes", "expected"),
    [
        ("0 22 * * *", 30, "30 21 * * *"),
        ("15 0 * * 1-5", 30, "45 23 * * 0-4"),  # across midnight: Monday 00:15 → Sunday 23:45
        ("0 0 * * 0", 60, "0 23 * * 6"),  # Sunday → Saturday
        ("0 0 * * MON,WED", 60, "0 23 * * 0,2"),
        ("10 0 * * 0-2", 20, "50 23 * * 6,0-1"),  # a range that wraps around the week
        ("10 0 * * 1-3", 20, "50 23 * * 0-2"),
        ("10 0 * * 0-1", 20, "50 23 * * 6,0"),
    ],
)
def test_shifted_earlier_moves_time_and_day_of_week(expression, minutes, expected):
    original = Cron(expression, "America/New_York")
    shifted = original.shifted_earlier(minutes)
    assert shifted.expression == expected and shifted.timezone == "America/New_York"
    _shift_holds(original, shifted, minutes)


def test_shifted_earlier_refuses_what_it_cannot_shift():
    with pytest.raises(ScheduleError, match="day-of-month"):
        Cron("0 0 1 * *", "UTC").shifted_earlier(30)
    with pytest.raises(ScheduleError, match="fixed minute and hour"):
        Cron("*/15 22 * * *", "UTC").shifted_earlier(5)


@pytest.mark.parametrize(
    ("expression", "minutes", "expected"),
    [
        ("0 22 * * *", 10, "10 22 * * *"),
        ("50 23 * * 1-5", 30, "20 0 * * 2-6"),  # across midnight: Monday 23:50 → Tuesday 00:20
        ("0 23 * * 6", 60, "0 0 * * 0"),  # Saturday → Sunday
        ("0 23 * * MON,WED", 90, "30 0 * * 2,4"),
        ("50 23 * * 5-6", 20, "10 0 * * 6,0"),  # a range that wraps around the week
        ("30 23 * * 0-6", 45, "15 0 * * 0-6"),  # the whole week stays the whole week
        ("30 23 * * 0-7", 45, "15 0 * * 0-6"),
        ("0 6 1 * *", 15, "15 6 1 * *"),  # day-of-month, same day
    ],
)
def test_shifted_later_moves_time_and_day_of_week(expression, minutes, expected):
    original = Cron(expression, "America/New_York")
    shifted = original.shifted_later(minutes)
    assert shifted.expression == expected and shifted.timezone == "America/New_York"
    _shift_holds(original, shifted, -minutes)


def test_shifted_later_refuses_what_it_cannot_shift():
    with pytest.raises(ScheduleError) as e:
        Cron("55 23 1 * *", "UTC").shifted_later(10)
    assert e.value.problem == (
        "cron '55 23 1 * *' is a day-of-month schedule and firing 10 min later crosses midnight into another day"
    )
    assert e.value.fix == "start the window at 23:50 or earlier, or use day-of-week instead of day-of-month"
    with pytest.raises(ScheduleError, match="fixed minute and hour"):
        Cron("*/15 22 * * *", "UTC").shifted_later(5)
    with pytest.raises(ScheduleError, match="cannot be moved to another day"):
        Cron("50 23 * * 1-5/2", "UTC").shifted_later(20)


_DOW = st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True).map(lambda ds: ",".join(map(str, sorted(ds))))


@settings(max_examples=60, deadline=None)
@given(
    minute=st.integers(0, 59),
    hour=st.integers(0, 23),
    dow=st.one_of(
        st.just("*"),
        _DOW,
        st.tuples(st.integers(0, 6), st.integers(0, 6)).filter(lambda t: t[0] < t[1]).map(lambda t: f"{t[0]}-{t[1]}"),
    ),
    minutes=st.integers(0, 2 * 24 * 60),
)
def test_shifted_later_fires_exactly_minutes_later_and_shifted_earlier_undoes_it(minute, hour, dow, minutes):
    original = Cron(f"{minute} {hour} * * {dow}", "UTC")
    later = original.shifted_later(minutes)
    _shift_holds(original, later, -minutes)
    back = later.shifted_earlier(minutes)
    since = datetime(2026, 1, 5, tzinfo=UTC)
    assert back.firings(since, since + timedelta(days=15)) == original.firings(since, since + timedelta(days=15))


# DST transitions in 2026: New York 8 Mar (spring) / 1 Nov (fall); Berlin 29 Mar / 25 Oct.
TRANSITIONS = [
    ("America/New_York", datetime(2026, 3, 8)),
    ("America/New_York", datetime(2026, 11, 1)),
    ("Europe/Berlin", datetime(2026, 3, 29)),
    ("Europe/Berlin", datetime(2026, 10, 25)),
]


@pytest.mark.parametrize(("tz", "day"), TRANSITIONS, ids=lambda v: str(v)[:10])
def test_a_22_00_window_fires_at_22_00_local_on_both_sides_of_a_dst_change(tz, day):
    zone = ZoneInfo(tz)
    start = Cron("0 22 * * *", tz)
    firings = start.firings(
        (day - timedelta(days=3)).replace(tzinfo=zone), (day + timedelta(days=3)).replace(tzinfo=zone)
    )
    assert len(firings) == 6
    assert all((t.hour, t.minute) == (22, 0) for t in firings)
    offsets = {t.utcoffset() for t in firings}
    assert len(offsets) == 2  # the same wall-clock time on both sides, so two different UTC offsets
    utc_hours = [t.astimezone(UTC).hour for t in firings]
    assert len(set(utc_hours)) == 2


@pytest.mark.parametrize(
    ("tz", "day", "night_hours"),
    [
        ("America/New_York", datetime(2026, 3, 8), 8),  # clocks jump forward during the night: 9 h → 8 h
        ("America/New_York", datetime(2026, 11, 1), 10),  # clocks fall back: 9 h → 10 h
        ("Europe/Berlin", datetime(2026, 3, 29), 8),
        ("Europe/Berlin", datetime(2026, 10, 25), 10),
    ],
)
def test_window_durations_are_real_hours_across_dst(tz, day, night_hours):
    zone = ZoneInfo(tz)
    window = Window(Cron("0 22 * * *", tz), Cron("0 7 * * *", tz))
    occ = window.occurrences(
        (day - timedelta(days=2)).replace(tzinfo=zone), (day + timedelta(days=2)).replace(tzinfo=zone)
    )
    hours = {b.astimezone(zone).date(): (f - b).total_seconds() / 3600 for b, f in occ}
    transition_night = (day - timedelta(days=1)).date()
    assert hours[transition_night] == night_hours
    assert all(h == 9 for d, h in hours.items() if d != transition_night)
    assert all(b.tzinfo == UTC for b, _ in occ)


def test_window_active_at_is_inclusive_of_start_and_exclusive_of_end():
    window = Window(Cron("0 22 * * *", "Europe/Berlin"), Cron("0 7 * * *", "Europe/Berlin"))
    berlin = ZoneInfo("Europe/Berlin")
    assert window.active_at(datetime(2026, 6, 1, 22, 0, tzinfo=berlin))
    assert window.active_at(datetime(2026, 6, 2, 6, 59, tzinfo=berlin))
    assert not window.active_at(datetime(2026, 6, 2, 7, 0, tzinfo=berlin))
    assert not window.active_at(datetime(2026, 6, 1, 21, 59, tzinfo=berlin))


@pytest.mark.parametrize("name", ["prod"])
def test_week_plan_puts_every_hour_in_the_window_config_at_says(name):
    spec = load_spec(ROOT / f"stacks/specs/{name}.yaml")
    start = WEEK_START.replace(tzinfo=ZoneInfo(spec.schedules[0].timezone))
    week = week_plan(spec, tuple([0.5] * 24), targets.get(spec.target).billing_units(spec))
    assert [h.window for h in week] == [
        config_at(spec, start + timedelta(hours=h, minutes=30)).window for h in range(168)
    ]
    assert sum(h.window is not None for h in week) > 0


def test_cached_firings_keep_zone_and_fold_apart():
    """next_after is cached by (cron, zone, instant): one instant in two zones, and the repeated hour of a
    fall-back night (01:30 EDT and 01:30 EST, equal as wall clocks), each get croniter's own answer."""
    from croniter import croniter

    instant = datetime(2026, 6, 1, 12, tzinfo=UTC)
    ny, utc = Cron("0 22 * * *", "America/New_York"), Cron("0 22 * * *", "UTC")
    assert ny.next_after(instant).astimezone(UTC) - utc.next_after(instant) == timedelta(hours=4)
    zone = ZoneInfo("America/New_York")
    hourly = Cron("45 * * * *", "America/New_York")
    for fold in (0, 1):
        local = datetime(2026, 11, 1, 1, 30, tzinfo=zone, fold=fold)
        assert hourly.next_after(local) == croniter("45 * * * *", local).get_next(datetime)
        assert hourly.next_after(local).utcoffset() == croniter("45 * * * *", local).get_next(datetime).utcoffset()
