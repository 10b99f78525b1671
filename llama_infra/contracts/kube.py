"""Kubernetes objects held against the API server's schemas: built-in kinds through kubernetes-validate (the
OpenAPI schemas of each Kubernetes release), custom resources through their CRDs' `openAPIV3Schema`.

Both are checked closed (strict): the API server prunes unknown fields of a structural schema silently, which would
hide a typo (a misspelt `consolidateAfter` is simply dropped), so an object without
`x-kubernetes-preserve-unknown-fields` or `additionalProperties` gets `additionalProperties: false` here.

Each CRD's CEL rules (`x-kubernetes-validations`) are evaluated too (`kube_cel`), except those an offline check cannot
evaluate, listed with the reason by `skipped_cel_rules()`.

CRDs are not shipped with llama-infra (they belong to the operators that install them): `register_crds(paths)`, or
the environment variable `LLAMA_INFRA_CRDS` (paths separated by the OS path separator), names the CRD files to
check custom resources against; a custom resource without a registered CRD is not checked, but for the
prometheus-operator's PodMonitor and ServiceMonitor, held against the operator's published models where they are
installed (`prometheus_operator`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from llama_infra.contracts import kube_cel, prometheus_operator
from llama_infra.contracts.violation import Violation, shown

CRDS_ENV = "LLAMA_INFRA_CRDS"
DEFAULT_KUBERNETES_VERSION = "1.33"
_registered: dict[tuple[str, str], dict[str, Any]] = {}  # (apiVersion, kind) -> JSON schema
_registered_rules: dict[tuple[str, str], list[kube_cel.Rule]] = {}  # (apiVersion, kind) -> its CEL rules
_env_loaded: set[str] = set()


def _to_json_schema(node: Any) -> Any:
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
    if (
        out.get("type") == "object"
        and "properties" in out
        and "additionalProperties" not in out
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def _crd_versions(path: Path) -> Iterator[tuple[tuple[str, str], dict[str, Any]]]:
    """((apiVersion, kind), openAPIV3Schema as published) for every served version of the CRD(s) in one YAML file."""
    from ruamel.yaml import YAML

    for crd in YAML(typ="safe").load_all(path.read_text()):
        if not isinstance(crd, dict) or crd.get("kind") != "CustomResourceDefinition":
            continue
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            yield (f"{group}/{version['name']}", kind), version["schema"]["openAPIV3Schema"]


def _json_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    schema = _to_json_schema(openapi)
    schema.setdefault("properties", {})["metadata"] = {"type": "object"}  # ObjectMeta: the API server's
    return schema


def crd_schemas(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> JSON schema for every served version of the CRD(s) in one YAML file."""
    return {key: _json_schema(openapi) for key, openapi in _crd_versions(path)}


def register_crds(paths: Iterable[Path | str]) -> None:
    for path in paths:
        for key, openapi in _crd_versions(Path(path)):
            _registered[key] = _json_schema(openapi)
            _registered_rules[key] = kube_cel.rules(openapi)


def skipped_cel_rules() -> list[tuple[str, kube_cel.Rule, str]]:
    """("apiVersion Kind", rule, why) for every CEL rule of the registered CRDs that is not evaluated offline."""
    _schemas()
    return [
        (f"{key[0]} {key[1]}", rule, why)
        for key, found in sorted(_registered_rules.items())
        for rule in found
        if (why := kube_cel.not_evaluated(rule))
    ]


def _schemas() -> dict[tuple[str, str], dict[str, Any]]:
    env = os.environ.get(CRDS_ENV, "")
    if env and env not in _env_loaded:
        register_crds(p for p in env.split(os.pathsep) if p)
        _env_loaded.add(env)
    return _registered


def custom_schema(api_version: str, kind: str) -> dict[str, Any] | None:
    return _schemas().get((api_version, kind))


@cache
def _crd_validator(api_version: str, kind: str) -> Any:
    import jsonschema

    schema = custom_schema(api_version, kind)
    return None if schema is None else jsonschema.Draft202012Validator(schema)


CRD_SCHEMA = "CRD openAPIV3Schema"
CRD_CEL = "CRD x-kubernetes-validations (CEL)"


def object_problems(
    obj: dict[str, Any], kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
) -> list[tuple[str, str, str]]:
    """(field path, problem, contract) for every way the API server would refuse this object; [] when it would
    accept it."""
    api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    if custom_schema(api_version, kind) is not None:
        validator = _crd_validator(api_version, kind)
        found = [(_path(e.absolute_path), e.message, CRD_SCHEMA) for e in sorted(validator.iter_errors(obj), key=str)]
        cel = kube_cel.problems(obj, _registered_rules.get((api_version, kind), []))
        return found + [(path, problem, CRD_CEL) for path, problem in cel]
    operator = prometheus_operator.problems(obj)
    if operator is not None:
        return [(_path(path), problem, prometheus_operator.SOURCE) for path, problem in operator]
    import kubernetes_validate

    source = f"Kubernetes {kubernetes_version} OpenAPI schema (kubernetes-validate, strict)"
    try:
        kubernetes_validate.validate(obj, kubernetes_version, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        return []  # a custom resource whose CRD is not registered
    except kubernetes_validate.ValidationError as e:
        return [(_path(e.absolute_path), e.message, source)]
    return []


def _path(parts: Iterable[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(object)"


def manifest(type_token: str, inputs: dict[str, Any]) -> dict[str, Any] | None:
    """The object a `kubernetes:<group/version>:<Kind>` registration sends to the API server (None: not one)."""
    parts = type_token.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes" or parts[1] in ("yaml", "helm.sh/v3", "helm.sh/v4", "kustomize"):
        return None
    group_version, kind = parts[1], parts[2]
    if group_version.startswith("core/"):
        group_version = group_version[len("core/") :]
    obj = {k: v for k, v in inputs.items() if k not in ("apiVersion", "kind")}
    obj = {"apiVersion": inputs.get("apiVersion") or group_version, "kind": inputs.get("kind") or kind, **obj}
    return _plain(obj)


def _plain(value: Any) -> Any:
    """Unknown values (known after apply) replaced by nothing: the schema check is about what the program wrote."""
    from llama_infra.contracts.aws_api import _unknown

    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None and not _unknown(v)}
    if isinstance(value, list):
        return [_plain(v) for v in value if v is not None and not _unknown(v)]
    return value


def check(
    type_token: str,
    name: str,
    inputs: dict[str, Any],
    physical_name: str | None = None,
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
) -> list[Violation]:
    obj = manifest(type_token, inputs)
    if obj is None:
        return []
    if physical_name and not (obj.get("metadata") or {}).get("name"):
        obj["metadata"] = {**(obj.get("metadata") or {}), "name": physical_name}
    return [
        Violation(type_token, name, path, problem, shown(_at(obj, path)), contract)
        for path, problem, contract in object_problems(obj, kubernetes_version)
    ]


def _at(obj: Any, path: str) -> Any:
    import re

    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        try:
            obj = obj[int(part[1:-1])] if part.startswith("[") else obj[part]
        except (KeyError, IndexError, TypeError, ValueError):
            return "(absent)"
    return obj if not isinstance(obj, (dict, list)) else "(object)"
