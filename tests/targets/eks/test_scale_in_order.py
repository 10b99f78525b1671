"""Given a burst on spot with an on-demand fallback, when a burst pod starts, then its deletion-cost init container
asks the Kubernetes API for its node's capacity type and, on an on-demand node, annotates its own pod so the
ReplicaSet removes it first on scale-in; spot pods keep the default. The script runs here against an HTTPS API
server on localhost that answers as the real one does (the node object, the merge patch)."""

from __future__ import annotations

import http.server
import json
import sys
import threading
import time

import pytest
from loopback_tls import self_signed  # tests/ is on sys.path (pytest rootdir-relative import)

from llama_infra.targets.eks.manifests import all_objects
from llama_infra.targets.kubernetes import labels, scale_in_order

from .specs import edited

TOKEN = "projected-token"


class FakeApi:
    """GET /api/v1/nodes/<name> and PATCH /api/v1/namespaces/<ns>/pods/<name>, bearer token required."""

    def __init__(self, tmp_path, node_labels: dict[str, str]):
        self.node_labels = node_labels
        self.patches: list[tuple[str, str, dict]] = []
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self._reply(401, {"kind": "Status", "reason": "Unauthorized"})
                    return False
                return True

            def do_GET(self):
                if not self._authorized():
                    return
                if self.path == "/api/v1/nodes/ip-10-0-1-7.ec2.internal":
                    self._reply(200, {"kind": "Node", "metadata": {"name": "n", "labels": api.node_labels}})
                else:
                    self._reply(404, {"kind": "Status", "reason": "NotFound"})

            def do_PATCH(self):
                if not self._authorized():
                    return
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                api.patches.append((self.path, self.headers["Content-Type"], body))
                self._reply(200, {"kind": "Pod", "metadata": body["metadata"]})

        context, ca_pem = self_signed(tmp_path)
        (tmp_path / "ca.crt").write_bytes(ca_pem)  # where the projected volume puts the cluster's CA bundle
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def _run_script(tmp_path, monkeypatch, port: int) -> list[float]:
    """The init container's command, in this process (its waits recorded instead of slept)."""
    (tmp_path / "token").write_text(TOKEN + "\n")
    for k, v in {
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": str(port),
        "NODE_NAME": "ip-10-0-1-7.ec2.internal",
        "POD_NAME": "llama-70b-eks-burst-5d8f-x2k",
        "POD_NAMESPACE": "llama",
    }.items():
        monkeypatch.setenv(k, v)
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    monkeypatch.setattr(sys, "argv", ["-c", str(tmp_path)])
    exec(compile(scale_in_order.SCRIPT, "deletion-cost", "exec"), {"__name__": "__main__"})
    return waits


@pytest.fixture
def spec():
    return edited()


def _burst_pod(spec) -> dict:
    (burst,) = [o for o in all_objects(spec) if o["kind"] == "Deployment" and o["metadata"]["name"].endswith("-burst")]
    return burst["spec"]["template"]["spec"]


@pytest.mark.parametrize(
    "node_labels",
    [{labels.KARPENTER_CAPACITY_TYPE: "on-demand"}, {labels.EKS_CAPACITY_TYPE: "ON_DEMAND"}],
    ids=["karpenter", "managed-node-group"],
)
def test_a_pod_on_an_on_demand_node_is_annotated_to_leave_first(tmp_path, monkeypatch, node_labels):
    api = FakeApi(tmp_path, {labels.INSTANCE_TYPE: "g6e.12xlarge", **node_labels})
    try:
        waits = _run_script(tmp_path, monkeypatch, api.port)
    finally:
        api.close()
    assert waits == []
    ((path, content_type, body),) = api.patches
    assert path == "/api/v1/namespaces/llama/pods/llama-70b-eks-burst-5d8f-x2k"
    assert content_type == "application/merge-patch+json"
    assert body == {"metadata": {"annotations": {labels.POD_DELETION_COST: "-1"}}}


def test_a_pod_on_a_spot_node_keeps_the_default_cost(tmp_path, monkeypatch):
    api = FakeApi(tmp_path, {labels.KARPENTER_CAPACITY_TYPE: "spot"})
    try:
        _run_script(tmp_path, monkeypatch, api.port)
    finally:
        api.close()
    assert api.patches == []


def test_an_unreachable_api_lets_the_pod_start_after_its_retries(tmp_path, monkeypatch, capsys):
    api = FakeApi(tmp_path, {})
    port = api.port
    api.close()
    api.server.server_close()  # nothing listens on the port any more
    waits = _run_script(tmp_path, monkeypatch, port)
    assert waits == [1, 2, 4, 8]
    assert "starting without a deletion cost" in capsys.readouterr().err


def test_the_init_container_alone_holds_kubernetes_credentials(spec):
    pod = _burst_pod(spec)
    first, *rest = pod["initContainers"]
    assert first["name"] == scale_in_order.CONTAINER_NAME
    assert first["image"] == pod["containers"][0]["image"]  # the server's image: no extra pull
    assert [m["name"] for m in first["volumeMounts"]] == [scale_in_order.CREDENTIALS_VOLUME]
    for c in [*rest, *pod["containers"]]:
        assert scale_in_order.CREDENTIALS_VOLUME not in {m["name"] for m in c.get("volumeMounts", [])}
    (account,) = [o for o in all_objects(spec) if o["kind"] == "ServiceAccount"]
    assert account["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == account["metadata"]["name"]


def test_the_rights_are_get_nodes_and_patch_pods_in_the_namespace_only(spec):
    rbac = {o["kind"]: o for o in all_objects(spec) if o["apiVersion"].startswith("rbac.authorization.k8s.io/")}
    assert set(rbac) == {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
    assert rbac["ClusterRole"]["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}]
    assert rbac["Role"]["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["patch"]}]
    assert rbac["Role"]["metadata"]["namespace"] == "llama"
    for binding in ("ClusterRoleBinding", "RoleBinding"):
        assert rbac[binding]["subjects"] == [{"kind": "ServiceAccount", "name": spec.name, "namespace": "llama"}]
    assert rbac["ClusterRoleBinding"]["roleRef"]["name"] == rbac["ClusterRole"]["metadata"]["name"]
    assert rbac["RoleBinding"]["roleRef"]["name"] == rbac["Role"]["metadata"]["name"]


@pytest.mark.parametrize(
    "edit",
    [
        {"capacity.burst.on_demand_fallback": False},
        {"capacity.burst.capacity": "on-demand"},
        {"eks.karpenter": False},
    ],
    ids=["spot-without-fallback", "on-demand-burst", "managed-node-groups-only"],
)
def test_where_burst_replicas_cost_the_same_nothing_is_rendered(edit):
    spec = edited(**edit)
    assert [c["name"] for c in _burst_pod(spec)["initContainers"]] == ["sync-weights"]
    assert not [o for o in all_objects(spec) if o["apiVersion"].startswith("rbac.authorization.k8s.io/")]
