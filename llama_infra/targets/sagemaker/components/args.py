"""Inputs of the SageMaker component: a validated spec, plus what only a program knows (the endpoint name)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec


@dataclass(frozen=True)
class SageMakerLlamaEndpointArgs:
    """Arguments of `SageMakerLlamaEndpoint`.

    A component-package host (other languages) can pass the spec as YAML text and build the args with
    `from_yaml`; Python programs pass a `DeploymentSpec` from `load_spec`.
    """

    spec: DeploymentSpec
    """The validated deployment spec (target must be sagemaker)."""
    endpoint_name: str | None = None
    """SageMaker endpoint name; default: the component's name. Alarms, dashboard, log group and the scaling
    target's resource id use it, so it is fixed rather than auto-named."""

    def __post_init__(self) -> None:
        if self.spec.target != "sagemaker":
            raise ValueError(
                f"spec '{self.spec.name}' targets {self.spec.target}; SageMakerLlamaEndpoint needs target: sagemaker"
            )

    @classmethod
    def from_yaml(
        cls, text: str, source: str = "<spec>", endpoint_name: str | None = None
    ) -> SageMakerLlamaEndpointArgs:
        from llama_infra.spec import parse_spec

        return cls(parse_spec(text, source), endpoint_name)
