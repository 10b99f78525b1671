"""The kubeconfig `verify` uses (loaded by kubernetes_asyncio), against an HTTPS Kubernetes API fake on loopback:
cluster CA data, an `exec` credential plugin (how EKS kubeconfigs authenticate), token files, and errors that name
the file."""

from __future__ import annotations

import base64
import json
import sys

import pytest
from aiohttp import web
from loopback_tls import self_signed  # tests/ is on sys.path (pytest rootdir-relative import)

from llama_infra.verify.kubeconfig import KubeconfigError, load_kubeconfig
from llama_infra.verify.kubernetes import KubernetesHpaScaler
from llama_infra.verify.scaler import ScalerError


async def test_https_cluster_with_ca_data_and_an_exec_plugin(tmp_path):
    server_ssl, ca_pem = self_signed(tmp_path)
    seen_tokens = []

    async def hpa(request: web.Request) -> web.Response:
        seen_tokens.append(request.headers.get("Authorization"))
        return web.json_response(
            {
                "spec": {
                    "minReplicas": 3,
                    "maxReplicas": 8,
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "llama"},
                },
                "status": {"currentReplicas": 5, "desiredReplicas": 6},
            }
        )

    app = web.Application()
    app.router.add_get("/apis/autoscaling/v2/namespaces/serving/horizontalpodautoscalers/llama", hpa)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ssl)
    await site.start()
    credential = {
        "kind": "ExecCredential",
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "status": {"token": "k8s-aws-v1.fake", "expirationTimestamp": "2099-01-01T00:00:00Z"},
    }
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "eks",
        "clusters": [
            {
                "name": "eks",
                "cluster": {
                    "server": f"https://127.0.0.1:{site.port}",
                    "certificate-authority-data": base64.b64encode(ca_pem).decode(),
                },
            }
        ],
        "users": [
            {
                "name": "eks",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": sys.executable,
                        "args": ["-c", f"print({json.dumps(json.dumps(credential))})"],
                    }
                },
            }
        ],
        "contexts": [{"name": "eks", "context": {"cluster": "eks", "user": "eks"}}],
    }
    (tmp_path / "kubeconfig").write_text(json.dumps(kubeconfig))  # JSON is YAML
    scaler = KubernetesHpaScaler(load_kubeconfig(tmp_path / "kubeconfig"), "serving", "llama")
    try:
        assert await scaler.min_replicas() == 3
        counts = await scaler.replicas()  # target is not a Deployment: the HPA's own currentReplicas
        assert (counts.desired, counts.current) == (6, 5)
    finally:
        await scaler.close()
        await runner.cleanup()
    assert seen_tokens == ["Bearer k8s-aws-v1.fake"] * 2  # one plugin run, token cached until expiry


async def test_untrusted_certificate_is_a_scaler_error(tmp_path):
    server_ssl, _ = self_signed(tmp_path)
    app = web.Application()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ssl)
    await site.start()
    (tmp_path / "kubeconfig").write_text(
        f"current-context: c\nclusters: [{{name: c, cluster: {{server: 'https://127.0.0.1:{site.port}'}}}}]\n"
        f"users: [{{name: u, user: {{tokenFile: {tmp_path / 'token'}}}}}]\n"
        "contexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )
    (tmp_path / "token").write_text("t\n")
    scaler = KubernetesHpaScaler(load_kubeconfig(tmp_path / "kubeconfig"), "serving", "llama")
    try:
        with pytest.raises(ScalerError, match="certificate verify failed|CERTIFICATE_VERIFY_FAILED|Certificate"):
            await scaler.min_replicas()
    finally:
        await scaler.close()
        await runner.cleanup()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- not a mapping\n", "not a kubeconfig"),
        ("current-context: a\ncontexts: []\n", "no context named 'a'"),
        (
            "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: c, cluster: {}}]\n",
            "cluster 'c' has no http(s) server URL",
        ),
    ],
)
def test_unusable_kubeconfigs_name_the_file_and_the_entry(tmp_path, text, message):
    path = tmp_path / "kubeconfig"
    path.write_text(text)
    with pytest.raises(KubeconfigError) as error:
        load_kubeconfig(path)
    assert str(error.value).startswith(str(path)) and message in str(error.value)
