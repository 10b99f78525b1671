"""EKS cluster, managed node group and EC2 launch template rules."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import Severity

from .resource import Resource, as_list, get, number
from .rule import ADVISORY, MANDATORY, LlamaRule, aws_config, checkov

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"

CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
ANYWHERE = {"0.0.0.0/0", "::/0"}


def _public_endpoint(resource: Resource) -> bool:
    # EKS defaults endpointPublicAccess to true when it is not set.
    return resource.get("vpcConfig", "endpointPublicAccess", default=True) is not False


def _check_no_public_endpoint(resource: Resource) -> Iterator[str]:
    if _public_endpoint(resource):
        yield (
            "vpcConfig.endpointPublicAccess is true (the default): the Kubernetes API is reachable from the "
            "internet. Set endpointPublicAccess=False and endpointPrivateAccess=True, deploying from inside the VPC."
        )


def _check_public_cidrs(resource: Resource) -> Iterator[str]:
    if not _public_endpoint(resource):
        return
    cidrs = [c for c in as_list(resource.get("vpcConfig", "publicAccessCidrs")) if isinstance(c, str)]
    if not cidrs or ANYWHERE & set(cidrs):
        yield (
            "the public API endpoint accepts 0.0.0.0/0 (publicAccessCidrs unset or open). List the CIDRs that "
            "deploy to this cluster in vpcConfig.publicAccessCidrs."
        )


def _check_secrets_encryption(resource: Resource) -> Iterator[str]:
    resources = as_list(resource.get("encryptionConfig", "resources"))
    if "secrets" not in resources or not resource.is_set("encryptionConfig", "provider", "keyArn"):
        yield (
            "encryptionConfig does not envelope-encrypt Kubernetes secrets (the HF token lives there). Set "
            "encryptionConfig={'resources': ['secrets'], 'provider': {'keyArn': <KMS key ARN>}}."
        )


def _check_control_plane_logging(resource: Resource) -> Iterator[str]:
    enabled = set(as_list(resource.get("enabledClusterLogTypes")))
    missing = [t for t in CONTROL_PLANE_LOG_TYPES if t not in enabled]
    if missing:
        yield f"enabledClusterLogTypes is missing {', '.join(missing)}; enable all of {list(CONTROL_PLANE_LOG_TYPES)}."


def _check_imdsv2(resource: Resource) -> Iterator[str]:
    if resource.get("metadataOptions", "httpEndpoint") == "disabled":
        return
    tokens = resource.get("metadataOptions", "httpTokens")
    if tokens != "required":
        yield (
            f"metadataOptions.httpTokens is {tokens!r}: IMDSv1 stays enabled. Set httpTokens='required' (IMDSv2 only)."
        )


def _check_hop_limit(resource: Resource) -> Iterator[str]:
    hops = number(resource.get("metadataOptions", "httpPutResponseHopLimit"))
    if hops is not None and hops > 1:
        yield (
            f"metadataOptions.httpPutResponseHopLimit is {hops:g}: pods can reach the node's instance metadata "
            "and its role. Use 1 and give pods their own role (EKS Pod Identity or IRSA)."
        )


def _check_public_ip(resource: Resource) -> Iterator[str]:
    for index, interface in enumerate(as_list(resource.get("networkInterfaces"))):
        if str(get(interface, "associatePublicIpAddress", default="")).lower() == "true":
            yield (
                f"networkInterfaces[{index}].associatePublicIpAddress is true: GPU nodes get public IPs. "
                "Run nodes in private subnets behind NAT."
            )


def _check_node_group_ssh(resource: Resource) -> Iterator[str]:
    if resource.is_set("remoteAccess", "ec2SshKey") and not as_list(
        resource.get("remoteAccess", "sourceSecurityGroupIds")
    ):
        yield (
            "remoteAccess.ec2SshKey is set without sourceSecurityGroupIds: SSH (port 22) opens to 0.0.0.0/0. "
            "Drop remoteAccess (use SSM) or restrict it with sourceSecurityGroupIds."
        )


EKS_NO_PUBLIC_ENDPOINT = LlamaRule(
    "eks-endpoint-no-public-access",
    "The EKS API endpoint is private.",
    resource_types=[CLUSTER],
    check=_check_no_public_endpoint,
    enforcement_level=ADVISORY,  # GitHub-hosted runners deploy through the public endpoint; restrict CIDRs instead
    citations=[
        checkov("CKV_AWS_39", "terraform/checks/resource/aws/EKSPublicAccess.py"),
        aws_config("eks-endpoint-no-public-access"),
    ],
    remediation="Set vpcConfig.endpointPublicAccess=False and deploy from a runner inside the VPC.",
)

EKS_PUBLIC_CIDRS = LlamaRule(
    "eks-public-endpoint-cidr-restricted",
    "A public EKS API endpoint is not open to 0.0.0.0/0.",
    resource_types=[CLUSTER],
    check=_check_public_cidrs,
    enforcement_level=ADVISORY,
    citations=[checkov("CKV_AWS_38", "terraform/checks/resource/aws/EKSPublicAccessCIDR.py")],
    remediation="Set vpcConfig.publicAccessCidrs to the deployers' CIDRs, or make the endpoint private.",
)

EKS_SECRETS_ENCRYPTED = LlamaRule(
    "eks-secrets-encrypted",
    "EKS envelope-encrypts Kubernetes secrets with a KMS key.",
    resource_types=[CLUSTER],
    check=_check_secrets_encryption,
    enforcement_level=MANDATORY,
    severity=Severity.HIGH,
    citations=[
        checkov("CKV_AWS_58", "terraform/checks/resource/aws/EKSSecretsEncryption.py"),
        aws_config("eks-secrets-encrypted"),
    ],
    remediation="Add encryptionConfig with resources ['secrets'] and a KMS key ARN.",
)

EKS_LOGGING = LlamaRule(
    "eks-control-plane-logging",
    "EKS control plane logs every log type.",
    resource_types=[CLUSTER],
    check=_check_control_plane_logging,
    enforcement_level=ADVISORY,
    severity=Severity.LOW,
    citations=[
        checkov("CKV_AWS_37", "terraform/checks/resource/aws/EKSControlPlaneLogging.py"),
        aws_config("eks-cluster-logging-enabled"),
    ],
    remediation="Set enabledClusterLogTypes to api, audit, authenticator, controllerManager, scheduler.",
)

LAUNCH_TEMPLATE_IMDSV2 = LlamaRule(
    "launch-template-imdsv2",
    "Launch templates require IMDSv2 session tokens.",
    resource_types=[LAUNCH_TEMPLATE],
    check=_check_imdsv2,
    enforcement_level=MANDATORY,
    severity=Severity.HIGH,
    citations=[
        checkov("CKV_AWS_79", "terraform/checks/resource/aws/IMDSv1Disabled.py"),
        aws_config("ec2-launch-template-imdsv2-check"),
    ],
    remediation="Set metadataOptions={'httpTokens': 'required', 'httpEndpoint': 'enabled'}.",
)

LAUNCH_TEMPLATE_HOP_LIMIT = LlamaRule(
    "launch-template-metadata-hop-limit",
    "Launch templates keep the metadata response hop limit at 1.",
    resource_types=[LAUNCH_TEMPLATE],
    check=_check_hop_limit,
    enforcement_level=ADVISORY,
    citations=[checkov("CKV_AWS_341", "terraform/checks/resource/aws/LaunchTemplateMetadataHop.py")],
    remediation="Set metadataOptions.httpPutResponseHopLimit=1.",
)

LAUNCH_TEMPLATE_NO_PUBLIC_IP = LlamaRule(
    "launch-template-no-public-ip",
    "Launch templates do not give nodes public IP addresses.",
    resource_types=[LAUNCH_TEMPLATE],
    check=_check_public_ip,
    enforcement_level=ADVISORY,
    citations=[
        checkov("CKV_AWS_88", "terraform/checks/resource/aws/EC2PublicIP.py"),
        aws_config("ec2-launch-template-public-ip-disabled"),
    ],
    remediation="Set associatePublicIpAddress='false' and use private subnets.",
)

NODE_GROUP_NO_OPEN_SSH = LlamaRule(
    "eks-node-group-no-open-ssh",
    "EKS managed node groups do not open SSH to the world.",
    resource_types=[NODE_GROUP],
    check=_check_node_group_ssh,
    enforcement_level=MANDATORY,
    severity=Severity.HIGH,
    citations=[checkov("CKV_AWS_100", "terraform/checks/resource/aws/EKSNodeGroupRemoteAccess.py")],
    remediation="Remove remoteAccess or set remoteAccess.sourceSecurityGroupIds.",
)

RULES = [
    EKS_NO_PUBLIC_ENDPOINT,
    EKS_PUBLIC_CIDRS,
    EKS_SECRETS_ENCRYPTED,
    EKS_LOGGING,
    LAUNCH_TEMPLATE_IMDSV2,
    LAUNCH_TEMPLATE_HOP_LIMIT,
    LAUNCH_TEMPLATE_NO_PUBLIC_IP,
    NODE_GROUP_NO_OPEN_SSH,
]
