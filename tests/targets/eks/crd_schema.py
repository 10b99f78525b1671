"""Validate custom resources against the CRDs' published OpenAPI v3 schemas, pinned in ../shared/data/upstream/
(sources and commits in its README; tests/conftest.py names them in LLAMA_INFRA_CRDS), through the library's own
conversion (`llama_infra.contracts.kube`): closed objects, so a misspelt field the API server would prune silently
is an error here."""

from __future__ import annotations

import jsonschema

from llama_infra.contracts import kube

KINDS = {
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("karpenter.sh/v1", "NodePool"),
    ("karpenter.k8s.aws/v1", "EC2NodeClass"),
}


def schema_for(api_version: str, kind: str) -> dict:
    schema = kube.custom_schema(api_version, kind)
    assert schema is not None, f"no CRD registered for {api_version} {kind} (see tests/conftest.py)"
    return schema


def validate(obj: dict) -> None:
    """Raise jsonschema.ValidationError when the object does not conform to its CRD."""
    jsonschema.Draft202012Validator(schema_for(obj["apiVersion"], obj["kind"])).validate(obj)


def is_custom(obj: dict) -> bool:
    return (obj["apiVersion"], obj["kind"]) in KINDS
