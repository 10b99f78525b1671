"""A PodDisruptionBudget must leave room for one eviction at the workload's smallest scale.

`minAvailable: 2` looks harmless until the HPA sits at its floor of 2 replicas: then no pod may ever be evicted,
and node drains, spot rebalancing and Karpenter consolidation hang. This needs the PDB, the workload it selects
and the autoscaler that sets the floor, so it is a stack rule.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

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


def _replica_floor(workload: Resource, resources: list[Resource]) -> tuple[float, str]:
    """The fewest replicas the workload runs: the autoscaler's minimum if one targets it, else spec.replicas."""
    for scaler in resources:
        if _namespace(scaler) != _namespace(workload):
            continue
        if scaler.type == reliability.HPA and scaler.get("spec", "scaleTargetRef", "name") == _name(workload):
            return number(scaler.get("spec", "minReplicas", default=1)) or 0, f"HPA {_name(scaler)} minReplicas"
        if scaler.type == reliability.SCALED_OBJECT and scaler.get("spec", "scaleTargetRef", "name") == _name(workload):
            return number(scaler.get("spec", "minReplicaCount", default=0)) or 0, f"ScaledObject {_name(scaler)} minReplicaCount"
    return number(workload.get("spec", "replicas", default=1)) or 0, "spec.replicas"


def _check(resources: list[Resource]) -> Iterator[tuple[Resource, str]]:
    workloads = [r for r in resources if r.type in SCALABLE_WORKLOADS]
    for pdb in (r for r in resources if r.type == reliability.PDB):
        min_available = pdb.get("spec", "minAvailable")
        if isinstance(min_available, str) or number(min_available) is None:
            continue  # percentages are judged by pdb-allows-disruption
        selector = pdb.get("spec", "selector", default={})
        for workload in workloads:
            if _namespace(workload) != _namespace(pdb) or not _selects(selector, workload):
                continue
            floor, source = _replica_floor(workload, resources)
            if number(min_available) >= floor:
                yield pdb, (f"spec.minAvailable is {number(min_available):g} but {workload.type.rsplit(':', 1)[-1]} "
                            f"{_name(workload)} can run {floor:g} replica(s) ({source}): at that scale no pod may be "
                            "evicted. Use maxUnavailable: 1.")


PDB_BELOW_REPLICA_FLOOR = LlamaStackRule(
    "pdb-min-available-below-replica-floor",
    "A PDB's minAvailable stays below the fewest replicas its workload runs (HPA/KEDA floor or spec.replicas).",
    resource_types=[reliability.PDB, *SCALABLE_WORKLOADS, reliability.HPA, reliability.SCALED_OBJECT],
    check=_check,
    enforcement_level=MANDATORY,
    citations=[ours("PDB must allow >= 1 disruption", "https://kubernetes.io/docs/tasks/run-application/configure-pdb/")],
    remediation="Use maxUnavailable: 1, or keep minAvailable below the autoscaler's minimum.",
)

RULES = [PDB_BELOW_REPLICA_FLOOR]
