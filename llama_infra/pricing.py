"""Prices: hourly prices from the snapshot shipped in the package, and how a target bills capacity (`BillingUnits`).

The snapshot (llama_infra/data/prices, see its README) is a point in time; every figure this module returns says
which snapshot it came from. Purchase factors that are not in the snapshot are stated assumptions, below. The
monthly cost of a spec is `llama_infra.cost_model`.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Literal

from llama_infra import catalog, target_facts

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec

Capacity = Literal["on-demand", "reserved", "capacity-block", "spot"]

PRICE_REGION = "us-east-1"  # the only region the EC2 snapshot lists; every spec is priced there
SNAPSHOT = (
    f"EC2: skypilot-org/skypilot-catalog catalogs/v9/aws/vms.csv @3e9a1751 ({PRICE_REGION}); "
    "SageMaker: aws-samples/foundation-model-benchmarking-tool pricing.yml @d8814208 (2025-01-26)"
)
HOURS_PER_MONTH = 730  # AWS's own convention for monthly estimates
# Assumptions (not in the snapshot). Reserved = 1-year no-upfront commitment: EC2 Instance Savings Plans and
# SageMaker Savings Plans list roughly 25–35 % off on-demand for GPU families; we take 30 %. Capacity Blocks for
# ML are priced per block, close to on-demand for the same hours; we take on-demand.
PURCHASE_FACTOR = {"on-demand": 1.0, "reserved": 0.70, "capacity-block": 1.0}
# Commitments are billed for every hour of the term whether the capacity runs or not, so a window that stops
# committed replicas saves nothing on them:
# - SageMaker `reserved` = a SageMaker Savings Plan: a $/hour commitment (the baseline count at the plan's rate of
#   the baseline type) that covers any SageMaker ML instance usage at the plan's rates, whatever the family; usage
#   beyond it is billed on-demand (`savings_plan_hour_usd`). A night window on a cheaper type is covered by it.
# - EKS `reserved` (reserved instances / ODCR on the baseline node group) and `capacity-block` anywhere: the
#   reserved instances of the baseline type are billed around the clock; other types run on top.
COMMITTED_PURCHASES: frozenset[str] = frozenset({"reserved", "capacity-block"})


def is_commitment(purchase: str) -> bool:
    return purchase in COMMITTED_PURCHASES


def is_savings_plan(spec: DeploymentSpec) -> bool:
    """A SageMaker reserved baseline: a Savings Plan $/hour commitment, flexible across ML instance families."""
    return (
        target_facts.of(spec.target).reserved_is_savings_plan
        and spec.capacity.baseline.purchase == "reserved"
        and spec.capacity.baseline.count > 0
    )


def buys_savings_plan(spec: DeploymentSpec, billing: BillingUnits) -> bool:
    """The baseline is a Savings Plan $/hour commitment: a reserved baseline where the target sells it that way."""
    return (
        billing.reserved_is_savings_plan
        and spec.capacity.baseline.purchase == "reserved"
        and spec.capacity.baseline.count > 0
    )


@dataclass(frozen=True)
class BillingUnits:
    """How a target bills a spec's capacity: the cost model's inputs that differ by target.

    Each target states them (`llama_infra.targets.Target.billing_units`), so the week plan and the cost report price
    any target without asking which one it is."""

    price_list: catalog.Target
    """Whose instance prices apply: SageMaker ML hosting (`sagemaker`) or EC2 (`eks`)."""
    baseline_nodes: Mapping[str | None, int] | None = None
    """Nodes the baseline is billed for, serving or idle, by day (key None) and in each window (by name): a node
    group on which replicas share a node when TP < its GPUs. None: the baseline is billed by its instances."""
    reserved_is_savings_plan: bool = False
    """`purchase: reserved` buys a Savings Plan $/hour commitment, flexible across instance families."""
    spot_burst: bool = False
    """Burst with `capacity: spot` runs at spot prices (spot pools)."""


def savings_plan_hour_usd(commitment_usd: float, usage_at_plan_rates_usd: float) -> float:
    """One hour under a Savings Plan: the commitment, plus the usage beyond it at on-demand rates."""
    excess = max(0.0, usage_at_plan_rates_usd - commitment_usd)
    return commitment_usd + excess / PURCHASE_FACTOR["reserved"]


# SageMaker types missing from the SageMaker snapshot are estimated from EC2 with the snapshot's own premiums.
_SAGEMAKER_PREMIUM_XLARGE = 0.40
_SAGEMAKER_PREMIUM = 0.25


@dataclass(frozen=True)
class Price:
    usd_per_hour: float
    basis: str  # how it was obtained
    estimated: bool = False


@cache
def _ec2_rows() -> dict[str, dict[str, str]]:
    text = resources.files("llama_infra.data.prices").joinpath("aws_gpu_prices_snapshot.csv").read_text()
    return {r["InstanceType"]: r for r in csv.DictReader(text.splitlines())}


@cache
def _sagemaker_rows() -> dict[str, float]:
    text = resources.files("llama_infra.data.prices").joinpath("sagemaker_ml_prices_snapshot.csv").read_text()
    return {r["SageMakerInstanceType"]: float(r["SageMakerPrice"]) for r in csv.DictReader(text.splitlines())}


def on_demand(instance_type: str, target: catalog.Target) -> Price:
    base = catalog.ec2_name(instance_type)
    ec2 = float(_ec2_rows()[base]["Price"])
    if target_facts.of(target).price_list == "ec2":
        return Price(ec2, "EC2 on-demand")
    listed = _sagemaker_rows().get(catalog.SAGEMAKER_PREFIX + base)
    if listed is not None:
        return Price(listed, "SageMaker real-time hosting")
    premium = _SAGEMAKER_PREMIUM_XLARGE if base.endswith(".xlarge") else _SAGEMAKER_PREMIUM
    return Price(round(ec2 * (1 + premium), 4), f"EC2 on-demand + {premium:.0%} SageMaker premium", estimated=True)


def hourly(instance_type: str, target: catalog.Target, capacity: Capacity) -> Price:
    """Price of one instance-hour bought a given way."""
    if capacity == "spot":
        facts = target_facts.of(target)
        if not facts.spot_burst:
            raise ValueError(f"{facts.instance_seller} have no spot capacity")
        row = _ec2_rows()[catalog.ec2_name(instance_type)]
        if row["SpotPriceMedian"] in ("", "nan"):
            return Price(float(row["Price"]), "no spot price in snapshot: on-demand", estimated=True)
        return Price(float(row["SpotPriceMedian"]), f"EC2 spot, median over {PRICE_REGION} AZs")
    od = on_demand(instance_type, target)
    factor = PURCHASE_FACTOR[capacity]
    if factor == 1.0:
        return od
    return Price(round(od.usd_per_hour * factor, 4), f"{od.basis} × {factor} ({capacity})", od.estimated)


@cache
def default_daily_shape() -> tuple[float, ...]:
    """Weekday hourly load relative to the busiest hour, from the Azure LLM 2024 coding week (UTC).

    Source: llama_infra/data/traces/azure_llm_2024_coding_week_rate.csv (CC-BY 4.0, see its README).
    The week starts Friday 2024-05-10 00:00 UTC; Saturday and Sunday are left out.
    """
    text = resources.files("llama_infra.data.traces").joinpath("azure_llm_2024_coding_week_rate.csv").read_text()
    start = datetime(2024, 5, 10)
    sums, counts = [0.0] * 24, [0] * 24
    for row in csv.DictReader(text.splitlines()):
        t = start + timedelta(minutes=float(row["minute_offset"]))
        if t.weekday() >= 5:
            continue
        sums[t.hour] += float(row["requests_per_minute_mid"])
        counts[t.hour] += 1
    means = [s / c for s, c in zip(sums, counts, strict=True)]
    peak = max(means)
    return tuple(round(m / peak, 4) for m in means)


@dataclass(frozen=True)
class HourConfig:
    """What runs in one hour of a representative week."""

    hour_of_week: int
    instance_type: str
    replicas: int
    baseline_replicas: int
    burst_replicas: int
    usd: float
    window: str | None  # name of the active downsizing window, if any
    baseline_usd: float  # of `usd`: the baseline (EKS: its nodes, billed whether they serve or not)


def replica_hour_usd(
    spec: DeploymentSpec, billing: BillingUnits, instance_type: str, baseline_replicas: int, burst_replicas: int
) -> float:
    """Cost of one hour of this many baseline and burst replicas (replicas share instances when TP < GPUs)."""
    inst = catalog.lookup(instance_type)
    tp = spec.model.tensor_parallel_degree or (inst.gpu_count if inst else 1)
    per_instance = max(1, (inst.gpu_count if inst else 1) // tp)
    base_price = hourly(instance_type, billing.price_list, spec.capacity.baseline.purchase).usd_per_hour
    burst_cap: Capacity = "spot" if (billing.spot_burst and spec.capacity.burst.capacity == "spot") else "on-demand"
    burst_price = hourly(instance_type, billing.price_list, burst_cap).usd_per_hour
    return (
        math.ceil(baseline_replicas / per_instance) * base_price
        + math.ceil(burst_replicas / per_instance) * burst_price
    )
