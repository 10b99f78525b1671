"""The typed deployment spec: parse, defaults, cross-field validation, JSON Schema."""

from llama_infra.spec.errors import SpecError, SpecIssue, SpecRuleErrors
from llama_infra.spec.loader import load_spec, parse_spec
from llama_infra.spec.model import DeploymentSpec
from llama_infra.spec.rules import warnings

__all__ = [
    "DeploymentSpec",
    "SpecError",
    "SpecIssue",
    "SpecRuleErrors",
    "load_spec",
    "parse_spec",
    "warnings",
    "json_schema",
]


def json_schema() -> dict:
    schema = DeploymentSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/llama-infra/llama-infra/schema/deployment-spec.schema.json"
    return schema
