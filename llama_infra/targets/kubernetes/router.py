"""The router on Kubernetes (`llama-infra router`): ConfigMap, Deployment, Service, PDB (its PodMonitor:
`monitoring`).

With `spec.fallback` or scale to zero (`needed`), clients talk to the router's Service `<name>-router` (the entry
point); it proxies to the primary Service `<name>` and, with a fallback, overflows normal/low-priority requests to
`<name>-fallback` while the primary's queue is over `fallback.when_queue_depth_over`. Its last-request gauge is the
wake-up signal of a service scaled to zero (`metrics.recent_request_query`).

Queue depth: each backend's `metrics_url` is Prometheus' `/federate` endpoint filtered to that service's waiting
gauge, so the router reads the queue summed over *all* of the service's pods (the number KEDA scales on), not the
one pod a Service connection happens to reach. When Prometheus does not answer, the router falls back to its own
in-flight count per backend (`RouterConfig.metrics_stale_after_seconds`).

Image: `eks.router_image` (built from docker/router.Dockerfile, required by the spec rules wherever the router is
deployed) runs `llama-infra router` directly; nothing is installed from a package index at start.

Authentication: the router answers 401 without one of the client keys of the Secret `eks.api_keys_secret` (default
`<name>-api-keys`, key `keys`, one per line; the priority keys are let in too), mounted as a file; client
credentials are not forwarded. The model servers require the key of `eks.backend_api_key_secret` (default
`<name>-backend-api-key`, key `key`; vLLM `--api-key`, TGI `API_KEY`), which only the router sends, and a
NetworkPolicy admits only the router's pods (and Prometheus, to scrape) to their port.

Wake wait: where the service scales to zero the router holds a request while the primary refuses connections, up
to the wake-up high estimate (`capacity_timeline.wake_up_s`, at most `MAX_WAKE_WAIT_SECONDS`), instead of
answering 503 at once (`RouterConfig.wake_wait_seconds`).

Drain: the pod's `/health` turns 503 on SIGTERM; preStop sleeps first so the endpoints controller removes the pod
from the Service before the router stops accepting, then the router finishes open streams within
`drain_timeout_seconds`, inside `terminationGracePeriodSeconds`. A request held for a waking backend is answered
503 + Retry-After at once on SIGTERM (the client retries through another router pod), so the wake wait never
stretches a drain and needs no longer grace period. Liveness is a TCP check, so a draining router (503 on /health)
is not restarted.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING
from urllib.parse import quote

from llama_infra.capacity_plan import scales_to_zero
from llama_infra.capacity_timeline import wake_up_s
from llama_infra.targets.kubernetes import fallback, labels, server
from llama_infra.targets.kubernetes.prometheus_metrics import SERVICE_LABEL_PROM, server_metrics
from llama_infra.targets.kubernetes.workload import namespace_of

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec

PORT = 8080
PORT_NAME = "http"
REPLICAS = 2
CONFIG_DIR = "/etc/llama-infra"
CONFIG_FILE = "router.yaml"
PRIORITY_KEYS_DIR = "/etc/llama-infra/priority"
PRIORITY_KEYS_KEY = "keys"  # key inside the Secret named by fallback.priority_api_keys_secret: one API key per line
API_KEYS_DIR = "/etc/llama-infra/clients"
API_KEYS_KEY = "keys"  # key inside the Secret named by eks.api_keys_secret: one client API key per line
BACKEND_KEY_DIR = "/etc/llama-infra/backend"
# Prometheus pods that may scrape the model servers through the NetworkPolicy (kube-prometheus-stack's label).
PROMETHEUS_POD_LABELS = {"app.kubernetes.io/name": "prometheus"}
PRE_STOP_SLEEP_SECONDS = 5
DRAIN_TIMEOUT_SECONDS = server.TERMINATION_GRACE_SECONDS  # as long as a model replica takes to drain its streams
TERMINATION_GRACE_SECONDS = PRE_STOP_SLEEP_SECONDS + DRAIN_TIMEOUT_SECONDS + 10
# Holding longer than clients wait helps nobody (the OpenAI SDKs time out after 600 s by default); a wake-up slower
# than this is answered 503 + Retry-After, as without a wait.
MAX_WAKE_WAIT_SECONDS = 600
RUN_AS = 65532
SECURITY = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "runAsUser": RUN_AS,
    "runAsGroup": RUN_AS,
    "readOnlyRootFilesystem": True,
}


def name_of(spec: DeploymentSpec) -> str:
    return f"{spec.name}-router"


def _meta(spec: DeploymentSpec, name: str) -> dict:
    return {
        "name": name,
        "namespace": namespace_of(spec),
        "labels": {
            labels.INSTANCE_LABEL: name_of(spec),
            labels.NAME_LABEL: "llama-infra-router",
            **labels.common(spec),
        },
    }


def _pod_labels(spec: DeploymentSpec) -> dict[str, str]:
    return {labels.NAME_LABEL: "llama-infra-router", labels.INSTANCE_LABEL: name_of(spec), **labels.MANAGED_BY}


def service_url(spec: DeploymentSpec, service_name: str) -> str:
    return f"http://{service_name}.{namespace_of(spec)}.svc.cluster.local"


def federate_url(spec: DeploymentSpec, instance: str) -> str:
    """Prometheus' federation endpoint returning the waiting and running gauges of every pod of one service
    (exposition text): the waiting sum is the queue depth; the running sum tells the router how many requests the
    service runs at once, for its in-flight estimate while Prometheus does not answer."""
    assert spec.eks is not None
    framework = spec.model.framework
    series = (server_metrics(framework).queue_depth, server_metrics(framework).running)
    matches = "&".join(
        "match[]="
        + quote(f'{{__name__="{name}",namespace="{namespace_of(spec)}",{SERVICE_LABEL_PROM}="{instance}"}}', safe="")
        for name in series
    )
    return f"{spec.eks.prometheus_url.rstrip('/')}/federate?{matches}"


def api_keys_secret(spec: DeploymentSpec) -> str:
    assert spec.eks is not None
    return spec.eks.api_keys_secret or f"{spec.name}-api-keys"


def needed(spec: DeploymentSpec) -> bool:
    """The router is the entry point with a fallback (overflow) and wherever the service may run no replica (its
    last-request gauge is the only wake-up signal then, and it answers 503 + Retry-After while the first starts)."""
    return spec.target == "eks" and (spec.fallback is not None or scales_to_zero(spec))


def router_config(spec: DeploymentSpec) -> dict:
    """The RouterConfig fields (as plain data) the router pods read from the ConfigMap."""
    assert needed(spec), "the router is deployed only for specs with a fallback or scale to zero"
    framework = spec.model.framework
    config: dict = {
        "primary": {
            "url": service_url(spec, spec.name),
            "metrics_url": federate_url(spec, spec.name),
            "queue_metric": framework,
        },
        "drain_timeout_seconds": DRAIN_TIMEOUT_SECONDS,
        "require_api_key": True,
        "api_keys_file": f"{API_KEYS_DIR}/{API_KEYS_KEY}",
        "backend_api_key_file": f"{BACKEND_KEY_DIR}/{server.BACKEND_API_KEY_KEY}",
        "wake_wait_seconds": wake_wait_seconds(spec),
        "host": "0.0.0.0",
        "port": PORT,
    }
    fb = spec.fallback
    if fb is not None:
        config["fallback"] = {
            "url": service_url(spec, fallback.name_of(spec)),
            "metrics_url": federate_url(spec, fallback.name_of(spec)),
            "queue_metric": framework,
            "model_id": fb.model_id,
            "precision": fb.precision,
            "when_queue_depth_over": fb.when_queue_depth_over,
        }
        if fb.priority_api_keys_secret:
            config["priority_api_keys_file"] = f"{PRIORITY_KEYS_DIR}/{PRIORITY_KEYS_KEY}"
    return config


def wake_wait_seconds(spec: DeploymentSpec) -> int:
    """How long the router holds a request while the primary has no replica: the wake-up high estimate (a node plus
    the cold start), capped at MAX_WAKE_WAIT_SECONDS, where the service scales to zero; 0 (503 at once) elsewhere."""
    if not scales_to_zero(spec):
        return 0
    return min(math.ceil(wake_up_s(spec)[1]), MAX_WAKE_WAIT_SECONDS)


def config_map(spec: DeploymentSpec) -> dict:
    """RouterConfig as YAML (written as JSON, which is YAML too) for `llama-infra router --config`."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(spec, f"{name_of(spec)}-config"),
        "data": {CONFIG_FILE: json.dumps(router_config(spec), indent=2)},
    }


def _command(spec: DeploymentSpec) -> tuple[str, list[str]]:
    """(image, command) of the router container."""
    assert spec.eks is not None
    # The spec rules require router_image wherever the router is deployed (`rules._eks_router_image`).
    assert spec.eks.router_image, "eks.router_image is required where the router is deployed"
    return spec.eks.router_image, ["llama-infra", "router", "--config", f"{CONFIG_DIR}/{CONFIG_FILE}"]


def _startup_probe(spec: DeploymentSpec) -> dict:
    return {"httpGet": {"path": "/health", "port": PORT_NAME}, "periodSeconds": 5, "failureThreshold": 6}


def deployment(spec: DeploymentSpec) -> dict:
    fb = spec.fallback
    image, command = _command(spec)
    volumes: list[dict] = [
        {"name": "config", "configMap": {"name": f"{name_of(spec)}-config"}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}},
    ]
    mounts = [{"name": "config", "mountPath": CONFIG_DIR, "readOnly": True}, {"name": "tmp", "mountPath": "/tmp"}]
    backend_secret = server.api_key_secret(spec)
    assert backend_secret is not None  # the router is deployed exactly where the servers require a key
    for volume, secret, key, directory in (
        ("client-keys", api_keys_secret(spec), API_KEYS_KEY, API_KEYS_DIR),
        ("backend-key", backend_secret, server.BACKEND_API_KEY_KEY, BACKEND_KEY_DIR),
    ):
        volumes.append(
            {
                "name": volume,
                "secret": {"secretName": secret, "defaultMode": 0o440, "items": [{"key": key, "path": key}]},
            }
        )
        mounts.append({"name": volume, "mountPath": directory, "readOnly": True})
    if fb is not None and fb.priority_api_keys_secret:
        volumes.append(
            {
                "name": "priority-keys",
                "secret": {
                    "secretName": fb.priority_api_keys_secret,
                    "defaultMode": 0o440,
                    "items": [{"key": PRIORITY_KEYS_KEY, "path": PRIORITY_KEYS_KEY}],
                },
            }
        )
        mounts.append({"name": "priority-keys", "mountPath": PRIORITY_KEYS_DIR, "readOnly": True})
    container = {
        "name": "router",
        "image": image,
        "command": command,
        "env": [{"name": "HOME", "value": "/tmp"}, {"name": "PYTHONUNBUFFERED", "value": "1"}],
        "ports": [{"name": PORT_NAME, "containerPort": PORT, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "500m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
        "startupProbe": _startup_probe(spec),
        "readinessProbe": {
            "httpGet": {"path": "/health", "port": PORT_NAME},
            "periodSeconds": 2,
            "failureThreshold": 2,
            "timeoutSeconds": 2,
        },
        "livenessProbe": {"tcpSocket": {"port": PORT_NAME}, "periodSeconds": 10, "failureThreshold": 3},
        "securityContext": dict(SECURITY),
        "lifecycle": {"preStop": {"exec": {"command": ["sleep", str(PRE_STOP_SLEEP_SECONDS)]}}},
        "volumeMounts": mounts,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(spec, name_of(spec)),
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": {labels.INSTANCE_LABEL: name_of(spec)}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": _pod_labels(spec)},  # scraped through llama_infra.targets.kubernetes.monitoring
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}, "fsGroup": RUN_AS},
                    "terminationGracePeriodSeconds": TERMINATION_GRACE_SECONDS,
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": labels.ZONE,
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": {labels.INSTANCE_LABEL: name_of(spec)}},
                        }
                    ],
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }


def service(spec: DeploymentSpec) -> dict:
    """The entry point clients use when the router is deployed."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(spec, name_of(spec)),
        "spec": {
            "type": "ClusterIP",
            "selector": {labels.INSTANCE_LABEL: name_of(spec)},
            "ports": [{"name": "http", "port": 80, "targetPort": PORT_NAME, "protocol": "TCP"}],
        },
    }


def pod_disruption_budget(spec: DeploymentSpec) -> dict:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(spec, name_of(spec)),
        "spec": {
            "minAvailable": 1,
            "selector": {"matchLabels": {labels.INSTANCE_LABEL: name_of(spec)}},
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
    }


def network_policy(spec: DeploymentSpec) -> dict:
    """Only the router's pods reach the model servers (primary and fallback) — and Prometheus, which scrapes their
    /metrics on the same port (the API there still needs the backend key). Kubelet probes come from the node and
    are not subject to it on the VPC CNI's network policy agent."""
    servers = [spec.name, *([fallback.name_of(spec)] if spec.fallback is not None else [])]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(spec, f"{spec.name}-servers"),
        "spec": {
            "podSelector": {"matchExpressions": [{"key": labels.INSTANCE_LABEL, "operator": "In", "values": servers}]},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [{"podSelector": {"matchLabels": {labels.INSTANCE_LABEL: name_of(spec)}}}],
                    "ports": [{"port": server.PORT_NAME, "protocol": "TCP"}],
                },
                {
                    "from": [{"namespaceSelector": {}, "podSelector": {"matchLabels": dict(PROMETHEUS_POD_LABELS)}}],
                    "ports": [{"port": server.PORT_NAME, "protocol": "TCP"}],
                },
            ],
        },
    }


def objects(spec: DeploymentSpec) -> list[dict]:
    """Every router object; empty unless `needed`."""
    if not needed(spec):
        return []
    return [config_map(spec), deployment(spec), service(spec), pod_disruption_budget(spec), network_policy(spec)]
