"""`target: eks` behind the `Target` seam: build, outputs and plan facts of an EKS deployment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llama_infra.targets import Entry, register

if TYPE_CHECKING:
    import pulumi

    from llama_infra.spec import DeploymentSpec


class EksTarget:
    name = "eks"

    def build(self, name: str, spec: DeploymentSpec, opts: pulumi.ResourceOptions | None = None, *,
              endpoint_name: str | None = None) -> Any:
        from llama_infra.targets.eks.components import EksLlamaDeployment, EksLlamaDeploymentArgs

        return EksLlamaDeployment(name, EksLlamaDeploymentArgs(spec=spec), opts)  # clients call its Service

    def stack_outputs(self, component: Any) -> dict[str, Any]:
        return {"cluster_name": component.cluster_name, "service_name": component.service_name,
                "entry_service_name": component.entry_service_name,  # what clients call (the router)
                "node_pool_names": component.node_pool_names,
                # Karpenter's settings.interruptionQueue, and the role its controller must be allowed to pass.
                "interruption_queue_name": component.interruption_queue_name,
                "karpenter_node_role_name": component.karpenter_node_role_name}

    def entry(self, component: Any) -> Entry:
        return Entry(component.entry_service_name)  # the router's Service with a fallback or scale to zero

    def plan_lines(self, spec: DeploymentSpec) -> list[str]:
        from llama_infra.targets.eks.plan_summary import plan_lines

        return plan_lines(spec)

    def scaling_notes(self, spec: DeploymentSpec) -> list[str]:
        return []

    def scales_on_gpu_memory(self, spec: DeploymentSpec) -> bool:
        return True  # the KV-cache share is the second trigger (vLLM)


TARGET = register(EksTarget())
