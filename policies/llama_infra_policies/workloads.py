"""Stack rules that need a workload together with its autoscaler (and PDB): replica floors.

- A PodDisruptionBudget must leave room for one eviction at the workload's smallest scale: `minAvailable: 2` looks
  harmless until the HPA sits at its floor of 2 replicas; then no pod may ever be evicted, and node drains, spot
  rebalancing and Karpenter consolidation hang.
- In prod, the serving Deployments of a namespace keep >= 2 replicas at their floor: the baseline tier's fixed
  replicas plus every autoscaler's minimum (a burst tier that scales from 0 above a baseline of 2 is fine). With
  EKS windows the floors are in KEDA `scalingModifiers` formulas: they are read with no load by day and
  inside each window (`llama_infra.targets.kubernetes.expr_lang`), and each is judged on its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping

from pulumi_policy import Severity

from llama_infra.targets.kubernetes import expr_lang, keda_formula

from . import kubernetes, reliability
from .resource import Resource, get, number
from .rule import MANDATORY, LlamaStackRule, ours

SCALABLE_WORKLOADS = (kubernetes.DEPLOYMENT, kubernetes.STATEFUL_SET)


def _namespace(resource: Resource) -> str:
    return str(resource.get("metadata", "namespace", default="default"))


def _name(resource: Resource) -> str | None:
    return resource.get("metadata", "name")


def _selects(selector: Mapping, workload: Resource) -> bool:
    wanted = get(selector, "matchLabels", default={})
    labels = workload.get("spec", "template", "metadata", "labels", default={})
    return bool(wanted) and all(get(labels, k) == wanted[k] for k in wanted)


Window = str | None  # a downsizing window's gate name, or None for the day


def _formula(scaler: Resource) -> Mapping | None:
    mods = scaler.get("spec", "advanced", "scalingModifiers")
    return mods if isinstance(mods, Mapping) and isinstance(get(mods, "formula"), str) else None


def _windows(resources: list[Resource]) -> list[Window]:
    """The day and every window whose cron gates appear in a `scalingModifiers` ScaledObject (EKS windows)."""
    found: set[str] = set()
    for scaler in resources:
        if scaler.type == reliability.SCALED_OBJECT and _formula(scaler):
            for trigger in scaler.get("spec", "triggers", default=[]) or []:
                window = keda_formula.gate_window(str(get(trigger, "name", default="")))
                if window and get(trigger, "type") == "cron":
                    found.add(window)
    return [None, *sorted(found)]


def _formula_floor(scaler: Resource, window: Window) -> float:
    """KEDA's answer for a formula ScaledObject with no load, by day (every gate closed: KEDA's cron metric is 1) or
    deep inside `window` (its gates report their desiredReplicas)."""
    mods = _formula(scaler)
    assert mods is not None
    env = {}
    for trigger in scaler.get("spec", "triggers", default=[]) or []:
        name = str(get(trigger, "name", default=""))
        if get(trigger, "type") == "cron":
            inside = window is not None and keda_formula.gate_window(name) == window
            env[name] = (number(get(trigger, "metadata", "desiredReplicas")) or 1) if inside else 1.0
        else:
            env[name] = 0.0
    lo = number(scaler.get("spec", "minReplicaCount", default=0)) or 0
    hi = number(scaler.get("spec", "maxReplicaCount", default=100)) or 0
    composite = expr_lang.evaluate(str(get(mods, "formula")), env)
    if composite <= (number(get(mods, "activationTarget", default="0")) or 0):
        return lo
    return min(max(math.ceil(composite / (number(get(mods, "target", default="1")) or 1)), lo, 1), hi)


def _replica_floor(workload: Resource, resources: list[Resource], window: Window = None) -> tuple[float, str]:
    """The fewest replicas the workload runs (in `window`, for formula ScaledObjects): the autoscaler's minimum if
    one targets it, else spec.replicas."""
    for scaler in resources:
        if _namespace(scaler) != _namespace(workload):
            continue
        if scaler.type == reliability.HPA and scaler.get("spec", "scaleTargetRef", "name") == _name(workload):
            return number(scaler.get("spec", "minReplicas", default=1)) or 0, f"HPA {_name(scaler)} minReplicas"
        if scaler.type == reliability.SCALED_OBJECT and scaler.get("spec", "scaleTargetRef", "name") == _name(workload):
            if _formula(scaler):
                when = "by day" if window is None else f"in window {window}"
                return _formula_floor(scaler, window), f"ScaledObject {_name(scaler)} formula {when}"
            return number(
                scaler.get("spec", "minReplicaCount", default=0)
            ) or 0, f"ScaledObject {_name(scaler)} minReplicaCount"
    return number(workload.get("spec", "replicas", default=1)) or 0, "spec.replicas"


def _lowest_floor(workload: Resource, resources: list[Resource]) -> tuple[float, str]:
    return min((_replica_floor(workload, resources, w) for w in _windows(resources)), key=lambda f: f[0])


def _check_pdb(resources: list[Resource]) -> Iterator[tuple[Resource, str]]:
    workloads = [r for r in resources if r.type in SCALABLE_WORKLOADS]
    for pdb in (r for r in resources if r.type == reliability.PDB):
        min_available = pdb.get("spec", "minAvailable")
        if isinstance(min_available, str) or number(min_available) is None:
            continue  # percentages are judged by pdb-allows-disruption
        selector = pdb.get("spec", "selector", default={})
        for workload in workloads:
            if _namespace(workload) != _namespace(pdb) or not _selects(selector, workload):
                continue
            floor, source = _lowest_floor(workload, resources)
            if number(min_available) >= floor:
                yield (
                    pdb,
                    (
                        f"spec.minAvailable is {number(min_available):g} but {workload.type.rsplit(':', 1)[-1]} "
                        f"{_name(workload)} can run {floor:g} replica(s) ({source}): at that scale no pod may be "
                        "evicted. Use maxUnavailable: 1."
                    ),
                )


PDB_BELOW_REPLICA_FLOOR = LlamaStackRule(
    "pdb-min-available-below-replica-floor",
    "A PDB's minAvailable stays below the fewest replicas its workload runs (HPA/KEDA floor or spec.replicas).",
    resource_types=[reliability.PDB, *SCALABLE_WORKLOADS, reliability.HPA, reliability.SCALED_OBJECT],
    check=_check_pdb,
    enforcement_level=MANDATORY,
    citations=[
        ours("PDB must allow >= 1 disruption", "https://kubernetes.io/docs/tasks/run-application/configure-pdb/")
    ],
    remediation="Use maxUnavailable: 1, or keep minAvailable below the autoscaler's minimum.",
)


def _check_prod_floor(resources: list[Resource]) -> Iterator[tuple[Resource, str]]:
    by_namespace: dict[str, list[Resource]] = {}
    for workload in resources:
        if workload.type == kubernetes.DEPLOYMENT and workload.is_prod:
            by_namespace.setdefault(_namespace(workload), []).append(workload)
    for namespace, workloads in by_namespace.items():
        # Each window is judged on its own: the day's floor and a window's floor sit on different Deployments.
        for window in _windows(resources):
            floors = [(w, *_replica_floor(w, resources, window)) for w in workloads]
            total = sum(floor for _, floor, _ in floors)
            if total < reliability.PROD_MIN_INSTANCES:
                parts = ", ".join(f"{_name(w)} {floor:g} ({source})" for w, floor, source in floors)
                for workload, _, _ in floors:
                    yield (
                        workload,
                        (
                            f"prod serving in namespace {namespace} can drop to {total:g} replica(s): "
                            f"{parts}. Keep >= {reliability.PROD_MIN_INSTANCES} (baseline replicas, "
                            "autoscaler minimum or the window's min_replicas)."
                        ),
                    )
                break


PROD_REPLICA_FLOOR = LlamaStackRule(
    "prod-serving-replica-floor",
    f"In prod, a namespace's serving Deployments never scale below {reliability.PROD_MIN_INSTANCES} replicas in total.",
    resource_types=[kubernetes.DEPLOYMENT, reliability.HPA, reliability.SCALED_OBJECT],
    check=_check_prod_floor,
    enforcement_level=MANDATORY,
    severity=Severity.HIGH,
    citations=[ours("reserved baseline >= 2 in prod")],
    remediation="Raise the baseline Deployment's replicas or the autoscaler's minReplicas/minReplicaCount.",
)

RULES = [PDB_BELOW_REPLICA_FLOOR, PROD_REPLICA_FLOOR]
