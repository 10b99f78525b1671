"""The daily load shape a spec's capacity is planned for: 24 hourly fractions of the peak in the plan timezone.

One definition, read by the cost report (`pricing.cost_report`), the SLO limits and the predictive floor
(`slo_envelope`, `slo_targets`) and the simulator's spec policy:

- a stated `load.daily_shape` is already in the plan timezone (the first schedule's, UTC without schedules) and is
  used as written;
- the default is the weekday profile of the shared Azure LLM 2024 coding week (`pricing.default_daily_shape`),
  which is recorded in **UTC**: it is moved into the plan timezone by that zone's UTC offset on the day asked for
  (`on`, default the plan week's Monday, `capacity_plan.WEEK_START`), so its busiest hour stays at the instant the
  trace has it — the instant the simulator's shared week replays it. Under daylight saving the offset changes by an
  hour, and so does the local hour of the default shape's ramps; offsets of a fraction of an hour round to the
  nearest hour.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec


def utc_offset_hours(timezone: str, on: date | None = None) -> int:
    """Whole hours the zone is ahead of UTC at noon on `on` (New York in January: −5; in May: −4)."""
    from llama_infra.capacity_plan import WEEK_START
    from llama_infra.schedules import zone

    noon = datetime.combine(on or WEEK_START.date(), time(12), tzinfo=zone(timezone))
    offset = noon.utcoffset()
    return round(offset.total_seconds() / 3600) if offset is not None else 0


def daily_shape(spec: DeploymentSpec, on: date | None = None) -> tuple[float, ...]:
    """Load by local hour (0–23) of the plan timezone as a fraction of the peak (see the module docstring)."""
    if spec.load.daily_shape:
        return tuple(spec.load.daily_shape)
    from llama_infra.capacity_plan import plan_timezone
    from llama_infra.pricing import default_daily_shape

    utc = default_daily_shape()
    offset = utc_offset_hours(plan_timezone(spec), on)
    return tuple(utc[(h - offset) % 24] for h in range(24))
