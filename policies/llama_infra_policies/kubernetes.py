"""Pod security and hygiene rules for the workloads the EKS target renders (checkov CKV_K8S_*)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from .resource import Resource, as_list, get, number
from .rule import ADVISORY, MANDATORY, LlamaRule, checkov

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
JOB = "kubernetes:batch/v1:Job"
CRON_JOB = "kubernetes:batch/v1:CronJob"
POD = "kubernetes:core/v1:Pod"

WORKLOADS = [DEPLOYMENT, STATEFUL_SET, DAEMON_SET, JOB, CRON_JOB, POD]
LONG_RUNNING = [DEPLOYMENT, STATEFUL_SET, DAEMON_SET]  # probes make no sense on run-to-completion Jobs

_POD_SPEC_PATHS = {
    POD: ("spec",),
    CRON_JOB: ("spec", "jobTemplate", "spec", "template", "spec"),
}
_TAG = re.compile(r"^(?P<repo>(?:[^/]+/)*[^/:@]+)(?::(?P<tag>[^/:@]+))?(?:@(?P<digest>.+))?$")


def pod_spec(resource: Resource) -> Mapping[str, Any]:
    spec = resource.get(*_POD_SPEC_PATHS.get(resource.type, ("spec", "template", "spec")), default={})
    return spec if isinstance(spec, Mapping) else {}


def containers(resource: Resource, include_init: bool = True) -> list[tuple[str, Mapping[str, Any]]]:
    """(`containers[i]` path, container) for every container; init containers too unless asked not to."""
    spec = pod_spec(resource)
    found = [(f"containers[{i}]", c) for i, c in enumerate(as_list(get(spec, "containers")))]
    if include_init:
        found += [(f"initContainers[{i}]", c) for i, c in enumerate(as_list(get(spec, "initContainers")))]
    return [(path, c) for path, c in found if isinstance(c, Mapping)]


def label(path: str, container: Mapping[str, Any]) -> str:
    name = get(container, "name")
    return f"{path} ({name})" if name else path


def _effective(spec: Mapping[str, Any], container: Mapping[str, Any], key: str) -> Any:
    """Container securityContext overrides the pod's, as the kubelet applies them."""
    value = get(container, "securityContext", key)
    return value if value is not None else get(spec, "securityContext", key)


def _check_privileged(resource: Resource) -> Iterator[str]:
    for path, c in containers(resource):
        if get(c, "securityContext", "privileged") is True:
            yield f"{label(path, c)} runs privileged; GPU access needs only the nvidia.com/gpu resource, not privilege."


def _check_privilege_escalation(resource: Resource) -> Iterator[str]:
    for path, c in containers(resource):
        if get(c, "securityContext", "allowPrivilegeEscalation") is not False:
            yield f"{label(path, c)} does not set securityContext.allowPrivilegeEscalation=false."


def _check_host_namespaces(resource: Resource) -> Iterator[str]:
    spec = pod_spec(resource)
    for key in ("hostPID", "hostIPC", "hostNetwork"):
        if get(spec, key) is True:
            yield f"the pod sets {key}=true and shares the node's namespace."


def _check_resources(resource: Resource) -> Iterator[str]:
    for path, c in containers(resource, include_init=False):
        missing = [
            f"resources.{kind}.{name}"
            for kind, name in (("requests", "cpu"), ("requests", "memory"), ("limits", "memory"))
            if get(c, "resources", kind, name) is None
        ]
        if (
            get(c, "resources", "requests", "nvidia.com/gpu") is not None
            and get(c, "resources", "limits", "nvidia.com/gpu") is None
        ):
            missing.append("resources.limits.nvidia.com/gpu (extended resources are scheduled from limits)")
        if missing:
            yield f"{label(path, c)} is missing {', '.join(missing)}."


def _check_image_tag(resource: Resource) -> Iterator[str]:
    for path, c in containers(resource):
        image = get(c, "image")
        if not isinstance(image, str) or not image.strip():
            yield f"{label(path, c)} has no image."
            continue
        match = _TAG.match(image.strip())
        if match and match.group("digest"):
            continue
        tag = match.group("tag") if match else None
        if not tag or tag == "latest":
            yield (
                f"{label(path, c)} image {image!r} is not pinned; use an explicit version tag or a digest so the "
                "metric names and server flags match what was tested."
            )


def _check_read_only_root(resource: Resource) -> Iterator[str]:
    for path, c in containers(resource):
        if get(c, "securityContext", "readOnlyRootFilesystem") is not True:
            yield (
                f"{label(path, c)} has a writable root filesystem; set readOnlyRootFilesystem=true and mount "
                "emptyDir volumes for caches (/tmp, the model cache, ~/.cache)."
            )


def _check_non_root(resource: Resource) -> Iterator[str]:
    spec = pod_spec(resource)
    for path, c in containers(resource):
        run_as_user = number(_effective(spec, c, "runAsUser"))
        if run_as_user == 0:
            yield f"{label(path, c)} runs as UID 0."
        elif _effective(spec, c, "runAsNonRoot") is not True and run_as_user is None:
            yield f"{label(path, c)} may run as root: set securityContext.runAsNonRoot=true or a non-zero runAsUser."


def _probe_check(probe: str) -> Any:
    def check(resource: Resource) -> Iterator[str]:
        for path, c in containers(resource, include_init=False):
            if get(c, probe) is None:
                yield f"{label(path, c)} has no {probe}."

    return check


def _check_net_raw(resource: Resource) -> Iterator[str]:
    for path, c in containers(resource):
        dropped = {str(x).upper() for x in as_list(get(c, "securityContext", "capabilities", "drop"))}
        if not dropped & {"ALL", "NET_RAW"}:
            yield f"{label(path, c)} keeps NET_RAW; drop ALL capabilities (or at least NET_RAW)."


def _k8s(check_id: str, file: str) -> Any:
    return checkov(check_id, f"kubernetes/checks/resource/k8s/{file}.py")


NO_PRIVILEGED = LlamaRule(
    "k8s-no-privileged-containers",
    "Containers are not privileged.",
    resource_types=WORKLOADS,
    check=_check_privileged,
    enforcement_level=MANDATORY,
    severity=Severity.HIGH,
    citations=[_k8s("CKV_K8S_16", "PrivilegedContainers")],
    remediation="Remove securityContext.privileged; request nvidia.com/gpu instead.",
)
NO_PRIVILEGE_ESCALATION = LlamaRule(
    "k8s-no-privilege-escalation",
    "Containers set allowPrivilegeEscalation=false.",
    resource_types=WORKLOADS,
    check=_check_privilege_escalation,
    enforcement_level=ADVISORY,
    citations=[_k8s("CKV_K8S_20", "AllowPrivilegeEscalation")],
    remediation="Set securityContext.allowPrivilegeEscalation=false on every container.",
)
NO_HOST_NAMESPACES = LlamaRule(
    "k8s-no-host-namespaces",
    "Pods do not share the node's PID, IPC or network namespace.",
    resource_types=WORKLOADS,
    check=_check_host_namespaces,
    enforcement_level=MANDATORY,
    severity=Severity.HIGH,
    citations=[
        _k8s("CKV_K8S_17", "ShareHostPID"),
        _k8s("CKV_K8S_18", "ShareHostIPC"),
        _k8s("CKV_K8S_19", "SharedHostNetworkNamespace"),
    ],
    remediation="Remove hostPID, hostIPC and hostNetwork.",
)
RESOURCES_SET = LlamaRule(
    "k8s-resource-requests-and-limits",
    (
        "Containers request CPU and memory and cap memory (CPU limits deliberately not required: they throttle "
        "tokenizers)."
    ),
    resource_types=WORKLOADS,
    check=_check_resources,
    enforcement_level=MANDATORY,
    citations=[
        _k8s("CKV_K8S_10", "CPURequests"),
        _k8s("CKV_K8S_12", "MemoryRequests"),
        _k8s("CKV_K8S_13", "MemoryLimits"),
    ],
    remediation="Set resources.requests.cpu/memory and resources.limits.memory (and nvidia.com/gpu in limits).",
)
IMAGE_PINNED = LlamaRule(
    "k8s-image-tag-pinned",
    "Container images are pinned to a version tag or digest, never latest or blank.",
    resource_types=WORKLOADS,
    check=_check_image_tag,
    enforcement_level=MANDATORY,
    citations=[_k8s("CKV_K8S_14", "ImageTagFixed")],
    remediation="Use image: vllm/vllm-openai:v0.x.y (or @sha256:...).",
)
READ_ONLY_ROOT = LlamaRule(
    "k8s-read-only-root-filesystem",
    "Containers use a read-only root filesystem where the server allows it.",
    resource_types=WORKLOADS,
    check=_check_read_only_root,
    enforcement_level=ADVISORY,
    severity=Severity.LOW,
    citations=[_k8s("CKV_K8S_22", "ReadOnlyFilesystem")],
    remediation="Set readOnlyRootFilesystem=true and mount emptyDir for writable paths.",
)
NON_ROOT = LlamaRule(
    "k8s-run-as-non-root",
    "Containers run as a non-root user.",
    resource_types=WORKLOADS,
    check=_check_non_root,
    enforcement_level=ADVISORY,  # upstream vLLM/TGI images run as root; advisory until we ship our own images
    citations=[_k8s("CKV_K8S_23", "RootContainers")],
    remediation="Set securityContext.runAsNonRoot=true and runAsUser to a non-zero UID.",
)
READINESS_PROBE = LlamaRule(
    "k8s-readiness-probe",
    "Long-running containers have a readiness probe (a model server is not ready until its weights are on the GPU).",
    resource_types=LONG_RUNNING,
    check=_probe_check("readinessProbe"),
    enforcement_level=MANDATORY,
    citations=[_k8s("CKV_K8S_9", "ReadinessProbe")],
    remediation="Add readinessProbe: httpGet /health on the server port.",
)
LIVENESS_PROBE = LlamaRule(
    "k8s-liveness-probe",
    "Long-running containers have a liveness probe (pair it with a startupProbe covering the cold start).",
    resource_types=LONG_RUNNING,
    check=_probe_check("livenessProbe"),
    enforcement_level=ADVISORY,
    severity=Severity.LOW,
    citations=[_k8s("CKV_K8S_8", "LivenessProbe")],
    remediation="Add livenessProbe, plus a startupProbe whose budget exceeds the cold-start estimate.",
)
DROP_NET_RAW = LlamaRule(
    "k8s-drop-net-raw",
    "Containers drop the NET_RAW capability.",
    resource_types=WORKLOADS,
    check=_check_net_raw,
    enforcement_level=ADVISORY,
    severity=Severity.LOW,
    citations=[_k8s("CKV_K8S_28", "DropCapabilities")],
    remediation="Set securityContext.capabilities.drop: [ALL].",
)

RULES = [
    NO_PRIVILEGED,
    NO_PRIVILEGE_ESCALATION,
    NO_HOST_NAMESPACES,
    RESOURCES_SET,
    IMAGE_PINNED,
    READ_ONLY_ROOT,
    NON_ROOT,
    READINESS_PROBE,
    LIVENESS_PROBE,
    DROP_NET_RAW,
]
