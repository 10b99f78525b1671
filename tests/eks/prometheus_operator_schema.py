"""Validate prometheus-operator objects (PodMonitor, ServiceMonitor) against the CRD schema, as published on PyPI.

The prometheus-operator CRDs are not among the pinned upstream files, so the schema comes from
`cloudcoil-models-prometheus-operator` (test extra): pydantic models generated from the operator's CRDs (v0.80.1),
with their types, enums, patterns and ranges. The API server prunes unknown fields of a structural schema silently
(a misspelt `podTargetLabel` would just vanish and the queries would select nothing), so a field the model does not
know is an error here: the object must survive a round trip through the model unchanged.
"""

from __future__ import annotations

API_VERSION = "monitoring.coreos.com/v1"
KINDS = ("PodMonitor", "ServiceMonitor")


def is_prometheus_operator(obj: dict) -> bool:
    return obj.get("apiVersion") == API_VERSION and obj.get("kind") in KINDS


def validate(obj: dict) -> None:
    """Raise pydantic.ValidationError (bad type, enum, pattern, range) or AssertionError (a field the CRD lacks)."""
    from cloudcoil.models.prometheus_operator import v1

    model = getattr(v1, obj["kind"]).model_validate(obj)
    kept = model.model_dump(by_alias=True, exclude_unset=True, mode="json")
    assert kept == obj, (
        f"{obj['kind']} {obj['metadata'].get('name')}: fields the CRD does not define would be "
        f"pruned by the API server: sent {obj}, kept {kept}"
    )
