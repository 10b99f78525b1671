"""`target: sagemaker` behind the `Target` seam: build, outputs and plan facts of a SageMaker endpoint."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llama_infra.targets import Entry, register

if TYPE_CHECKING:
    import pulumi

    from llama_infra.spec import DeploymentSpec


class SageMakerTarget:
    name = "sagemaker"

    def build(self, name: str, spec: DeploymentSpec, opts: pulumi.ResourceOptions | None = None, *,
              endpoint_name: str | None = None) -> Any:
        from llama_infra.targets.sagemaker.components import SageMakerLlamaEndpoint, SageMakerLlamaEndpointArgs

        return SageMakerLlamaEndpoint(name, SageMakerLlamaEndpointArgs(spec, endpoint_name), opts=opts)

    def stack_outputs(self, component: Any) -> dict[str, Any]:
        return {"endpoint_name": component.endpoint_name, "endpoint_arn": component.endpoint_arn,
                "scaling_target_id": component.scaling_target_id, "dashboard_url": component.dashboard_url}

    def entry(self, component: Any) -> Entry:
        return Entry(component.endpoint_name, component.endpoint_arn, component.dashboard_url)

    def plan_lines(self, spec: DeploymentSpec) -> list[str]:
        return []

    def scaling_notes(self, spec: DeploymentSpec) -> list[str]:
        from llama_infra.targets.sagemaker.cloudwatch_metrics import GPU_MEMORY_NOT_A_SCALING_SIGNAL

        return [f"GPU memory is not a scaling signal on SageMaker: {GPU_MEMORY_NOT_A_SCALING_SIGNAL}."]

    def scales_on_gpu_memory(self, spec: DeploymentSpec) -> bool:
        return False  # no GPU-memory policy is rendered, whatever the spec says (scaling_notes says why)


TARGET = register(SageMakerTarget())
