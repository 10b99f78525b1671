"""KEDA ScaledObjects that follow the downsizing windows on EKS (issue 5): one formula per Deployment.

Each window has two gates, KEDA cron triggers in the schedule's IANA timezone (`keda_formula` explains the reading):
- `window_<name>`, from the window's start to its end minus the day lead (`night.morning_cron`): the day Deployments'
  view of the night, so the day configuration is back and Ready when the window ends;
- `night_<name>` (windows that change the type or model), from the start minus the night lead to the end: the night
  Deployment's view, so night replicas are Ready before the day ones go.

The ScaledObjects, every count in replicas (queue Q and KV-cache K summed over the whole service, targets t and g,
need = max(Q/t, K/g), B = baseline replicas, b = the baseline a window keeps, `capacity_plan.baseline_replicas_in`):

| Deployment | by day | in a type/model window | in a window that changes only bounds |
|---|---|---|---|
| `<name>-baseline` | B | 0 | b = min(B, window min) |
| `<name>-burst` | max(need − B, burst min) | 0 | min(max(need − b, min − b), max − b) |
| `<name>-<window>` | 0 | max(need, window min), ≤ window max | (no night Deployment) |

Each configuration divides by its own targets (`slo_targets.effective_targets`: t and g are the day's in the day
term, a window's in that window's). With a predictive floor F (`floor_triggers`: KEDA cron triggers, one per step,
Monday–Friday), every serving term also takes it, less the replicas other Deployments run: the burst max(…, F − B)
by day and max(…, F − b) in a window that changes only bounds, a night Deployment max(…, F); each within its
maximum (F never exceeds the configuration's max, `slo_targets.predictive_floor`). Without windows the burst's
ScaledObject is the day term alone where a held wake-up needs a formula (`queue_triggers.burst_has_formula`), else
plain triggers with the floor as cron triggers in burst replicas (`floor_triggers`).

Waking from zero waits for the queue to hold: KEDA decides 0 → 1 on each poll's value, before the HPA's scale-up
window applies, so with a scale-up stabilization the queue term reads the queue's least value over that window while
no replica of the Deployment serves (`_need`, `queue_triggers.held_queue_triggers`).

So outside its window a night Deployment has no replica whatever the queue (a plain KEDA trigger list would OR the
queue trigger into the day), inside it the queue-depth trigger still scales it up to the window's max, and the day
burst stays off while a night variant serves, so a window's max is the service's max.

Scale to zero (a configuration whose minimum is 0): with no pod there is no queue series, so the router's
last-request gauge (`metrics.recent_request_query`, the `wake` trigger) keeps one replica while requests arrived in
the last `metrics.WAKE_IDLE_SECONDS` and wakes the service from zero; the queries read 0 when no pod exists (or none
exports yet) while Prometheus still scrapes the router (`metrics.zero_while_scraped`), and stay an error when the
pipeline is broken.
While the first replica starts the router answers 503 + Retry-After.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from llama_infra.capacity_plan import (
    Config,
    baseline_replicas_in,
    changes_model,
    day_config,
    scales_to_zero,
    window_config,
)
from llama_infra.scaling.keda import KedaPolicy
from llama_infra.schedules import Cron
from llama_infra.targets.kubernetes import keda_formula as f
from llama_infra.targets.kubernetes import labels
from llama_infra.targets.kubernetes import window_variants as night
from llama_infra.targets.kubernetes.floor_triggers import floor_term, floor_triggers
from llama_infra.targets.kubernetes.queue_triggers import (
    QUEUE_HELD_TRIGGER,
    SERVING_TRIGGER,
    cron_trigger,
    held_queue_triggers,
    keda_scaled_object,
    prometheus_triggers,
    scaling_queries,
    wake_hold_seconds,
    wake_trigger,
)
from llama_infra.targets.kubernetes.workload import burst_replica_bounds, namespace_of

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec
    from llama_infra.spec.model import Schedule


@dataclass(frozen=True)
class WindowScaling:
    """One downsizing window as the EKS autoscalers see it."""

    schedule: Schedule
    config: Config
    baseline_replicas: int  # of the day baseline Deployment, during the window
    night_variant: bool  # the window runs its own Deployment (another type or model)

    @property
    def gate(self) -> str:
        return f.window_gate(self.schedule.name)


def windows(spec: DeploymentSpec) -> list[WindowScaling]:
    if spec.target != "eks" or spec.scaling.autoscaler != "keda":
        return []
    day = day_config(spec)
    out = []
    for s in spec.schedules:
        cfg = window_config(spec, s)
        out.append(WindowScaling(s, cfg, baseline_replicas_in(spec, cfg), changes_model(cfg, day)))
    return out


def gate_trigger(spec: DeploymentSpec, w: WindowScaling) -> dict:
    s = w.schedule
    return cron_trigger(w.gate, Cron(s.start, s.timezone), night.morning_cron(spec, s), f.GATE_DESIRED)


def night_gate_trigger(spec: DeploymentSpec, v: night.NightVariant) -> dict:
    start, end = night.night_crons(spec, v)
    return cron_trigger(f.night_gate(v.schedule.name), start, end, f.GATE_DESIRED)


def _need(spec: DeploymentSpec, configuration: str | None = None, running: int = 0) -> list[str]:
    """Replicas the whole service's queue (and KV cache) asks for in a configuration (None: the day), one term per
    trigger at that configuration's targets: [Q/t, K/g]. With a wake hold (`queue_triggers.wake_hold_seconds`) the
    queue term reads the held queue H while no more than the `running` replicas of other Deployments serve, and the
    queue itself once this Deployment's own replicas serve: [(S > running ? Q : H)/t, K/g]."""
    hold = wake_hold_seconds(spec) > 0
    terms = []
    for q in scaling_queries(spec, baseline_replicas=0, configuration=configuration):
        value = q.trigger_name
        if hold and q.role == "queue-depth":
            value = f"({SERVING_TRIGGER} > {f.num(running)} ? {q.trigger_name} : {QUEUE_HELD_TRIGGER})"
        terms.append(f.per_replica(value, q.target_per_replica))
    return terms


def _serving(
    need: list[str], running: int, floor: int, cap: int | None, wake: bool, predictive: str | None = None
) -> str:
    """Replicas one Deployment adds beside `running` others: max(need) − running, at least `floor` (and 1 while
    requests arrive, when the configuration may be empty; and the predictive floor less `running`), at most
    `cap`."""
    terms = [f.minus(t, running) for t in need] + [f.num(floor)] + (["wake"] if wake else [])
    if predictive:
        terms.append(f.minus(predictive, running))
    out = f.largest(*terms)
    return out if cap is None else f.smallest(out, f.num(cap))


def _scaled_object(
    spec: DeploymentSpec, target: str, hi: int, triggers: list[dict], formula: str, hold_on_error: int = 0
) -> dict:
    """Floors are in the formula (they differ by window), so `minReplicaCount` is 0: a window can switch the
    Deployment off. `hold_on_error` > 0 (Deployments with Prometheus triggers): when Prometheus fails, KEDA keeps
    the current replicas (`fallback.behavior: currentReplicas`) instead of treating the erroring formula as inactive
    and scaling a `minReplicaCount: 0` target to zero after the cooldown (`pkg/scaling/executor/
    scale_scaledobjects.go`)."""
    metadata = {
        "name": target,
        "namespace": namespace_of(spec),
        "labels": {labels.INSTANCE_LABEL: spec.name, **labels.common(spec)},
    }
    fallback = None
    if hold_on_error:
        fallback = {
            "failureThreshold": KedaPolicy.from_spec(spec).failure_threshold,
            "replicas": hold_on_error,
            "behavior": "currentReplicas",
        }
    return keda_scaled_object(spec, metadata, 0, hi, triggers, fallback=fallback, modifiers=f.modifiers(formula))


def _demand_triggers(spec: DeploymentSpec, wake: bool, configurations: tuple[str | None, ...] = (None,)) -> list[dict]:
    """The Prometheus triggers the configurations' terms read, the wake trigger, and the floor's cron triggers."""
    return (
        prometheus_triggers(spec, baseline_replicas=0, configurations=configurations)
        + held_queue_triggers(spec, configurations)
        + ([wake_trigger(spec)] if wake else [])
        + floor_triggers(spec)
    )


def night_scaled_object(spec: DeploymentSpec, v: night.NightVariant) -> dict:
    c = v.config
    wake = c.min_replicas == 0
    window = v.schedule.name
    need = _need(spec, window)
    serving = _serving(need, 0, c.min_replicas, None, wake, floor_term(spec)) if c.max_replicas > 0 else "0"
    gate = night_gate_trigger(spec, v)
    formula = f.by_window([(gate["name"], serving)], "0")
    return _scaled_object(
        spec,
        f"{spec.name}-{v.deployment_name}",
        max(1, c.max_replicas),
        [gate, *_demand_triggers(spec, wake, (window,))],
        formula,
        hold_on_error=max(1, c.min_replicas),
    )


def burst_scaling(spec: DeploymentSpec) -> tuple[int, list[dict], dict] | None:
    """(maxReplicaCount, triggers, scalingModifiers) of the burst Deployment of a spec with windows; None when the
    burst can never run."""
    b = spec.capacity.baseline.count
    lo, hi = burst_replica_bounds(spec)
    ws = windows(spec)
    caps = {w.schedule.name: max(0, w.config.max_replicas - w.baseline_replicas) for w in ws if not w.night_variant}
    top = max([hi, *caps.values()])
    if top == 0:
        return None
    predictive = floor_term(spec)
    cases = []
    for w in ws:
        if w.night_variant:
            cases.append((w.gate, "0"))
        else:
            cap = caps[w.schedule.name]
            floor = max(0, w.config.min_replicas - w.baseline_replicas)
            cases.append(
                (
                    w.gate,
                    _serving(
                        _need(spec, w.schedule.name, w.baseline_replicas),
                        w.baseline_replicas,
                        floor,
                        cap if cap < top else None,
                        w.config.min_replicas == 0,
                        predictive,
                    ),
                )
            )
    day = _serving(_need(spec, None, b), b, lo, hi if hi < top else None, spec.min_replicas == 0, predictive)
    served = (None, *(w.schedule.name for w in ws if not w.night_variant))
    triggers = [gate_trigger(spec, w) for w in ws] + _demand_triggers(spec, scales_to_zero(spec), served)
    return top, triggers, f.modifiers(f.by_window(cases, day))


def baseline_follows_schedule(spec: DeploymentSpec) -> bool:
    """Whether some window keeps fewer baseline replicas than the day (then a ScaledObject owns its count)."""
    b = spec.capacity.baseline.count
    return b > 0 and any(w.baseline_replicas < b for w in windows(spec))


def baseline_scaled_object(spec: DeploymentSpec) -> dict | None:
    """The day baseline on the windows' gates: B by day, the window's b inside it (0 → scaled to zero)."""
    if not baseline_follows_schedule(spec):
        return None
    b = spec.capacity.baseline.count
    ws = [w for w in windows(spec) if w.baseline_replicas < b]
    formula = f.by_window([(w.gate, f.num(w.baseline_replicas)) for w in ws], f.num(b))
    return _scaled_object(spec, f"{spec.name}-baseline", b, [gate_trigger(spec, w) for w in ws], formula)


def objects(spec: DeploymentSpec) -> list[dict]:
    """The night variants' and the baseline's ScaledObjects (the burst's comes from `autoscaling.scaled_object`)."""
    objs = [night_scaled_object(spec, v) for v in night.variants(spec)]
    base = baseline_scaled_object(spec)
    return objs + ([base] if base else [])
