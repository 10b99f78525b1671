"""Turn a Pulumi program run under mocks into `evaluate` input.

Two ways in. `from_planned(resources_for(spec))` takes the registrations `llama_infra.diff` records for a spec
(the same offline plan `llama-infra diff` uses), so "the example stacks pass every mandatory rule" is one call:

    mandatory = [v for v in evaluate(from_planned(resources_for(spec))) if v.enforcement_level == "mandatory"]

Or record any program yourself:

    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, preview=True)
    ... build the stack / components (inside a @pulumi.runtime.test function) ...
    violations = evaluate(mocks.resources)

The mock monitor hands `new_resource` the inputs it received over RPC, keyed by the provider's property names (the
names the engine gives a policy pack). Values unknown during preview are turned back into the engine's unknown
sentinel, so rules behave as they would in `pulumi preview`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import pulumi
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from .harness import ResourceInput


def policy_props(value: Any) -> Any:
    """Mock inputs -> JSON-like properties, with unknowns as the engine's sentinel string."""
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {str(k): policy_props(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [policy_props(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)  # resource references and assets: policies only need to see that something is set


class Planned(Protocol):
    """The shape of `llama_infra.diff.record.PlannedResource` (duck-typed: no import needed to pass one)."""

    type: str
    urn: str
    inputs: Mapping[str, Any]
    custom: bool


def from_planned(planned: Iterable[Planned]) -> list[ResourceInput]:
    """Custom resources of a recorded plan; the plan's "known after apply" marker becomes the engine's unknown."""
    from llama_infra.diff.record import UNKNOWN as PLANNED_UNKNOWN

    def restore(value: Any) -> Any:
        if value == PLANNED_UNKNOWN:
            return UNKNOWN
        if isinstance(value, Mapping):
            return {str(k): restore(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [restore(v) for v in value]
        return value

    return [(p.type, restore(policy_props(p.inputs)), p.urn) for p in planned if p.custom]


class RecordingMocks(pulumi.runtime.Mocks):
    """Mocks that record every custom resource; `inner` (optional) answers ids, state and calls."""

    def __init__(self, inner: pulumi.runtime.Mocks | None = None) -> None:
        self.inner = inner
        self.resources: list[ResourceInput] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        self.resources.append((args.typ, policy_props(args.inputs), args.name))
        if self.inner is not None:
            return self.inner.new_resource(args)
        return f"{args.name}-id", args.inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> Any:
        if self.inner is not None:
            return self.inner.call(args)
        return {}
