"""The resources a spec plans to: the components it selects, run offline under mocks and recorded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llama_infra.diff.record import PlannedResource, RecordingMocks, record

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec


def build(spec: DeploymentSpec, name: str | None = None) -> Any:
    """Create the component(s) for `spec` in the current Pulumi program (what a stack does for its spec)."""
    name = name or spec.name
    if spec.target == "sagemaker":
        from llama_infra.components.sagemaker import SageMakerLlamaEndpoint, SageMakerLlamaEndpointArgs

        return SageMakerLlamaEndpoint(name, SageMakerLlamaEndpointArgs(spec))
    from llama_infra.components.eks import build_eks

    return build_eks(name, spec)


def resources_for(spec: DeploymentSpec, *, preview: bool = False) -> list[PlannedResource]:
    """Every resource registration `pulumi up` would make for this spec, recorded offline."""
    return record(lambda: build(spec), stack=spec.environment, preview=preview,
                  mocks=RecordingMocks(region=spec.region))
