"""Spec rules for downsizing windows where a switch replaces the fleet (`TargetFacts.window_switch_replaces_fleet`:
SageMaker's classic variants): long enough and far enough apart for a blue/green switch.

A switch on SageMaker is a blue/green UpdateEndpoint: the new fleet comes up (provisioning + the model's cold start,
`capacity_timeline.switch_time_s`), then bakes under the rollback alarms and keeps the old fleet a while
(`blue_green.bake_s`). The morning switch starts early by the day's lead time. So within a window the night
configuration has `duration − day lead` to come up and bake, and between two windows the day configuration has
`gap + day lead`; a shorter stretch means the next switch begins before this one is done.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING

from llama_infra import target_facts
from llama_infra.schedules import Cron, ScheduleError, Window, dst_check_years, offset_changes, zone
from llama_infra.spec.errors import SpecIssue

if TYPE_CHECKING:
    from llama_infra.spec.model import DeploymentSpec

_CHECK_DAYS = 14
# Overlap of schedule windows is checked over two weeks from a fixed instant: plans must not depend on today.
SCHEDULE_CHECK_FROM = datetime(2026, 1, 5, tzinfo=UTC)


def same_firings(a: Cron, b: Cron, count: int = 60) -> bool:
    """Two differently written crons that fire at the same instants (e.g. '0 22 * * *' and '00 22 * * *')."""
    ta = tb = SCHEDULE_CHECK_FROM
    for _ in range(count):
        ta, tb = a.next_after(ta), b.next_after(tb)
        if ta != tb:
            return False
    return True


def _minutes(seconds: float) -> int:
    return math.ceil(seconds / 60)


def _windows(spec: DeploymentSpec) -> list[tuple[int, Window]]:
    """The windows whose crons are valid and not empty (the schedule rules report the others)."""
    out = []
    for i, s in enumerate(spec.schedules):
        try:
            start, end = Cron(s.start, s.timezone), Cron(s.end, s.timezone)
        except ScheduleError:
            continue
        if not same_firings(start, end):
            out.append((i, Window(start, end)))
    return out


def _sampled_occurrences(window: Window, since: datetime, zones: tuple[str, ...]) -> list[tuple[datetime, datetime]]:
    """The window's occurrences in the _CHECK_DAYS from `since`, and around every daylight-saving change of the
    spec's zones in the years the DST checks scan (`schedules.dst_check_years`): a night that loses an hour to the
    change is the shortest of its year, and a zone's rules (or a day-of-month cron's weekday) differ by year."""
    spans = [(since, since + timedelta(days=_CHECK_DAYS))]
    for name in zones:
        for year in dst_check_years(since.year):
            spans += [(c.at - timedelta(days=1), c.at + timedelta(days=1)) for c in offset_changes(zone(name), year)]
    found: set[tuple[datetime, datetime]] = set()
    for lo, hi in spans:
        found.update(window.occurrences(lo, hi))
    return sorted(found)


def window_timing(spec: DeploymentSpec, since: datetime) -> list[SpecIssue]:
    """Windows shorter than a switch, and day stretches between windows shorter than the way back (SageMaker
    windows the workflow switches: classic variants, not scale to zero)."""
    if (
        not target_facts.of(spec.target).window_switch_replaces_fleet
        or spec.scaling.scale_to_zero
        or not spec.schedules
    ):
        return []
    from llama_infra.blue_green import bake_s
    from llama_infra.capacity_plan import day_config, window_config
    from llama_infra.capacity_timeline import lead_time_minutes, switch_time_s

    lead_min = lead_time_minutes(spec)
    bake_min = _minutes(bake_s())
    day_update_min = _minutes(switch_time_s(spec, day_config(spec)))
    windows = _windows(spec)
    zones = tuple(sorted({w.start.tz.key for _i, w in windows} | {w.end.tz.key for _i, w in windows}))
    out: list[SpecIssue] = []
    occurrences: list[tuple[datetime, datetime, int]] = []
    for i, window in windows:
        s = spec.schedules[i]
        night_update_min = _minutes(switch_time_s(spec, window_config(spec, s)))
        need_min = lead_min + night_update_min + bake_min
        occ = _sampled_occurrences(window, since, zones)
        occurrences += [(b, f, i) for b, f in occ]
        if not occ:
            continue
        begin, finish = min(occ, key=lambda o: o[1] - o[0])
        length_min = round((finish - begin).total_seconds() / 60)
        if length_min < need_min:
            local = begin.astimezone(window.start.tz)
            wall_min = round(
                (finish.astimezone(window.start.tz).replace(tzinfo=None) - local.replace(tzinfo=None)).total_seconds()
                / 60
            )
            dst = wall_min > length_min
            when = (
                (
                    f"{local:%a} {local.day} {local:%b %Y %H:%M} {s.timezone}, when a daylight-saving "
                    f"change takes {wall_min - length_min} min from it"
                )
                if dst
                else f"{local:%a %H:%M} {s.timezone}"
            )
            at_least = (
                (
                    f"{need_min + wall_min - length_min} min (wall clock) after it starts, so that the "
                    f"daylight-saving night still lasts {need_min} min"
                )
                if dst
                else f"{need_min} min after it starts"
            )
            out.append(
                SpecIssue(
                    ("schedules", i, "end"),
                    f"window '{s.name}' lasts {length_min} min (e.g. {when}), shorter than a "
                    f"switch: the switch back to the day configuration starts {lead_min} min before the end, and the "
                    f"window's configuration needs {night_update_min} min to come up + {bake_min} min of blue/green "
                    f"bake before that, {need_min} min in all",
                    f"end the window at least {at_least}, or remove it",
                )
            )
    occurrences.sort()
    need_gap_min = max(0, day_update_min + bake_min - lead_min)
    reported: set[tuple[int, int]] = set()
    for (_b1, f1, i1), (b2, _f2, i2) in pairwise(occurrences):
        gap_min = round((b2 - f1).total_seconds() / 60)
        if gap_min >= need_gap_min or (i1, i2) in reported or gap_min < 0:
            continue  # overlaps are reported by the overlap rule
        reported.add((i1, i2))
        a, b = spec.schedules[i1], spec.schedules[i2]
        tz = Cron(b.start, b.timezone).tz
        out.append(
            SpecIssue(
                ("schedules", i2, "start"),
                f"window '{b.name}' starts {gap_min} min after '{a.name}' ends (e.g. {f1.astimezone(tz):%a %H:%M}–"
                f"{b2.astimezone(tz):%H:%M} {b.timezone}): the day configuration, asked for {lead_min} min before "
                f"that end, needs {day_update_min} min to come up + {bake_min} min of blue/green bake, so the next "
                f"window may start {need_gap_min} min after the end at the earliest",
                f"start '{b.name}' at least {need_gap_min} min after '{a.name}' ends, or merge the two windows",
            )
        )
    return out
