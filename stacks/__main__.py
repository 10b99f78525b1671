"""The llama-infra Pulumi program, one for every environment.

The stack's config `llama-infra:spec` names a spec file relative to this directory (stacks/Pulumi.<stack>.yaml);
the program loads it and builds the target's component. `llama-infra plan` runs this same file offline.
"""

from pathlib import Path

import pulumi
import pulumi_aws as aws

from llama_infra.spec import SpecError, load_spec

STACKS_DIR = Path(__file__).resolve().parent

spec_config = pulumi.Config("llama-infra").require("spec")
spec_file = STACKS_DIR / spec_config  # an absolute path (e.g. `llama-infra diff`'s temporary spec) stays as is
try:
    spec = load_spec(spec_file)
except SpecError as e:
    raise pulumi.RunError(str(e)) from None  # every problem with file, line and fix; no traceback

if spec.target == "sagemaker":
    from llama_infra.components.sagemaker import SageMakerLlamaEndpoint, SageMakerLlamaEndpointArgs

    # The spec's region, whatever the ambient AWS configuration says (IAM and invokes use this provider).
    provider = aws.Provider("aws", region=spec.region)
    opts = pulumi.ResourceOptions(providers=[provider])
    endpoint = SageMakerLlamaEndpoint(spec.name, SageMakerLlamaEndpointArgs(spec=spec), opts=opts)
    pulumi.export("endpoint_name", endpoint.endpoint_name)
    pulumi.export("endpoint_arn", endpoint.endpoint_arn)
    pulumi.export("scaling_target_id", endpoint.scaling_target_id)
    pulumi.export("dashboard_url", endpoint.dashboard_url)
else:
    from llama_infra.components.eks import build_eks  # imported only for EKS stacks

    # The spec's region for the node groups, IAM, the interruption queue and the cluster lookup.
    provider = aws.Provider("aws", region=spec.region)
    deployment = build_eks(spec.name, spec, pulumi.ResourceOptions(providers=[provider]))
    pulumi.export("cluster_name", deployment.cluster_name)
    pulumi.export("service_name", deployment.service_name)
    pulumi.export("entry_service_name", deployment.entry_service_name)  # what clients call (the router with fallback)
    pulumi.export("node_pool_names", deployment.node_pool_names)
    # Karpenter's settings.interruptionQueue, and the role its controller must be allowed to pass (iam:PassRole).
    pulumi.export("interruption_queue_name", deployment.interruption_queue_name)
    pulumi.export("karpenter_node_role_name", deployment.karpenter_node_role_name)

pulumi.export("spec", spec_config)
pulumi.export("target", spec.target)
