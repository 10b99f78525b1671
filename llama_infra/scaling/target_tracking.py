"""Application Auto Scaling target tracking for SageMaker variants: the alarms it creates and how it acts on them.

Sources (AWS documentation, read with the search tool):
- "How target tracking scaling for Application Auto Scaling works"
  (docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html): AAS creates
  and manages the CloudWatch alarms; it scales out proportionally and fast, and scales in only when the metric is
  below the target by a margin (about 10 %) for long enough; cooldowns: during a scale-out cooldown a further
  scale-out happens only when it asks for more than the previous one; a scale-out ends a scale-in cooldown.
- The alarms target tracking creates (visible in the CloudWatch console next to any such policy): `AlarmHigh`: 3 of 3
  datapoints above the target and `AlarmLow`: 15 of 15 datapoints below 90 % of the target, one datapoint per
  metric period. With a 60 s metric (InvocationsPerInstance) that is 3 min to scale out; with SageMaker's
  10 s high-resolution metrics (ConcurrentRequestsPerModelHighResolution, "Amazon SageMaker inference launches
  faster auto scaling for generative AI models", AWS ML blog, July 2024) it is 30 s — the "up to 6x faster"
  detection the launch post reports (180 s / 30 s). The datapoint counts are an observation, not a documented
  contract: `alarm_high_datapoints` / `alarm_low_datapoints` are parameters.
- Default ScaleOutCooldown / ScaleInCooldown for SageMaker variants: 300 s (Application Auto Scaling user guide,
  "Define cooldown periods").
- SageMaker real-time endpoints scale their instance count: desired = ceil(current × metric / target).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec

PredefinedMetric = Literal[
    "SageMakerVariantInvocationsPerInstance",
    "SageMakerVariantConcurrentRequestsPerModelHighResolution",
]
HIGH_RESOLUTION_PERIOD_SECONDS = 10
STANDARD_PERIOD_SECONDS = 60
DEFAULT_COOLDOWN_SECONDS = 300
SCALE_IN_MARGIN = 0.9  # AlarmLow threshold = 90 % of the target


@dataclass(frozen=True)
class TargetTrackingPolicy:
    """One TargetTrackingScaling policy on a SageMaker variant's DesiredInstanceCount."""

    metric: PredefinedMetric
    target_value: float
    min_capacity: int
    max_capacity: int
    scale_out_cooldown_seconds: int = DEFAULT_COOLDOWN_SECONDS
    scale_in_cooldown_seconds: int = DEFAULT_COOLDOWN_SECONDS
    alarm_high_datapoints: int = 3
    alarm_low_datapoints: int = 15
    disable_scale_in: bool = False

    @property
    def period_seconds(self) -> int:
        return HIGH_RESOLUTION_PERIOD_SECONDS if self.metric.endswith("HighResolution") else STANDARD_PERIOD_SECONDS

    @property
    def scale_out_detection_seconds(self) -> int:
        return self.period_seconds * self.alarm_high_datapoints

    @property
    def scale_in_detection_seconds(self) -> int:
        return self.period_seconds * self.alarm_low_datapoints

    @classmethod
    def from_spec(cls, spec: DeploymentSpec) -> TargetTrackingPolicy:
        """The spec's queue-depth policy: concurrent requests per instance (running + queued, 10 s metric).

        The target value is the spec's `queue_depth_target` per replica (the metric counts running requests too,
        so a low target scales out early; `llama-infra tune` searches it); cooldowns come from the stabilization
        windows (scale-out = scale_up, scale-in = scale_down).
        """
        s = spec.scaling
        return cls(
            metric="SageMakerVariantConcurrentRequestsPerModelHighResolution",
            target_value=s.queue_depth_target,
            min_capacity=max(1, spec.min_replicas),
            max_capacity=spec.max_replicas,
            scale_out_cooldown_seconds=s.scale_up_stabilization_seconds,
            scale_in_cooldown_seconds=s.scale_down_stabilization_seconds,
        )

    @classmethod
    def invocations_per_instance(cls, target_per_minute: float, min_capacity: int, max_capacity: int
                                 ) -> TargetTrackingPolicy:
        """SageMaker's documented default: InvocationsPerInstance (per minute), 300 s cooldowns."""
        return cls("SageMakerVariantInvocationsPerInstance", target_per_minute, min_capacity, max_capacity)

    def to_aws(self) -> dict:
        """TargetTrackingScalingPolicyConfiguration for PutScalingPolicy / aws.appautoscaling.Policy."""
        return {
            "TargetValue": self.target_value,
            "PredefinedMetricSpecification": {"PredefinedMetricType": self.metric},
            "ScaleOutCooldown": self.scale_out_cooldown_seconds,
            "ScaleInCooldown": self.scale_in_cooldown_seconds,
            "DisableScaleIn": self.disable_scale_in,
        }

    def desired_capacity(self, current: int, metric_value: float) -> int:
        """Proportional capacity for the metric (per-instance average) at the target, clamped to min/max."""
        wanted = math.ceil(current * metric_value / self.target_value - 1e-9) if current > 0 else 1
        return min(max(wanted, self.min_capacity), self.max_capacity)


@dataclass
class TargetTrackingController:
    """Alarm evaluation (one datapoint per period) and cooldown bookkeeping around `TargetTrackingPolicy`."""

    policy: TargetTrackingPolicy
    datapoints: deque = field(default_factory=deque)
    last_scale_out_at: float = -math.inf
    last_scale_out_to: int = 0
    last_scale_in_at: float = -math.inf

    def evaluate(self, now: float, current: int, metric_value: float) -> int:
        """Add one datapoint (the period's average per instance) and return the new desired capacity."""
        p = self.policy
        self.datapoints.append(metric_value)
        keep = max(p.alarm_high_datapoints, p.alarm_low_datapoints)
        while len(self.datapoints) > keep:
            self.datapoints.popleft()
        recent = list(self.datapoints)
        high = len(recent) >= p.alarm_high_datapoints and all(
            v > p.target_value for v in recent[-p.alarm_high_datapoints:])
        low = len(recent) >= p.alarm_low_datapoints and all(
            v < p.target_value * SCALE_IN_MARGIN for v in recent[-p.alarm_low_datapoints:])
        if high:
            wanted = p.desired_capacity(current, metric_value)
            in_cooldown = now - self.last_scale_out_at < p.scale_out_cooldown_seconds
            if wanted > current and (not in_cooldown or wanted > self.last_scale_out_to):
                self.last_scale_out_at, self.last_scale_out_to = now, wanted
                return wanted
            return current
        if low and not p.disable_scale_in:
            wanted = p.desired_capacity(current, metric_value)
            if wanted < current and now - self.last_scale_in_at >= p.scale_in_cooldown_seconds:
                self.last_scale_in_at = now
                return wanted
        return min(max(current, p.min_capacity), p.max_capacity)
