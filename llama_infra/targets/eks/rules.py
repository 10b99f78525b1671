"""The EKS target's own spec rules: what only a spec with `target: eks` must satisfy.

`llama_infra.spec.rules` runs them through the registry (`EksTarget.spec_errors`, `window_errors`, `spec_warnings`)
wherever a spec is validated, in the order below; every issue has its field path, the values and a fix, like the
target-neutral rules beside it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, partial
from typing import TYPE_CHECKING, Any

from llama_infra import catalog, sizing
from llama_infra.schedules import ScheduleError
from llama_infra.spec.errors import Path, SpecIssue
from llama_infra.spec.instance_types import known_instance

if TYPE_CHECKING:
    from llama_infra.spec.model import DeploymentSpec


def errors(spec: DeploymentSpec) -> list[SpecIssue]:
    """Every EKS rule on the whole spec, in the order `validate` reports them."""
    out: list[SpecIssue] = []
    for rule in (
        spot_pool_diversity,
        framework,
        addon_pipeline,
        replica_shape,
        schedules_need_keda,
        router_image,
        cluster_settings,
        preinstalled_addons,
    ):
        out.extend(rule(spec))
    return out


def spot_pool_diversity(spec: DeploymentSpec) -> list[SpecIssue]:
    """A spot burst pool needs instance types of enough families to find capacity."""
    burst = spec.capacity.burst
    if burst.capacity != "spot" or burst.max <= 0:
        return []
    types = spec.burst_instance_types
    n = len(set(types))
    if n >= burst.min_instance_types:
        return []
    more = _spot_pool_candidates(spec, types)
    return [
        SpecIssue(
            ("capacity", "burst", "instance_types"),
            f"a spot pool with {n} instance type{'s' if n != 1 else ''} ({', '.join(types)}) is "
            f"likely to find no capacity; the spec asks for at least {burst.min_instance_types}",
            f"add GPU types of other families that hold a replica, e.g. {', '.join(more)}"
            if more
            else f"no other GPU family holds a replica at TP {spec.tp_degree}: use capacity: "
            "on-demand, or set min_instance_types: 1 to accept the risk",
        )
    ]


def _spot_pool_candidates(spec: DeploymentSpec, taken: list[str]) -> list[str]:
    """Smallest EKS type of each other family that holds one replica at the Deployment's TP degree."""
    m, tp = spec.model, spec.tp_degree
    families = {catalog.ec2_name(t).split(".")[0] for t in taken}
    found: list[str] = []
    for g in sorted(catalog.gpu_types_for("eks"), key=lambda g: (g.total_gpu_memory_gb, g.vcpus)):
        if g.family in families or g.gpu_count % tp or not g.runs_precision(m.precision):
            continue
        if sizing.fit(m.params_b, m.precision, g, tp, m.memory_overhead_fraction).fits:
            families.add(g.family)
            found.append(g.instance_type)
    return found[:3]


def window_errors(spec: DeploymentSpec, i: int) -> list[SpecIssue]:
    """EKS rules on window `i` (its crons parse and it is not empty)."""
    return [*switch_lead_time(spec, i), *node_schedule_shift(spec, i)]


def warnings(spec: DeploymentSpec) -> list[SpecIssue]:
    out = gpu_headroom(spec)
    if spec.model.framework == "tgi" and spec.scaling.gpu_memory_target is not None:
        out.append(
            SpecIssue(
                ("scaling", "gpu_memory_target"),
                "TGI exports no KV-cache usage metric and pre-allocates GPU memory at warm-up, so GPU "
                "memory in use is not a load signal: the GPU-memory trigger is not rendered for TGI",
                "set gpu_memory_target: null (queue depth alone scales), or use framework: vllm",
                "warning",
            )
        )
    return out


def switch_lead_time(spec: DeploymentSpec, i: int) -> list[SpecIssue]:
    """On EKS the day configuration comes back early by its cold start (KEDA gate `window_<name>`), and a window that
    swaps type or model starts its night variant early by its own: those crons must allow the shift."""
    if spec.eks is None:
        return []
    from llama_infra.targets.kubernetes import window_variants as night

    s = spec.schedules[i]
    from llama_infra.capacity_plan import day_config, shortest_window_minutes

    lead = night.lead_minutes(spec, day_config(spec))
    shortest = shortest_window_minutes(s)
    if shortest <= lead:
        # The day Deployments' gate runs from the start to end − lead: it would close before it opens, which KEDA's
        # cron reads as open for almost a day.
        return [
            SpecIssue(
                ("schedules", i, "end"),
                f"window '{s.name}' lasts {shortest:.0f} min, no longer than the "
                f"{lead} min the day configuration needs to come back (node + cold start): on EKS the day "
                "replicas would be asked back before the window starts",
                f"make the window longer than {lead} min, or remove it",
            )
        ]
    shifts: list[tuple[str, str, Callable[[], object]]] = [
        ("end", "day configuration", lambda: night.morning_cron(spec, s))
    ]
    shifts += [
        ("start", "night variant", partial(night.night_crons, spec, v))
        for v in night.variants(spec)
        if v.schedule.name == s.name
    ]
    out = []
    for field, what, shift in shifts:
        try:
            shift()
        except ScheduleError as e:
            out.append(
                SpecIssue(
                    ("schedules", i, field), f"the {what} must start early by its cold start, but {e.problem}", e.fix
                )
            )
    return out


def node_schedule_shift(spec: DeploymentSpec, i: int) -> list[SpecIssue]:
    """An on-demand baseline node group scales in after the window starts (KEDA cooldown + termination grace): the
    start cron must allow that shift."""
    if spec.eks is None or spec.capacity.baseline.count == 0:
        return []
    from llama_infra.targets.eks import baseline_node_schedule as node_schedule

    if node_schedule.kept_because(spec, spec.schedules[i]):
        return []
    try:
        node_schedule.scale_in_cron(spec, spec.schedules[i])
    except ScheduleError as e:
        delay = node_schedule.scale_in_delay_minutes(spec)
        return [
            SpecIssue(
                ("schedules", i, "start"),
                f"the on-demand baseline node group scales in {delay} min after "
                f"the window starts (KEDA cooldown + pod termination grace), but {e.problem}",
                e.fix,
            )
        ]
    return []


def schedules_need_keda(spec: DeploymentSpec) -> list[SpecIssue]:
    """EKS windows are KEDA cron gates and formulas (`targets.kubernetes.window_scaling`); an HPA has no schedule."""
    if not spec.schedules or spec.scaling.autoscaler == "keda":
        return []
    # KEDA's metrics server and an installed prometheus-adapter cannot both serve external metrics
    # (addon_pipeline): the switch to KEDA turns the adapter off where the spec installs it.
    adapter_off = (
        ", with eks.addons.prometheus_adapter: false" if spec.eks and spec.eks.addons.prometheus_adapter else ""
    )
    return [
        SpecIssue(
            ("scaling", "autoscaler"),
            "downsizing windows on EKS are switched by KEDA (cron gates and "
            "scalingModifiers formulas); the HPA cannot follow a schedule, so the windows would be ignored",
            f"set scaling.autoscaler: keda (and eks.addons.keda: true or 'keda' in eks.preinstalled{adapter_off}), "
            "or remove schedules",
        )
    ]


def gpu_headroom(spec: DeploymentSpec) -> list[SpecIssue]:
    """EKS replicas carry their planned GPU memory headroom (an annotation the policy pack's mandatory
    gpu-memory-headroom rule reads): say at validate time which type would leave too little, not first in CI."""
    from llama_infra.targets.kubernetes.workload import gpu_memory_headroom

    out = []
    types: list[tuple[Path, str]] = [(("capacity", "baseline", "instance_type"), spec.capacity.baseline.instance_type)]
    types += [(("capacity", "burst", "instance_types", i), t) for i, t in enumerate(spec.capacity.burst.instance_types)]
    for path, itype in types:
        inst = catalog.lookup(itype)
        if inst is None or inst.gpu_count % spec.tp_degree:
            continue  # unknown types and TP mismatches are errors of their own
        free = gpu_memory_headroom(spec, [itype])
        if 0 <= free < sizing.MIN_GPU_MEMORY_HEADROOM:
            out.append(
                SpecIssue(
                    path,
                    f"{spec.model.params_b:g}B {spec.model.precision} on {itype} (TP "
                    f"{spec.tp_degree}) leaves {free:.0%} of GPU memory free after weights and overhead; "
                    f"the policy pack's mandatory gpu-memory-headroom rule asks for "
                    f"{sizing.MIN_GPU_MEMORY_HEADROOM:.0%} (KV cache for long prompts)",
                    "use a type with more GPU memory, more GPUs per replica, or a lower precision",
                    "warning",
                )
            )
    return out


def router_image(spec: DeploymentSpec) -> list[SpecIssue]:
    """The router has no published image, and installing one from a package index at pod start is a crash loop (the
    name is not published) or worse (whoever registers it runs code in the cluster): the spec names a built one."""
    if spec.eks is None or spec.eks.router_image:
        return []
    from llama_infra.capacity_plan import scales_to_zero

    if spec.fallback is not None:
        why = "with a fallback the router is the entry point that overflows to it"
    elif scales_to_zero(spec):
        why = "a spec that scales to zero needs the router as its entry point (it wakes the service)"
    else:
        return []
    return [
        SpecIssue(
            ("eks", "router_image"),
            f"{why}, and llama-infra publishes no router image: eks.router_image is not set",
            "build it from this checkout (docker build -f docker/router.Dockerfile .), push it to ECR and "
            "set eks.router_image: <account>.dkr.ecr.<region>.amazonaws.com/llama-infra-router@sha256:"
            "<digest>",
        )
    ]


def framework(spec: DeploymentSpec) -> list[SpecIssue]:
    """EKS runs the model server images pinned in `llama_infra.targets.kubernetes.images`; LMI and TensorRT-LLM are
    SageMaker's."""
    from llama_infra.targets.kubernetes.images import SERVER_IMAGES  # the one table of server images

    if spec.model.framework in SERVER_IMAGES:
        return []
    served = " or ".join(sorted(SERVER_IMAGES))
    return [
        SpecIssue(
            ("model", "framework"),
            f"framework {spec.model.framework} runs on target sagemaker only (a DJL LMI container); the EKS "
            f"target serves {served} ({', '.join(SERVER_IMAGES.values())})",
            f"set framework to {served}, or use target: sagemaker",
        )
    ]


def addon_pipeline(spec: DeploymentSpec) -> list[SpecIssue]:
    if spec.eks is None:
        return []
    eks, sc = spec.eks, spec.scaling
    have = set(eks.preinstalled)
    if eks.addons.keda:
        have.add("keda")
    if eks.addons.prometheus_adapter:
        have.add("prometheus-adapter")
    needs = "prometheus-adapter" if sc.autoscaler == "hpa" else "keda"
    out = []
    if needs not in have:
        field = needs.replace("-", "_")
        # The other one installed here would then collide with it (the APIService check below): say to turn it off.
        other = "prometheus_adapter" if needs == "keda" else "keda"
        other_off = (
            f" and eks.addons.{other}: false (KEDA and prometheus-adapter cannot both serve external metrics)"
            if getattr(eks.addons, other)
            else ""
        )
        out.append(
            SpecIssue(
                ("scaling", "autoscaler"),
                f"autoscaler {sc.autoscaler} scales on queue depth through {needs}, which is neither "
                "installed (eks.addons) nor listed in eks.preinstalled: the metric would never arrive",
                f"set eks.addons.{field}: true{other_off}; or, where the cluster already runs it, add '{needs}' to "
                f"eks.preinstalled{' and turn ' + other + ' off as well' if other_off else ''}",
            )
        )
    if eks.addons.prometheus_adapter and "keda" in have:
        out.append(
            SpecIssue(
                ("eks", "addons", "prometheus_adapter"),
                "KEDA's metrics server and prometheus-adapter (with external rules) both register the "
                "APIService v1beta1.external.metrics.k8s.io; only one can serve external metrics",
                "with autoscaler keda set prometheus_adapter: false; with autoscaler hpa set "
                "eks.addons.keda: false and leave 'keda' out of eks.preinstalled",
            )
        )
    if sc.scale_to_zero and sc.autoscaler == "hpa":
        out.append(
            SpecIssue(
                ("scaling", "scale_to_zero"),
                "the HPA cannot scale to zero replicas",
                "use autoscaler: keda (minReplicaCount 0 with an activation threshold)",
            )
        )
    return out


def replica_shape(spec: DeploymentSpec) -> list[SpecIssue]:
    """EKS: every burst type must host whole replicas of the Deployment's TP, and HPA keeps one burst replica."""
    out = []
    base = known_instance(spec.capacity.baseline.instance_type, "eks")
    tp = spec.model.tensor_parallel_degree or (base.gpu_count if base else None)
    if tp and (base is None or tp in sizing.valid_tp_degrees(base.gpu_count)):
        origin = (
            "model.tensor_parallel_degree"
            if spec.model.tensor_parallel_degree
            else f"every GPU of the baseline {spec.capacity.baseline.instance_type}"
        )
        for i, itype in enumerate(spec.capacity.burst.instance_types):
            inst = known_instance(itype, "eks")
            if inst and inst.gpu_count % tp:
                out.append(
                    SpecIssue(
                        ("capacity", "burst", "instance_types", i),
                        f"tensor-parallel degree {tp} ({origin}) does not divide the {inst.gpu_count} "
                        f"GPU{'s' if inst.gpu_count != 1 else ''} of {itype}: a replica requests {tp} GPUs and "
                        "cannot run there",
                        f"remove {itype}, or set model.tensor_parallel_degree to a divisor of every type's GPU count",
                    )
                )
    base_cap = spec.capacity.baseline
    if base_cap.purchase == "capacity-block" and not base_cap.capacity_reservation_id:
        out.append(
            SpecIssue(
                ("capacity", "baseline", "capacity_reservation_id"),
                "purchase capacity-block needs the Capacity Block's reservation id: a launch template "
                "with market type capacity-block must target it",
                "set capacity_reservation_id to the cr-… id of the purchased Capacity Block",
            )
        )
    sc, b = spec.scaling, spec.capacity.baseline.count
    if sc.autoscaler == "hpa" and spec.capacity.burst.max > 0 and spec.min_replicas == b and b > 0:
        out.append(
            SpecIssue(
                ("scaling", "autoscaler"),
                f"autoscaler hpa cannot scale the burst Deployment to zero (HorizontalPodAutoscaler "
                f"minReplicas ≥ 1), so min_replicas ({spec.min_replicas}) = the baseline ({b}) cannot "
                "hold: one burst replica always runs",
                f"use autoscaler: keda (scales burst to zero), or set scaling.min_replicas: {b + 1} so "
                "the plan prices the always-on burst replica",
            )
        )
    return out


# --- checked against published facts (botocore's EKS service model, the Kubernetes docs) -------------------------

# Kubernetes namespaces the platform owns (Kubernetes docs, "Namespaces": kube-system, kube-public,
# kube-node-lease; `default` holds whatever is not placed elsewhere).
_SYSTEM_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease", "default")
_LOOPBACK = re.compile(r"^https?://(localhost|127\.\d+\.\d+\.\d+|\[::1\])([:/]|$)")


@cache
def _eks_cluster_name_rule() -> dict[str, Any]:
    import botocore.session

    model = botocore.session.get_session().get_service_model("eks")
    return model.shape_for("CreateClusterRequest").members["name"].metadata


def cluster_settings(spec: DeploymentSpec) -> list[SpecIssue]:
    """The cluster's name as EKS spells it, a namespace of the deployment's own, a Prometheus the cluster reaches."""
    if spec.eks is None:
        return []
    out, eks = [], spec.eks
    name = eks.cluster_name
    if name.startswith("arn:"):
        short = name.rsplit("/", 1)[-1]
        out.append(
            SpecIssue(
                ("eks", "cluster_name"),
                f"'{name}' is the cluster's ARN; cluster_name is its name",
                f"write cluster_name: {short}",
            )
        )
    elif not re.fullmatch(_eks_cluster_name_rule()["pattern"] + "$", name):
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-_") or "llama"
        out.append(
            SpecIssue(
                ("eks", "cluster_name"),
                f"'{name}' is not an EKS cluster name (letters, digits, '-' "
                "and '_', starting with a letter or digit: botocore's EKS service model)",
                f"write cluster_name: {slug} (the name `aws eks list-clusters` shows)",
            )
        )
    if eks.namespace in _SYSTEM_NAMESPACES:
        out.append(
            SpecIssue(
                ("eks", "namespace"),
                f"namespace '{eks.namespace}' belongs to the cluster itself: "
                "model servers there share its quotas and policies, and deleting the stack touches it",
                "use a namespace of its own, e.g. namespace: llama",
            )
        )
    if _LOOPBACK.match(eks.prometheus_url):
        out.append(
            SpecIssue(
                ("eks", "prometheus_url"),
                f"{eks.prometheus_url} is loopback: KEDA and "
                "prometheus-adapter query it from their own pods, where nothing listens there",
                "write the in-cluster Service URL, e.g. http://kube-prometheus-stack-prometheus.monitoring.svc:9090",
            )
        )
    return out


def preinstalled_addons(spec: DeploymentSpec) -> list[SpecIssue]:
    """An add-on the cluster has is not installed a second time, and is listed once."""
    if spec.eks is None:
        return []
    out, eks = [], spec.eks
    for name in dict.fromkeys(eks.preinstalled):
        field = name.replace("-", "_")
        if getattr(eks.addons, field, False):
            out.append(
                SpecIssue(
                    ("eks", "addons", field),
                    f"{name} is listed in eks.preinstalled and installed "
                    "by llama-infra too: a second Helm release of it conflicts with the first (CRDs, "
                    "webhooks, the metrics APIService)",
                    f"set eks.addons.{field}: false (the cluster has it), or remove it from eks.preinstalled",
                )
            )
    if len(eks.preinstalled) != len(set(eks.preinstalled)):
        out.append(SpecIssue(("eks", "preinstalled"), "an add-on is listed twice", "list each add-on once"))
    return out
