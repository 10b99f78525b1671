"""The predictive floor as a schedule both targets render: the hours at which the minimum capacity changes.

`slo_targets.predictive_floor` gives, for each local hour of a weekday (Monday–Friday, plan timezone), the replicas
that must be warm from the start of that hour; on Saturday and Sunday there is no floor (the simulator's
`slo_targets.floor_at`). This module groups equal hours into **steps** — each with the cron at which it starts and the
one at which it ends, in the plan timezone, so daylight saving moves them with the local clock — and adds the
**weekend reset** (Saturday 00:00 back to the configuration's own minimum). The first step always starts at 00:00,
so Monday morning leaves the weekend even when Friday's last hour has the same floor as Monday's first.

Renderers (translate only):
- SageMaker without downsizing windows: one Application Auto Scaling scheduled action per step (MinCapacity) and one
  for the weekend reset (`targets/sagemaker/components/autoscaling.py`);
- SageMaker with downsizing windows: EventBridge Scheduler schedules, one per hour, that hand the reconciler the
  floor, the hour's forecast and its capacity steps; it follows the load (`scaling.floor_follow`) and keeps
  min = min(max(configuration's min, floor), configuration's max);
- EKS: KEDA `cron` triggers (timezone, start, end, desiredReplicas) on the ScaledObjects.

Pure: no Pulumi, no target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from llama_infra.schedules import Cron

if TYPE_CHECKING:
    from llama_infra.slo_targets import FloorHour
    from llama_infra.spec import DeploymentSpec

WEEKDAYS = "1-5"  # Monday–Friday: the predictive floor's days (slo_targets.floor_at)


@dataclass(frozen=True)
class FloorStep:
    """From `start_hour` (inclusive) to `end_hour` (exclusive, 24 = midnight) on weekdays, at least
    `min_replicas` replicas are warm."""

    start_hour: int
    end_hour: int
    min_replicas: int
    timezone: str
    forecast_rps: float = 0.0  # the load the step's hour forecasts, where the floor follows it (one hour per step)
    carries_rps: tuple[float, ...] = ()  # and what 1, 2, … replicas carry then (`slo_targets.FloorHour.carries_rps`)

    @property
    def start(self) -> Cron:
        return Cron(f"0 {self.start_hour} * * {WEEKDAYS}", self.timezone)

    @property
    def end(self) -> Cron:
        """The step's end: the next step's start, or midnight after a weekday (Tuesday–Saturday 00:00)."""
        if self.end_hour >= 24:
            return Cron("0 0 * * 2-6", self.timezone)
        return Cron(f"0 {self.end_hour} * * {WEEKDAYS}", self.timezone)

    @property
    def label(self) -> str:
        """`07-10`: the local hours it covers (names of scheduled actions, KEDA trigger names)."""
        return f"{self.start_hour:02d}-{self.end_hour:02d}"


@dataclass(frozen=True)
class FloorSchedule:
    timezone: str
    steps: tuple[FloorStep, ...]

    @property
    def weekend_reset(self) -> Cron:
        """Saturday 00:00: the floor ends for the weekend (the minimum goes back to the configuration's own)."""
        return Cron("0 0 * * 6", self.timezone)

    def at(self, weekday: int, hour: int) -> int | None:
        """The floor at a local weekday (0 = Monday) and hour; None on a weekend."""
        if weekday >= 5:
            return None
        return next(s.min_replicas for s in self.steps if s.start_hour <= hour < s.end_hour)

    @property
    def highest(self) -> int:
        return max(s.min_replicas for s in self.steps)


def steps_of(floor: list[FloorHour], timezone: str, follows_load: bool = False) -> tuple[FloorStep, ...]:
    """Equal consecutive hours grouped into steps (the first starts at 00:00). Where the floor follows the load
    (`scaling.floor_follow`), every hour is a step of its own that carries the hour's forecast."""
    if follows_load:
        return tuple(
            FloorStep(f.hour, f.hour + 1, f.min_replicas, timezone, f.forecast_rps, f.carries_rps) for f in floor
        )
    out: list[FloorStep] = []
    start = 0
    for h in range(1, 25):
        if h == 24 or floor[h].min_replicas != floor[start].min_replicas:
            out.append(FloorStep(start, h, floor[start].min_replicas, timezone))
            start = h
    return tuple(out)


def floor_schedule(spec: DeploymentSpec, follows_load: bool = False) -> FloorSchedule | None:
    """The spec's predictive floor as steps in the plan timezone (one per hour, with its forecast, where the target
    renders a floor that follows the load: `steps_of`); None without one (no stated peak, an SLO out of reach, or a
    floor that never rises above the minimum of the configuration in force): the components then render what they
    did before."""
    from llama_infra.capacity_plan import plan_timezone
    from llama_infra.slo_targets import predictive_floor, rises_above_minimum

    floor = predictive_floor(spec)
    if not rises_above_minimum(spec, floor):
        return None
    tz = plan_timezone(spec)
    return FloorSchedule(tz, steps_of(floor, tz, follows_load))
