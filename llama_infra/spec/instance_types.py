"""Instance types in a spec: which fields name one, and whether the spec's target offers it.

Shared by the cross-field rules (`rules`), the fact rules (`fact_rules`) and each target's own rules, so a type
reported as unknown is reported once, by `rules._instance_types`, and skipped by every fit rule after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from llama_infra import catalog, target_facts
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


# (params in billions, precision, memory overhead fraction): what an instance type must hold.
Served = tuple[float, str, float]


def served_model(spec: DeploymentSpec, path: Path) -> Served:
    """The model the instance type at `path` (an `instance_fields` path) serves: the day's, a window's or the
    fallback's, as (params in billions, precision, memory overhead fraction)."""
    m = spec.model
    params_b, precision = m.params_b, m.precision
    if path[0] == "schedules" and isinstance(path[1], int):
        o = spec.schedules[path[1]].downsize.model_override
        params_b = (o.params_b if o else None) or params_b
        precision = (o.precision if o else None) or precision
    elif path[0] == "fallback" and spec.fallback is not None:
        params_b, precision = spec.fallback.params_b, spec.fallback.precision
    return params_b, precision, m.memory_overhead_fraction


def instance_problem(
    instance_type: str, target: catalog.Target, served: Served | None = None
) -> tuple[str, str] | None:
    """What is wrong with `instance_type` on `target` (problem, fix), or None. With `served`, a type the target does
    not offer is answered with types that hold that model, so the fix works when followed."""
    facts = target_facts.of(target)
    wanted = catalog.target_name(instance_type, target)
    if instance_type != wanted:
        return f"'{instance_type}': {facts.prefix_rule}", f"write '{wanted}'"
    known = [catalog.target_name(g.instance_type, target) for g in catalog.gpu_types_for(target)]
    if not catalog.offered_by(instance_type, target):
        import difflib

        # A type EC2 has that this target does not offer: say which targets run it under its EC2 name.
        ec2_type = catalog.ec2_name(instance_type)
        runs_as_ec2 = [t for t in target_facts.ec2_named() if t != target and catalog.offered_by(ec2_type, t)]
        if runs_as_ec2:
            family = catalog.ec2_name(instance_type).split(".")[0]
            same_family = [k for k in known if catalog.ec2_name(k).split(".")[0] == family]
            fix = f"use {_or(same_family) or 'another GPU type'}"
            if served is not None:
                from llama_infra import sizing

                params_b, precision, overhead = served
                holding = [k for k in same_family if _holds(k, target, served)]
                if holding:
                    sizes, serve = ("sizes", "serve") if len(holding) > 1 else ("size", "serves")
                    fix = (
                        f"use {_or(holding)} (the {family} {sizes} {facts.display_name} offers that {serve} "
                        f"{params_b:g}B {precision})"
                    )
                else:
                    others = sizing.fitting_instances(params_b, precision, target, overhead_fraction=overhead)
                    fix = (
                        f"use {_or(others) or 'a larger GPU type'} (no {family} size {facts.display_name} offers "
                        f"serves {params_b:g}B {precision})"
                    )
            return (
                f"'{instance_type}' is not offered for {facts.instance_seller} (botocore's {facts.display_name} "
                f"service model), although EC2 has {catalog.ec2_name(instance_type)}",
                f"{fix}; {catalog.ec2_name(instance_type)} itself runs on target: {_or(runs_as_ec2)}",
            )
        service = facts.instance_seller
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


def _holds(instance_type: str, target: catalog.Target, served: Served) -> bool:
    from llama_infra import sizing

    params_b, precision, overhead = served
    g = catalog.lookup(instance_type)
    return g is not None and g.runs_precision(precision) and sizing.fit(params_b, precision, g, None, overhead).fits


def _or(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} or {items[-1]}"


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
