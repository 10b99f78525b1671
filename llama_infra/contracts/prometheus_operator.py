"""prometheus-operator objects (PodMonitor, ServiceMonitor) held against the operator's schema when no CRD is named.

The operator's CRDs are not among those `LLAMA_INFRA_CRDS` usually names; the pydantic models generated from them
(`cloudcoil-models-prometheus-operator`, pinned in constraints.txt, in the `test` extra) carry their types, enums,
patterns and ranges. An object must survive a round trip through its model unchanged: a field the schema lacks would
be pruned by the API server silently (a misspelt `podTargetLabels` vanishes, and the queries select nothing).
Without the package these objects are not checked, like any custom resource whose CRD is not named; a CRD that is
named (`kube.register_crds`) is used instead of the models.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

API_VERSION = "monitoring.coreos.com/v1"
KINDS = ("PodMonitor", "ServiceMonitor")
SOURCE = "prometheus-operator CRD schema (cloudcoil-models-prometheus-operator, strict)"

Problem = tuple[tuple[Any, ...], str]  # (path parts, what is wrong)


def covers(obj: dict[str, Any]) -> bool:
    return obj.get("apiVersion") == API_VERSION and obj.get("kind") in KINDS


@cache
def _models() -> Any:
    try:
        from cloudcoil.models.prometheus_operator import v1
    except ImportError:
        return None
    return v1


def problems(obj: dict[str, Any]) -> list[Problem] | None:
    """Every way the API server would refuse or silently change this object; None when it cannot be checked here
    (not a prometheus-operator kind, or the models are not installed)."""
    models = _models() if covers(obj) else None
    if models is None:
        return None
    import pydantic

    try:
        model = getattr(models, obj["kind"]).model_validate(obj)
    except pydantic.ValidationError as e:
        return [(tuple(err["loc"]), err["msg"]) for err in e.errors()]
    kept = model.model_dump(by_alias=True, exclude_unset=True, mode="json")
    return list(_changes(obj, kept, ()))


def _changes(sent: Any, kept: Any, path: tuple[Any, ...]) -> Iterator[Problem]:
    if isinstance(sent, dict) and isinstance(kept, dict):
        for key, value in sent.items():
            if key not in kept:
                yield path + (key,), "not a field of the schema: the API server would drop it"
            else:
                yield from _changes(value, kept[key], path + (key,))
    elif isinstance(sent, list) and isinstance(kept, list) and len(sent) == len(kept):
        for i, (a, b) in enumerate(zip(sent, kept, strict=True)):
            yield from _changes(a, b, path + (i,))
    elif sent != kept:
        yield path, f"the schema would store {kept!r} instead"
