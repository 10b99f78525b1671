"""What `llama-infra plan` shows for an EKS spec besides the resource tree: the capacity pools (capacity type,
instance types, node bounds, GPU limit), the baseline node group's overnight schedule (`node_schedule`) and the
monthly cost split into reserved baseline and expected burst.

Pure: the same plans the components apply (`node_groups`, `karpenter`) and the same cost model as every other
report (`cost_model.cost_report`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from llama_infra.targets.eks import baseline_node_schedule as node_schedule
from llama_infra.targets.eks import karpenter
from llama_infra.targets.eks.node_groups import baseline_node_group, spot_node_group
from llama_infra.targets.kubernetes import labels, scale_in_order
from llama_infra.targets.kubernetes import prometheus_metrics as metrics

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec


@dataclass(frozen=True)
class CapacityPool:
    name: str
    role: str  # baseline | burst
    kind: str  # "managed node group" | "Karpenter NodePool"
    capacity_type: str  # as the API spells it: ON_DEMAND / CAPACITY_BLOCK / SPOT, or spot / on-demand
    instance_types: tuple[str, ...]
    min_nodes: int | None  # None: Karpenter decides (bounded by the GPU limit)
    max_nodes: int | None
    gpu_limit: int | None  # NodePool limits.nvidia.com/gpu
    weight: int | None  # NodePool weight (higher is tried first)
    leaves_first: bool = False  # its replicas leave first when the burst scales in (`scale_in_order`)
    empty_node_s: int | None = None  # NodePool consolidateAfter: how long an emptied node waits (None: not shown)

    def describe(self) -> str:
        nodes = (
            (
                f"{self.min_nodes}–{self.max_nodes} nodes"
                if self.min_nodes != self.max_nodes
                else f"{self.min_nodes} nodes"
            )
            if self.max_nodes is not None
            else "nodes on demand"
        )
        extra = [nodes]
        if self.gpu_limit is not None:
            extra.append(f"≤ {self.gpu_limit} GPUs")
        if self.weight is not None:
            extra.append(f"weight {self.weight}")
        if self.leaves_first:
            extra.append("its replicas leave first on scale-in")
        if self.empty_node_s is not None:
            extra.append(
                f"an emptied node waits {self.empty_node_s} s for the next pod"
                if self.empty_node_s
                else "an emptied node goes at once"
            )
        return (
            f"{self.role:8} {self.kind} {self.name}: {self.capacity_type} × {', '.join(self.instance_types)} "
            f"({'; '.join(extra)})"
        )


def capacity_pools(spec: DeploymentSpec) -> list[CapacityPool]:
    assert spec.eks is not None
    pools = []
    base = baseline_node_group(spec)
    if spec.capacity.baseline.count:
        pools.append(
            CapacityPool(
                f"{spec.name}-baseline",
                "baseline",
                "managed node group",
                base.capacity_type,
                tuple(base.instance_types),
                base.min_size,
                base.max_size,
                None,
                None,
            )
        )
    if spec.eks.karpenter:
        for pool in karpenter.node_pools(spec):
            s = pool["spec"]
            req = {r["key"]: r["values"] for r in s["template"]["spec"]["requirements"]}
            pools.append(
                CapacityPool(
                    pool["metadata"]["name"],
                    "burst",
                    "Karpenter NodePool",
                    req[labels.KARPENTER_CAPACITY_TYPE][0],
                    tuple(req[labels.INSTANCE_TYPE]),
                    None,
                    None,
                    int(s["limits"][labels.GPU_RESOURCE]),
                    s["weight"],
                    leaves_first=scale_in_order.applies(spec) and req[labels.KARPENTER_CAPACITY_TYPE] == ["on-demand"],
                    empty_node_s=karpenter.consolidate_after_s(spec, req[labels.KARPENTER_CAPACITY_TYPE][0]),
                )
            )
    else:
        burst = spot_node_group(spec)
        if burst:
            pools.append(
                CapacityPool(
                    f"{spec.name}-burst",
                    "burst",
                    "managed node group",
                    burst.capacity_type,
                    tuple(burst.instance_types),
                    burst.min_size,
                    burst.max_size,
                    None,
                    None,
                )
            )
    return pools


@dataclass(frozen=True)
class CostSplit:
    baseline_per_month_usd: float  # the reserved/on-demand baseline, at its purchase option
    burst_per_month_usd: float  # expected burst under the stated load, at spot (or on-demand) prices
    cost_per_month_usd: float
    burst_capacity: str
    snapshot: str


def cost_split(spec: DeploymentSpec) -> CostSplit:
    from llama_infra.targets import cost_report

    report = cost_report(spec)
    return CostSplit(
        report.baseline_per_month_usd,
        report.burst_per_month_usd,
        report.cost_per_month_usd,
        spec.capacity.burst.capacity,
        report.snapshot,
    )


def replica_lines(spec: DeploymentSpec) -> list[str]:
    """How the replicas split: fixed baseline, autoscaled burst and the query the autoscaler divides."""
    from llama_infra.targets.kubernetes import autoscaling, router
    from llama_infra.targets.kubernetes import window_scaling as night_scaling
    from llama_infra.targets.kubernetes.autoscaling import scaling_queries
    from llama_infra.targets.kubernetes.workload import burst_replica_bounds

    b = spec.capacity.baseline.count
    lo, hi = burst_replica_bounds(spec)
    out = []
    if night_scaling.windows(spec):
        out.append("by window (KEDA cron gates and one scalingModifiers formula each, in replicas; docs/eks.md):")
        for so in (o for o in [autoscaling.scaled_object(spec), *night_scaling.objects(spec)] if o):
            body = so["spec"]
            out.append(
                f"  {body['scaleTargetRef']['name']} (≤ {body['maxReplicaCount']}): "
                f"{body['advanced']['scalingModifiers']['formula']}"
            )
        if b and not night_scaling.baseline_follows_schedule(spec):
            out.append(f"  {spec.name}-baseline: {b} fixed on the baseline nodes")
    else:
        if b:
            out.append(f"{spec.name}-baseline: {b} fixed on the baseline nodes")
    if router.needed(spec) and spec.fallback is None:
        out.append(
            f"scale to zero: {router.name_of(spec)} is the entry point; its last request within "
            f"{metrics.WAKE_IDLE_SECONDS // 60} min keeps or wakes one replica (503 + Retry-After meanwhile)"
        )
    if hi and not night_scaling.windows(spec):
        kind = "KEDA ScaledObject" if spec.scaling.autoscaler == "keda" else "HPA (prometheus-adapter)"
        out.append(f"{spec.name}-burst: {lo}–{hi} by {kind}, desired = ceil(metric / target) per query:")
        out += [f"  {q.role}: {q.promql}  ÷ {q.target_per_replica:g}" for q in scaling_queries(spec)]
    out += floor_lines(spec)
    return out


def floor_lines(spec: DeploymentSpec) -> list[str]:
    """The predictive floor as the autoscaler renders it (`floor_triggers`), or why it is not rendered."""
    from llama_infra.scaling.floor_schedule import floor_schedule
    from llama_infra.slo_targets import floor_line, predictive_floor
    from llama_infra.targets.kubernetes.floor_triggers import schedule_of
    from llama_infra.targets.kubernetes.queue_triggers import burst_has_formula

    sched = schedule_of(spec)
    if sched is not None:
        shape = "a term of each formula" if burst_has_formula(spec) else "a floor under the burst's other triggers"
        return [
            f"predictive floor, replicas of the service (KEDA cron triggers Mon–Fri, {sched.timezone}, {shape}): "
            f"{floor_line(predictive_floor(spec))}"
        ]
    if floor_schedule(spec) is not None:  # a floor the HPA cannot render
        return ["predictive floor: not rendered (an HPA has no schedule input; `scaling.autoscaler: keda` renders it)"]
    return []


def plan_lines(spec: DeploymentSpec) -> list[str]:
    """Plain-text lines for the plan: one per capacity pool, then the cost split."""
    lines = ["capacity pools:"] + [f"  {p.describe()}" for p in capacity_pools(spec)]
    lines += node_schedule.plan_lines(spec)
    lines += ["replicas:"] + [f"  {line}" for line in replica_lines(spec)]
    c = cost_split(spec)
    purchase = spec.capacity.baseline.purchase
    lines += [
        "cost per month (expected load):",
        f"  baseline ({purchase}): ${c.baseline_per_month_usd:,.0f}",
        f"  burst ({c.burst_capacity}, expected): ${c.burst_per_month_usd:,.0f}",
        f"  total: ${c.cost_per_month_usd:,.0f}  [{c.snapshot}]",
    ]
    return lines
