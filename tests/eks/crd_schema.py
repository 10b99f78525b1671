"""Validate custom resources against the CRDs' published OpenAPI v3 schemas (tests/data/crds, see SOURCES.md).

The API server prunes unknown fields of a structural schema silently, which would hide a typo (a misspelt
`consolidateAfter` is simply dropped), so the conversion here makes every object without
`x-kubernetes-preserve-unknown-fields` or `additionalProperties` closed (`additionalProperties: false`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jsonschema
from ruamel.yaml import YAML

CRD_DIR = Path(__file__).resolve().parents[1] / "data" / "crds"
CRD_FILES = {
    ("keda.sh/v1alpha1", "ScaledObject"): "keda.sh_scaledobjects.yaml",
    ("karpenter.sh/v1", "NodePool"): "karpenter.sh_nodepools.yaml",
    ("karpenter.k8s.aws/v1", "EC2NodeClass"): "karpenter.k8s.aws_ec2nodeclasses.yaml",
}


def _to_json_schema(node):
    if isinstance(node, list):
        return [_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_json_schema(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if node.get("nullable"):
        t = out.get("type")
        if isinstance(t, str):
            out["type"] = [t, "null"]
    out.pop("nullable", None)
    if (out.get("type") == "object" and "properties" in out and "additionalProperties" not in out
            and not node.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


@cache
def schema_for(api_version: str, kind: str) -> dict:
    group, version = api_version.split("/")
    crd = YAML(typ="safe").load((CRD_DIR / CRD_FILES[(api_version, kind)]).read_text())
    assert crd["spec"]["group"] == group and crd["spec"]["names"]["kind"] == kind
    (v,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema = _to_json_schema(v["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = {"type": "object"}  # ObjectMeta is validated by the API server itself
    return schema


def validate(obj: dict) -> None:
    """Raise jsonschema.ValidationError when the object does not conform to its CRD."""
    jsonschema.Draft202012Validator(schema_for(obj["apiVersion"], obj["kind"])).validate(obj)


def is_custom(obj: dict) -> bool:
    return (obj["apiVersion"], obj["kind"]) in CRD_FILES
