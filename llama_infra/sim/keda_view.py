"""The KEDA objects an EKS spec renders, as the simulator runs them: the burst Deployment's ScaledObject (and a
night variant's during its window), their triggers read from the simulator's observation.

KEDA scales a Deployment, not the service: the burst ScaledObject's HPA acts on the burst count (the service minus
the baseline Deployment), with its own tolerance and behaviour (`KedaController.hpa_sync_metrics`); with
`scalingModifiers` the composite — the whole formula, window floors and the wake trigger included — decides
activation and is the one metric that HPA sees (`llama_infra.scaling.keda`). A night variant's ScaledObject owns its
whole Deployment. Trigger values, as the rendered queries compute them
(`llama_infra.targets.kubernetes.prometheus_metrics`):
- a Prometheus trigger on the queue or the KV cache: the service's sum minus `B × threshold` when the query has the
  baseline offset (`clamp_min(total − B·t, 0)`), the sum itself in a formula ScaledObject;
- `queue_depth_held`: the least whole-service queue of the polls within the spec's scale-up stabilization
  (`metrics.held`), one series for the service (`HeldQueue`): Prometheus keeps it across a window edge, so a night
  Deployment's ScaledObject reads the polls from before its window began; `serving_replicas`: the ready replicas
  (the pods whose /metrics answers);
- `wake`: 1 while a request arrived within `metrics.WAKE_IDLE_SECONDS`, else 0;
- a window gate (cron trigger): `GATE_DESIRED` while that window is the configuration in force, else 1 (the gates'
  lead times — the day view closes a little before the window ends — are not modelled: the simulator switches
  configurations at the window's own edges).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from llama_infra.scaling.keda import KedaController, KedaPolicy
from llama_infra.targets.kubernetes import keda_formula as f
from llama_infra.targets.kubernetes import prometheus_metrics as metrics
from llama_infra.targets.kubernetes import queue_triggers as q
from llama_infra.targets.kubernetes.expr_lang import evaluate
from llama_infra.targets.kubernetes.floor_triggers import LOAD_TRIGGER

if TYPE_CHECKING:
    from llama_infra.sim.engine import Observation
    from llama_infra.spec import DeploymentSpec


@dataclass
class HeldQueue:
    """The whole-service queue as `metrics.held` reads it: the least of the polls within the last `hold_s` seconds.
    One per service, recorded at every tick whichever configuration is in force (the query sums the service's pods,
    so its series does not restart when another Deployment takes over)."""

    hold_s: float
    samples: deque[tuple[float, float]] = field(default_factory=deque)

    @classmethod
    def of(cls, spec: DeploymentSpec) -> HeldQueue:
        """The spec's: held over its scale-up stabilization (`queue_triggers.wake_hold_seconds`)."""
        return cls(float(q.wake_hold_seconds(spec)))

    def record(self, now: float, queue_depth: float) -> None:
        self.samples.append((now, queue_depth))
        while self.samples and self.samples[0][0] <= now - self.hold_s:
            self.samples.popleft()

    def value(self) -> float:
        """The least recorded queue within the hold (0 before any poll)."""
        return min((v for _, v in self.samples), default=0.0)


@dataclass
class ScaledDeployment:
    """One rendered ScaledObject and the controller that runs it."""

    body: dict  # the ScaledObject's `spec`
    controller: KedaController
    fixed_replicas: int  # replicas of the configuration this ScaledObject does not own (the baseline Deployment)
    queue_offset_replicas: int  # B of the triggers' clamp_min(total − B·t, 0)
    held: HeldQueue  # the service's held queue, shared by every ScaledObject of the spec
    next_poll: float = 0.0
    last_request_at: float = -math.inf

    @property
    def formula(self) -> str | None:
        mods = self.body.get("advanced", {}).get("scalingModifiers")
        return mods["formula"] if mods else None

    def trigger_values(self, obs: Observation, window: str | None) -> dict[str, float]:
        if obs.arrivals_since_last > 0:
            self.last_request_at = obs.now
        values: dict[str, float] = {}
        for t in self.body["triggers"]:
            name = t["name"]
            if t["type"] == "cron":
                inside = window is not None and f.gate_window(name) == f.identifier(window)
                values[name] = float(f.GATE_DESIRED if inside else 1)
            elif name == LOAD_TRIGGER:
                # the predictive floor (and its following of the load) is the spec policy's minimum, applied over
                # the whole service (`SpecPolicy.floor_in_force`); its cron triggers read as inactive here
                values[name] = 0.0
            elif name == q.QUEUE_HELD_TRIGGER:
                values[name] = self.held.value()
            elif name == q.SERVING_TRIGGER:
                values[name] = float(obs.ready_replicas)
            elif name == "wake":
                values[name] = 1.0 if obs.now - self.last_request_at < metrics.WAKE_IDLE_SECONDS else 0.0
            else:
                total = obs.queue_depth if name == "queue_depth" else obs.kv_cache_fraction * obs.ready_replicas
                offset = self.queue_offset_replicas * float(t["metadata"]["threshold"])
                values[name] = max(0.0, total - offset)
        return values

    def desired(self, obs: Observation, window: str | None) -> int:
        """The configuration's replicas: the fixed part plus what KEDA and its HPA decide for this Deployment."""
        k = self.controller
        values = self.trigger_values(obs, window)
        owned = max(0, obs.replicas - self.fixed_replicas)
        formula = self.formula
        if formula is not None:
            composite = evaluate(formula, values)
            activity, hpa_metrics = composite, [("composite", composite, k.policy.hpa.queue_depth_target)]
        else:
            prom = [t for t in self.body["triggers"] if t["type"] == "prometheus"]
            activity = max((values[t["name"]] for t in prom), default=0.0)
            hpa_metrics = [(t["name"], values[t["name"]], float(t["metadata"]["threshold"])) for t in prom]
        if obs.now >= self.next_poll:
            owned = k.poll(obs.now, owned, activity)
            self.next_poll = obs.now + k.policy.polling_interval_seconds
        if owned > 0:
            owned = k.hpa_sync_metrics(obs.now, owned, hpa_metrics)
        owned = min(owned, k.policy.max_replica_count)
        return self.fixed_replicas + owned


def scaled_deployments(spec: DeploymentSpec, held: HeldQueue) -> dict[str | None, ScaledDeployment | None]:
    """Per configuration (window name, None by day): the ScaledObject that scales it, as the EKS renderer builds it;
    each reads the service's held queue from `held` (the caller records it at every tick)."""
    from llama_infra.targets.kubernetes import window_variants as night
    from llama_infra.targets.kubernetes.autoscaling import scaled_object
    from llama_infra.targets.kubernetes.window_scaling import night_scaled_object
    from llama_infra.targets.kubernetes.window_scaling import windows as window_scaling

    b = spec.capacity.baseline.count
    burst = scaled_object(spec)
    out: dict[str | None, ScaledDeployment | None] = {}

    def make(body: dict | None, fixed: int, offset: int) -> ScaledDeployment | None:
        if body is None:
            return None
        return ScaledDeployment(
            body["spec"], KedaController(KedaPolicy.from_scaled_object(body["spec"])), fixed, offset, held
        )

    formula_burst = burst is not None and "scalingModifiers" in burst["spec"].get("advanced", {})
    day_sd = make(burst, b, 0 if formula_burst else b)
    out[None] = day_sd
    variants = {v.schedule.name: v for v in night.variants(spec)}
    for w in window_scaling(spec):
        name = w.schedule.name
        if name in variants:
            out[name] = make(night_scaled_object(spec, variants[name]), 0, 0)
        elif day_sd is not None:
            # the same burst ScaledObject (its formula reads the window's gate) above the window's baseline; one
            # controller, so its memory (recommendations, last active time) carries across the window edge
            out[name] = ScaledDeployment(day_sd.body, day_sd.controller, w.baseline_replicas, 0, held)
    return out
