"""The baseline managed node group on the downsizing schedule (EKS): fewer on-demand nodes at night.

At night KEDA scales the day baseline Deployment down (`night_scaling`: to 0 in a window on another type or model),
but the managed node group under it would keep running idle. For each window where that saves money, two
EventBridge Scheduler schedules call EKS `UpdateNodegroupConfig` on the group (universal target, no Lambda):

- evening, at window start + scale-in delay: min = desired = the nodes the window's baseline replicas need
  (`capacity_plan.baseline_replicas_in` ÷ replicas per node, rounded up). The delay is KEDA's `cooldownPeriod` (it
  scales to zero only that long after the day cron ends) + the pods' termination grace, rounded up to 5 min, so the
  baseline pods are gone before their nodes go (a managed node group also drains nodes on scale-in);
- morning, at window end − lead(day) (`night.lead_minutes`), the instant the baseline's KEDA day cron starts
  (`night.morning_cron`): min = desired = the day's nodes, so the nodes join while the day pods are pending.

Max stays the group's max. Crons are the schedule's own, in its IANA timezone (`Cron.shifted_later` /
`shifted_earlier`), so 22:10 stays 22:10 local across daylight-saving changes.

Which specs: target eks, a baseline, purchase on-demand and no capacity reservation. Reserved (Savings Plans),
Capacity Block and ODCR-targeted capacity is billed whether the nodes run or not: scaling it saves nothing, so it
is not scaled and the plan says why. A window is scheduled only when the day baseline Deployment keeps fewer nodes’
worth of replicas in it (`night_scaling`: 0 in a type/model window, min(baseline, window min) in a bounds-only one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from llama_infra.capacity_plan import Config, baseline_replicas_in, day_config, shortest_window_minutes, window_config
from llama_infra.iam import policy, statement
from llama_infra.scaling.keda import KedaPolicy
from llama_infra.schedules import Cron
from llama_infra.targets.eks.node_groups import baseline_node_group, baseline_nodes, replicas_per_node
from llama_infra.targets.kubernetes import server
from llama_infra.targets.kubernetes import window_variants as night

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec
    from llama_infra.spec.model import Schedule


def scheduler_target_arn(region: str) -> str:
    """EventBridge Scheduler's universal target for EKS UpdateNodegroupConfig (service and action in SDK spelling),
    in the region's partition."""
    from llama_infra.iam import partition

    return f"arn:{partition(region)}:scheduler:::aws-sdk:eks:updateNodegroupConfig"


UPDATE_ACTION = "eks:UpdateNodegroupConfig"
DELAY_ROUNDING_MINUTES = 5

Direction = Literal["night", "day"]


def not_scaled_reason(spec: DeploymentSpec) -> str | None:
    """Why this spec's baseline node group never follows a schedule (None: it can)."""
    base = spec.capacity.baseline
    if spec.target != "eks" or base.count == 0:
        return "no baseline node group"
    if base.purchase == "reserved":
        return "reserved capacity (Savings Plan / Reserved Instance) is billed whether the nodes run or not"
    if base.purchase == "capacity-block":
        return "a Capacity Block is paid for its whole duration whether the nodes run or not"
    if base.capacity_reservation_id:
        return (
            f"the On-Demand Capacity Reservation {base.capacity_reservation_id} is billed whether instances run "
            "in it or not"
        )
    return None


def nodes_in(spec: DeploymentSpec, config: Config) -> int:
    """Baseline nodes the replicas of the day baseline Deployment need under `config`."""
    per_node = replicas_per_node(spec, spec.capacity.baseline.instance_type)
    return math.ceil(baseline_replicas_in(spec, config) / per_node)


def scale_in_delay_minutes(spec: DeploymentSpec) -> int:
    """Minutes after the window starts until the baseline pods are gone: KEDA cooldown + termination grace."""
    seconds = KedaPolicy.from_spec(spec).cooldown_period_seconds + server.TERMINATION_GRACE_SECONDS
    return math.ceil(seconds / 60 / DELAY_ROUNDING_MINUTES) * DELAY_ROUNDING_MINUTES


def scale_out_lead_minutes(spec: DeploymentSpec) -> int:
    """Minutes before the window ends when the day nodes are asked for: the day replicas' lead time."""
    return night.lead_minutes(spec, day_config(spec))


def scale_in_cron(spec: DeploymentSpec, schedule: Schedule) -> Cron:
    """Raises ScheduleError when the delay moves a day-of-month cron across midnight (a spec error)."""
    return Cron(schedule.start, schedule.timezone).shifted_later(scale_in_delay_minutes(spec))


@dataclass(frozen=True)
class Step:
    """One UpdateNodegroupConfig call: at `cron` the group's min and desired become `nodes`."""

    window: str
    direction: Direction
    cron: Cron
    nodes: int
    max_nodes: int

    def update_input(self, cluster_name: Any, nodegroup_name: Any) -> dict:
        """The universal target's Input: UpdateNodegroupConfig members in the SDK's (PascalCase) spelling (the
        names may be Pulumi Inputs: `Output.json_dumps` resolves them)."""
        return {
            "ClusterName": cluster_name,
            "NodegroupName": nodegroup_name,
            "ScalingConfig": {"MinSize": self.nodes, "MaxSize": self.max_nodes, "DesiredSize": self.nodes},
        }


@dataclass(frozen=True)
class WindowNodes:
    """A window's effect on the baseline node group: scheduled (two steps), or why not."""

    schedule: Schedule
    day_nodes: int
    night_nodes: int
    steps: tuple[Step, ...] = ()
    kept_because: str | None = None  # set when the group keeps its day nodes through this window

    @property
    def scheduled(self) -> bool:
        return bool(self.steps)

    @property
    def billed_nodes(self) -> int:
        """Baseline nodes running (and billed) in the window."""
        return self.night_nodes if self.scheduled else self.day_nodes


def kept_because(spec: DeploymentSpec, schedule: Schedule) -> str | None:
    """Why the group keeps its day nodes through this window (None: it follows the window)."""
    reason = not_scaled_reason(spec)
    if reason:
        return reason
    day = baseline_nodes(spec)
    if nodes_in(spec, window_config(spec, schedule)) >= day:
        return f"its baseline replicas need all {day} nodes"
    delay, lead = scale_in_delay_minutes(spec), scale_out_lead_minutes(spec)
    if shortest_window_minutes(schedule) <= delay + lead:
        return (
            f"the window is too short: nodes would leave {delay} min after it starts and return {lead} min "
            "before it ends"
        )
    return None


def window_nodes(spec: DeploymentSpec, schedule: Schedule) -> WindowNodes:
    day = baseline_nodes(spec)
    wanted = nodes_in(spec, window_config(spec, schedule))
    reason = kept_because(spec, schedule)
    if reason:
        return WindowNodes(schedule, day, wanted, kept_because=reason)
    evening = scale_in_cron(spec, schedule)
    morning = night.morning_cron(spec, schedule)  # the instant the baseline's KEDA gate closes
    max_nodes = baseline_node_group(spec).max_size
    return WindowNodes(
        schedule,
        day,
        wanted,
        steps=(
            Step(schedule.name, "night", evening, wanted, max_nodes),
            Step(schedule.name, "day", morning, day, max_nodes),
        ),
    )


def plan(spec: DeploymentSpec) -> list[WindowNodes]:
    """Every window's effect on the baseline node group, in spec order (empty without a baseline group)."""
    if spec.target != "eks" or spec.capacity.baseline.count == 0:
        return []
    return [window_nodes(spec, s) for s in spec.schedules]


def steps(spec: DeploymentSpec) -> list[Step]:
    return [step for w in plan(spec) for step in w.steps]


def scheduler_policy(nodegroup_arn: str) -> dict:
    """EventBridge Scheduler's role: change the scaling of this one node group, nothing else."""
    return policy(statement("ScaleBaselineNodeGroup", [UPDATE_ACTION], [nodegroup_arn]))


def plan_lines(spec: DeploymentSpec) -> list[str]:
    """What `llama-infra plan` says about the baseline node group overnight (nothing without schedules)."""
    windows = plan(spec)
    if not windows:
        return []
    reason = not_scaled_reason(spec)
    if reason:
        return [f"baseline node group: not scaled overnight — {reason}"]
    lines = ["baseline node group schedule (EventBridge Scheduler → eks:UpdateNodegroupConfig, local time):"]
    delay, lead = scale_in_delay_minutes(spec), scale_out_lead_minutes(spec)
    for w in windows:
        if not w.scheduled:
            lines.append(f"  {w.schedule.name}: keeps {w.day_nodes} nodes — {w.kept_because}")
            continue
        evening, morning = w.steps
        lines.append(
            f"  {w.schedule.name}: {_when(evening.cron)} → {evening.nodes} nodes ({delay} min after the "
            "window starts: KEDA cooldown + pod termination grace)"
        )
        lines.append(
            f"  {' ' * len(w.schedule.name)}  {_when(morning.cron)} → {morning.nodes} nodes ({lead} min "
            "before the window ends, with the day baseline's KEDA cron)"
        )
    return lines


def _when(cron: Cron) -> str:
    minute, hour, dom, month, dow = cron.fields
    days = "" if (dom, month, dow) == ("*", "*", "*") else f" (cron '{cron.expression}')"
    return f"{int(hour):02d}:{int(minute):02d} {cron.timezone}{days}"
