"""`EksLlamaDeployment`: one spec with `target: eks`, end to end — cluster access, add-ons, GPU capacity,
the inference service and its queue-depth autoscaler. `build_eks(name, spec)` returns it for the stacks program."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from llama_infra.spec import DeploymentSpec
from llama_infra.targets.eks.components._common import COMPONENT_PREFIX, child
from llama_infra.targets.eks.components.addons import EksAddons, EksAddonsArgs
from llama_infra.targets.eks.components.autoscaler import QueueDepthAutoscaler, QueueDepthAutoscalerArgs
from llama_infra.targets.eks.components.capacity import EksGpuCapacity, EksGpuCapacityArgs
from llama_infra.targets.eks.components.cluster import MinimalEksCluster, MinimalEksClusterArgs, kubeconfig
from llama_infra.targets.eks.components.overflow import OverflowRouter, OverflowRouterArgs
from llama_infra.targets.eks.components.service import LlamaInferenceService, LlamaInferenceServiceArgs
from llama_infra.targets.kubernetes import router, workload


@dataclass
class EksLlamaDeploymentArgs:
    """Inputs of `EksLlamaDeployment`; only the spec is required."""

    spec: DeploymentSpec
    k8s_provider: k8s.Provider | None = None
    """Provider of an existing cluster; default: one built from the cluster's endpoint (aws eks get-token)."""
    subnet_ids: pulumi.Input[list[str]] | None = None
    """Node group subnets; default: the cluster's own subnets."""
    create_cluster: bool = False
    """Create a minimal cluster named eks.cluster_name in `subnet_ids` (required then) instead of attaching."""
    create_namespace: bool = True
    """Create eks.namespace; false when it exists already (e.g. shared by several deployments)."""


class EksLlamaDeployment(pulumi.ComponentResource):
    """One `target: eks` spec end to end: cluster access, add-ons, GPU capacity, service, autoscaler."""

    cluster_name: pulumi.Output[str]
    namespace: pulumi.Output[str]
    service_name: pulumi.Output[str]
    entry_service_name: pulumi.Output[str]
    """What clients call: the router's Service with a fallback or scale to zero, else the model Service."""
    node_pool_names: pulumi.Output[list[str]]
    interruption_queue_name: pulumi.Output[str | None]
    karpenter_node_role_name: pulumi.Output[str | None]

    def __init__(self, name: str, args: EksLlamaDeploymentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{COMPONENT_PREFIX}EksLlamaDeployment", name, None, opts)
        spec = args.spec
        assert spec.eks is not None, "a spec with target eks always has an eks section (spec rules)"
        provider, cluster_name, subnets = self._cluster_access(name, args)

        deps: list[pulumi.Resource] = []
        if args.create_namespace:
            ns = workload.namespace(spec)
            deps.append(
                k8s.core.v1.Namespace(f"{name}-namespace", metadata=ns["metadata"], opts=child(self, provider=provider))
            )
        self.addons = EksAddons(f"{name}-addons", EksAddonsArgs(spec, provider), child(self))
        self.capacity = EksGpuCapacity(
            f"{name}-capacity",
            EksGpuCapacityArgs(spec, provider, subnet_ids=subnets, cluster_name=cluster_name),
            child(self),
        )
        self.service = LlamaInferenceService(
            f"{name}-service",
            LlamaInferenceServiceArgs(spec, provider, cluster_name=cluster_name, depends_on=deps),
            child(self),
        )
        scaler_deps: list[pulumi.Resource] = [*deps, *self.service.deployments.values()]
        scaler_deps += [r for a, r in self.addons.releases.items() if a in ("keda", "prometheus-adapter")]
        self.autoscaler = QueueDepthAutoscaler(
            f"{name}-autoscaler", QueueDepthAutoscalerArgs(spec, provider, depends_on=scaler_deps), child(self)
        )
        self.overflow: OverflowRouter | None = None
        if router.needed(spec):
            self.overflow = OverflowRouter(
                f"{name}-overflow", OverflowRouterArgs(spec, provider, depends_on=deps), child(self)
            )

        self.cluster_name = pulumi.Output.from_input(cluster_name)
        self.namespace = pulumi.Output.from_input(spec.eks.namespace)
        self.service_name = self.service.service_name
        self.entry_service_name = self.overflow.entry_service_name if self.overflow else self.service_name
        self.node_pool_names = self.capacity.node_pool_names
        self.interruption_queue_name = self.capacity.interruption_queue_name
        self.karpenter_node_role_name = self.capacity.karpenter_node_role_name
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "namespace": self.namespace,
                "service_name": self.service_name,
                "entry_service_name": self.entry_service_name,
                "node_pool_names": self.node_pool_names,
                "interruption_queue_name": self.interruption_queue_name,
                "karpenter_node_role_name": self.karpenter_node_role_name,
            }
        )

    def _cluster_access(self, name: str, args: EksLlamaDeploymentArgs):
        spec = args.spec
        assert spec.eks is not None
        if args.create_cluster:
            if args.subnet_ids is None:
                raise ValueError("create_cluster needs subnet_ids: the private subnets of the cluster and its nodes")
            cluster = MinimalEksCluster(
                f"{name}-cluster",
                MinimalEksClusterArgs(
                    spec.eks.cluster_name, spec.eks.kubernetes_version, args.subnet_ids, spec.region, spec.tags
                ),
                child(self),
            )
            return args.k8s_provider or cluster.provider, cluster.cluster_name, args.subnet_ids
        existing = aws.eks.get_cluster_output(name=spec.eks.cluster_name, opts=pulumi.InvokeOptions(parent=self))
        provider = args.k8s_provider
        if provider is None:
            config = existing.apply(
                lambda c: kubeconfig(
                    spec.eks.cluster_name,
                    c.endpoint,
                    c.certificate_authorities[0].data if c.certificate_authorities else None,
                    spec.region,
                )
            )
            provider = k8s.Provider(f"{name}-k8s", kubeconfig=config, opts=child(self))
        subnets = (
            args.subnet_ids
            if args.subnet_ids is not None
            else existing.apply(lambda c: list(c.vpc_config.subnet_ids) if c.vpc_config else [])
        )
        return provider, spec.eks.cluster_name, subnets
