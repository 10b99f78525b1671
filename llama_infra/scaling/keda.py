"""KEDA ScaledObject semantics on top of the HPA it creates.

Source: KEDA documentation, "Scaling Deployments, StatefulSets & Custom Resources" (ScaledObject spec,
keda.sh/docs/2.16/reference/scaledobject-spec/) and "Scaling behavior": KEDA itself only decides between zero and
`minReplicaCount` (activation); from 1 to N it hands the metric to the HPA it owns (our `HpaController`).

- `pollingInterval` (default 30 s): how often KEDA checks each trigger for activation.
- activation: a trigger is active when its value is above `activationThreshold` (default 0).
- `cooldownPeriod` (default 300 s): how long after the last active check KEDA waits before scaling to zero; it only
  applies to scaling to zero (`minReplicaCount: 0`).
- `idleReplicaCount`: replicas while inactive (we use 0 for scale to zero).
- `fallback`: after `failureThreshold` consecutive metric failures KEDA sets `fallback.replicas`; with
  `ignoreNullValues: false` an empty Prometheus result is a failure, not zero (DESIGN.md: so a broken metric
  pipeline does not scale to zero).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from llama_infra.scaling.hpa import HpaController, HpaPolicy

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec

DEFAULT_POLLING_INTERVAL_SECONDS = 30
DEFAULT_COOLDOWN_PERIOD_SECONDS = 300
DEFAULT_FAILURE_THRESHOLD = 3


@dataclass(frozen=True)
class KedaPolicy:
    hpa: HpaPolicy
    min_replica_count: int
    max_replica_count: int
    polling_interval_seconds: int = DEFAULT_POLLING_INTERVAL_SECONDS
    cooldown_period_seconds: int = DEFAULT_COOLDOWN_PERIOD_SECONDS
    activation_threshold: float = 0.0
    fallback_replicas: int = 1
    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD

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


@dataclass
class KedaController:
    """Activation (0 ↔ min) on KEDA's polling; 1..N through the HPA's sync."""

    policy: KedaPolicy
    hpa: HpaController = field(init=False)
    last_active_at: float | None = None
    consecutive_failures: int = 0

    def __post_init__(self) -> None:
        self.hpa = HpaController(self.policy.hpa)

    def poll(self, now: float, current_replicas: int, metric_total: float | None) -> int:
        """KEDA's own loop, every `polling_interval_seconds`: activation, deactivation after cooldown, fallback."""
        p = self.policy
        if metric_total is None:
            self.consecutive_failures += 1
            if self.consecutive_failures >= p.failure_threshold:
                return p.fallback_replicas
            return current_replicas
        self.consecutive_failures = 0
        active = metric_total > p.activation_threshold
        if active:
            self.last_active_at = now
            if current_replicas == 0:
                return max(1, p.min_replica_count)
            return current_replicas
        if p.min_replica_count == 0 and current_replicas > 0:
            idle_since = self.last_active_at if self.last_active_at is not None else -float("inf")
            if now - idle_since >= p.cooldown_period_seconds:
                return 0
        return current_replicas

    def hpa_sync(self, now: float, current_replicas: int, metric_total: float,
                 gpu_memory_fraction: float | None = None) -> int:
        """The HPA's loop (every 15 s); it does nothing while KEDA holds the workload at zero."""
        if current_replicas == 0:
            return 0
        return self.hpa.sync(now, current_replicas, metric_total, gpu_memory_fraction)
