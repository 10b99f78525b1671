"""Just enough of a kubeconfig to call the Kubernetes API over HTTPS with aiohttp.

Supports what EKS and common clusters use: bearer tokens (literal or file), client certificates (path or inline
data), `exec` credential plugins (`aws eks get-token`), the cluster CA (path or inline data), and the in-cluster
service account. The `kubernetes` client package is not a dependency; this is its auth subset.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, YAMLError

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class KubeconfigError(ValueError):
    """A kubeconfig that cannot be used; names the file and the entry."""


@dataclass
class KubeCredentials:
    server: str
    ssl_context: ssl.SSLContext | None
    """None for plain http (local fakes); an HTTPS server always gets a context."""
    token: str | None = None
    token_file: Path | None = None
    exec_spec: dict[str, Any] | None = None
    _exec_token: str | None = None
    _exec_expires_monotonic: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def headers(self) -> dict[str, str]:
        token = await self._current_token()
        return {"Authorization": f"Bearer {token}"} if token else {}

    async def _current_token(self) -> str | None:
        if self.token_file is not None:
            return self.token_file.read_text().strip()  # service-account tokens rotate: re-read every time
        if self.exec_spec is None:
            return self.token
        async with self._lock:
            if self._exec_token is None or time.monotonic() >= self._exec_expires_monotonic:
                self._exec_token, lifetime = await asyncio.to_thread(_run_exec_plugin, self.exec_spec)
                self._exec_expires_monotonic = time.monotonic() + lifetime
            return self._exec_token


def _run_exec_plugin(spec: dict[str, Any]) -> tuple[str, float]:
    env = os.environ | {item["name"]: item["value"] for item in spec.get("env") or []}
    command = [spec["command"], *(spec.get("args") or [])]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise KubeconfigError(f"kubeconfig exec plugin {command[0]!r} failed: {exc}") from exc
    status = json.loads(done.stdout).get("status", {})
    if "token" not in status:
        raise KubeconfigError(f"kubeconfig exec plugin {command[0]!r} returned no status.token")
    # Refresh a minute before expiry; without an expiry, refresh every 10 minutes (EKS tokens last 15).
    lifetime = 600.0
    if expiry := status.get("expirationTimestamp"):
        from datetime import datetime, timezone

        expires = datetime.fromisoformat(expiry.replace("Z", "+00:00"))
        lifetime = max(0.0, (expires - datetime.now(timezone.utc)).total_seconds() - 60)
    return status["token"], lifetime


def _named(entries: list[dict[str, Any]] | None, name: str, kind: str, source: Path) -> dict[str, Any]:
    for entry in entries or []:
        if entry.get("name") == name:
            return entry.get(kind) or {}
    raise KubeconfigError(f"{source}: no {kind} named {name!r}; check `kubectl config get-contexts`")


def _material(section: dict[str, Any], key: str, base: Path) -> bytes | None:
    """A certificate or key given inline (`<key>-data`, base64) or as a path relative to the kubeconfig."""
    if data := section.get(f"{key}-data"):
        return base64.b64decode(data)
    if path := section.get(key):
        return (base / path).expanduser().read_bytes()
    return None


def load_kubeconfig(path: Path | None = None, context: str | None = None) -> KubeCredentials:
    """Credentials for `context` (default: current-context) from `path` (default: $KUBECONFIG or ~/.kube/config).

    Inside a pod without a kubeconfig, the service account is used.
    """
    if path is None:
        env_path = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
        path = Path(env_path) if env_path else Path.home() / ".kube" / "config"
        if not path.exists() and (SERVICE_ACCOUNT_DIR / "token").exists():
            return in_cluster_credentials()
    try:
        config = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise KubeconfigError(f"{path}: cannot read kubeconfig: {exc}") from exc
    if not isinstance(config, dict):
        raise KubeconfigError(f"{path}: not a kubeconfig (expected a mapping with clusters, users, contexts)")
    context_name = context or config.get("current-context")
    if not context_name:
        raise KubeconfigError(f"{path}: no current-context; pass --context")
    ctx = _named(config.get("contexts"), context_name, "context", path)
    cluster = _named(config.get("clusters"), ctx.get("cluster", ""), "cluster", path)
    user = _named(config.get("users"), ctx.get("user", ""), "user", path) if ctx.get("user") else {}
    server = str(cluster.get("server", "")).rstrip("/")
    if not server.startswith(("http://", "https://")):
        raise KubeconfigError(f"{path}: cluster {ctx.get('cluster')!r} has no http(s) server URL")
    base = path.parent
    try:
        ssl_context = None
        if server.startswith("https://"):
            ca = _material(cluster, "certificate-authority", base)
            ssl_context = ssl.create_default_context(cadata=ca.decode() if ca else None)
            if cluster.get("insecure-skip-tls-verify"):
                ssl_context.check_hostname = False
                ssl_context.verify_mode = ssl.CERT_NONE
            cert = _material(user, "client-certificate", base)
            key = _material(user, "client-key", base)
            if cert and key:
                _load_client_cert(ssl_context, cert, key)
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise KubeconfigError(f"{path}: context {context_name!r}: bad certificate material: {exc}") from exc
    token_file = Path(user["tokenFile"]).expanduser() if user.get("tokenFile") else None
    return KubeCredentials(
        server=server, ssl_context=ssl_context, token=user.get("token"), token_file=token_file, exec_spec=user.get("exec")
    )


def _load_client_cert(context: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    # ssl only loads certificate chains from files; keep them private and delete them right after.
    with tempfile.TemporaryDirectory() as directory:
        cert_path, key_path = Path(directory, "client.crt"), Path(directory, "client.key")
        for target, data in ((cert_path, cert), (key_path, key)):
            target.touch(mode=0o600)
            target.write_bytes(data)
        context.load_cert_chain(cert_path, key_path)


def in_cluster_credentials() -> KubeCredentials:
    host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT", "443")
    if not host:
        raise KubeconfigError("no kubeconfig found and not running in a pod; pass --kubeconfig")
    ssl_context = ssl.create_default_context(cafile=str(SERVICE_ACCOUNT_DIR / "ca.crt"))
    token_file = SERVICE_ACCOUNT_DIR / "token"
    return KubeCredentials(server=f"https://{host}:{port}", ssl_context=ssl_context, token_file=token_file)
