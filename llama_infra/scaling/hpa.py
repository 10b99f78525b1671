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

Rules taken from the controller's code (kubernetes/kubernetes, pkg/controller/podautoscaler/), each with a test built
on the upstream worked example (tests/scaling/test_hpa_controller_rules.py):
- horizontal.go `convertDesiredReplicasWithBehaviorRate`: a scale-up limit below the current count (scale-up events
  of the period exceed what the policies now allow) is raised to the current count — "We shouldn't scale up further
  until the scaleUpEvents will be cleaned up" — and a scale-down limit above it is lowered to it: the policies never
  move the count the other way.
- horizontal.go `reconcileAutoscaler`: a target at 0 replicas with minReplicas ≠ 0 is left alone ("scaling is
  disabled"); a count above maxReplicas goes to maxReplicas and one below minReplicas to minReplicas without
  reading the metrics (no recommendation is recorded, the scale event is); `recordInitialRecommendation` stores the
  current count as the first recommendation, so the scale-down window holds it at start.
- replica_calculator.go `GetExternalPerPodMetricReplicas`: the values are integer milli-units (the metric as KEDA's
  `GenerateMetricInMili` or prometheus-adapter builds it, `int64(value × 1000)`; the target's
  `Quantity.MilliValue()`, rounded up); usage ratio = Σ milli / (target milli × current), replicas = ceil(Σ milli /
  target milli) when the ratio is outside the tolerance, and the reported average is ceil(Σ milli / current).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
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

    @classmethod
    def from_manifest(cls, body: dict) -> ScalingPolicy:
        return cls(body["type"], int(body["value"]), int(body["periodSeconds"]))


@dataclass(frozen=True)
class ScalingRules:
    """HPAScalingRules for one direction."""

    stabilization_window_seconds: int
    policies: tuple[ScalingPolicy, ...]
    select_policy: SelectPolicy = "Max"

    def __post_init__(self) -> None:
        if not 0 <= self.stabilization_window_seconds <= MAX_STABILIZATION_WINDOW_SECONDS:
            raise ValueError(f"stabilizationWindowSeconds must be in 0..3600 (got {self.stabilization_window_seconds})")

    def to_manifest(self) -> dict:
        return {
            "stabilizationWindowSeconds": self.stabilization_window_seconds,
            "selectPolicy": self.select_policy,
            "policies": [p.to_manifest() for p in self.policies],
        }

    @classmethod
    def from_manifest(cls, body: dict) -> ScalingRules:
        return cls(
            int(body["stabilizationWindowSeconds"]),
            tuple(ScalingPolicy.from_manifest(p) for p in body.get("policies", [])),
            body.get("selectPolicy", "Max"),
        )


# The documented defaults ("Default Behavior").
DEFAULT_SCALE_UP = ScalingRules(0, (ScalingPolicy("Percent", 100, 15), ScalingPolicy("Pods", 4, 15)), "Max")
DEFAULT_SCALE_DOWN = ScalingRules(300, (ScalingPolicy("Percent", 100, 15),), "Max")


MILLI = 1000


def metric_milli(value: float) -> int:
    """A metric value as the HPA receives it: `int64(value × 1000)` milli-units (KEDA `pkg/scalers/scaler.go`
    `GenerateMetricInMili`; prometheus-adapter builds its external values the same way), truncated."""
    return int(value * MILLI)


def target_milli(value: float) -> int:
    """A target quantity's `MilliValue()`: rounded up to a whole milli-unit (k8s.io/apimachinery resource.Quantity)."""
    return math.ceil(round(value * MILLI, 6))


def raw_desired_replicas(
    current_replicas: int, current_value: float, target_value: float, tolerance: float = DEFAULT_TOLERANCE
) -> int:
    """desiredReplicas = ceil(currentReplicas × currentMetricValue / desiredMetricValue), with the tolerance.

    `current_value` is the per-pod average (what an AverageValue target compares against).
    """
    if target_value <= 0:
        raise ValueError(f"target value must be > 0 (got {target_value})")
    ratio = current_value / target_value
    if abs(ratio - 1.0) <= tolerance:
        return current_replicas
    return math.ceil(current_replicas * ratio - 1e-9)


def external_average_value_replicas(
    current_replicas: int, metric_total: float, target_per_pod: float, tolerance: float = DEFAULT_TOLERANCE
) -> int:
    """External metric with an AverageValue target (queue depth ÷ target per replica), in integer milli-units as
    replica_calculator.go `GetExternalPerPodMetricReplicas` computes it: ceil(Σ milli / target milli), unless
    |1 − Σ milli / (target milli × current)| ≤ tolerance."""
    if target_per_pod <= 0:
        raise ValueError(f"target per pod must be > 0 (got {target_per_pod})")
    return external_milli_replicas(
        current_replicas, metric_milli(metric_total), target_milli(target_per_pod), tolerance
    )


def external_milli_replicas(
    current_replicas: int, usage_milli: int, target_per_pod_milli: int, tolerance: float = DEFAULT_TOLERANCE
) -> int:
    """`GetExternalPerPodMetricReplicas` on milli-unit integers (the upstream test cases are written in them)."""
    if current_replicas > 0:
        usage_ratio = usage_milli / (target_per_pod_milli * current_replicas)
        if abs(1.0 - usage_ratio) <= tolerance:
            return current_replicas
    return -(-usage_milli // target_per_pod_milli)  # integer ceil


def stabilized(
    current_replicas: int,
    recommendation: int,
    history: Sequence[tuple[float, int]],
    now: float,
    scale_up_window_seconds: int,
    scale_down_window_seconds: int,
) -> int:
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


def scale_up_limit(
    current_replicas: int,
    rules: ScalingRules,
    now: float,
    up_events: Sequence[tuple[float, int]] = (),
    down_events: Sequence[tuple[float, int]] = (),
) -> int:
    """Most replicas the policies allow right now when scaling up."""
    if rules.select_policy == "Disabled":
        return current_replicas
    best: int | None = None
    for p in rules.policies:
        start = (
            current_replicas
            - _changed_within(up_events, now, p.period_seconds)
            + _changed_within(down_events, now, p.period_seconds)
        )
        proposed = start + p.value if p.type == "Pods" else math.ceil(start * (1 + p.value / 100) - 1e-9)
        if best is None:
            best = proposed
        else:
            best = max(best, proposed) if rules.select_policy == "Max" else min(best, proposed)
    return current_replicas if best is None else best


def scale_down_limit(
    current_replicas: int,
    rules: ScalingRules,
    now: float,
    up_events: Sequence[tuple[float, int]] = (),
    down_events: Sequence[tuple[float, int]] = (),
) -> int:
    """Fewest replicas the policies allow right now when scaling down."""
    if rules.select_policy == "Disabled":
        return current_replicas
    best: int | None = None
    for p in rules.policies:
        start = (
            current_replicas
            - _changed_within(up_events, now, p.period_seconds)
            + _changed_within(down_events, now, p.period_seconds)
        )
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

    def recommend(
        self, current_replicas: int, queue_depth_total: float, gpu_memory_fraction: float | None = None
    ) -> int:
        """Raw recommendation over all metrics (the largest wins), before stabilization and policies."""
        rec = external_average_value_replicas(
            current_replicas, queue_depth_total, self.queue_depth_target, self.tolerance
        )
        if self.gpu_memory_target is not None and gpu_memory_fraction is not None and current_replicas > 0:
            # rendered like the queue: an External sum over the pods with an AverageValue target per replica
            rec = max(
                rec,
                external_average_value_replicas(
                    current_replicas, gpu_memory_fraction * current_replicas, self.gpu_memory_target, self.tolerance
                ),
            )
        return rec


@dataclass
class HpaController:
    """The controller's memory (recommendations and scale events) around `HpaPolicy`; one `sync` per period."""

    policy: HpaPolicy
    recommendations: list[tuple[float, int]] = field(default_factory=list)
    up_events: list[tuple[float, int]] = field(default_factory=list)
    down_events: list[tuple[float, int]] = field(default_factory=list)
    initialized: bool = False

    def sync(
        self, now: float, current_replicas: int, queue_depth_total: float, gpu_memory_fraction: float | None = None
    ) -> int:
        """One `reconcileAutoscaler` (horizontal.go) on the queue (and GPU memory) metrics."""
        return self.sync_recommendation(
            now,
            current_replicas,
            lambda: self.policy.recommend(current_replicas, queue_depth_total, gpu_memory_fraction),
        )

    def sync_recommendation(self, now: float, current_replicas: int, recommend: Callable[[], int]) -> int:
        """`reconcileAutoscaler`: out-of-range counts clamp before any metric is read (`recommend` is not called);
        otherwise the metrics' recommendation is stabilized and rate-limited (`normalize`)."""
        p = self.policy
        if not self.initialized:  # recordInitialRecommendation: the current count is the first recommendation
            self.recommendations.append((now, current_replicas))
            self.initialized = True
        if current_replicas == 0 and p.min_replicas != 0:
            return 0  # "scaling is disabled since the replica count of the target is zero"
        if current_replicas > p.max_replicas:
            return self._record_rescale(now, current_replicas, p.max_replicas)
        if current_replicas < p.min_replicas:
            return self._record_rescale(now, current_replicas, p.min_replicas)
        return self.normalize(now, current_replicas, recommend())

    def _record_rescale(self, now: float, current_replicas: int, desired: int) -> int:
        """storeScaleEvent: every rescale counts against the rate policies, whatever decided it."""
        if desired > current_replicas:
            self.up_events.append((now, desired - current_replicas))
        elif desired < current_replicas:
            self.down_events.append((now, current_replicas - desired))
        return desired

    def normalize(self, now: float, current_replicas: int, recommendation: int) -> int:
        """Stabilize, then apply the rate policies and min/max; record what was decided."""
        p = self.policy
        keep = max(p.scale_up.stabilization_window_seconds, p.scale_down.stabilization_window_seconds)
        self.recommendations = [(t, r) for t, r in self.recommendations if t > now - keep]
        desired = stabilized(
            current_replicas,
            recommendation,
            self.recommendations,
            now,
            p.scale_up.stabilization_window_seconds,
            p.scale_down.stabilization_window_seconds,
        )
        self.recommendations.append((now, recommendation))
        longest = max([x.period_seconds for x in p.scale_up.policies + p.scale_down.policies] or [0])
        self.up_events = [(t, n) for t, n in self.up_events if t > now - longest]
        self.down_events = [(t, n) for t, n in self.down_events if t > now - longest]
        if desired > current_replicas:
            # convertDesiredReplicasWithBehaviorRate: "if scaleUpLimit < args.CurrentReplicas { scaleUpLimit =
            # args.CurrentReplicas }" — events of the period never force a scale-down while scaling up
            limit = max(
                scale_up_limit(current_replicas, p.scale_up, now, self.up_events, self.down_events), current_replicas
            )
            desired = min(desired, limit, p.max_replicas)
        elif desired < current_replicas:
            limit = scale_down_limit(current_replicas, p.scale_down, now, self.up_events, self.down_events)
            desired = max(desired, limit, p.min_replicas)
        desired = min(max(desired, p.min_replicas), p.max_replicas)
        return self._record_rescale(now, current_replicas, desired)
