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

Rules the controller follows, each with a test on the documented example (tests/scaling/test_target_tracking_rules.py):
- high-resolution metrics scale out faster but scale in at the standard pace (SageMaker developer guide, "Define a
  scaling policy" → "Specify a high-resolution predefined metric", docs.aws.amazon.com/sagemaker/latest/dg/
  endpoint-auto-scaling-add-code-define.html): AlarmHigh reads the 10 s datapoints, AlarmLow the 60 s averages —
  15 of them, 15 minutes, whatever the metric's resolution (`scale_in_period_seconds`).
- "if a scale-out activity is triggered during a scale-in cooldown, Application Auto Scaling scales out the target
  immediately ... the scale-in cooldown stops and doesn't complete" (Application Auto Scaling user guide, "Define
  cooldown periods"): a scale-out clears the scale-in cooldown.
- the scale-out cooldown runs "after a scale out activity completes", and while a scale-out is under way or cooling
  down "the capacity added by the initiating scale-out activity is calculated as part of the desired capacity for the
  next scale-out activity" (Application Auto Scaling API reference, `TargetTrackingScalingPolicyConfiguration`
  ScaleOutCooldown; the step-scaling `Cooldown` gives the worked example: an increase of 2, then an alarm asking for
  3 during the cooldown, adds 1). So the next desired capacity is worked out from the capacity the initiating
  scale-out started from, not from one that already counts the instances it is adding: the metric they are meant to
  lower does not yet include them (a per-container metric averages the serving containers only), and counting them
  twice compounded a single burst into max capacity. A SageMaker scale-out completes when its instances serve.
- inference-component copies scale to 0 (min capacity 0; "Scale an endpoint to zero instances" in the SageMaker
  guide) and target tracking cannot leave 0 (no copy, no per-copy datapoint): a step-scaling policy on the
  `NoCapacityInvocationFailures` alarm (Sum over 60 s ≥ 1) adds one copy, with a 60 s cooldown (`WakeOnNoCapacity`,
  the policy `targets/sagemaker/components/scale_to_zero.py` renders).
- a per-container metric (`ConcurrentRequestsPerModel`, `ConcurrentRequestsPerCopy`) is published by the containers
  that serve: the average is over serving containers, not ones still starting, and with none serving there is no
  datapoint (`per_container_average`; SageMaker guide, "Amazon SageMaker AI metrics in Amazon CloudWatch": "the
  number of concurrent requests being received by the model container").
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
    "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution",
]
COPY_METRIC: PredefinedMetric = "SageMakerInferenceComponentConcurrentRequestsPerCopyHighResolution"
HIGH_RESOLUTION_PERIOD_SECONDS = 10
STANDARD_PERIOD_SECONDS = 60
DEFAULT_COOLDOWN_SECONDS = 300
SCALE_IN_MARGIN = 0.9  # AlarmLow threshold = 90 % of the target
WAKE_UP_ALARM_PERIOD_SECONDS = 60  # the NoCapacityInvocationFailures alarm: Sum over 60 s >= 1
WAKE_UP_COOLDOWN_SECONDS = 60


def per_container_average(total_concurrent: float, serving_containers: int) -> float | None:
    """The per-container metric's datapoint: the average over containers that serve; None (no datapoint) when none
    does — containers still starting publish nothing."""
    if serving_containers <= 0:
        return None
    return total_concurrent / serving_containers


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
    def scale_in_period_seconds(self) -> int:
        """AlarmLow's period: the standard minute, also for high-resolution metrics (they scale out faster only)."""
        return STANDARD_PERIOD_SECONDS

    @property
    def scale_out_detection_seconds(self) -> int:
        return self.period_seconds * self.alarm_high_datapoints

    @property
    def scale_in_detection_seconds(self) -> int:
        return self.scale_in_period_seconds * self.alarm_low_datapoints

    @classmethod
    def from_spec(cls, spec: DeploymentSpec) -> TargetTrackingPolicy:
        """The spec's queue-depth policy: concurrent requests per instance (running + queued, 10 s metric).

        The target value is the spec's `queue_depth_target` per replica (the metric counts running requests too,
        so a low target scales out early; `llama-infra tune` searches it); cooldowns come from the stabilization
        windows (scale-out = scale_up, scale-in = scale_down).
        """
        s = spec.scaling
        return cls(
            # scale to zero runs the model as an inference component: its copies are what is scaled
            metric=COPY_METRIC if s.scale_to_zero else "SageMakerVariantConcurrentRequestsPerModelHighResolution",
            target_value=s.queue_depth_target,
            min_capacity=0 if s.scale_to_zero else max(1, spec.min_replicas),
            max_capacity=spec.max_replicas,
            scale_out_cooldown_seconds=s.scale_up_stabilization_seconds,
            scale_in_cooldown_seconds=s.scale_down_stabilization_seconds,
        )

    @classmethod
    def invocations_per_instance(
        cls, target_per_minute: float, min_capacity: int, max_capacity: int
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
    """Alarm evaluation and cooldown bookkeeping around `TargetTrackingPolicy`: AlarmHigh on the metric's own
    datapoints, AlarmLow on the standard minute's averages of them."""

    policy: TargetTrackingPolicy
    datapoints: deque = field(default_factory=deque)  # AlarmHigh's: one per metric period
    minutes: deque = field(default_factory=deque)  # AlarmLow's: one 60 s average per minute
    minute_index: int | None = None
    minute_values: list[float] = field(default_factory=list)
    last_scale_out_at: float = -math.inf
    last_scale_out_to: int = 0
    scale_out_from: int = 0  # the capacity the initiating scale-out started from
    scale_out_done_at: float | None = None  # when its instances served (None: still under way)
    last_scale_in_at: float = -math.inf

    def _add_to_minutes(self, now: float, metric_value: float) -> None:
        p = self.policy
        index = int(now // p.scale_in_period_seconds)
        if self.minute_index is not None and index != self.minute_index and self.minute_values:
            self.minutes.append(sum(self.minute_values) / len(self.minute_values))
            while len(self.minutes) > p.alarm_low_datapoints:
                self.minutes.popleft()
            self.minute_values = []
        self.minute_index = index
        self.minute_values.append(metric_value)

    def _scaling_out(self, now: float, current: int, in_service: int | None) -> bool:
        """Whether the last scale-out is still under way (the capacity in force, at most what it asked for, not all
        serving: a lower maximum or a scale-in since ends it too) or in its cooldown, which runs from its completion;
        `in_service` None: the caller does not know, the activity completes at once."""
        if self.last_scale_out_to <= 0:
            return False
        if self.scale_out_done_at is None:
            if in_service is not None and in_service < min(self.last_scale_out_to, current):
                return True
            self.scale_out_done_at = now if in_service is not None else self.last_scale_out_at
        return now - self.scale_out_done_at < self.policy.scale_out_cooldown_seconds

    def evaluate(self, now: float, current: int, metric_value: float | None, in_service: int | None = None) -> int:
        """Add one datapoint (the period's average per instance; None: no datapoint) and return the new desired
        capacity. `current`: the desired capacity in force; `in_service`: how many of it serve (None: unknown), which
        decides when a scale-out completes and its cooldown begins."""
        p = self.policy
        if metric_value is None:  # missing data: the alarms keep their state, nothing is decided
            return min(max(current, p.min_capacity), p.max_capacity)
        self.datapoints.append(metric_value)
        while len(self.datapoints) > p.alarm_high_datapoints:
            self.datapoints.popleft()
        if p.period_seconds == p.scale_in_period_seconds:
            self.minutes.append(metric_value)
            while len(self.minutes) > p.alarm_low_datapoints:
                self.minutes.popleft()
        else:
            self._add_to_minutes(now, metric_value)
        high = len(self.datapoints) >= p.alarm_high_datapoints and all(v > p.target_value for v in self.datapoints)
        low = len(self.minutes) >= p.alarm_low_datapoints and all(
            v < p.target_value * SCALE_IN_MARGIN for v in self.minutes
        )
        scaling_out = self._scaling_out(now, current, in_service)
        if high:
            # under way or cooling down, the capacity it adds counts toward the next one (module docstring)
            base = self.scale_out_from if scaling_out else current
            wanted = p.desired_capacity(base, metric_value)
            if wanted > current and (not scaling_out or wanted > self.last_scale_out_to):
                if not scaling_out:
                    self.scale_out_from = current
                self.last_scale_out_at, self.last_scale_out_to = now, wanted
                self.scale_out_done_at = None
                self.last_scale_in_at = -math.inf  # a scale-out ends the scale-in cooldown
                return wanted
            return current
        if low and not p.disable_scale_in:
            wanted = p.desired_capacity(current, self.minutes[-1])
            if wanted < current and now - self.last_scale_in_at >= p.scale_in_cooldown_seconds:
                self.last_scale_in_at = now
                return wanted
        return min(max(current, p.min_capacity), p.max_capacity)


@dataclass
class WakeOnNoCapacity:
    """The step-scaling policy that takes inference-component copies off zero: +1 copy when the
    `NoCapacityInvocationFailures` alarm (Sum over 60 s ≥ 1) fires, then a 60 s cooldown."""

    cooldown_seconds: int = WAKE_UP_COOLDOWN_SECONDS
    alarm_period_seconds: int = WAKE_UP_ALARM_PERIOD_SECONDS
    failures: deque = field(default_factory=deque)  # (time, failed requests)
    last_step_at: float = -math.inf

    def evaluate(self, now: float, current: int, no_capacity_failures: int, max_capacity: int) -> int:
        self.failures.append((now, no_capacity_failures))
        while self.failures and self.failures[0][0] <= now - self.alarm_period_seconds:
            self.failures.popleft()
        alarm = sum(n for _, n in self.failures) >= 1
        if alarm and current == 0 and now - self.last_step_at >= self.cooldown_seconds:
            self.last_step_at = now
            return min(1, max_capacity)
        return current
