"""Validate prometheus-operator objects (PodMonitor, ServiceMonitor) against the CRD schema, as published on PyPI.

The prometheus-operator CRDs are not among the pinned upstream files, so the schema comes from
`cloudcoil-models-prometheus-operator` (test extra): pydantic models generated from the operator's CRDs (v0.80.1).
The check is the library's own (`llama_infra.contracts.prometheus_operator`, which the strict recorder runs on every
recorded PodMonitor too): types, enums, patterns and ranges, and a field the model does not know is an error, since
the API server would prune it silently.
"""

from __future__ import annotations

from llama_infra.contracts import kube, prometheus_operator


def is_prometheus_operator(obj: dict) -> bool:
    return prometheus_operator.covers(obj)


def validate(obj: dict) -> None:
    """Raise AssertionError naming every problem (or that the models are not installed)."""
    found = prometheus_operator.problems(obj)
    assert found is not None, "cloudcoil-models-prometheus-operator (the test extra) is not installed"
    assert found == [], f"{obj['kind']} {obj['metadata'].get('name')}: " + "; ".join(
        f"{kube._path(path)}: {problem}" for path, problem in found
    )
