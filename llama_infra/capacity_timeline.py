"""When the serving configuration changes, and what that is worth: transitions, lead time and a 24-hour timeline.

Pure (no Pulumi): the SageMaker downsizing component renders its schedules from `transitions(spec)`, and
`llama-infra plan` shows `timeline(spec, now, cost=..., facts=...)`, given the spec's cost report and its target's
`TimelineFacts` (this module knows no target). The morning transition fires early by the lead time — the time
SageMaker needs to bring up the day fleet (provisioning + the model's cold start) — so day capacity is serving at
the day start. Scale to zero pays the cold start again on the first request after idle: `wake_up_s`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Literal, Protocol

from llama_infra import catalog, provisioning, sizing
from llama_infra.capacity_plan import Config, config_at, day_config, scales_to_zero, window_config, window_of
from llama_infra.schedules import Cron, zone

if TYPE_CHECKING:
    from collections.abc import Sequence

    from llama_infra.cost_model import CostReport
    from llama_infra.spec import DeploymentSpec

LEAD_TIME_ROUNDING_MINUTES = 5
MIN_TRANSITION_TIMEOUT_S = 1800

Direction = Literal["night", "day"]


def provisioning_s(spec: DeploymentSpec) -> float:
    """Seconds until new capacity surely exists for a replica (high estimate): a SageMaker fleet, an EKS GPU node."""
    return provisioning.for_target(spec.target).high_s


def cold_start(spec: DeploymentSpec, config: Config) -> sizing.ColdStart:
    """The replica's cold start under `config`. Only the spec's own weights are preloaded to NVMe: a window's or a
    fallback's other model downloads from the Hub (`hf://<id>`)."""
    inst = catalog.lookup(config.instance_type)
    nvme = spec.model.weights.preload == "nvme" and bool(inst and inst.has_nvme) and config.model_id == spec.model.id
    return sizing.cold_start(config.params_b, config.precision, nvme)


def switch_time_s(spec: DeploymentSpec, config: Config) -> float:
    """High estimate of the seconds until `config` serves: new capacity (a SageMaker fleet after UpdateEndpoint, an
    EKS GPU node) + the model's cold start."""
    return provisioning_s(spec) + cold_start(spec, config).total_high_s


def lead_minutes(spec: DeploymentSpec, config: Config) -> int:
    """How much earlier than its start `config` must be asked for to serve on time (rounded up to 5 minutes)."""
    step = LEAD_TIME_ROUNDING_MINUTES
    return math.ceil(switch_time_s(spec, config) / 60 / step) * step


def lead_time_minutes(spec: DeploymentSpec) -> int:
    """How much earlier than the window's end the morning transition starts: the day configuration's lead."""
    return lead_minutes(spec, day_config(spec))


def transition_timeout_s(spec: DeploymentSpec, config: Config) -> int:
    """How long the workflow waits for InService: twice the high estimate, at least 30 minutes."""
    return max(MIN_TRANSITION_TIMEOUT_S, math.ceil(2 * switch_time_s(spec, config) / 60) * 60)


def switch_budget_s(spec: DeploymentSpec, config: Config) -> int:
    """How long a switch to `config` may take before the downsizing workflow alarms: the transition timeout (twice
    the switch time, at least 30 minutes) plus the blue/green bake and old-fleet wait."""
    from llama_infra.blue_green import bake_s

    return transition_timeout_s(spec, config) + bake_s()


def wake_up_s(spec: DeploymentSpec) -> tuple[float, float]:
    """Scale to zero: (low, high) seconds the first request after idle waits for capacity and the model, over every
    configuration that may run no replica (the day, or a window with minimum 0)."""
    empty = [c for c in [day_config(spec), *(window_config(spec, s) for s in spec.schedules)] if c.min_replicas == 0]
    colds = [cold_start(spec, c) for c in empty or [day_config(spec)]]
    delay = provisioning.for_target(spec.target)
    return (min(c.total_low_s for c in colds) + delay.typical_s, max(c.total_high_s for c in colds) + delay.high_s)


@dataclass(frozen=True)
class Transition:
    """One scheduled switch: at `cron` (local time, lead time already applied) the endpoint moves to `config`."""

    window: str
    direction: Direction
    cron: Cron
    config: Config
    lead_time_minutes: int
    timeout_s: int


def transitions(spec: DeploymentSpec) -> list[Transition]:
    """Night start and morning per schedule, in spec order. The morning starts early by the day's lead time: on
    SageMaker the workflow switches fleets then; on EKS the day Deployments' KEDA gates close then
    (`targets.kubernetes.window_variants.morning_cron`)."""
    lead = lead_time_minutes(spec)
    day = day_config(spec)
    out = []
    for s in spec.schedules:
        night = window_config(spec, s)
        out.append(Transition(s.name, "night", Cron(s.start, s.timezone), night, 0, transition_timeout_s(spec, night)))
        out.append(
            Transition(
                s.name, "day", Cron(s.end, s.timezone).shifted_earlier(lead), day, lead, transition_timeout_s(spec, day)
            )
        )
    return out


@dataclass(frozen=True)
class Segment:
    """A stretch of the day with one configuration in force (local times; the day may be 23 or 25 hours)."""

    start: datetime
    end: datetime
    config: Config

    @property
    def hours(self) -> float:
        return (self.end.astimezone(UTC) - self.start.astimezone(UTC)).total_seconds() / 3600


class FloorHour(Protocol):
    """One weekday hour of the predictive floor (`slo_targets.FloorHour`; the caller computes the floor, so this
    module does not import the SLO modules, which import it)."""

    @property
    def hour(self) -> int: ...
    @property
    def configuration(self) -> str: ...
    @property
    def min_replicas(self) -> int: ...


@dataclass(frozen=True)
class Upcoming:
    at: datetime  # local, aware
    transition: Transition


@dataclass(frozen=True)
class Timeline:
    spec_name: str
    environment: str
    timezone: str
    segments: list[Segment]
    upcoming: list[Upcoming]
    cost_per_month_usd: float
    day_only_cost_per_month_usd: float
    schedule_saving_per_month_usd: float
    lead_time_minutes: int
    wake_up_s: tuple[float, float] | None  # scale to zero only
    facts: TimelineFacts  # the target's: e.g. what clients see while it wakes
    floor: tuple[FloorHour, ...] = ()  # the predictive floor the components render (weekdays), empty without one

    def floor_steps(self, seg: Segment) -> list[tuple[int, int, int]]:
        """(start hour, end hour, replicas) of the predictive floor within one segment, on weekdays: the hours the
        segment covers whose floor belongs to its configuration, equal neighbours grouped."""
        if not self.floor:
            return []
        first = seg.start.hour
        last = 24 if seg.end.date() > seg.start.date() else seg.end.hour + (1 if seg.end.minute else 0)
        name = seg.config.window or "day"
        out: list[tuple[int, int, int]] = []
        for f in self.floor[first:last]:
            if f.configuration != name:
                continue
            if out and out[-1][1] == f.hour and out[-1][2] == f.min_replicas:
                out[-1] = (out[-1][0], f.hour + 1, f.min_replicas)
            else:
                out.append((f.hour, f.hour + 1, f.min_replicas))
        return out


@dataclass(frozen=True)
class TimelineFacts:
    """What a timeline says that differs by target (each target states its own: `Target.timeline_facts`)."""

    shows_lead_time: bool
    """The morning switch is asked for `lead_time_minutes` early because the day capacity is built anew then
    (a SageMaker fleet switch); the timeline shows that lead."""
    wake_capacity: str
    """What a deployment scaled to zero waits for first: "instance", "GPU node"."""
    while_waking: str
    """What clients see meanwhile."""
    floor_follow_period_s: float | None = None
    """How often the rendered predictive floor re-reads the load it follows (`scaling.floor_follow`; None: the floor
    is as scheduled)."""
    floor_follows_capacity_steps: bool = False
    """The following floor is the fewest replicas that carry the load (`Target.floor_follows_capacity_steps`), not
    the scheduled floor scaled by the ratio."""


def timeline(
    spec: DeploymentSpec,
    now: datetime,
    upcoming: int = 4,
    *,
    cost: CostReport,
    facts: TimelineFacts,
    floor: Sequence[FloorHour] = (),
) -> Timeline:
    """The configuration over the local calendar day of `now`, the next transitions after `now`, and the cost;
    `floor`: the predictive floor by weekday hour that the components render (shown per configuration)."""
    from llama_infra.capacity_plan import plan_timezone

    tz = zone(plan_timezone(spec))
    local = now.astimezone(tz)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    day_end = (day_start + timedelta(days=1)).replace(tzinfo=None).replace(tzinfo=tz)
    bounds = {day_start.astimezone(UTC), day_end.astimezone(UTC)}
    for s in spec.schedules:
        for begin, finish in window_of(s).occurrences(day_start, day_end):
            bounds.update(t for t in (begin, finish) if day_start <= t <= day_end)
    edges = sorted(bounds)
    segments: list[Segment] = []
    for a, b in pairwise(edges):
        cfg = config_at(spec, a + (b - a) / 2)
        if segments and segments[-1].config == cfg:
            segments[-1] = Segment(segments[-1].start, b.astimezone(tz), cfg)
        else:
            segments.append(Segment(a.astimezone(tz), b.astimezone(tz), cfg))
    nexts = sorted((Upcoming(t.cron.next_after(now), t) for t in transitions(spec)), key=lambda u: u.at.astimezone(UTC))
    more: list[Upcoming] = []
    for u in nexts:  # the next `upcoming` firings overall, not just one per transition
        t = u.at
        for _ in range(upcoming):
            more.append(Upcoming(t, u.transition))
            t = u.transition.cron.next_after(t)
    more.sort(key=lambda u: u.at.astimezone(UTC))
    lead = lead_time_minutes(spec) if facts.shows_lead_time and spec.schedules else 0
    return Timeline(
        spec.name,
        spec.environment,
        str(tz),
        segments,
        more[:upcoming],
        cost.cost_per_month_usd,
        cost.day_only_cost_per_month_usd,
        round(cost.schedule_saving_per_month_usd, 2),
        lead,
        wake_up_s(spec) if scales_to_zero(spec) else None,
        facts,
        tuple(floor),
    )


def timeline_summary(
    spec: DeploymentSpec, now: datetime, *, cost: CostReport, facts: TimelineFacts, floor: Sequence[FloorHour] = ()
) -> dict:
    """The timeline as data (for `llama-infra plan --json`), with the rendered lines."""
    tl = timeline(spec, now, cost=cost, facts=facts, floor=floor)

    def config(c: Config) -> dict:
        return {
            "window": c.window,
            "instance_type": c.instance_type,
            "model_id": c.model_id,
            "params_b": c.params_b,
            "precision": c.precision,
            "min_replicas": c.min_replicas,
            "max_replicas": c.max_replicas,
        }

    return {
        "timezone": tl.timezone,
        "segments": [
            {
                "start": s.start.isoformat(),
                "end": s.end.isoformat(),
                "hours": round(s.hours, 2),
                **config(s.config),
                "floor_on_weekdays": [
                    {"start_hour": a, "end_hour": b, "min_replicas": n} for a, b, n in tl.floor_steps(s)
                ],
            }
            for s in tl.segments
        ],
        "next_transitions": [
            {
                "at": u.at.isoformat(),
                "at_utc": u.at.astimezone(UTC).isoformat(),
                "window": u.transition.window,
                "direction": u.transition.direction,
                "lead_time_minutes": u.transition.lead_time_minutes,
            }
            for u in tl.upcoming
        ],
        "lead_time_minutes": tl.lead_time_minutes,
        "schedule_saving_per_month_usd": tl.schedule_saving_per_month_usd,
        "wake_up_s": list(tl.wake_up_s) if tl.wake_up_s else None,
        "floor_follow_period_s": tl.facts.floor_follow_period_s if tl.floor else None,
        "floor_follows_capacity_steps": bool(tl.floor and tl.facts.floor_follows_capacity_steps),
        "lines": render(tl),
    }


def _describe(c: Config) -> str:
    what = "day" if c.window is None else c.window
    return (
        f"{what}: {c.instance_type}, {c.model_id} ({c.params_b:g}B {c.precision}), "
        f"{c.min_replicas}–{c.max_replicas} replicas"
    )


def render(tl: Timeline) -> list[str]:
    """Plain-text lines for `llama-infra plan`."""
    lines = [f"{tl.spec_name} ({tl.environment}) — 24 h in {tl.timezone}"]
    for seg in tl.segments:
        end = (
            "24:00" if seg.end.date() > seg.start.date() and seg.end.hour == seg.end.minute == 0 else f"{seg.end:%H:%M}"
        )
        lines.append(f"  {seg.start:%H:%M}–{end} {seg.start:%Z}  {_describe(seg.config)}")
        if steps := tl.floor_steps(seg):
            # hours as `slo_targets.floor_line` writes them: 08–10 is 08:00 to 11:00
            hours = " · ".join(f"{a:02d}–{b - 1:02d} {n}" if b - a > 1 else f"{a:02d} {n}" for a, b, n in steps)
            lines.append(f"      predictive floor Mon–Fri (warm replicas from each hour): {hours}")
            if period := tl.facts.floor_follow_period_s:
                every = f"{period:g} s" if period < 60 else f"{period / 60:g} min"
                how = (
                    "the fewest replicas that carry the recent request rate against"
                    if tl.facts.floor_follows_capacity_steps
                    else "scaled by the recent request rate against"
                )
                lines.append(
                    f"      the floor follows the load: every {every}, {how} the hour's forecast (never above it)"
                )
    if tl.upcoming:
        lines.append("  next transitions:")
    for u in tl.upcoming:
        t = u.transition
        early = (
            f" (starts {t.lead_time_minutes} min early so day capacity serves on time)" if t.lead_time_minutes else ""
        )
        to = "to the window's" if t.direction == "night" else "back to the day"
        lines.append(
            f"    {u.at:%a %Y-%m-%d %H:%M %Z} ({u.at.astimezone(UTC):%H:%M UTC})  {t.window}: {to} configuration{early}"
        )
    lines.append(
        f"  monthly cost {tl.cost_per_month_usd:,.2f} USD; day configuration all the time "
        f"{tl.day_only_cost_per_month_usd:,.2f} USD; the schedule saves "
        f"{tl.schedule_saving_per_month_usd:,.2f} USD"
    )
    if tl.wake_up_s:
        lo, hi = tl.wake_up_s
        lines.append(
            f"  scale to zero: the first request after idle waits ≈{lo / 60:.0f}–{hi / 60:.0f} min "
            f"({tl.facts.wake_capacity} + model cold start); meanwhile {tl.facts.while_waking}"
        )
    return lines
