"""llama-infra's own reliability rules: serving facts (zone spread, cold starts, preallocated GPU memory) turned into
guard rails."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from llama_infra import sizing

from . import kubernetes
from .resource import GPU_HEADROOM_ANNOTATION, GPU_HEADROOM_TAG, Resource, as_list, get, number
from .rule import ADVISORY, MANDATORY, LlamaRule, aws_config, ours

ENDPOINT_CONFIGURATION = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
SCALABLE_TARGET = "aws:appautoscaling/target:Target"
SCALING_POLICY = "aws:appautoscaling/policy:Policy"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"

PROD_MIN_INSTANCES = 2
MIN_SCALE_DOWN_STABILIZATION_SECONDS = 300
MIN_SPOT_INSTANCE_TYPES = 2
MIN_GPU_MEMORY_HEADROOM = sizing.MIN_GPU_MEMORY_HEADROOM
ZONE_KEY = "topology.kubernetes.io/zone"
CAPACITY_TYPE_KEY = "karpenter.sh/capacity-type"
INSTANCE_TYPE_KEY = "node.kubernetes.io/instance-type"
INSTANCE_FAMILY_KEY = "karpenter.k8s.aws/instance-family"
INSTANCE_SIZE_KEY = "karpenter.k8s.aws/instance-size"


def _below(value: Any, minimum: float) -> bool:
    n = number(value)
    return n is None or n < minimum


# --- prod alarms notify someone ---------------------------------------------------------------------------------

METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def _check_prod_alarm_actions(resource: Resource) -> Iterator[str]:
    if not resource.is_prod:
        return
    if not as_list(resource.get("alarmActions")):
        yield (
            "alarmActions is empty: in prod an alarm (latency, errors, queue, a downsizing switch that cannot "
            "converge) must notify someone or act; set sagemaker.alarm_topic_arn in the spec."
        )


# --- prod baseline ------------------------------------------------------------------------------------------------


def _check_prod_baseline(resource: Resource) -> Iterator[str]:
    if not resource.is_prod:
        return
    if resource.type == ENDPOINT_CONFIGURATION:
        for i, variant in enumerate(as_list(resource.get("productionVariants"))):
            if get(variant, "serverlessConfig") is not None:
                yield (
                    f"productionVariants[{i}] is serverless: prod needs provisioned instances ({PROD_MIN_INSTANCES}+)."
                )
            elif _below(get(variant, "initialInstanceCount"), PROD_MIN_INSTANCES):
                count = get(variant, "initialInstanceCount")
                yield (
                    f"productionVariants[{i}].initialInstanceCount is {count}; prod needs >= {PROD_MIN_INSTANCES} so "
                    "SageMaker spreads the baseline over Availability Zones and survives an instance loss."
                )
    elif resource.type == NODE_GROUP:
        if str(resource.get("capacityType", default="ON_DEMAND")).upper() == "SPOT":
            return  # burst capacity; the baseline is the on-demand/reserved group
        min_size = resource.get("scalingConfig", "minSize")
        if _below(min_size, PROD_MIN_INSTANCES):
            yield f"scalingConfig.minSize is {min_size}; the prod baseline node group needs >= {PROD_MIN_INSTANCES}."
        subnets = as_list(resource.get("subnetIds"))
        if len(subnets) < 2:
            yield f"subnetIds lists {len(subnets)} subnet(s); spread the prod baseline over >= 2 Availability Zones."
    elif resource.type == SCALABLE_TARGET:
        if resource.get("serviceNamespace") == "sagemaker" and _below(resource.get("minCapacity"), PROD_MIN_INSTANCES):
            yield (
                f"minCapacity is {resource.get('minCapacity')}; autoscaling must never take prod below "
                f"{PROD_MIN_INSTANCES}."
            )


def _check_zone_spread(resource: Resource) -> Iterator[str]:
    if not resource.is_prod:
        return
    spec = kubernetes.pod_spec(resource)
    spread = any(get(c, "topologyKey") == ZONE_KEY for c in as_list(get(spec, "topologySpreadConstraints")))
    anti = as_list(get(spec, "affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution"))
    anti += [
        get(t, "podAffinityTerm")
        for t in as_list(get(spec, "affinity", "podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution"))
    ]
    if not spread and not any(get(t, "topologyKey") == ZONE_KEY for t in anti):
        yield (
            f"no topologySpreadConstraints (or podAntiAffinity) on {ZONE_KEY}: prod replicas may all land in "
            "one Availability Zone."
        )


# --- disruption and scaling ---------------------------------------------------------------------------------------


def _check_pdb(resource: Resource) -> Iterator[str]:
    max_unavailable = resource.get("spec", "maxUnavailable")
    min_available = resource.get("spec", "minAvailable")
    if max_unavailable is not None and str(max_unavailable).strip().rstrip("%") in ("0", "0.0"):
        yield (
            f"spec.maxUnavailable is {max_unavailable!r}: no pod may ever be evicted, so node drains, spot "
            "rebalancing and Karpenter consolidation block. Allow at least 1."
        )
    if isinstance(min_available, str) and min_available.strip() == "100%":
        yield "spec.minAvailable is '100%': no pod may ever be evicted. Use maxUnavailable: 1."


def _stabilization_findings(resource: Resource) -> Iterator[tuple[str, Any]]:
    if resource.type == HPA:
        yield (
            "spec.behavior.scaleDown.stabilizationWindowSeconds",
            resource.get("spec", "behavior", "scaleDown", "stabilizationWindowSeconds"),
        )
    elif resource.type == SCALED_OBJECT:
        yield (
            "spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds",
            resource.get(
                "spec",
                "advanced",
                "horizontalPodAutoscalerConfig",
                "behavior",
                "scaleDown",
                "stabilizationWindowSeconds",
            ),
        )
    elif resource.type == SCALING_POLICY:
        yield (
            "targetTrackingScalingPolicyConfiguration.scaleInCooldown",
            resource.get("targetTrackingScalingPolicyConfiguration", "scaleInCooldown"),
        )


def _check_stabilization(resource: Resource) -> Iterator[str]:
    for path, value in _stabilization_findings(resource):
        seconds = number(value)
        if seconds is not None and seconds < MIN_SCALE_DOWN_STABILIZATION_SECONDS:
            yield (
                f"{path} is {seconds:g} s; scale-down must wait >= {MIN_SCALE_DOWN_STABILIZATION_SECONDS} s "
                "(use 600 s if replicas flap): a GPU replica costs minutes of cold start to bring back."
            )


def _requirement(requirements: list[Any], key: str) -> Mapping[str, Any] | None:
    for requirement in requirements:
        if get(requirement, "key") == key:
            return requirement
    return None


def _distinct_instance_types(requirements: list[Any]) -> int | None:
    """How many instance types a Karpenter NodePool may pick; None when names are not constrained."""
    by_type = _requirement(requirements, INSTANCE_TYPE_KEY)
    if by_type is not None and get(by_type, "operator") == "In":
        return max(len(as_list(get(by_type, "values"))), int(number(get(by_type, "minValues")) or 0))
    family = _requirement(requirements, INSTANCE_FAMILY_KEY)
    size = _requirement(requirements, INSTANCE_SIZE_KEY)
    if family is not None and size is not None and get(family, "operator") == "In" and get(size, "operator") == "In":
        return len(as_list(get(family, "values"))) * len(as_list(get(size, "values")))
    return None


def _check_spot_diversified(resource: Resource) -> Iterator[str]:
    if resource.type == NODE_GROUP:
        if str(resource.get("capacityType", default="")).upper() == "SPOT":
            types = as_list(resource.get("instanceTypes"))
            if len(types) < MIN_SPOT_INSTANCE_TYPES:
                yield (
                    f"spot node group lists {len(types)} instance type(s) {types}; list >= "
                    f"{MIN_SPOT_INSTANCE_TYPES} (e.g. g6e, g5, g6 sizes) so one reclaimed pool does not drain it."
                )
        return
    requirements = as_list(resource.get("spec", "template", "spec", "requirements"))
    capacity = _requirement(requirements, CAPACITY_TYPE_KEY)
    if capacity is None or get(capacity, "operator") != "In" or "spot" not in as_list(get(capacity, "values")):
        return  # Karpenter launches on-demand only unless spot is requested
    count = _distinct_instance_types(requirements)
    if count is not None and count < MIN_SPOT_INSTANCE_TYPES:
        yield (
            f"spot NodePool allows {count} instance type(s); allow >= {MIN_SPOT_INSTANCE_TYPES} across GPU families "
            f"({INSTANCE_TYPE_KEY} or {INSTANCE_FAMILY_KEY} x {INSTANCE_SIZE_KEY})."
        )


def _check_gpu_headroom(resource: Resource) -> Iterator[str]:
    key = GPU_HEADROOM_ANNOTATION if resource.is_kubernetes else GPU_HEADROOM_TAG
    value = resource.marker(GPU_HEADROOM_TAG, GPU_HEADROOM_ANNOTATION)
    if value is None:
        return
    headroom = number(value)
    if headroom is None or not 0 <= headroom < 1:
        yield f"{key}={value!r} is not a fraction between 0 and 1."
    elif headroom < MIN_GPU_MEMORY_HEADROOM:
        yield (
            f"{key}={value} leaves less than {MIN_GPU_MEMORY_HEADROOM:.0%} of GPU memory free for KV-cache growth "
            "and fragmentation; size for more GPUs or a smaller precision."
        )


PROD_ALARMS_NOTIFY = LlamaRule(
    "prod-alarms-notify",
    "Every prod CloudWatch alarm has an action (an SNS topic, or the scaling policy it drives).",
    resource_types=[METRIC_ALARM],
    check=_check_prod_alarm_actions,
    enforcement_level=MANDATORY,
    severity=Severity.HIGH,
    citations=[
        aws_config("cloudwatch-alarm-action-check"),
        ours("alarms notify someone", "docs/policies.md#our-rules"),
    ],
    remediation="Set sagemaker.alarm_topic_arn (an SNS topic) in the prod spec.",
)
PROD_BASELINE = LlamaRule(
    "prod-baseline-min-instances",
    f"Prod keeps a baseline of >= {PROD_MIN_INSTANCES} instances/replicas across zones.",
    resource_types=[ENDPOINT_CONFIGURATION, NODE_GROUP, SCALABLE_TARGET],  # Kubernetes: prod-serving-replica-floor
    check=_check_prod_baseline,
    enforcement_level=MANDATORY,
    severity=Severity.HIGH,
    citations=[
        aws_config("sagemaker-endpoint-config-prod-instance-count"),
        ours("reserved baseline >= 2 in prod", "docs/policies.md#our-rules"),
    ],
    remediation="Raise the baseline count / minSize / minReplicas to 2 or more in prod.",
)
ZONE_SPREAD = LlamaRule(
    "prod-zone-spread",
    "Prod inference replicas spread across Availability Zones.",
    resource_types=[kubernetes.DEPLOYMENT, kubernetes.STATEFUL_SET],
    check=_check_zone_spread,
    enforcement_level=ADVISORY,
    citations=[
        ours("spread replicas across zones", "https://docs.aws.amazon.com/eks/latest/best-practices/application.html")
    ],
    remediation=f"Add topologySpreadConstraints with topologyKey {ZONE_KEY}.",
)
PDB_ALLOWS_DISRUPTION = LlamaRule(
    "pdb-allows-disruption",
    "PodDisruptionBudgets allow at least one voluntary disruption.",
    resource_types=[PDB],
    check=_check_pdb,
    enforcement_level=MANDATORY,
    citations=[
        ours("PDB must allow >= 1 disruption", "https://kubernetes.io/docs/tasks/run-application/configure-pdb/")
    ],
    remediation="Use maxUnavailable: 1.",
)
SCALE_DOWN_STABILIZATION = LlamaRule(
    "scale-down-stabilization",
    f"Scale-down waits >= {MIN_SCALE_DOWN_STABILIZATION_SECONDS} s (HPA, KEDA, Application Auto Scaling).",
    resource_types=[HPA, SCALED_OBJECT, SCALING_POLICY],
    check=_check_stabilization,
    enforcement_level=MANDATORY,
    citations=[
        ours(
            "scale-down stabilisation 300 s",
            "https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#stabilization-window",
        )
    ],
    remediation=(
        f"Set the scale-down stabilisation window / scale-in cooldown to >= {MIN_SCALE_DOWN_STABILIZATION_SECONDS}."
    ),
)
SPOT_DIVERSIFIED = LlamaRule(
    "spot-pools-diversified",
    f"Spot capacity may use >= {MIN_SPOT_INSTANCE_TYPES} instance types.",
    resource_types=[NODE_POOL, NODE_GROUP],
    check=_check_spot_diversified,
    enforcement_level=MANDATORY,
    citations=[
        ours(
            "diversify spot GPU instance types",
            "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-best-practices.html",
        )
    ],
    remediation="List several GPU instance types (g6e/g5/g6) for spot pools.",
)
GPU_HEADROOM = LlamaRule(
    "gpu-memory-headroom",
    f"Planned GPU memory headroom (tag/annotation) is >= {MIN_GPU_MEMORY_HEADROOM:.2f}.",
    resource_types=[],
    check=_check_gpu_headroom,
    enforcement_level=MANDATORY,
    citations=[ours("GPU memory headroom >= 15 %", "docs/policies.md#our-rules")],
    remediation="Pick more GPUs or a lower precision so the model leaves >= 15 % of GPU memory free.",
)

RULES = [
    PROD_ALARMS_NOTIFY,
    PROD_BASELINE,
    ZONE_SPREAD,
    PDB_ALLOWS_DISRUPTION,
    SCALE_DOWN_STABILIZATION,
    SPOT_DIVERSIFIED,
    GPU_HEADROOM,
]
