"""Overnight variants on EKS: a night Deployment beside the day one, for windows that swap the type or model.

For each schedule whose window changes the instance type or the model (`capacity_plan.changes_model`), a Deployment
`<name>-<schedule>` serves the window's model on the window's type, beside the day Deployments. Its pods carry the
service label `app.kubernetes.io/instance=<name>`, so the Service, the PDB and the queue queries cover both. When
each Deployment runs is `night_scaling`'s (KEDA cron gates and formulas); this module gives the times:

- `night_crons`: the night variant's gate, from the window's start − lead(night) to its end;
- `morning_cron`: the window's end − lead(day), when the day configuration starts coming back.

lead = the replica's cold-start high estimate (`capacity_timeline.cold_start`) + a new GPU node
(`provisioning.EKS_GPU_NODE`, high), rounded up to 5 minutes; KEDA's `cooldownPeriod` adds to each overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from llama_infra import capacity_timeline, catalog, quantization, sizing
from llama_infra.capacity_plan import Config, changes_model, day_config, window_config
from llama_infra.schedules import Cron
from llama_infra.targets.kubernetes import labels, scale_in_order, workload

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec
    from llama_infra.spec.model import Schedule


@dataclass(frozen=True)
class NightVariant:
    schedule: Schedule
    config: Config

    @property
    def deployment_name(self) -> str:
        return self.schedule.name


def variants(spec: DeploymentSpec) -> list[NightVariant]:
    """Schedules that change the instance type or the model: each gets its own Deployment (KEDA specs only)."""
    if spec.target != "eks" or spec.scaling.autoscaler != "keda":
        return []
    day = day_config(spec)
    configs = ((s, window_config(spec, s)) for s in spec.schedules)
    return [NightVariant(s, cfg) for s, cfg in configs if changes_model(cfg, day)]


def lead_minutes(spec: DeploymentSpec, config: Config) -> int:
    """Minutes a replica of `config` needs from the cron firing to Ready: new node + cold start (high estimate)."""
    return capacity_timeline.lead_minutes(spec, config)


def night_crons(spec: DeploymentSpec, v: NightVariant) -> tuple[Cron, Cron]:
    """(start, end) of the night variant's cron trigger: starts early by its lead time, ends with the window."""
    s = v.schedule
    return Cron(s.start, s.timezone).shifted_earlier(lead_minutes(spec, v.config)), Cron(s.end, s.timezone)


def morning_cron(spec: DeploymentSpec, schedule: Schedule) -> Cron:
    """When the day configuration starts coming back: the window's end minus the day replica's lead time."""
    return Cron(schedule.end, schedule.timezone).shifted_earlier(lead_minutes(spec, day_config(spec)))


def _tp(config: Config, memory_overhead_fraction: float) -> int:
    inst = catalog.lookup(config.instance_type)
    if inst is None:
        return 1
    return (
        sizing.smallest_fitting_tp(config.params_b, config.precision, inst, memory_overhead_fraction) or inst.gpu_count
    )


def tp_degree(spec: DeploymentSpec, v: NightVariant) -> int:
    return _tp(v.config, spec.model.memory_overhead_fraction)


def night_spec(spec: DeploymentSpec, v: NightVariant) -> DeploymentSpec:
    """The spec the night Deployment is rendered from. Same name (same service label); another model loads from the
    Hugging Face Hub (`hf://<id>`, the day's token Secret): the schedule names a model, not a weights prefix."""
    from llama_infra.capacity_plan import window_weights

    c = v.config
    weights = spec.model.weights
    if (override := window_weights(spec, v.schedule.name)) is not None:
        weights = override  # model_override.weights: e.g. an S3 prefix, synced like the day's
    elif c.model_id != spec.model.id:
        weights = weights.model_copy(update={"source": f"hf://{c.model_id}", "preload": "none"})
    model = spec.model.model_copy(
        update={
            "id": c.model_id,
            "params_b": c.params_b,
            "precision": c.precision,
            "quantized_checkpoint": quantization.declared_for(
                spec.model.id, spec.model.precision, spec.model.quantized_checkpoint, c.model_id, c.precision
            ),
            "tensor_parallel_degree": tp_degree(spec, v),
            "weights": weights,
        }
    )
    baseline = spec.capacity.baseline.model_copy(update={"instance_type": c.instance_type})
    return spec.model_copy(update={"model": model, "capacity": spec.capacity.model_copy(update={"baseline": baseline})})


def deployment(spec: DeploymentSpec, v: NightVariant) -> dict:
    """Initial replicas 0: its ScaledObject owns the count. vLLM also answers to the day model's id, so clients
    need not change the `model` field overnight (responses name the model that served)."""
    nspec = night_spec(spec, v)
    dep = workload.model_deployment(
        nspec, v.schedule.name, 0, [v.config.instance_type], name=f"{spec.name}-{v.deployment_name}"
    )
    pod = dep["spec"]["template"]["spec"]
    pod["nodeSelector"] = {labels.INSTANCE_TYPE: v.config.instance_type}
    (container,) = pod["containers"]
    args = container.get("args")
    if args and "--served-model-name" in args and v.config.model_id != spec.model.id:
        args.insert(args.index("--served-model-name") + 2, spec.model.id)
    return scale_in_order.add_to(spec, dep)  # it runs on the burst pools, and its ScaledObject scales it in


def deployments(spec: DeploymentSpec) -> list[dict]:
    return [deployment(spec, v) for v in variants(spec)]


def gpu_limit(spec: DeploymentSpec) -> int:
    """GPUs the night variants can request (they run on burst capacity)."""
    return sum(v.config.max_replicas * tp_degree(spec, v) for v in variants(spec))


def instance_types(spec: DeploymentSpec) -> list[str]:
    return [v.config.instance_type for v in variants(spec)]
