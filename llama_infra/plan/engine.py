"""The plan engine: per stack, read its config, load its spec, run `stacks/__main__.py` under recording mocks, and
collect resources, scaling, cost and warnings as data."""

from __future__ import annotations

import runpy
from dataclasses import asdict, dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any, get_args

from llama_infra.plan.record import RecordedResource
from llama_infra.spec import DeploymentSpec, SpecError, load_spec, warnings
from llama_infra.spec.model import Environment

PROJECT = "llama-infra"
SPEC_CONFIG_KEY = "llama-infra:spec"  # the stack config key llama_infra.program reads
PROGRAM_FILE = "__main__.py"


class PlanError(Exception):
    """A stack that cannot be planned for a reason the user can fix (missing stack file, bad config)."""


def find_stacks_dir(start: Path | None = None) -> Path | None:
    """The stacks directory to plan by default: `./stacks`, or `.` when it is one itself (a `__main__.py` beside
    `Pulumi.<stack>.yaml` files, as `llama-infra init` writes); None elsewhere (a wheel install has no stacks)."""
    cwd = start or Path.cwd()
    for candidate in (cwd / "stacks", cwd):
        if (candidate / PROGRAM_FILE).is_file() and any(candidate.glob("Pulumi.*.yaml")):
            return candidate
    return None


def default_stacks_dir() -> Path:
    found = find_stacks_dir()
    if found is None:
        raise PlanError(
            f"{Path.cwd()}: no stacks here (no stacks/__main__.py with Pulumi.<stack>.yaml files); plan "
            "a spec file instead (`llama-infra plan my-spec.yaml`) or pass --stacks-dir DIR"
        )
    return found


def stack_names(stacks_dir: Path) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in stacks_dir.glob("Pulumi.*.yaml"))


def is_spec_file(argument: str) -> bool:
    """A `plan` argument names a spec file (rather than a stack) when it has a spec file's suffix."""
    return Path(argument).suffix.lower() in (".yaml", ".yml", ".json")


@dataclass
class PlannedResource:
    type: str
    name: str
    parent: str | None  # logical name of the parent resource (None: the stack)
    key_inputs: dict[str, Any]
    inputs: dict[str, Any]
    secret_inputs: list[str] = field(default_factory=list)
    ignore_changes: list[str] = field(default_factory=list)


@dataclass
class StackPlan:
    stack: str
    spec_file: str
    spec_name: str
    target: str
    region: str
    environment: str
    resources: list[PlannedResource]
    outputs: dict[str, Any]
    scaling: dict[str, Any]
    cost: dict[str, Any]
    warnings: list[str]
    target_summary: list[str] = field(default_factory=list)  # Target.plan_lines: e.g. EKS capacity pools
    timeline: dict[str, Any] = field(default_factory=dict)  # 24 h in the spec's timezone (capacity_timeline)
    summary: dict[str, Any] = field(default_factory=dict)  # one row of the plan's summary table (overview())
    slo: dict[str, Any] = field(default_factory=dict)  # per configuration: capacity at SLO (slo_panel.summary)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def resource_types(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.resources:
            counts[r.type] = counts.get(r.type, 0) + 1
        return counts


def read_stack_config(stacks_dir: Path, stack: str) -> dict[str, str]:
    from ruamel.yaml import YAML

    path = stacks_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = ", ".join(stack_names(stacks_dir)) or "none"
        raise PlanError(f"{path}: no such stack file (stacks here: {known})")
    doc = YAML(typ="safe").load(path.read_text()) or {}
    config = doc.get("config") or {}
    if SPEC_CONFIG_KEY not in config:
        raise PlanError(
            f"{path}: config '{SPEC_CONFIG_KEY}' is missing; set it to a spec file relative to "
            f"{stacks_dir}, e.g. `{SPEC_CONFIG_KEY}: specs/{stack}.yaml`"
        )
    return {str(k): str(v) for k, v in config.items() if not isinstance(v, dict)}


def plan_stack(stack: str, stacks_dir: Path | None = None, *, preview: bool = True) -> StackPlan:
    """Plan one stack offline. Raises SpecError for a bad spec and PlanError for a bad stack file."""
    stacks_dir = (stacks_dir or default_stacks_dir()).resolve()
    config = read_stack_config(stacks_dir, stack)
    spec_path = stacks_dir / config[SPEC_CONFIG_KEY]
    program = stacks_dir / PROGRAM_FILE
    return _plan(
        stack,
        spec_path,
        str(spec_path.relative_to(stacks_dir)),
        lambda: runpy.run_path(str(program), run_name="__main__"),
        config,
        preview,
    )


def plan_spec_file(spec_file: Path, *, preview: bool = True) -> StackPlan:
    """Plan a spec file with the library's own program, as `pulumi up` of a stack naming it would (no stacks/)."""
    from llama_infra import program

    spec_path = spec_file.resolve()
    if not spec_path.is_file():
        raise PlanError(f"{spec_file}: no such spec file")
    spec = load_spec(spec_path)
    return _plan(
        spec.name,
        spec_path,
        str(spec_file),
        lambda: program.main(spec_path.parent),
        {SPEC_CONFIG_KEY: spec_path.name},
        preview,
    )


def _plan(
    stack: str, spec_path: Path, spec_label: str, program: Any, config: dict[str, str], preview: bool
) -> StackPlan:
    from llama_infra.contracts import ContractError
    from llama_infra.plan.record import run_plan
    from llama_infra.slo_panel import summary as slo_summary
    from llama_infra.spec.slo import slo_issues

    spec = load_spec(spec_path)  # SpecError: reported by the caller with file, line, field and fix
    try:
        run = run_plan(program, project=PROJECT, stack=stack, preview=preview, config=config, region=spec.region)
    except ContractError as e:  # what AWS / Kubernetes would reject: every violation, located
        raise PlanError(f"{spec_label}: {e}") from None
    names = {r.urn: r.name for r in run.resources}
    # Sorted by name: registration order depends on async scheduling, a plan must not.
    resources = sorted(
        (
            PlannedResource(
                r.type,
                r.name,
                names.get(r.parent_urn or ""),
                key_inputs(r),
                r.inputs,
                r.secret_inputs,
                r.ignore_changes,
            )
            for r in run.resources
        ),
        key=lambda r: (r.name, r.type),
    )
    return StackPlan(
        stack=stack,
        spec_file=spec_label,
        spec_name=spec.name,
        target=spec.target,
        region=spec.region,
        environment=spec.environment,
        resources=resources,
        outputs={k: v for k, v in run.exports.items()},
        scaling=scaling_summary(spec, run.resources),
        cost=cost_summary(spec),
        warnings=[w.render(spec_label) for w in warnings(spec) + slo_issues(spec)],
        target_summary=target_summary(spec),
        timeline=_timeline(spec),
        summary=overview(spec),
        slo=slo_summary(spec),
    )


def overview(spec: DeploymentSpec) -> dict[str, Any]:
    """What a reader compares across stacks first: model, day and window instance types, replica range."""
    m = spec.model
    windows = [s.downsize.instance_type for s in spec.schedules if s.downsize.instance_type]
    return {
        "model": f"{m.params_b:g}B {m.precision}",
        "model_id": m.id,
        "framework": m.framework,
        "day_instance_type": spec.capacity.baseline.instance_type,
        "window_instance_types": windows,
        "min_replicas": spec.min_replicas,
        "max_replicas": spec.max_replicas,
    }


def _timeline(spec: DeploymentSpec) -> dict[str, Any]:
    from datetime import datetime

    from llama_infra import targets
    from llama_infra.capacity_timeline import timeline_summary
    from llama_infra.scaling.floor_schedule import floor_schedule
    from llama_infra.slo_targets import predictive_floor

    # the floor the components render: where the target renders one (`Target.renders_floor`) and it rises above
    # some configuration's minimum (`floor_schedule`)
    rendered = targets.get(spec.target).renders_floor(spec) and floor_schedule(spec) is not None
    floor = predictive_floor(spec) if rendered else []
    return timeline_summary(
        spec,
        datetime.now(UTC),
        cost=targets.cost_report(spec),
        facts=targets.get(spec.target).timeline_facts(spec),
        floor=floor,
    )


# Environments from first to last on the way to production: the summary lists stacks in this order.
ENVIRONMENT_ORDER: tuple[str, ...] = get_args(Environment)


def plan_stacks(
    stacks: list[str] | None = None, stacks_dir: Path | None = None, *, preview: bool = True
) -> list[StackPlan]:
    """Plan stacks and spec files (an argument with a .yaml/.yml/.json suffix is a spec file). With none named, every
    stack of the stacks directory, from dev to prod (ENVIRONMENT_ORDER); named ones in the order given."""
    if stacks:
        resolved = None if all(is_spec_file(a) for a in stacks) else (stacks_dir or default_stacks_dir()).resolve()
        return [
            plan_spec_file(Path(a), preview=preview) if is_spec_file(a) else plan_stack(a, resolved, preview=preview)
            for a in stacks
        ]
    stacks_dir = (stacks_dir or default_stacks_dir()).resolve()
    names = stack_names(stacks_dir)
    if not names:
        raise PlanError(f"{stacks_dir}: no Pulumi.<stack>.yaml files")
    plans = [plan_stack(s, stacks_dir, preview=preview) for s in names]

    def rank(p: StackPlan) -> tuple[int, str]:
        return ENVIRONMENT_ORDER.index(p.environment), p.stack

    return sorted(plans, key=rank)


# --- what to show --------------------------------------------------------------------------------------------

# Dotted paths of the inputs worth a line in the tree, per resource type.
_KEY_INPUTS = {
    "aws:sagemaker/model:Model": [
        "primaryContainer.image",
        "primaryContainer.environment",
        "primaryContainer.modelDataSource.s3DataSources.0.s3Uri",
    ],
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": [
        "productionVariants.0.instanceType",
        "productionVariants.0.initialInstanceCount",
        "productionVariants.0.containerStartupHealthCheckTimeoutInSeconds",
        "productionVariants.0.modelDataDownloadTimeoutInSeconds",
        "productionVariants.0.volumeSizeInGb",
        "kmsKeyArn",
    ],
    "aws:sagemaker/endpoint:Endpoint": [
        "name",
        "deploymentConfig.blueGreenUpdatePolicy.trafficRoutingConfiguration.type",
        "deploymentConfig.autoRollbackConfiguration.alarms",
    ],
    "aws:appautoscaling/target:Target": ["resourceId", "scalableDimension", "minCapacity", "maxCapacity"],
    "aws:appautoscaling/policy:Policy": [
        "targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification.predefinedMetricType",
        "targetTrackingScalingPolicyConfiguration.customizedMetricSpecification.metricName",
        "targetTrackingScalingPolicyConfiguration.targetValue",
        "targetTrackingScalingPolicyConfiguration.scaleOutCooldown",
        "targetTrackingScalingPolicyConfiguration.scaleInCooldown",
    ],
    "aws:cloudwatch/metricAlarm:MetricAlarm": ["name", "metricName", "extendedStatistic", "statistic", "threshold"],
    "aws:cloudwatch/dashboard:Dashboard": ["dashboardName"],
    "aws:iam/role:Role": ["description"],
    "aws:iam/rolePolicy:RolePolicy": [],  # the actions it allows, below
    "pulumi:providers:aws": ["region"],
    # EKS target: what a reviewer checks on capacity, node security and autoscaling
    "aws:eks/nodeGroup:NodeGroup": ["capacityType", "instanceTypes", "scalingConfig", "labels", "taints"],
    "aws:ec2/launchTemplate:LaunchTemplate": [
        "metadataOptions.httpTokens",
        "metadataOptions.httpPutResponseHopLimit",
        "blockDeviceMappings.0.ebs.encrypted",
        "capacityReservationSpecification.capacityReservationTarget.capacityReservationId",
        "instanceMarketOptions.marketType",
    ],
    "kubernetes:karpenter.sh/v1:NodePool": [
        "metadata.name",
        "spec.weight",
        "spec.limits",
        "spec.template.spec.requirements",
        "spec.disruption.budgets",
    ],
    "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass": [
        "metadata.name",
        "spec.instanceStorePolicy",
        "spec.metadataOptions.httpPutResponseHopLimit",
    ],
    "kubernetes:apps/v1:Deployment": [
        "metadata.name",
        "spec.replicas",
        "spec.template.spec.nodeSelector",
        "spec.template.spec.containers.0.image",
        "spec.template.spec.containers.0.resources.limits",
    ],
    "kubernetes:keda.sh/v1alpha1:ScaledObject": [
        "metadata.name",
        "spec.minReplicaCount",
        "spec.maxReplicaCount",
        "spec.fallback",
        "spec.triggers.0.metadata.query",
        "spec.advanced.scalingModifiers.formula",
    ],
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": [
        "metadata.name",
        "spec.minReplicas",
        "spec.maxReplicas",
        "spec.metrics.0.external.metric.name",
    ],
}


_KUBERNETES_KEY_INPUTS = [
    "kind",
    "metadata.name",
    "metadata.namespace",
    "spec.replicas",
    "spec.minReplicaCount",
    "spec.maxReplicaCount",
]


def _get(value: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    return value


def _number(value: Any) -> Any:
    """Whole floats as ints, also inside mappings and lists (the mocks' wire format turns every number to float)."""
    if isinstance(value, dict):
        return {k: _number(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_number(v) for v in value]
    return int(value) if isinstance(value, float) and value.is_integer() else value


def key_inputs(r: RecordedResource) -> dict[str, Any]:
    paths = _KEY_INPUTS.get(r.type)
    if paths is None and r.type.startswith("kubernetes:") and isinstance(r.inputs.get("metadata"), dict):
        paths = _KUBERNETES_KEY_INPUTS
    if paths is None:  # other types (EKS, Kubernetes): the first few scalar inputs
        scalars = {k: v for k, v in r.inputs.items() if isinstance(v, (str, int, float, bool)) and k != "tags"}
        return {k: _number(v) for k, v in list(scalars.items())[:4]}
    out = {}
    for p in paths:
        v = _get(r.inputs, p)
        if v is not None:
            out[p.rsplit(".", 1)[-1] if not p.endswith(".0.s3Uri") else "s3Uri"] = _number(v)
    if r.type == "aws:iam/rolePolicy:RolePolicy" and isinstance(r.inputs.get("policy"), str):
        import json

        doc = json.loads(r.inputs["policy"])
        out["actions"] = sorted({a for s in doc["Statement"] for a in s["Action"]})
    return out


def scaling_summary(spec: DeploymentSpec, records: list[RecordedResource]) -> dict[str, Any]:
    """The scaling policy in words and numbers, from the resources the program registered (what AWS would run)."""
    from llama_infra import targets
    from llama_infra.slo_targets import effective_targets

    target = targets.get(spec.target)
    sc = spec.scaling
    effective = effective_targets(spec)
    day = effective[None]
    on_gpu_memory = target.scales_on_gpu_memory(spec)
    numbers: dict[str, Any] = {
        "min_replicas": spec.min_replicas,
        "max_replicas": spec.max_replicas,
        # what the autoscalers run (`slo_targets.effective_targets`): the day's, then every configuration's with
        # where it comes from ("spec", "derived" from the SLO envelope, or the field's "default")
        "queue_depth_target": day.queue_depth_target,
        # SageMaker renders no GPU-memory policy whatever the spec says (the words below say why)
        "gpu_memory_target": day.kv_cache_target if on_gpu_memory else None,
        "targets_by_configuration": [
            {
                "configuration": t.configuration,
                "queue_depth_target": t.queue_depth_target,
                "queue_depth_target_source": t.queue_depth_target_source,
                "kv_cache_target": t.kv_cache_target if on_gpu_memory else None,
                "kv_cache_target_source": t.kv_cache_target_source if on_gpu_memory else None,
            }
            for t in effective.values()
        ],
        "scale_up_stabilization_seconds": sc.scale_up_stabilization_seconds,
        "scale_down_stabilization_seconds": sc.scale_down_stabilization_seconds,
    }
    words: list[str] = []
    for t in (r for r in records if r.type == "aws:appautoscaling/target:Target"):
        i = t.inputs
        words.append(
            f"Application Auto Scaling keeps {i['resourceId']} ({i['scalableDimension']}) between "
            f"{_number(i['minCapacity'])} and {_number(i['maxCapacity'])} instances."
        )
    for p in (r for r in records if r.type == "aws:appautoscaling/policy:Policy"):
        c = p.inputs.get("targetTrackingScalingPolicyConfiguration", {})
        metric = _get(c, "predefinedMetricSpecification.predefinedMetricType") or _get(
            c, "customizedMetricSpecification.metricName"
        )
        words.append(
            f"Target tracking ({p.name}): hold {metric} at {_number(c.get('targetValue'))} per instance; "
            f"scale out after {_number(c.get('scaleOutCooldown', 300))} s cooldown, scale in after "
            f"{_number(c.get('scaleInCooldown', 300))} s."
        )
    words += target.scaling_notes(spec)
    if not words:  # targets without Application Auto Scaling (EKS): the spec's policy
        words.append(
            f"Scale on queue depth: {day.queue_depth_target:g} waiting requests per replica "
            f"({day.queue_depth_target_source}), between "
            f"{spec.min_replicas} and {spec.max_replicas} replicas ({sc.autoscaler}); scale up after "
            f"{sc.scale_up_stabilization_seconds} s, down after {sc.scale_down_stabilization_seconds} s of "
            "stabilisation."
        )
    for s in spec.schedules:
        d = s.downsize
        own = effective.get(s.name, day)
        change = ", ".join(
            x
            for x in (
                f"instance type {d.instance_type}" if d.instance_type else "",
                f"model {d.model_override.id or spec.model.id} {d.model_override.precision or spec.model.precision}"
                if d.model_override
                else "",
                f"min {d.min_replicas}" if d.min_replicas is not None else "",
                f"max {d.max_replicas}" if d.max_replicas is not None else "",
                f"queue-depth target {own.queue_depth_target:g} ({own.queue_depth_target_source})"
                if own.queue_depth_target != day.queue_depth_target
                else "",
            )
            if x
        )
        words.append(f"Window '{s.name}' ({s.start} → {s.end}, {s.timezone}): {change}.")
    return {"words": words, "numbers": numbers}


def target_summary(spec: DeploymentSpec) -> list[str]:
    """Lines a target adds to its plan (EKS: capacity pools and the baseline/burst cost split)."""
    from llama_infra import targets

    return targets.get(spec.target).plan_lines(spec)


def cost_summary(spec: DeploymentSpec) -> dict[str, Any]:
    from llama_infra.targets import cost_report

    report = cost_report(spec)
    out = {k: v for k, v in asdict(report).items() if k != "week"}
    out["schedule_saving_per_month_usd"] = round(report.schedule_saving_per_month_usd, 2)
    return out


__all__ = [
    "PlanError",
    "PlannedResource",
    "SpecError",
    "StackPlan",
    "default_stacks_dir",
    "find_stacks_dir",
    "plan_spec_file",
    "plan_stack",
    "plan_stacks",
    "stack_names",
]
