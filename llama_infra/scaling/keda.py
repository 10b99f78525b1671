"""KEDA ScaledObject semantics on top of the HPA it creates, as the pinned 2.17 line implements them.

Source: KEDA documentation, "Scaling Deployments, StatefulSets & Custom Resources" (ScaledObject spec,
keda.sh/docs/2.17/reference/scaledobject-spec/) and "Scaling behavior": KEDA itself only decides between zero and
`minReplicaCount` (activation); from 1 to N it hands the metric to the HPA it owns (our `HpaController`). The rules
below are read from kedacore/keda at v2.17.3; each has a test with the upstream case it comes from
(tests/scaling/test_keda_rules.py).

- `pollingInterval` (default 30 s): how often KEDA's own loop checks activation (`pkg/scaling/scale_handler.go`).
- activation (`scale_handler.go` `getScaledObjectState`): without `scalingModifiers` a ScaledObject is active when some
  trigger is above its `activationThreshold` (default 0); with `scalingModifiers` the activity of the triggers is
  thrown away ("when we are using formula, we need to reevaluate if it's active here") and the ScaledObject is active
  when the composite metric — the whole formula, floors and wake triggers included — is above
  `scalingModifiers.activationTarget` (default 0). Any trigger error makes a formula ScaledObject inactive.
- the composite metric (`pkg/scaling/modifiers/formula.go`): the formula over the raw trigger values, handed to the
  HPA of the Deployment the ScaledObject scales as one External metric of `int64(value × 1000)` milli-units with an
  AverageValue target of `scalingModifiers.target`; the HPA then applies its tolerance and behaviour to that
  Deployment's own replica count (the burst Deployment on EKS, not the whole service).
- `cooldownPeriod` (default 300 s; `pkg/scaling/executor/scale_scaledobjects.go` `scaleToZeroOrIdle`): an inactive
  target with replicas and `minReplicaCount: 0` goes to zero only when `lastActiveTime + cooldownPeriod` is
  *before* now (strictly), or at once when it was never active; while an errored ScaledObject has a fallback with
  replicas ≠ 0 KEDA does not scale it to zero.
- `fallback` (`pkg/fallback/fallback.go` `GetMetricsWithFallback`): failures are counted per HPA metric request
  (every HPA sync, not every KEDA poll) and reset by a success; the fallback starts when the count is *more than*
  `failureThreshold`, and reaches the HPA as a metric of `int64(target) × 1000 × replicas` milli-units (target =
  the trigger's AverageValue or `scalingModifiers.target`), so the HPA's tolerance and behaviour still apply;
  `behavior` static (default), currentReplicas, currentReplicasIfHigher, currentReplicasIfLower. Before the
  threshold an error leaves the HPA without a metric: it keeps the current count.
- the cron scaler (`pkg/scalers/cron_scaler.go`): active while inside its window — the next `end` comes no later
  than the next `start`, both read in the trigger's `timezone` — and then reports `desiredReplicas`, else 1,
  against an AverageValue target of 1 (`cron_active`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from croniter import croniter

from llama_infra.scaling.hpa import (
    DEFAULT_SCALE_DOWN,
    DEFAULT_SCALE_UP,
    MILLI,
    HpaController,
    HpaPolicy,
    ScalingRules,
    external_milli_replicas,
    metric_milli,
    target_milli,
)
from llama_infra.schedules import zone

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec

DEFAULT_POLLING_INTERVAL_SECONDS = 30
DEFAULT_COOLDOWN_PERIOD_SECONDS = 300
DEFAULT_FAILURE_THRESHOLD = 3
FallbackBehavior = Literal["static", "currentReplicas", "currentReplicasIfHigher", "currentReplicasIfLower"]


@dataclass(frozen=True)
class KedaPolicy:
    hpa: HpaPolicy
    min_replica_count: int
    max_replica_count: int
    polling_interval_seconds: int = DEFAULT_POLLING_INTERVAL_SECONDS
    cooldown_period_seconds: int = DEFAULT_COOLDOWN_PERIOD_SECONDS
    activation_threshold: float = 0.0  # a trigger's activationThreshold, or scalingModifiers.activationTarget
    fallback_replicas: int = 1
    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD
    fallback_behavior: FallbackBehavior = "static"
    fallback_enabled: bool = True  # the ScaledObject has a `fallback` section

    @classmethod
    def from_spec(cls, spec: DeploymentSpec) -> KedaPolicy:
        s = spec.scaling
        min_count = 0 if s.scale_to_zero else spec.min_replicas
        return cls(
            hpa=HpaPolicy.from_spec(spec),
            min_replica_count=min_count,
            max_replica_count=spec.max_replicas,
            polling_interval_seconds=s.polling_interval_seconds,
            cooldown_period_seconds=max(DEFAULT_COOLDOWN_PERIOD_SECONDS, s.scale_down_stabilization_seconds),
            fallback_replicas=max(1, spec.min_replicas),
        )

    @classmethod
    def from_scaled_object(cls, body: dict) -> KedaPolicy:
        """What a rendered ScaledObject `spec` fixes: bounds, polling, cooldown, fallback, the HPA's behaviour, and
        the target and activation level of its metric (the composite with `scalingModifiers`, else the first
        trigger). KEDA gives the HPA minReplicas = max(minReplicaCount, 1) and maxReplicas = maxReplicaCount."""
        lo, hi = int(body.get("minReplicaCount", 0)), int(body["maxReplicaCount"])
        mods = body.get("advanced", {}).get("scalingModifiers")
        if mods:
            target, activation = float(mods["target"]), float(mods.get("activationTarget", "0"))
        else:
            meta = next(t["metadata"] for t in body["triggers"] if "threshold" in t["metadata"])  # cron has none
            target, activation = float(meta["threshold"]), float(meta.get("activationThreshold", "0"))
        behavior = body.get("advanced", {}).get("horizontalPodAutoscalerConfig", {}).get("behavior", {})
        hpa = HpaPolicy(
            max(1, lo),
            hi,
            target,
            scale_up=ScalingRules.from_manifest(behavior["scaleUp"]) if "scaleUp" in behavior else DEFAULT_SCALE_UP,
            scale_down=ScalingRules.from_manifest(behavior["scaleDown"])
            if "scaleDown" in behavior
            else DEFAULT_SCALE_DOWN,
        )
        fb = body.get("fallback") or {}
        return cls(
            hpa=hpa,
            min_replica_count=lo,
            max_replica_count=hi,
            polling_interval_seconds=int(body.get("pollingInterval", DEFAULT_POLLING_INTERVAL_SECONDS)),
            cooldown_period_seconds=int(body.get("cooldownPeriod", DEFAULT_COOLDOWN_PERIOD_SECONDS)),
            activation_threshold=activation,
            fallback_replicas=int(fb.get("replicas", 0)),
            failure_threshold=int(fb.get("failureThreshold", DEFAULT_FAILURE_THRESHOLD)),
            fallback_behavior=fb.get("behavior", "static"),
            fallback_enabled=bool(fb),
        )

    def settled_replicas(self, wanted: int, active: bool) -> int:
        """The count KEDA and its HPA hold once the metric is steady: `minReplicaCount` while the ScaledObject is
        inactive, else what the HPA wants clamped to its bounds (`max(minReplicaCount, 1)` to `maxReplicaCount`)."""
        if not active:
            return self.min_replica_count
        return min(max(wanted, self.hpa.min_replicas), self.max_replica_count)

    def scaled_object_fields(self) -> dict:
        """The ScaledObject spec fields this policy fixes (triggers are rendered by the component)."""
        return {
            "pollingInterval": self.polling_interval_seconds,
            "cooldownPeriod": self.cooldown_period_seconds,
            "minReplicaCount": self.min_replica_count,
            "maxReplicaCount": self.max_replica_count,
            "fallback": {"failureThreshold": self.failure_threshold, "replicas": self.fallback_replicas},
            "advanced": {"horizontalPodAutoscalerConfig": {"behavior": self.hpa.behavior_manifest()}},
        }

    def fallback_milli(self, current_replicas: int) -> int:
        """The metric `doFallback` hands the HPA: int64(target) × 1000 × replicas."""
        n = self.fallback_replicas
        if self.fallback_behavior == "currentReplicas":
            n = current_replicas
        elif self.fallback_behavior == "currentReplicasIfHigher":
            n = max(current_replicas, n)
        elif self.fallback_behavior == "currentReplicasIfLower":
            n = min(current_replicas, n)
        return int(self.hpa.queue_depth_target) * MILLI * n


def cron_active(metadata: Mapping[str, str], at: datetime) -> bool:
    """A cron trigger's activity at `at` (KEDA's cron scaler): inside its window, i.e. the next `end` comes no later
    than the next `start`, both read in the trigger's timezone (croniter steps in local wall-clock time)."""
    local = at.astimezone(zone(metadata["timezone"]))
    next_start = croniter(metadata["start"], local).get_next(datetime)
    next_end = croniter(metadata["end"], local).get_next(datetime)
    return next_end <= next_start


@dataclass
class KedaController:
    """KEDA's loop (activation 0 ↔ min, every `polling_interval_seconds`) and the HPA it owns (1..N, every sync).

    `metric` is what the ScaledObject computes: the composite (the formula's value) with `scalingModifiers`, else the
    trigger's value; None when a trigger errors (Prometheus failed or returned nothing)."""

    policy: KedaPolicy
    hpa: HpaController = field(init=False)
    last_active_at: float | None = None
    failures: dict[str, int] = field(default_factory=dict)  # status.health[metric].numberOfFailures, per request

    def __post_init__(self) -> None:
        self.hpa = HpaController(self.policy.hpa)

    @property
    def consecutive_failures(self) -> int:
        return max(self.failures.values(), default=0)

    def is_active(self, metric: float | None) -> bool:
        """`getScaledObjectState`: an error makes it inactive; otherwise the value above the activation level."""
        return metric is not None and metric > self.policy.activation_threshold

    def poll(self, now: float, current_replicas: int, metric: float | None) -> int:
        """`RequestScale` (scale_scaledobjects.go) for one polling tick: wake from zero, cool down to zero."""
        p = self.policy
        if self.is_active(metric):
            self.last_active_at = now
            if current_replicas == 0:
                return max(1, p.min_replica_count)  # scaleFromZeroOrIdle: minReplicaCount, or 1 when it is 0
            return current_replicas
        if metric is None and p.fallback_enabled and p.fallback_replicas != 0:
            return current_replicas  # "ScaleTarget will fallback to Fallback.Replicas after ..FailureThreshold"
        if current_replicas > 0 and p.min_replica_count == 0:
            # scaleToZeroOrIdle: LastActiveTime.Add(cooldownPeriod).Before(now), or never active
            if self.last_active_at is None or self.last_active_at + p.cooldown_period_seconds < now:
                return 0
            return current_replicas
        if current_replicas < p.min_replica_count:
            return p.min_replica_count
        return current_replicas

    def metric_milli_for_hpa(self, current_replicas: int, metric: float | None, name: str = "") -> int | None:
        """What the KEDA metrics server answers one HPA request for one metric with (`GetMetricsWithFallback`):
        the value, the fallback metric once that metric's failures exceed the threshold, or None (an error)."""
        if metric is not None:
            self.failures[name] = 0
            return metric_milli(metric)
        self.failures[name] = self.failures.get(name, 0) + 1
        if self.policy.fallback_enabled and self.failures[name] > self.policy.failure_threshold:
            return self.policy.fallback_milli(current_replicas)
        return None

    def hpa_sync(
        self, now: float, current_replicas: int, metric: float | None, gpu_memory_fraction: float | None = None
    ) -> int:
        """The HPA's loop (every 15 s) on one metric with the policy's target (the composite, or the queue)."""
        metrics = [("queue", metric, self.policy.hpa.queue_depth_target)]
        hp = self.hpa.policy
        if hp.gpu_memory_target is not None and gpu_memory_fraction is not None:
            metrics.append(("kv", gpu_memory_fraction * current_replicas, hp.gpu_memory_target))
        return self.hpa_sync_metrics(now, current_replicas, metrics)

    def hpa_sync_metrics(
        self, now: float, current_replicas: int, metrics: Sequence[tuple[str, float | None, float]]
    ) -> int:
        """The HPA's loop (every 15 s) on the Deployment the ScaledObject scales, one External AverageValue metric
        per (name, value, target): the largest recommendation wins (`computeReplicasForMetrics`); it does nothing
        while KEDA holds the workload at zero, and keeps the count while every metric errors."""
        answers = [(self.metric_milli_for_hpa(current_replicas, v, name), t) for name, v, t in metrics]
        if current_replicas == 0:
            return 0
        valid = [(u, t) for u, t in answers if u is not None]
        if not valid:
            return current_replicas
        tol = self.hpa.policy.tolerance
        rec = max(external_milli_replicas(current_replicas, u, target_milli(t), tol) for u, t in valid)
        return self.hpa.sync_recommendation(now, current_replicas, lambda: rec)
