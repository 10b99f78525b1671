"""Kubernetes HorizontalPodAutoscaler (autoscaling/v2) desired replicas, as the controller computes them.

Source: Kubernetes documentation, "Horizontal Pod Autoscaling" (content/en/docs/tasks/run-application/
horizontal-pod-autoscale.md in kubernetes/website): algorithm details, scaling policies, stabilization window and
default behavior. Where the page is loose (rounding of Percent policies, how events within `periodSeconds` are
counted) we follow the controller (pkg/controller/podautoscaler/horizontal.go: `stabilizeRecommendationWithBehaviors`,
`calculateScaleUpLimitWithScalingRules`, `calculateScaleDownLimitWithBehaviors`):

- raw desired = ceil(current × value / target); no change when |value/target − 1| ≤ tolerance (0.1);
  for an External metric with an AverageValue target: ceil(total / target_per_pod).
- stabilization: the recommendation is held between min(recommendations in the scale-up window) and
  max(recommendations in the scale-down window), both windows including the current recommendation.
- policies: the replicas at the start of each policy's period are current − added + removed within that period;
  Pods adds/removes `value`; Percent scale-up rounds up ceil(start × (1 + v/100)), scale-down truncates
  int(start × (1 − v/100)); `selectPolicy` Max (default) takes the largest change, Min the smallest, Disabled none.
- the controller runs every `--horizontal-pod-autoscaler-sync-period` (15 s by default).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec

PolicyType = Literal["Pods", "Percent"]
SelectPolicy = Literal["Max", "Min", "Disabled"]

DEFAULT_TOLERANCE = 0.1
DEFAULT_SYNC_PERIOD_SECONDS = 15
MAX_STABILIZATION_WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class ScalingPolicy:
    """One HPAScalingPolicy: at most `value` pods (or percent) of change per `period_seconds`."""

    type: PolicyType
    value: int
    period_seconds: int

    def __post_init__(self) -> None:
        if self.value <= 0:
            raise ValueError(f"HPA scaling policy value must be > 0 (got {self.value})")
        if not 0 < self.period_seconds <= 1800:
            raise ValueError(f"HPA scaling policy periodSeconds must be in 1..1800 (got {self.period_seconds})")

    def to_manifest(self) -> dict:
        return {"type": self.type, "value": self.value, "periodSeconds": self.period_seconds}


@dataclass(frozen=True)
class ScalingRules:
    """HPAScalingRules for one direction."""

    stabilization_window_seconds: int
    policies: tuple[ScalingPolicy, ...]
    select_policy: SelectPolicy = "Max"

    def __post_init__(self) -> None:
        if not 0 <= self.stabilization_window_seconds <= MAX_STABILIZATION_WINDOW_SECONDS:
            raise ValueError("stabilizationWindowSeconds must be in 0..3600 "
                             f"(got {self.stabilization_window_seconds})")

    def to_manifest(self) -> dict:
        return {
            "stabilizationWindowSeconds": self.stabilization_window_seconds,
            "selectPolicy": self.select_policy,
            "policies": [p.to_manifest() for p in self.policies],
        }


# The documented defaults ("Default Behavior").
DEFAULT_SCALE_UP = ScalingRules(0, (ScalingPolicy("Percent", 100, 15), ScalingPolicy("Pods", 4, 15)), "Max")
DEFAULT_SCALE_DOWN = ScalingRules(300, (ScalingPolicy("Percent", 100, 15),), "Max")


def raw_desired_replicas(current_replicas: int, current_value: float, target_value: float,
                         tolerance: float = DEFAULT_TOLERANCE) -> int:
    """desiredReplicas = ceil(currentReplicas × currentMetricValue / desiredMetricValue), with the tolerance.

    `current_value` is the per-pod average (what an AverageValue target compares against).
    """
    if target_value <= 0:
        raise ValueError(f"target value must be > 0 (got {target_value})")
    ratio = current_value / target_value
    if abs(ratio - 1.0) <= tolerance:
        return current_replicas
    return math.ceil(current_replicas * ratio - 1e-9)


def external_average_value_replicas(current_replicas: int, metric_total: float, target_per_pod: float,
                                    tolerance: float = DEFAULT_TOLERANCE) -> int:
    """External metric with an AverageValue target (queue depth ÷ target per replica): ceil(total / target)."""
    if target_per_pod <= 0:
        raise ValueError(f"target per pod must be > 0 (got {target_per_pod})")
    if current_replicas > 0 and abs(metric_total / (target_per_pod * current_replicas) - 1.0) <= tolerance:
        return current_replicas
    return math.ceil(metric_total / target_per_pod - 1e-9)


def stabilized(current_replicas: int, recommendation: int, history: Sequence[tuple[float, int]], now: float,
               scale_up_window_seconds: int, scale_down_window_seconds: int) -> int:
    """Hold the recommendation between the scale-up window's minimum and the scale-down window's maximum."""
    up, down = recommendation, recommendation
    for t, rec in history:
        if t > now - scale_up_window_seconds:
            up = min(up, rec)
        if t > now - scale_down_window_seconds:
            down = max(down, rec)
    result = current_replicas
    if result < up:
        result = up
    if result > down:
        result = down
    return result


def _changed_within(events: Sequence[tuple[float, int]], now: float, period_seconds: int) -> int:
    return sum(n for t, n in events if t > now - period_seconds)


def scale_up_limit(current_replicas: int, rules: ScalingRules, now: float,
                   up_events: Sequence[tuple[float, int]] = (), down_events: Sequence[tuple[float, int]] = ()) -> int:
    """Most replicas the policies allow right now when scaling up."""
    if rules.select_policy == "Disabled":
        return current_replicas
    best: int | None = None
    for p in rules.policies:
        start = current_replicas - _changed_within(up_events, now, p.period_seconds) \
            + _changed_within(down_events, now, p.period_seconds)
        proposed = start + p.value if p.type == "Pods" else math.ceil(start * (1 + p.value / 100) - 1e-9)
        if best is None:
            best = proposed
        else:
            best = max(best, proposed) if rules.select_policy == "Max" else min(best, proposed)
    return current_replicas if best is None else best


def scale_down_limit(current_replicas: int, rules: ScalingRules, now: float,
                     up_events: Sequence[tuple[float, int]] = (), down_events: Sequence[tuple[float, int]] = ()) -> int:
    """Fewest replicas the policies allow right now when scaling down."""
    if rules.select_policy == "Disabled":
        return current_replicas
    best: int | None = None
    for p in rules.policies:
        start = current_replicas - _changed_within(up_events, now, p.period_seconds) \
            + _changed_within(down_events, now, p.period_seconds)
        proposed = start - p.value if p.type == "Pods" else int(start * (1 - p.value / 100) + 1e-9)
        if best is None:
            best = proposed
        else:  # the largest change is the lowest count
            best = min(best, proposed) if rules.select_policy == "Max" else max(best, proposed)
    return current_replicas if best is None else min(best, current_replicas)


@dataclass(frozen=True)
class HpaPolicy:
    """An HPA on queue depth (External metric, AverageValue target) with the spec's behaviour."""

    min_replicas: int
    max_replicas: int
    queue_depth_target: float
    scale_up: ScalingRules = DEFAULT_SCALE_UP
    scale_down: ScalingRules = DEFAULT_SCALE_DOWN
    gpu_memory_target: float | None = None
    tolerance: float = DEFAULT_TOLERANCE
    sync_period_seconds: int = DEFAULT_SYNC_PERIOD_SECONDS

    @classmethod
    def from_spec(cls, spec: DeploymentSpec) -> HpaPolicy:
        s = spec.scaling
        return cls(
            min_replicas=max(1, spec.min_replicas),  # an HPA cannot hold zero replicas; KEDA does that
            max_replicas=spec.max_replicas,
            queue_depth_target=s.queue_depth_target,
            scale_up=ScalingRules(s.scale_up_stabilization_seconds, DEFAULT_SCALE_UP.policies, "Max"),
            scale_down=ScalingRules(s.scale_down_stabilization_seconds, DEFAULT_SCALE_DOWN.policies, "Max"),
            gpu_memory_target=s.gpu_memory_target,
        )

    def behavior_manifest(self) -> dict:
        """`spec.behavior` of the autoscaling/v2 HorizontalPodAutoscaler."""
        return {"scaleUp": self.scale_up.to_manifest(), "scaleDown": self.scale_down.to_manifest()}

    def recommend(self, current_replicas: int, queue_depth_total: float,
                  gpu_memory_fraction: float | None = None) -> int:
        """Raw recommendation over all metrics (the largest wins), before stabilization and policies."""
        rec = external_average_value_replicas(current_replicas, queue_depth_total, self.queue_depth_target,
                                              self.tolerance)
        if self.gpu_memory_target is not None and gpu_memory_fraction is not None and current_replicas > 0:
            rec = max(rec, raw_desired_replicas(current_replicas, gpu_memory_fraction, self.gpu_memory_target,
                                                self.tolerance))
        return rec


@dataclass
class HpaController:
    """The controller's memory (recommendations and scale events) around `HpaPolicy`; one `sync` per period."""

    policy: HpaPolicy
    recommendations: list[tuple[float, int]] = field(default_factory=list)
    up_events: list[tuple[float, int]] = field(default_factory=list)
    down_events: list[tuple[float, int]] = field(default_factory=list)

    def sync(self, now: float, current_replicas: int, queue_depth_total: float,
             gpu_memory_fraction: float | None = None) -> int:
        p = self.policy
        rec = p.recommend(current_replicas, queue_depth_total, gpu_memory_fraction)
        return self.normalize(now, current_replicas, rec)

    def normalize(self, now: float, current_replicas: int, recommendation: int) -> int:
        """Stabilize, then apply the rate policies and min/max; record what was decided."""
        p = self.policy
        keep = max(p.scale_up.stabilization_window_seconds, p.scale_down.stabilization_window_seconds)
        self.recommendations = [(t, r) for t, r in self.recommendations if t > now - keep]
        desired = stabilized(current_replicas, recommendation, self.recommendations, now,
                             p.scale_up.stabilization_window_seconds, p.scale_down.stabilization_window_seconds)
        self.recommendations.append((now, recommendation))
        longest = max([x.period_seconds for x in p.scale_up.policies + p.scale_down.policies] or [0])
        self.up_events = [(t, n) for t, n in self.up_events if t > now - longest]
        self.down_events = [(t, n) for t, n in self.down_events if t > now - longest]
        if desired > current_replicas:
            limit = scale_up_limit(current_replicas, p.scale_up, now, self.up_events, self.down_events)
            desired = min(desired, limit, p.max_replicas)
        elif desired < current_replicas:
            limit = scale_down_limit(current_replicas, p.scale_down, now, self.up_events, self.down_events)
            desired = max(desired, limit, p.min_replicas)
        desired = min(max(desired, p.min_replicas), p.max_replicas)
        if desired > current_replicas:
            self.up_events.append((now, desired - current_replicas))
        elif desired < current_replicas:
            self.down_events.append((now, current_replicas - desired))
        return desired
