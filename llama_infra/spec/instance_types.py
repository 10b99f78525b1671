"""Instance types in a spec: which fields name one, and whether the spec's target offers it.

Shared by the cross-field rules (`rules`), the fact rules (`fact_rules`) and each target's own rules, so a type
reported as unknown is reported once, by `rules._instance_types`, and skipped by every fit rule after it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_infra import catalog
from llama_infra.spec.errors import Path

if TYPE_CHECKING:
    from llama_infra.spec.model import DeploymentSpec


def instance_fields(spec: DeploymentSpec) -> list[tuple[Path, str]]:
    fields: list[tuple[Path, str]] = [(("capacity", "baseline", "instance_type"), spec.capacity.baseline.instance_type)]
    fields += [
        (("capacity", "burst", "instance_types", i), t) for i, t in enumerate(spec.capacity.burst.instance_types)
    ]
    fields += [
        (("schedules", i, "downsize", "instance_type"), s.downsize.instance_type)
        for i, s in enumerate(spec.schedules)
        if s.downsize.instance_type
    ]
    if spec.fallback and spec.fallback.instance_type:
        fields.append((("fallback", "instance_type"), spec.fallback.instance_type))
    return fields


def instance_problem(instance_type: str, target: catalog.Target) -> tuple[str, str] | None:
    wanted = catalog.target_name(instance_type, target)
    if instance_type != wanted:
        why = (
            "SageMaker instance types start with 'ml.'"
            if target == "sagemaker"
            else "EC2 instance types on EKS have no 'ml.' prefix"
        )
        return f"'{instance_type}': {why}", f"write '{wanted}'"
    known = [catalog.target_name(g.instance_type, target) for g in catalog.gpu_types_for(target)]
    if not catalog.offered_by(instance_type, target):
        import difflib

        if target == "sagemaker" and catalog.offered_by(catalog.ec2_name(instance_type), "eks"):
            family = catalog.ec2_name(instance_type).split(".")[0] + "."
            same_family = [k for k in known if catalog.ec2_name(k).startswith(family)]
            return (
                f"'{instance_type}' is not offered for SageMaker real-time endpoints (botocore's SageMaker "
                f"service model), although EC2 has {catalog.ec2_name(instance_type)}",
                f"use {', '.join(same_family) or 'another GPU type'} or target: eks",
            )
        service = "SageMaker real-time endpoints" if target == "sagemaker" else "EC2"
        close = difflib.get_close_matches(instance_type, known, n=3)
        fix = f"did you mean {', '.join(close)}?" if close else f"use a GPU type such as {_one_per_family(known)}"
        return f"'{instance_type}' is not an instance type {service} offer (botocore service model)", fix
    if catalog.lookup(instance_type) is None:
        return (
            f"'{instance_type}' is not a CUDA GPU instance type (llama-infra's catalog: g4dn, g5, g6, g6e, "
            "p4d, p4de, p5, p5en)",
            f"use a GPU type such as {_one_per_family(known)}",
        )
    return None


def _one_per_family(names: list[str]) -> str:
    """The first (smallest) size of each GPU family: `ml.g5.xlarge, ml.g6.xlarge, …`."""
    seen: dict[str, str] = {}
    for n in names:
        seen.setdefault(catalog.ec2_name(n).split(".")[0], n)
    return ", ".join(seen.values())


def known_instance(instance_type: str | None, target: catalog.Target) -> catalog.GpuInstance | None:
    """Catalog entry when the type passed `rules._instance_types`, so fit rules do not report the same type twice."""
    if instance_type is None or instance_problem(instance_type, target):
        return None
    return catalog.lookup(instance_type)
