"""Scale-in order: the burst's on-demand fallback replicas leave before its spot replicas.

When Karpenter finds no spot capacity for a burst replica, the replica lands on the on-demand pool
(`llama_infra.targets.eks.karpenter`) at about twice the spot price. When the autoscaler later scales the Deployment
in, the ReplicaSet controller chooses which pods go (`ActivePodsWithRanks`, pkg/controller/controller_utils.go): not
ready before ready, then the lower `controller.kubernetes.io/pod-deletion-cost`, then the most recently ready. With
no cost set, the purchase option plays no part: an on-demand fallback started early in a busy hour keeps running
while the spot replicas started after it leave.

So each pod of a Deployment on the burst pools starts with the init container `deletion-cost` (`init_container`).
It reads its node's capacity type (`karpenter.sh/capacity-type`) and gives its own pod the cost
`ON_DEMAND_DELETION_COST` when the node is on demand. Spot pods keep the default, 0. When such a pod goes, Karpenter
removes its emptied on-demand node (`WhenEmpty`).

- **Image**: the model server's own image (python3 is in both; the node pulls it for the server anyway), stdlib only
  (`SCRIPT`), as a non-root user on a read-only root filesystem.
- **Credentials**: a projected service account token (10 minutes), mounted into this init container only. The
  account does not automount one (`workload.service_account`), so the server container has no Kubernetes
  credentials.
- **Rights** (`rbac_objects`): get nodes (a ClusterRole: nodes are cluster-scoped) and patch pods in the namespace
  (a Role). RBAC cannot narrow `patch` to the pod's own name.
- **Best effort**: when the API cannot be read after `ATTEMPTS` tries (15 s of waits between them), the pod starts
  anyway and says so in the init container's log. It then only loses its place in the scale-in order.

Rendered where a burst runs spot with an on-demand fallback through Karpenter (`applies`); the simulator's spec
policy retires on-demand replicas first there (`Target.retires_on_demand_first`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llama_infra.targets.kubernetes import labels

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec

CONTAINER_NAME = "deletion-cost"
ON_DEMAND_DELETION_COST = -1  # below spot's default 0: removed first
CREDENTIALS_DIR = "/var/run/secrets/llama-infra/kubernetes"
CREDENTIALS_VOLUME = "kubernetes-credentials"
TOKEN_EXPIRATION_SECONDS = 600  # the least the API server accepts; the script reads the token within seconds
ATTEMPTS = 5  # waits of 1, 2, 4, 8 s between them: ≈ 15 s of retries, each call at most 10 s

# The on-demand values of the two capacity-type labels: Karpenter's and EKS managed node groups'.
_ON_DEMAND = {labels.KARPENTER_CAPACITY_TYPE: "on-demand", labels.EKS_CAPACITY_TYPE: "ON_DEMAND"}

SCRIPT = f"""\
import json, os, ssl, sys, time, urllib.request
creds = sys.argv[1]
host, port = os.environ["KUBERNETES_SERVICE_HOST"], os.environ["KUBERNETES_SERVICE_PORT"]
api = "https://" + ("[" + host + "]" if ":" in host else host) + ":" + port
node, pod, ns = os.environ["NODE_NAME"], os.environ["POD_NAME"], os.environ["POD_NAMESPACE"]
ctx = ssl.create_default_context(cafile=creds + "/ca.crt")
def call(method, path, body=None):
    with open(creds + "/token") as f:
        token = f.read().strip()
    headers = {{"Authorization": "Bearer " + token, "Accept": "application/json"}}
    if body is not None:
        headers["Content-Type"] = "application/merge-patch+json"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(api + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, context=ctx, timeout=10) as response:
        return json.load(response)
on_demand = {_ON_DEMAND!r}
for attempt in range({ATTEMPTS}):
    try:
        node_labels = call("GET", "/api/v1/nodes/" + node)["metadata"].get("labels") or {{}}
        if not any(node_labels.get(k) == v for k, v in on_demand.items()):
            print("node " + node + " is not on demand: default deletion cost")
            break
        annotations = {{{labels.POD_DELETION_COST!r}: {str(ON_DEMAND_DELETION_COST)!r}}}
        call("PATCH", "/api/v1/namespaces/" + ns + "/pods/" + pod, {{"metadata": {{"annotations": annotations}}}})
        print("node " + node + " is on demand: pod-deletion-cost {ON_DEMAND_DELETION_COST}, removed first on scale-in")
        break
    except Exception as error:
        print("attempt " + str(attempt + 1) + ": " + repr(error), file=sys.stderr)
        if attempt < {ATTEMPTS - 1}:
            time.sleep(2 ** attempt)
else:
    print("starting without a deletion cost: this replica leaves in the default order", file=sys.stderr)
"""


def applies(spec: DeploymentSpec) -> bool:
    """Burst on spot with an on-demand fallback pool (Karpenter): only there do burst replicas differ in price."""
    burst = spec.capacity.burst
    return (
        spec.eks is not None
        and spec.eks.karpenter
        and burst.max > 0
        and burst.capacity == "spot"
        and burst.on_demand_fallback
    )


def role_name(spec: DeploymentSpec) -> str:
    """The Role and its binding, in the spec's namespace."""
    return f"{spec.name}-deletion-cost"


def cluster_role_name(spec: DeploymentSpec) -> str:
    """The ClusterRole and its binding: the name carries the namespace, as cluster-scoped names are one per cluster."""
    assert spec.eks is not None
    return f"{spec.eks.namespace}-{spec.name}-read-nodes"


def init_container(image: str) -> dict:
    return {
        "name": CONTAINER_NAME,
        "image": image,
        "command": ["python3", "-c", SCRIPT, CREDENTIALS_DIR],
        "env": [
            {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"},
        ],
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": 65532,
            "runAsGroup": 65532,
        },
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
        "volumeMounts": [{"name": CREDENTIALS_VOLUME, "mountPath": CREDENTIALS_DIR, "readOnly": True}],
    }


def credentials_volume() -> dict:
    """The token, the cluster's CA bundle (`kube-root-ca.crt`, in every namespace) for the init container alone."""
    return {
        "name": CREDENTIALS_VOLUME,
        "projected": {
            "defaultMode": 0o444,
            "sources": [
                {"serviceAccountToken": {"path": "token", "expirationSeconds": TOKEN_EXPIRATION_SECONDS}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            ],
        },
    }


def add_to(spec: DeploymentSpec, deployment: dict) -> dict:
    """`deployment` (on the burst pools) with the init container first and its volume, where `applies`."""
    if not applies(spec):
        return deployment
    pod = deployment["spec"]["template"]["spec"]
    image = pod["containers"][0]["image"]
    pod["initContainers"] = [init_container(image), *pod.get("initContainers", [])]
    pod["volumes"] = [*pod.get("volumes", []), credentials_volume()]
    return deployment


def rbac_objects(spec: DeploymentSpec) -> list[dict]:
    """ClusterRole + binding (get nodes), Role + binding (patch pods), for the serving account; none where the
    init container is not rendered."""
    if not applies(spec):
        return []
    assert spec.eks is not None
    ns = spec.eks.namespace
    common = {"labels": labels.common(spec)}
    subject = [{"kind": "ServiceAccount", "name": spec.name, "namespace": ns}]
    group = "rbac.authorization.k8s.io"
    return [
        {
            "apiVersion": f"{group}/v1",
            "kind": "ClusterRole",
            "metadata": {"name": cluster_role_name(spec), **common},
            "rules": [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}],
        },
        {
            "apiVersion": f"{group}/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": cluster_role_name(spec), **common},
            "roleRef": {"apiGroup": group, "kind": "ClusterRole", "name": cluster_role_name(spec)},
            "subjects": subject,
        },
        {
            "apiVersion": f"{group}/v1",
            "kind": "Role",
            "metadata": {"name": role_name(spec), "namespace": ns, **common},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["patch"]}],
        },
        {
            "apiVersion": f"{group}/v1",
            "kind": "RoleBinding",
            "metadata": {"name": role_name(spec), "namespace": ns, **common},
            "roleRef": {"apiGroup": group, "kind": "Role", "name": role_name(spec)},
            "subjects": subject,
        },
    ]
