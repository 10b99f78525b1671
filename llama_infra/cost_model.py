"""The monthly cost of a spec: its week plan (`capacity_plan.week_plan`) priced with its target's billing units.

`cost_report(spec, billing)` takes the billing units (`pricing.BillingUnits`) as an argument, so this module knows
no target; `llama_infra.targets.cost_report(spec)` looks them up for the spec's target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from llama_infra.capacity_plan import week_plan  # one definition of "what runs when"
from llama_infra.pricing import HOURS_PER_MONTH, SNAPSHOT, BillingUnits, HourConfig, hourly, on_demand

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec


@dataclass
class CostReport:
    """Monthly cost of a spec: total, baseline and burst parts, the saving from downsizing windows, per request."""

    spec_name: str
    target: str
    snapshot: str
    baseline_usd_per_hour: float
    cost_per_month_usd: float
    day_only_cost_per_month_usd: float  # the same load without downsizing windows
    baseline_per_month_usd: float
    burst_per_month_usd: float
    requests_per_month: float | None
    cost_per_1k_requests_usd: float | None
    estimated_prices: list[str]
    assumptions: list[str] = field(default_factory=list)
    week: list[HourConfig] = field(default_factory=list)

    @property
    def schedule_saving_per_month_usd(self) -> float:
        return self.day_only_cost_per_month_usd - self.cost_per_month_usd


def _shape(spec: DeploymentSpec) -> tuple[float, ...]:
    from llama_infra.load_shape import daily_shape  # the default shape moved into the plan timezone

    return daily_shape(spec)


def cost_report(spec: DeploymentSpec, billing: BillingUnits, *, with_schedules: bool = True) -> CostReport:
    """Monthly cost of a spec under its stated daily load shape, with and without its downsizing windows."""
    shape = _shape(spec)
    week = week_plan(spec, shape, billing, with_schedules=with_schedules)
    day_week = week_plan(spec, shape, billing, with_schedules=False) if with_schedules else week
    scale = HOURS_PER_MONTH / 168
    total = sum(h.usd for h in week) * scale
    base = spec.capacity.baseline
    # A node group bills its nodes (replicas share a node when TP < its GPUs); otherwise the baseline's instances.
    units = base.count
    if billing.baseline_nodes is not None and base.count:
        units = billing.baseline_nodes[None]
    baseline_hour = units * hourly(base.instance_type, billing.price_list, base.purchase).usd_per_hour
    baseline_month = sum(h.baseline_usd for h in week) * scale
    peak = spec.load.peak_requests_per_second
    if peak is None and spec.load.requests_per_second_per_replica:
        peak = spec.max_replicas * spec.load.requests_per_second_per_replica
    requests = None if peak is None else sum(shape[h.hour_of_week % 24] for h in week) * peak * 3600 * scale
    estimated = sorted({h.instance_type for h in week if on_demand(h.instance_type, billing.price_list).estimated})
    assumptions = [
        f"load: {'stated' if spec.load.daily_shape else 'Azure LLM 2024 coding weekday'} daily shape, "
        "5 weekdays + 2 weekend days at the same shape",
        f"{HOURS_PER_MONTH} hours per month",
    ]
    if spec.load.peak_requests_per_second is None or spec.load.requests_per_second_per_replica is None:
        assumptions.append(
            "replicas per hour: peak load needs max_replicas (state load.peak_requests_per_second "
            "and load.requests_per_second_per_replica to size it)"
        )
    if spec.capacity.burst.capacity == "spot" and billing.spot_burst:
        assumptions.append("spot burst at the snapshot's median spot price")
    return CostReport(
        spec_name=spec.name,
        target=spec.target,
        snapshot=SNAPSHOT,
        baseline_usd_per_hour=round(baseline_hour, 4),
        cost_per_month_usd=round(total, 2),
        day_only_cost_per_month_usd=round(sum(h.usd for h in day_week) * scale, 2),
        baseline_per_month_usd=round(baseline_month, 2),
        burst_per_month_usd=round(total - baseline_month, 2),
        requests_per_month=None if requests is None else round(requests),
        cost_per_1k_requests_usd=None if not requests else round(total / requests * 1000, 4),
        estimated_prices=estimated,
        assumptions=assumptions,
        week=week,
    )
