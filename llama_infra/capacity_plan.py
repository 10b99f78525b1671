"""What runs when: the capacity of a spec over a representative week, hour by hour.

One definition shared by the cost report, the plan's 24-hour timeline and the simulator's schedule handling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from llama_infra.pricing import (
    BillingUnits,
    HourConfig,
    buys_savings_plan,
    hourly,
    is_commitment,
    replica_hour_usd,
    savings_plan_hour_usd,
)
from llama_infra.schedules import Cron, Window, zone

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec
    from llama_infra.spec.model import Schedule, Weights

# A fixed Monday, so that plans do not change with the day they are made.
WEEK_START = datetime(2026, 1, 5)


@dataclass(frozen=True)
class Config:
    """The serving configuration in force: day, or a downsizing window."""

    window: str | None
    instance_type: str
    model_id: str
    params_b: float
    precision: str
    min_replicas: int
    max_replicas: int


def plan_timezone(spec: DeploymentSpec) -> str:
    return spec.schedules[0].timezone if spec.schedules else "UTC"


def window_of(schedule: Schedule) -> Window:
    return Window(Cron(schedule.start, schedule.timezone), Cron(schedule.end, schedule.timezone))


def day_config(spec: DeploymentSpec) -> Config:
    m = spec.model
    return Config(
        None, spec.capacity.baseline.instance_type, m.id, m.params_b, m.precision, spec.min_replicas, spec.max_replicas
    )


def window_config(spec: DeploymentSpec, schedule: Schedule) -> Config:
    d, day = schedule.downsize, day_config(spec)
    o = d.model_override
    return Config(
        window=schedule.name,
        instance_type=d.instance_type or day.instance_type,
        model_id=(o.id if o and o.id else day.model_id),
        params_b=(o.params_b if o and o.params_b else day.params_b),
        precision=(o.precision if o and o.precision else day.precision),
        min_replicas=d.min_replicas if d.min_replicas is not None else day.min_replicas,
        max_replicas=d.max_replicas if d.max_replicas is not None else day.max_replicas,
    )


def window_weights(spec: DeploymentSpec, window: str | None) -> Weights | None:
    """The weights a window's model override names (`model_override.weights`), or None when it names none (the
    target then loads `hf://<id>`). A Hub source without its own token secret uses the day's."""
    schedule = next((s for s in spec.schedules if s.name == window), None) if window else None
    override = schedule.downsize.model_override if schedule else None
    weights = override.weights if override else None
    if weights is None:
        return None
    if weights.source.startswith("hf://") and not weights.hf_token_secret:
        return weights.model_copy(update={"hf_token_secret": spec.model.weights.hf_token_secret})
    return weights


def weights_for(spec: DeploymentSpec, config: Config) -> Weights:
    """Weights of the model a configuration serves.

    The day model uses the spec's weights. A window that overrides the model id or precision loads the weights
    its override names (`model_override.weights`, e.g. an S3 prefix: no token in the Model's environment), else
    downloads `hf://<model id>` with the day's token secret (the id must name a checkpoint already in that
    precision, e.g. an AWQ export, as vLLM does not quantize to AWQ at start).
    """
    m = spec.model
    if (config.model_id, config.precision, config.params_b) == (m.id, m.precision, m.params_b):
        return m.weights
    # The spec's own Weights class, read off the instance: the core does not import the spec package at run time.
    return window_weights(spec, config.window) or type(m.weights)(
        source=f"hf://{config.model_id}", hf_token_secret=m.weights.hf_token_secret
    )


def changes_model(config: Config, day: Config) -> bool:
    """A window that serves another instance type or model: on EKS it runs as its own night Deployment."""
    return (config.instance_type, config.model_id, config.params_b, config.precision) != (
        day.instance_type,
        day.model_id,
        day.params_b,
        day.precision,
    )


def baseline_replicas_in(spec: DeploymentSpec, config: Config) -> int:
    """Replicas of the day baseline Deployment (EKS) that keep running under `config`: all of them by day; none in a
    window on another type or model (the night Deployment serves it); min(baseline, window minimum) in a window that
    changes only the replica bounds. The baseline node group follows this number
    (`targets.eks.baseline_node_schedule`)."""
    b = spec.capacity.baseline.count
    if config.window is None:
        return b
    if changes_model(config, day_config(spec)):
        return 0
    return min(b, config.min_replicas)


def scales_to_zero(spec: DeploymentSpec) -> bool:
    """Whether some configuration in force (the day, or a window) may run no replica at all."""
    return spec.min_replicas == 0 or any(window_config(spec, s).min_replicas == 0 for s in spec.schedules)


def shortest_window_minutes(schedule: Schedule) -> float:
    """The window's shortest occurrence in minutes: over two weeks (daily and weekly windows), else over a year
    (day-of-month and month crons); 0 when it never occurs."""
    since = WEEK_START.replace(tzinfo=zone(schedule.timezone))
    for days in (14, 366):
        occ = window_of(schedule).occurrences(since, since + timedelta(days=days))
        if occ:
            return min((f - b).total_seconds() / 60 for b, f in occ)
    return 0.0


def config_at(spec: DeploymentSpec, when: datetime, with_schedules: bool = True) -> Config:
    """The configuration in force at an aware instant."""
    if with_schedules:
        for s in spec.schedules:
            if window_of(s).active_at(when):
                return window_config(spec, s)
    return day_config(spec)


def peak_demand_replicas(spec: DeploymentSpec) -> int:
    load = spec.load
    if load.peak_requests_per_second and load.requests_per_second_per_replica:
        return math.ceil(load.peak_requests_per_second / load.requests_per_second_per_replica)
    return spec.max_replicas


def week_plan(
    spec: DeploymentSpec, shape: tuple[float, ...], billing: BillingUnits, with_schedules: bool = True
) -> list[HourConfig]:
    """168 hours from Monday 00:00 in the plan timezone; replicas follow the load shape within min/max, priced with
    the target's billing units."""
    tz = zone(plan_timezone(spec))
    start = WEEK_START.replace(tzinfo=tz)
    demand_at_peak = peak_demand_replicas(spec)
    # Each window's occurrences in the week, computed once: the same answer as `config_at` hour by hour, without
    # re-walking the crons 168 times (that made a cost report take seconds).
    week_end = start + timedelta(hours=168)
    windows = [(s, window_of(s).occurrences(start, week_end)) for s in spec.schedules] if with_schedules else []
    day = day_config(spec)
    base = spec.capacity.baseline
    billed_nodes = billing.baseline_nodes
    hours = []
    for h in range(168):
        mid = start + timedelta(hours=h, minutes=30)
        cfg = next((window_config(spec, s) for s, occ in windows if any(b <= mid < f for b, f in occ)), day)
        wanted = math.ceil(shape[h % 24] * demand_at_peak - 1e-9)
        replicas = min(max(wanted, cfg.min_replicas), cfg.max_replicas)
        if billed_nodes is not None:
            # A baseline node group is billed for every node it runs, serving or idle (EKS: a reserved or
            # ODCR-targeted group runs all night; an on-demand one follows its schedule,
            # `targets.eks.baseline_node_schedule`);
            # replicas above the baseline Deployment's run on burst capacity at the window's instance type.
            baseline = min(replicas, baseline_replicas_in(spec, cfg))
            burst = replicas - baseline
            nodes = billed_nodes.get(cfg.window, billed_nodes[None])
            baseline_usd = nodes * hourly(base.instance_type, billing.price_list, base.purchase).usd_per_hour
            usd = baseline_usd + replica_hour_usd(spec, billing, cfg.instance_type, 0, burst)
        else:
            # Baseline instances of the same type keep serving (and their price) in a window that only changes
            # replica bounds; a window on another instance type keeps at most its own minimum as baseline.
            same_type = cfg.instance_type == base.instance_type
            base_cap = base.count if (cfg.window is None or same_type) else min(base.count, cfg.min_replicas)
            baseline = min(replicas, base_cap)
            burst = replicas - baseline
            if buys_savings_plan(spec, billing):
                # the commitment is billed every hour and covers this hour's instances at the plan's rates
                baseline_usd = replica_hour_usd(spec, billing, base.instance_type, base.count, 0)
                usage = replica_hour_usd(spec, billing, cfg.instance_type, replicas, 0)
                usd = savings_plan_hour_usd(baseline_usd, usage)
            elif is_commitment(base.purchase):
                # reserved instances of the baseline type, billed whether they serve or not; others on top
                baseline = baseline if same_type else 0
                burst = replicas - baseline
                baseline_usd = replica_hour_usd(spec, billing, base.instance_type, base.count, 0)
                usd = baseline_usd + replica_hour_usd(spec, billing, cfg.instance_type, 0, burst)
            else:
                baseline_usd = replica_hour_usd(spec, billing, cfg.instance_type, baseline, 0)
                usd = baseline_usd + replica_hour_usd(spec, billing, cfg.instance_type, 0, burst)
        hours.append(HourConfig(h, cfg.instance_type, replicas, baseline, burst, usd, cfg.window, baseline_usd))
    return hours
