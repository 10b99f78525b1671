"""Turn a Pulumi program recorded under mocks into `evaluate` input.

The recording is llama-infra's offline recorder (`llama_infra.plan.record`, the one `llama-infra plan` and
`llama-infra diff` use). `from_planned(resources_for(spec))` takes what `pulumi up` would register for a spec, so
"the example stacks pass every mandatory rule" is one call:

    mandatory = [v for v in evaluate(from_planned(resources_for(spec))) if v.enforcement_level == "mandatory"]

Or record any program yourself (`mocks=YourMocks()` to keep your ids and outputs):

    violations = evaluate(from_planned(record(program, preview=True)))

The recorder keeps the inputs the monitor received over RPC, keyed by the provider's property names (the names the
engine gives a policy pack). Values unknown during preview are turned back into the engine's unknown sentinel, so
rules behave as they would in `pulumi preview`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

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
    """The shape of `llama_infra.plan.record.RecordedResource` (duck-typed: no import needed to pass one)."""

    type: str
    urn: str
    inputs: Mapping[str, Any]
    custom: bool


def from_planned(planned: Iterable[Planned]) -> list[ResourceInput]:
    """Custom resources of a recorded plan; the plan's "known after apply" marker becomes the engine's unknown."""
    from llama_infra.plan.record import UNKNOWN as PLANNED_UNKNOWN

    def restore(value: Any) -> Any:
        if value == PLANNED_UNKNOWN:
            return UNKNOWN
        if isinstance(value, Mapping):
            return {str(k): restore(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [restore(v) for v in value]
        return value

    return [(p.type, restore(policy_props(p.inputs)), p.urn) for p in planned if p.custom]
