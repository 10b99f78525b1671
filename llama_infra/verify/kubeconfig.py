"""The cluster `verify` talks to: a kubeconfig context (or the pod's service account), loaded by kubernetes_asyncio.

kubernetes_asyncio (the Kubernetes client for asyncio) reads the kubeconfig the way kubectl does: bearer tokens
(literal or `tokenFile`), client certificates and the cluster CA (paths or inline data), `exec` credential plugins
(`aws eks get-token`, re-run before the token expires), and the in-cluster service account. This module only picks
the context, checks what it can before any connection, and names the file and the entry when it cannot be used.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, YAMLError

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class KubeconfigError(ValueError):
    """A kubeconfig that cannot be used; names the file and the entry."""


@dataclass
class KubeConnection:
    """Where the cluster is and how to authenticate, ready for `client_configuration()`."""

    source: str  # the kubeconfig file, or "in-cluster service account"
    server: str
    loader: Any  # kubernetes_asyncio's KubeConfigLoader; None inside a pod (service account)

    async def client_configuration(self) -> Any:
        """A kubernetes_asyncio Configuration with credentials loaded (an exec plugin runs here)."""
        from kubernetes_asyncio import client
        from kubernetes_asyncio.config import ConfigException
        from kubernetes_asyncio.config.incluster_config import InClusterConfigLoader

        configuration = client.Configuration()
        try:
            if self.loader is None:
                InClusterConfigLoader(
                    token_filename=str(SERVICE_ACCOUNT_DIR / "token"), cert_filename=str(SERVICE_ACCOUNT_DIR / "ca.crt")
                ).load_and_set(configuration)
            else:
                await self.loader.load_and_set(configuration)
        except (ConfigException, OSError, ValueError) as exc:
            raise KubeconfigError(f"{self.source}: cannot load credentials: {exc}") from exc
        return configuration


def _named(entries: Any, name: str, kind: str, source: Path) -> dict[str, Any]:
    for entry in entries or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry.get(kind) or {}
    raise KubeconfigError(f"{source}: no {kind} named {name!r}; check `kubectl config get-contexts`")


def load_kubeconfig(path: Path | None = None, context: str | None = None) -> KubeConnection:
    """The connection for `context` (default: current-context) of `path` (default: $KUBECONFIG's first file, else
    ~/.kube/config); inside a pod without a kubeconfig, its service account."""
    if path is None:
        env_path = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
        path = Path(env_path) if env_path else Path.home() / ".kube" / "config"
        if not path.exists() and (SERVICE_ACCOUNT_DIR / "token").exists():
            return in_cluster_connection()
    try:
        config = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError, UnicodeDecodeError) as exc:
        raise KubeconfigError(f"{path}: cannot read kubeconfig: {exc}") from exc
    if not isinstance(config, dict):
        raise KubeconfigError(f"{path}: not a kubeconfig (expected a mapping with clusters, users, contexts)")
    context_name = context or config.get("current-context")
    if not context_name:
        raise KubeconfigError(f"{path}: no current-context; pass --context")
    ctx = _named(config.get("contexts"), context_name, "context", path)
    cluster = _named(config.get("clusters"), ctx.get("cluster", ""), "cluster", path)
    server = str(cluster.get("server", "")).rstrip("/")
    if not server.startswith(("http://", "https://")):
        raise KubeconfigError(f"{path}: cluster {ctx.get('cluster')!r} has no http(s) server URL")
    from kubernetes_asyncio.config import ConfigException
    from kubernetes_asyncio.config.kube_config import KubeConfigLoader

    try:
        loader = KubeConfigLoader(config_dict=config, active_context=context_name, config_base_path=str(path.parent))
    except (ConfigException, AssertionError) as exc:
        raise KubeconfigError(f"{path}: context {context_name!r}: {exc}") from exc
    return KubeConnection(source=str(path), server=server, loader=loader)


def in_cluster_connection() -> KubeConnection:
    host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    if not host:
        raise KubeconfigError("no kubeconfig found and not running in a pod; pass --kubeconfig")
    return KubeConnection(source="in-cluster service account", server=f"https://{host}:{port}", loader=None)
