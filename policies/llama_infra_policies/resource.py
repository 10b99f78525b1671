"""A read-only view of one resource's inputs as Pulumi hands them to a policy pack.

Property names are the provider schema's (camelCase: `productionVariants`, `vpcConfig.endpointPublicAccess`);
Kubernetes resources carry the object itself (`metadata`, `spec`). Numbers arrive as floats (they travel as a
protobuf Struct). Values unknown during preview raise `UnknownValueError` when read; the SDK turns that into an
advisory "can't run during preview" note, which is the honest outcome when a rule cannot decide.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import ResourceValidationArgs
from pulumi_policy.proxy import UnknownValueError

# Markers: AWS tag keys and their Kubernetes label/annotation equivalents (":" is not legal in a Kubernetes key).
ENVIRONMENT_TAG = "llama-infra:environment"
ENVIRONMENT_LABEL = "llama-infra.io/environment"
EXEMPT_TAG = "llama-infra:policy-exempt"
EXEMPT_ANNOTATION = "llama-infra.io/policy-exempt"
GPU_HEADROOM_TAG = "llama-infra:gpu-memory-headroom"
GPU_HEADROOM_ANNOTATION = "llama-infra.io/gpu-memory-headroom"
PROD = "prod"
STACK_ENVIRONMENTS = ("dev", "staging", PROD)  # the spec's `environment` values

_MISSING = object()
_EXEMPT_KEY = re.compile(rf"^({re.escape(EXEMPT_TAG)}|{re.escape(EXEMPT_ANNOTATION)})(\.[A-Za-z0-9_.-]+)?$")


@dataclass(frozen=True)
class Exemption:
    """`<rule-name>:<reason>` found under an exemption key; `problem` is set when the value is malformed."""

    key: str
    rule: str
    reason: str
    problem: str | None = None


def parse_exemption(key: str, value: Any) -> Exemption:
    text = value if isinstance(value, str) else ""
    rule, sep, reason = text.partition(":")
    rule, reason = rule.strip(), reason.strip()
    problem = None
    if not rule or not sep:
        problem = f"{key}={text!r} must be '<rule-name>:<reason>'"
    elif not reason:
        problem = f"{key}={text!r} names rule {rule!r} but gives no reason; write '{rule}:<why it is safe here>'"
    return Exemption(key=key, rule=rule, reason=reason, problem=problem)


def get(value: Any, *path: str | int, default: Any = None) -> Any:
    """Walk mappings and sequences; a missing step gives `default`; an unknown value raises UnknownValueError."""
    current = value
    for step in path:
        if isinstance(step, int):
            if not isinstance(current, Sequence) or isinstance(current, str) or step >= len(current):
                return default
            current = current[step]
        else:
            if not isinstance(current, Mapping) or step not in _keys(current):
                return default
            current = current[step]
        if current is None:
            return default
    return current


def is_set(value: Any, *path: str | int) -> bool:
    """True when the path holds a value, including one that is unknown until the update runs."""
    try:
        return get(value, *path, default=_MISSING) is not _MISSING
    except UnknownValueError:
        return True


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        return [value]
    return list(value)


def number(value: Any) -> float | None:
    """Numbers arrive as floats, sometimes as strings (Kubernetes int-or-string); anything else is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _keys(mapping: Mapping[str, Any]) -> list[str]:
    # Iterating a policy proxy yields its keys without reading (and tripping on) unknown values.
    return list(iter(mapping))


@dataclass
class Resource:
    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    stack_tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: ResourceValidationArgs) -> Resource:
        return cls(args.resource_type, args.name, args.urn, args.props, dict(args.stack_tags or {}))

    def get(self, *path: str | int, default: Any = None) -> Any:
        return get(self.props, *path, default=default)

    def is_set(self, *path: str | int) -> bool:
        return is_set(self.props, *path)

    @property
    def is_kubernetes(self) -> bool:
        return self.type.startswith("kubernetes:")

    def markers(self) -> dict[str, Any]:
        """AWS tags, or Kubernetes labels plus annotations; unknown values are left out."""
        sources = [("metadata", "labels"), ("metadata", "annotations")] if self.is_kubernetes else [("tags",)]
        found: dict[str, Any] = {}
        for path in sources:
            try:
                mapping = self.get(*path, default={})
            except UnknownValueError:
                continue
            if not isinstance(mapping, Mapping):
                continue
            for key in _keys(mapping):
                try:
                    found[key] = mapping[key]
                except UnknownValueError:
                    continue
        return found

    def marker(self, aws_key: str, kubernetes_key: str) -> Any:
        markers = self.markers()
        return markers.get(kubernetes_key if self.is_kubernetes else aws_key)

    @property
    def stack(self) -> str:
        """The stack segment of the URN (`urn:pulumi:<stack>::<project>::<type>::<name>`)."""
        return self.urn.removeprefix("urn:pulumi:").split("::", 1)[0] if self.urn.startswith("urn:pulumi:") else ""

    @property
    def environment(self) -> str | None:
        """The resource's tag/label, else the stack tag, else the stack name: our stacks are named after their
        environment, alone or as a prefix (dev, staging, prod, dev-eks, prod-eks)."""
        for value in (self.marker(ENVIRONMENT_TAG, ENVIRONMENT_LABEL), self.stack_tags.get(ENVIRONMENT_TAG)):
            if isinstance(value, str) and value:
                return value
        if isinstance(self.stack, str) and self.stack:
            head = self.stack.split("-", 1)[0]
            return head if head in STACK_ENVIRONMENTS else self.stack
        return None

    @property
    def is_prod(self) -> bool:
        return self.environment == PROD

    def exemptions(self) -> list[Exemption]:
        return [parse_exemption(key, value) for key, value in sorted(self.markers().items()) if _EXEMPT_KEY.match(key)]

    def exemption_for(self, rule_name: str) -> Exemption | None:
        for exemption in self.exemptions():
            if exemption.problem is None and exemption.rule == rule_name:
                return exemption
        return None
