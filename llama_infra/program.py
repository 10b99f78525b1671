"""The llama-infra Pulumi program for one spec: the spec's region provider, its target's component, the outputs.

`stacks/__main__.py` (`pulumi up` per environment) runs `main`, which reads the spec a stack's config names;
`llama-infra plan` runs the same code offline for stacks and for spec files alike.
"""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_aws as aws

from llama_infra.spec import DeploymentSpec, SpecError, load_spec

SPEC_CONFIG_KEY = "spec"  # `llama-infra:spec` in a stack's Pulumi.<stack>.yaml


def deploy(spec: DeploymentSpec, spec_label: str) -> None:
    """Create the spec's resources in the current Pulumi program and export what clients and CI read."""
    # The spec's region, whatever the ambient AWS configuration says (IAM, node groups, invokes use this provider).
    provider = aws.Provider("aws", region=spec.region)
    opts = pulumi.ResourceOptions(providers=[provider])
    if spec.target == "sagemaker":
        from llama_infra.components.sagemaker import SageMakerLlamaEndpoint, SageMakerLlamaEndpointArgs

        endpoint = SageMakerLlamaEndpoint(spec.name, SageMakerLlamaEndpointArgs(spec=spec), opts=opts)
        pulumi.export("endpoint_name", endpoint.endpoint_name)
        pulumi.export("endpoint_arn", endpoint.endpoint_arn)
        pulumi.export("scaling_target_id", endpoint.scaling_target_id)
        pulumi.export("dashboard_url", endpoint.dashboard_url)
    else:
        from llama_infra.components.eks import build_eks  # imported only for EKS stacks

        deployment = build_eks(spec.name, spec, opts)
        pulumi.export("cluster_name", deployment.cluster_name)
        pulumi.export("service_name", deployment.service_name)
        pulumi.export("entry_service_name", deployment.entry_service_name)  # what clients call (the router)
        pulumi.export("node_pool_names", deployment.node_pool_names)
        # Karpenter's settings.interruptionQueue, and the role its controller must be allowed to pass.
        pulumi.export("interruption_queue_name", deployment.interruption_queue_name)
        pulumi.export("karpenter_node_role_name", deployment.karpenter_node_role_name)
    pulumi.export("spec", spec_label)
    pulumi.export("target", spec.target)


def main(stacks_dir: Path) -> None:
    """The stacks program: load the spec named by config `llama-infra:spec` (relative to `stacks_dir`) and deploy it."""
    spec_config = pulumi.Config("llama-infra").require(SPEC_CONFIG_KEY)
    spec_file = stacks_dir / spec_config  # an absolute path (a spec file planned directly) stays as it is
    try:
        spec = load_spec(spec_file)
    except SpecError as e:
        raise pulumi.RunError(str(e)) from None  # every problem with file, line and fix; no traceback
    deploy(spec, spec_config)
