"""One validator for every rendered object: Kubernetes' schema for built-in kinds, the CRD schema for ours
(prometheus-operator's from its published models)."""

from __future__ import annotations

import kubernetes_validate

from . import crd_schema, prometheus_operator_schema


def validate(obj: dict, kubernetes_version: str) -> None:
    if prometheus_operator_schema.is_prometheus_operator(obj):
        prometheus_operator_schema.validate(obj)
    elif crd_schema.is_custom(obj):
        crd_schema.validate(obj)
    else:
        # strict: unknown fields are errors (the API server would drop them silently)
        kubernetes_validate.validate(obj, kubernetes_version, strict=True)
