"""Run the pack offline exactly as the Pulumi engine would, without the Pulumi CLI.

`evaluate(resources)` feeds each resource through pulumi_policy's own analyzer servicer (the object the CLI talks
to over gRPC): properties travel as a protobuf Struct, are deserialised and wrapped in the unknown-checking proxy by
the SDK, exemptions come back as "not applicable", enforcement levels come from the pack. Tests and the "example
stacks pass every mandatory rule" check call this; `validation_args` builds the same `ResourceValidationArgs` for
calling one rule's `validate` directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.policy import _PolicyAnalyzerServicer  # the SDK's analyzer; pinned pulumi-policy==1.21.0
from pulumi_policy.proxy import unknown_checking_proxy

import llama_infra

PACK_NAME = "llama-infra"
DEFAULT_STACK = "test"  # the stack in URNs made up for plain resource names (not an environment name)
PACK_VERSION = llama_infra.__version__  # the pack ships with the library; PulumiPolicy.yaml states the same (tested)

# One resource to evaluate: (type token, input properties, URN or plain resource name).
ResourceInput = tuple[str, Mapping[str, Any], str]


@dataclass(frozen=True)
class Violation:
    policy: str
    enforcement_level: str  # "mandatory" | "advisory"
    resource_type: str
    resource_name: str
    message: str

    def __str__(self) -> str:
        return f"[{self.enforcement_level}] {self.policy} on {self.resource_type} {self.resource_name}: {self.message}"


@dataclass(frozen=True)
class NotApplicable:
    policy: str
    resource_name: str
    reason: str


@dataclass
class Analysis:
    violations: list[Violation] = field(default_factory=list)
    not_applicable: list[NotApplicable] = field(default_factory=list)

    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcement_level == EnforcementLevel.MANDATORY.value]


def urn_and_name(resource_type: str, urn_or_name: str) -> tuple[str, str]:
    if urn_or_name.startswith("urn:pulumi:"):
        return urn_or_name, urn_or_name.rsplit("::", 1)[-1]
    return f"urn:pulumi:{DEFAULT_STACK}::llama-infra::{resource_type}::{urn_or_name}", urn_or_name


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(props))
    return struct


def validation_args(
    resource_type: str,
    props: Mapping[str, Any],
    urn_or_name: str = "test",
    stack_tags: Mapping[str, str] | None = None,
) -> ResourceValidationArgs:
    """The args the SDK's Analyze builds: Struct round trip, deserialisation, unknown-checking proxy."""
    urn, name = urn_and_name(resource_type, urn_or_name)
    deserialized = deserialize_properties(json_format.MessageToDict(to_struct(props)))
    options = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)
    return ResourceValidationArgs(
        resource_type, unknown_checking_proxy(deserialized), urn, name, options, None, None, dict(stack_tags or {})
    )


def _servicer(policies: Sequence[Policy], stack_tags: Mapping[str, str] | None) -> _PolicyAnalyzerServicer:
    servicer = _PolicyAnalyzerServicer(PACK_NAME, PACK_VERSION, list(policies), EnforcementLevel.ADVISORY)
    servicer.ConfigureStack(proto.AnalyzerStackConfigureRequest(tags=dict(stack_tags or {})), None)
    return servicer


def _level(value: int) -> str:
    return proto.EnforcementLevel.Name(value).lower()


def analyze(
    resources: Iterable[ResourceInput],
    policies: Sequence[Policy] | None = None,
    stack_tags: Mapping[str, str] | None = None,
) -> Analysis:
    if policies is None:
        from . import ALL_RULES

        policies = ALL_RULES
    servicer = _servicer(policies, stack_tags)
    analysis = Analysis()
    stack: list[proto.AnalyzerResource] = []
    names_by_urn: dict[str, tuple[str, str]] = {}
    for resource_type, props, urn_or_name in resources:
        urn, name = urn_and_name(resource_type, urn_or_name)
        names_by_urn[urn] = (resource_type, name)
        properties = to_struct(props)
        stack.append(proto.AnalyzerResource(type=resource_type, properties=properties, urn=urn, name=name))
        response = servicer.Analyze(
            proto.AnalyzeRequest(type=resource_type, properties=properties, urn=urn, name=name), None
        )
        _collect(analysis, response, resource_type, name)
    # Stack rules see every resource at once, as after `pulumi preview` has registered them all.
    response = servicer.AnalyzeStack(proto.AnalyzeStackRequest(resources=stack), None)
    for diagnostic in response.diagnostics:
        resource_type, name = names_by_urn.get(diagnostic.urn, ("pulumi:pulumi:Stack", "stack"))
        analysis.violations.append(_violation(diagnostic, resource_type, name))
    analysis.not_applicable += [NotApplicable(s.policy_name, "stack", s.reason) for s in response.not_applicable]
    return analysis


def _violation(diagnostic: proto.AnalyzeDiagnostic, resource_type: str, name: str) -> Violation:
    message = diagnostic.message.removeprefix(diagnostic.description).lstrip("\n")
    return Violation(diagnostic.policyName, _level(diagnostic.enforcementLevel), resource_type, name, message)


def _collect(analysis: Analysis, response: proto.AnalyzeResponse, resource_type: str, name: str) -> None:
    analysis.violations += [_violation(d, resource_type, name) for d in response.diagnostics]
    analysis.not_applicable += [NotApplicable(s.policy_name, name, s.reason) for s in response.not_applicable]


def evaluate(
    resources: Iterable[ResourceInput],
    policies: Sequence[Policy] | None = None,
    stack_tags: Mapping[str, str] | None = None,
) -> list[Violation]:
    """Every violation the pack reports for these resources (advisory and mandatory)."""
    return analyze(resources, policies, stack_tags).violations
