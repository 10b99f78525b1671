"""One passing and one failing resource per rule, written as the inputs Pulumi hands the pack.

Property names follow pulumi-aws 7 / pulumi-kubernetes 4 (camelCase input names; Kubernetes objects as-is).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

EC = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
MODEL = "aws:sagemaker/model:Model"
CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
TARGET = "aws:appautoscaling/target:Target"
SCALING_POLICY = "aws:appautoscaling/policy:Policy"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"

PROD_TAGS = {"llama-infra:environment": "prod"}
PROD_LABELS = {"llama-infra.io/environment": "prod"}
KMS = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def good_container() -> dict[str, Any]:
    return {
        "name": "vllm",
        "image": "vllm/vllm-openai:v0.6.3",
        "resources": {
            "requests": {"cpu": "8", "memory": "64Gi", "nvidia.com/gpu": 4},
            "limits": {"memory": "64Gi", "nvidia.com/gpu": 4},
        },
        "readinessProbe": {"httpGet": {"path": "/health", "port": 8000}},
        "livenessProbe": {"httpGet": {"path": "/health", "port": 8000}},
        "env": [{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token"}}}],
        "securityContext": {
            "privileged": False,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": 1000,
            "capabilities": {"drop": ["ALL"]},
        },
    }


def deployment(labels: dict[str, str] | None = None, **pod_spec: Any) -> dict[str, Any]:
    spec = {"containers": [good_container()], **pod_spec}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "llama", "labels": labels or {}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "llama"}},
            "template": {"metadata": {"labels": {"app": "llama"}}, "spec": spec},
        },
    }


NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def served(name_label: str, instance: str) -> dict[str, Any]:
    """A Deployment whose pods carry the EKS target's name and instance labels."""
    dep = deployment()
    dep["metadata"]["name"] = instance
    dep["spec"]["template"]["metadata"]["labels"] = {
        "app.kubernetes.io/name": name_label,
        "app.kubernetes.io/instance": instance,
    }
    return dep


def servers_policy(instances: list[str] | None = None, sources: list[dict] | None = None) -> dict[str, Any]:
    peers = [{"podSelector": {"matchLabels": {"app.kubernetes.io/instance": "r"}}}] if sources is None else sources
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "servers"},
        "spec": {
            "podSelector": {
                "matchExpressions": [
                    {"key": "app.kubernetes.io/instance", "operator": "In", "values": instances or ["llama"]}
                ]
            },
            "policyTypes": ["Ingress"],
            "ingress": [{"from": peers, "ports": [{"port": "http"}]}],
        },
    }


def with_container(**changes: Any) -> dict[str, Any]:
    """A deployment whose only container has `changes` applied (None deletes a key)."""
    container = good_container()
    for key, value in changes.items():
        if value is None:
            container.pop(key, None)
        else:
            container[key] = value
    return deployment(containers=[container])


def with_security(**changes: Any) -> dict[str, Any]:
    security = {**good_container()["securityContext"], **changes}
    return with_container(securityContext=security)


def endpoint_config(instance_type: str = "ml.inf2.48xlarge", count: int = 2, kms: bool = True, tags=None) -> dict:
    props: dict[str, Any] = {
        "productionVariants": [
            {
                "variantName": "baseline",
                "modelName": "llama",
                "instanceType": instance_type,
                "initialInstanceCount": count,
            }
        ],
        "tags": tags or {},
    }
    if kms:
        props["kmsKeyArn"] = KMS
    return props


def cluster(**vpc: Any) -> dict[str, Any]:
    return {
        "roleArn": "arn:aws:iam::111122223333:role/eks",
        "vpcConfig": {"subnetIds": ["subnet-a", "subnet-b"], "endpointPrivateAccess": True, **vpc},
        "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KMS}},
        "enabledClusterLogTypes": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
    }


def launch_template(**metadata: Any) -> dict[str, Any]:
    return {
        "metadataOptions": {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1,
            **metadata,
        }
    }


def node_group(
    capacity: str = "ON_DEMAND",
    min_size: int = 2,
    subnets=("subnet-a", "subnet-b"),
    types=("g6e.12xlarge",),
    tags=None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "clusterName": "llama",
        "capacityType": capacity,
        "instanceTypes": list(types),
        "subnetIds": list(subnets),
        "scalingConfig": {"minSize": min_size, "maxSize": 8, "desiredSize": min_size},
        "tags": tags if tags is not None else PROD_TAGS,
        **extra,
    }


def statement(action: Any, resource: Any = "arn:aws:s3:::weights/*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def role_policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"role": "llama", "policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})}


def trust(principal: Any) -> dict[str, Any]:
    return {
        "assumeRolePolicy": json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
            }
        )
    }


def hpa(min_replicas: int | None = 2, scale_down: int | None = 300, labels=None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "llama"},
        "maxReplicas": 10,
    }
    if min_replicas is not None:
        spec["minReplicas"] = min_replicas
    if scale_down is not None:
        spec["behavior"] = {"scaleDown": {"stabilizationWindowSeconds": scale_down}}
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "llama", "labels": labels or {}},
        "spec": spec,
    }


def scaled_object(
    min_count: int | None = 2, scale_down: int | None = 300, labels=None, target: str = "llama"
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "scaleTargetRef": {"name": target},
        "maxReplicaCount": 10,
        "triggers": [{"type": "prometheus", "metadata": {"query": "sum(vllm:num_requests_waiting)", "threshold": "5"}}],
    }
    if min_count is not None:
        spec["minReplicaCount"] = min_count
    if scale_down is not None:
        spec["advanced"] = {
            "horizontalPodAutoscalerConfig": {"behavior": {"scaleDown": {"stabilizationWindowSeconds": scale_down}}}
        }
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "llama", "labels": labels or {}},
        "spec": spec,
    }


def baseline_and_burst(baseline_replicas: int = 2) -> tuple[dict[str, Any], dict[str, Any]]:
    """The EKS target's two prod Deployments: a fixed baseline and a burst tier scaled by KEDA."""
    baseline, burst = deployment(PROD_LABELS), deployment(PROD_LABELS)
    baseline["metadata"]["name"], baseline["spec"]["replicas"] = "baseline", baseline_replicas
    burst["metadata"]["name"] = "burst"
    burst["spec"].pop("replicas")
    return baseline, burst


def pdb(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "llama"},
        "spec": {"selector": {"matchLabels": {"app": "llama"}}, **spec},
    }


def node_pool(*requirements: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": "gpu-spot"},
        "spec": {
            "template": {
                "spec": {
                    "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "gpu"},
                    "requirements": list(requirements),
                }
            },
            "limits": {"nvidia.com/gpu": 32},
        },
    }


def req(key: str, *values: str, operator: str = "In", **extra: Any) -> dict[str, Any]:
    return {"key": key, "operator": operator, "values": list(values), **extra}


SPOT = req("karpenter.sh/capacity-type", "spot", "on-demand")


@dataclass(frozen=True)
class Case:
    rule: str
    resource_type: str
    passing: dict[str, Any]
    failing: dict[str, Any]
    expect: str  # a fragment of the failure message

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.resource_type.rsplit(':', 1)[-1]}:{self.expect[:24]}"


def _without(props: dict[str, Any], *path: str) -> dict[str, Any]:
    copied = copy.deepcopy(props)
    node = copied
    for step in path[:-1]:
        node = node[step]
    node.pop(path[-1])
    return copied


CASES = [
    # SageMaker
    Case(
        "sagemaker-endpoint-config-kms",
        EC,
        endpoint_config(kms=True),
        endpoint_config(kms=False),
        "kmsKeyArn is not set",
    ),
    Case(
        "sagemaker-kms-incompatible-with-nvme",
        EC,
        endpoint_config("ml.g5.12xlarge", kms=False),
        endpoint_config("ml.g5.12xlarge", kms=True),
        "NVMe",
    ),
    Case(
        "sagemaker-model-network-isolation",
        MODEL,
        {"executionRoleArn": "arn:r", "enableNetworkIsolation": True},
        {"executionRoleArn": "arn:r"},
        "enableNetworkIsolation",
    ),
    Case(
        "no-literal-model-tokens",
        MODEL,
        {
            "primaryContainer": {
                "image": "x",
                "environment": {
                    "HF_TOKEN_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:111122223333:secret:hf-AbCdEf",
                    "OPTION_TENSOR_PARALLEL_DEGREE": "4",
                },
            }
        },
        {"primaryContainer": {"image": "x", "environment": {"HF_TOKEN": "hf_abcdefghijklmnopqrstuvwxyz123456"}}},
        "literal credential",
    ),
    Case(
        "no-literal-model-tokens",
        DEPLOYMENT,
        deployment(),
        with_container(env=[{"name": "HUGGING_FACE_HUB_TOKEN", "value": "not-a-real-token"}]),
        "literal value",
    ),
    Case(
        "no-literal-model-tokens",
        MODEL,
        {"primaryContainer": {"image": "x", "environment": {"MAX_TOTAL_TOKENS": "8192", "MAX_INPUT_TOKENS": "4096"}}},
        {
            "primaryContainer": {
                "image": "x",
                "environment": {"MAX_TOTAL_TOKENS": "8192", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG"},
            }
        },
        "AWS_SECRET_ACCESS_KEY holds a literal credential",
    ),
    Case(
        "no-literal-model-tokens",
        MODEL,
        {"containers": [{"image": "x", "environment": {"SM_NUM_GPUS": "4"}}]},
        {"containers": [{"image": "x", "environment": {"DB_PASSWORD": "hunter2hunter2"}}]},
        "containers[0].environment.DB_PASSWORD holds a literal credential",
    ),
    # EKS / EC2
    Case(
        "eks-endpoint-no-public-access", CLUSTER, cluster(endpointPublicAccess=False), cluster(), "endpointPublicAccess"
    ),
    Case(
        "eks-public-endpoint-cidr-restricted",
        CLUSTER,
        cluster(publicAccessCidrs=["203.0.113.0/24"]),
        cluster(endpointPublicAccess=True, publicAccessCidrs=["0.0.0.0/0"]),
        "0.0.0.0/0",
    ),
    Case("eks-secrets-encrypted", CLUSTER, cluster(), _without(cluster(), "encryptionConfig"), "encryptionConfig"),
    Case("eks-control-plane-logging", CLUSTER, cluster(), {**cluster(), "enabledClusterLogTypes": ["api"]}, "audit"),
    Case(
        "launch-template-imdsv2",
        LAUNCH_TEMPLATE,
        launch_template(),
        launch_template(httpTokens="optional"),
        "httpTokens is 'optional'",
    ),
    Case(
        "launch-template-metadata-hop-limit",
        LAUNCH_TEMPLATE,
        launch_template(),
        launch_template(httpPutResponseHopLimit=2),
        "HopLimit is 2",
    ),
    Case(
        "launch-template-no-public-ip",
        LAUNCH_TEMPLATE,
        {**launch_template(), "networkInterfaces": [{"associatePublicIpAddress": "false"}]},
        {**launch_template(), "networkInterfaces": [{"associatePublicIpAddress": "true"}]},
        "public IPs",
    ),
    Case(
        "eks-node-group-no-open-ssh",
        NODE_GROUP,
        node_group(remoteAccess={"ec2SshKey": "ops", "sourceSecurityGroupIds": ["sg-123"]}),
        node_group(remoteAccess={"ec2SshKey": "ops"}),
        "0.0.0.0/0",
    ),
    # Kubernetes
    Case("k8s-no-privileged-containers", DEPLOYMENT, deployment(), with_security(privileged=True), "privileged"),
    Case(
        "k8s-no-privilege-escalation",
        DEPLOYMENT,
        deployment(),
        with_security(allowPrivilegeEscalation=True),
        "allowPrivilegeEscalation",
    ),
    Case("k8s-no-host-namespaces", DEPLOYMENT, deployment(), deployment(hostNetwork=True), "hostNetwork"),
    Case(
        "k8s-resource-requests-and-limits",
        DEPLOYMENT,
        deployment(),
        with_container(resources={"requests": {"cpu": "8"}}),
        "resources.limits.memory",
    ),
    Case(
        "k8s-resource-requests-and-limits",
        DEPLOYMENT,
        deployment(),
        with_container(
            resources={"requests": {"cpu": "8", "memory": "1Gi", "nvidia.com/gpu": 1}, "limits": {"memory": "1Gi"}}
        ),
        "nvidia.com/gpu",
    ),
    Case(
        "k8s-image-tag-pinned",
        DEPLOYMENT,
        with_container(image="vllm/vllm-openai@sha256:" + "a" * 64),
        with_container(image="vllm/vllm-openai:latest"),
        "not pinned",
    ),
    Case(
        "k8s-image-tag-pinned",
        DEPLOYMENT,
        with_container(image="registry.local:5000/vllm:v1"),
        with_container(image="registry.local:5000/vllm"),
        "not pinned",
    ),
    Case(
        "k8s-read-only-root-filesystem",
        DEPLOYMENT,
        deployment(),
        with_security(readOnlyRootFilesystem=False),
        "writable root",
    ),
    Case("k8s-run-as-non-root", DEPLOYMENT, deployment(), with_security(runAsNonRoot=None, runAsUser=0), "UID 0"),
    Case("k8s-readiness-probe", DEPLOYMENT, deployment(), with_container(readinessProbe=None), "readinessProbe"),
    Case("k8s-liveness-probe", DEPLOYMENT, deployment(), with_container(livenessProbe=None), "livenessProbe"),
    Case("k8s-drop-net-raw", DEPLOYMENT, deployment(), with_security(capabilities={"drop": ["SYS_ADMIN"]}), "NET_RAW"),
    # IAM
    Case(
        "iam-no-wildcard-actions",
        ROLE_POLICY,
        role_policy(statement(["s3:GetObject", "s3:ListBucket"])),
        role_policy(statement("*")),
        "Action '*'",
    ),
    Case(
        "iam-no-wildcard-actions",
        ROLE,
        {"inlinePolicies": [role_policy(statement("s3:GetObject"))]},
        {"inlinePolicies": [role_policy(statement(["s3:GetObject", "*"]))]},
        "inlinePolicies[0]",
    ),
    Case(
        "iam-no-admin-access",
        ROLE_POLICY,
        role_policy(statement("s3:GetObject", "*")),
        role_policy(statement("*", "*")),
        "administrative",
    ),
    Case(
        "iam-no-service-wide-actions",
        ROLE_POLICY,
        role_policy(statement("s3:GetObject")),
        role_policy(statement("sagemaker:*")),
        "sagemaker:*",
    ),
    Case(
        "iam-role-no-public-assume",
        ROLE,
        trust({"Service": "sagemaker.amazonaws.com"}),
        trust({"AWS": "*"}),
        "any AWS principal",
    ),
    # Reliability
    Case(
        "prod-alarms-notify",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        {
            "metricName": "ModelLatency",
            "alarmActions": ["arn:aws:sns:us-east-1:111122223333:llama-alarms"],
            "tags": PROD_TAGS,
        },
        {"metricName": "ModelLatency", "tags": PROD_TAGS},
        "alarmActions is empty",
    ),
    Case(
        "prod-baseline-min-instances",
        EC,
        endpoint_config(count=2, tags=PROD_TAGS),
        endpoint_config(count=1, tags=PROD_TAGS),
        "initialInstanceCount is 1",
    ),
    Case("prod-baseline-min-instances", NODE_GROUP, node_group(min_size=2), node_group(min_size=1), "minSize"),
    Case("prod-baseline-min-instances", NODE_GROUP, node_group(), node_group(subnets=["subnet-a"]), "Availability"),
    Case(
        "prod-baseline-min-instances",
        TARGET,
        {"serviceNamespace": "sagemaker", "minCapacity": 2, "maxCapacity": 8, "tags": PROD_TAGS},
        {"serviceNamespace": "sagemaker", "minCapacity": 1, "maxCapacity": 8, "tags": PROD_TAGS},
        "minCapacity",
    ),
    Case(
        "prod-zone-spread",
        DEPLOYMENT,
        deployment(
            PROD_LABELS,
            topologySpreadConstraints=[
                {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway"}
            ],
        ),
        deployment(PROD_LABELS),
        "one Availability Zone",
    ),
    Case("pdb-allows-disruption", PDB, pdb(maxUnavailable=1), pdb(maxUnavailable=0), "maxUnavailable is 0"),
    Case("pdb-allows-disruption", PDB, pdb(minAvailable="50%"), pdb(minAvailable="100%"), "100%"),
    Case("scale-down-stabilization", HPA, hpa(scale_down=600), hpa(scale_down=60), "60 s"),
    Case(
        "scale-down-stabilization", SCALED_OBJECT, scaled_object(scale_down=300), scaled_object(scale_down=120), "120 s"
    ),
    Case(
        "scale-down-stabilization",
        SCALING_POLICY,
        {"targetTrackingScalingPolicyConfiguration": {"targetValue": 5, "scaleInCooldown": 300}},
        {"targetTrackingScalingPolicyConfiguration": {"targetValue": 5, "scaleInCooldown": 30}},
        "scaleInCooldown",
    ),
    Case(
        "spot-pools-diversified",
        NODE_POOL,
        node_pool(SPOT, req("node.kubernetes.io/instance-type", "g6e.12xlarge", "g5.12xlarge")),
        node_pool(SPOT, req("node.kubernetes.io/instance-type", "g6e.12xlarge")),
        "1 instance type",
    ),
    Case(
        "spot-pools-diversified",
        NODE_POOL,
        node_pool(
            SPOT,
            req("karpenter.k8s.aws/instance-family", "g6e", "g5"),
            req("karpenter.k8s.aws/instance-size", "12xlarge"),
        ),
        node_pool(
            SPOT, req("karpenter.k8s.aws/instance-family", "g6e"), req("karpenter.k8s.aws/instance-size", "12xlarge")
        ),
        "1 instance type",
    ),
    Case(
        "spot-pools-diversified",
        NODE_GROUP,
        node_group("SPOT", types=("g6e.12xlarge", "g5.12xlarge")),
        node_group("SPOT", types=("g6e.12xlarge",)),
        "1 instance type",
    ),
    Case(
        "gpu-memory-headroom",
        EC,
        endpoint_config(tags={"llama-infra:gpu-memory-headroom": "0.2"}),
        endpoint_config(tags={"llama-infra:gpu-memory-headroom": "0.1"}),
        "less than 15%",
    ),
    Case(
        "gpu-memory-headroom",
        DEPLOYMENT,
        {**deployment(), "metadata": {"name": "llama", "annotations": {"llama-infra.io/gpu-memory-headroom": "0.15"}}},
        {**deployment(), "metadata": {"name": "llama", "annotations": {"llama-infra.io/gpu-memory-headroom": "lots"}}},
        "not a fraction",
    ),
    # Exemptions
    Case(
        "policy-exemption-valid",
        EC,
        endpoint_config(tags={"llama-infra:policy-exempt": "sagemaker-endpoint-config-kms:sandbox account"}),
        endpoint_config(tags={"llama-infra:policy-exempt": "sagemaker-endpoint-config-kms"}),
        "must be",
    ),
    Case(
        "policy-exemption-valid",
        EC,
        endpoint_config(tags={"llama-infra:policy-exempt": "gpu-memory-headroom:measured 12% is enough for 8B"}),
        endpoint_config(tags={"llama-infra:policy-exempt": "no-such-rule:because"}),
        "unknown rule",
    ),
    Case(
        "policy-exemption-audit",
        EC,
        endpoint_config(),
        endpoint_config(tags={"llama-infra:policy-exempt": "gpu-memory-headroom:measured"}),
        "exempt from",
    ),
    # Cloud contracts (the recorder's checks, at preview)
    Case(
        "cloud-api-contracts",
        "aws:cloudwatch/eventTarget:EventTarget",
        {"rule": "karpenter-spot", "arn": "arn:aws:sqs:us-east-1:123456789012:q", "targetId": "karpenter-spot"},
        {"rule": "karpenter-spot", "arn": "arn:aws:sqs:us-east-1:123456789012:q", "targetId": "t" * 65},
        "targetId: at most 64 characters",
    ),
]


@dataclass(frozen=True)
class StackCase:
    """A stack rule judged over several resources; `expect` names the resource that must be reported."""

    rule: str
    passing: list[tuple[str, dict[str, Any], str]]
    failing: list[tuple[str, dict[str, Any], str]]
    expect: str
    reported: tuple[tuple[str, str], ...] = ((PDB, "llama"),)  # (type, name) of each reported resource

    @property
    def id(self) -> str:
        return f"{self.rule}:{self.expect}"


STACK_CASES = [
    StackCase(
        "pdb-min-available-below-replica-floor",
        [(DEPLOYMENT, deployment(), "llama"), (HPA, hpa(min_replicas=3), "llama"), (PDB, pdb(minAvailable=2), "llama")],
        [(DEPLOYMENT, deployment(), "llama"), (HPA, hpa(min_replicas=2), "llama"), (PDB, pdb(minAvailable=2), "llama")],
        "HPA llama minReplicas",
    ),
    StackCase(
        "pdb-min-available-below-replica-floor",
        [(DEPLOYMENT, deployment(), "llama"), (PDB, pdb(minAvailable=1), "llama")],
        [
            (DEPLOYMENT, deployment(), "llama"),
            (SCALED_OBJECT, scaled_object(min_count=1), "llama"),
            (PDB, pdb(minAvailable=1), "llama"),
        ],
        "ScaledObject llama minReplicaCount",
    ),
    StackCase(
        "prod-serving-replica-floor",
        [(DEPLOYMENT, deployment(PROD_LABELS), "llama"), (HPA, hpa(min_replicas=2), "llama")],
        [(DEPLOYMENT, deployment(PROD_LABELS), "llama"), (HPA, hpa(min_replicas=None), "llama")],
        "can drop to 1 replica(s): llama 1 (HPA llama minReplicas)",
        ((DEPLOYMENT, "llama"),),
    ),
    StackCase(
        "prod-serving-replica-floor",
        # the EKS target: a fixed baseline of 2 plus a burst tier that KEDA scales from 0
        [
            (DEPLOYMENT, baseline_and_burst()[0], "baseline"),
            (DEPLOYMENT, baseline_and_burst()[1], "burst"),
            (SCALED_OBJECT, scaled_object(min_count=None, target="burst"), "burst"),
        ],
        [
            (DEPLOYMENT, baseline_and_burst(baseline_replicas=1)[0], "baseline"),
            (DEPLOYMENT, baseline_and_burst()[1], "burst"),
            (SCALED_OBJECT, scaled_object(min_count=None, target="burst"), "burst"),
        ],
        "can drop to 1 replica(s)",
        ((DEPLOYMENT, "baseline"), (DEPLOYMENT, "burst")),
    ),
    StackCase(
        "model-servers-behind-router-isolated",
        [
            (DEPLOYMENT, served("llama-server", "llama"), "llama"),
            (DEPLOYMENT, served("llama-infra-router", "r"), "r"),
            (NETWORK_POLICY, servers_policy(), "servers"),
        ],
        # A policy whose rule names no source admits every pod: as good as none.
        [
            (DEPLOYMENT, served("llama-server", "llama"), "llama"),
            (DEPLOYMENT, served("llama-infra-router", "r"), "r"),
            (NETWORK_POLICY, servers_policy(sources=[]), "servers"),
        ],
        "no NetworkPolicy limits who reaches it",
        ((DEPLOYMENT, "llama"),),
    ),
    StackCase(
        "model-servers-behind-router-isolated",
        # Without the router in the namespace, clients call the model Service directly: nothing to isolate.
        [(DEPLOYMENT, served("llama-server", "llama"), "llama")],
        [
            (DEPLOYMENT, served("llama-server", "llama"), "llama"),
            (DEPLOYMENT, served("llama-infra-router", "r"), "r"),
            (NETWORK_POLICY, servers_policy(instances=["other"]), "servers"),
        ],
        "sits behind the router",
        ((DEPLOYMENT, "llama"),),
    ),
]
