"""How Prometheus finds the pods the autoscalers read: PodMonitors, or a scrape-config Secret.

`eks.scrape.via: pod-monitor` (default) renders one prometheus-operator `PodMonitor` (`monitoring.coreos.com/v1`)
per scraped service: the model servers (baseline, burst and window Deployments share the instance label), the
fallback model and the router. kube-prometheus-stack, the default `eks.prometheus_url`, selects monitors by label
(its chart's `podMonitorSelector` is `release: <its Helm release>` unless told otherwise), so each monitor carries
`eks.scrape.monitor_labels` (default `release: kube-prometheus-stack`). Neither `prometheus.io/*` annotations nor a
ConfigMap are read by it; pods are no longer annotated, so a Prometheus that also reads the annotations does not
scrape them twice (two series per pod would double every sum).

`eks.scrape.via: scrape-config-secret` (no operator selecting monitors) renders the same targets as plain Prometheus
`scrape_configs` in the Secret `<name>-scrape-configs`, key `scrape-configs.yaml`, in `eks.scrape.secret_namespace`:
reference it from the Prometheus resource's `additionalScrapeConfigs` (kube-prometheus-stack:
`prometheus.prometheusSpec.additionalScrapeConfigsSecret`), or mount it into a plain Prometheus and list it in
`scrape_config_files`.

Both give every sample the labels the queries select (`llama_infra.targets.kubernetes.prometheus_metrics.selector`):
`namespace` and
`app_kubernetes_io_instance` (the pod label `app.kubernetes.io/instance`, Prometheus-sanitised: `podTargetLabels`
on a PodMonitor, `labelmap` in the scrape config), and keep only the series llama-infra reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from llama_infra.targets.kubernetes import fallback, labels, router, server
from llama_infra.targets.kubernetes import prometheus_metrics as metrics
from llama_infra.targets.kubernetes.workload import namespace_of

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec

API_VERSION = "monitoring.coreos.com/v1"
SECRET_KEY = "scrape-configs.yaml"


@dataclass(frozen=True)
class ScrapeTarget:
    """The pods of one service Prometheus scrapes."""

    instance: str  # value of app.kubernetes.io/instance on its pods
    port_name: str
    path: str
    keep_regex: str | None  # metric names kept (None: all the router exports)


def targets(spec: DeploymentSpec) -> list[ScrapeTarget]:
    """The model servers, the fallback model (the router reads its queue) and the router (last request, per-backend
    queue: the wake-up signal of a service scaled to zero)."""
    m = metrics.server_metrics(spec.model.framework)
    out = [ScrapeTarget(spec.name, server.PORT_NAME, m.path, metrics.keep_regex(spec.model.framework))]
    if spec.fallback is not None:
        out.append(
            ScrapeTarget(fallback.name_of(spec), server.PORT_NAME, m.path, metrics.keep_regex(spec.model.framework))
        )
    if router.needed(spec):
        out.append(ScrapeTarget(router.name_of(spec), router.PORT_NAME, "/metrics", None))
    return out


def _keep(regex: str | None) -> list[dict]:
    return [] if regex is None else [{"sourceLabels": ["__name__"], "action": "keep", "regex": regex}]


def pod_monitor(spec: DeploymentSpec, target: ScrapeTarget) -> dict:
    assert spec.eks is not None
    endpoint: dict = {"port": target.port_name, "path": target.path}
    if target.keep_regex is not None:
        endpoint["metricRelabelings"] = _keep(target.keep_regex)
    return {
        "apiVersion": API_VERSION,
        "kind": "PodMonitor",
        "metadata": {
            "name": target.instance,
            "namespace": namespace_of(spec),
            "labels": {labels.INSTANCE_LABEL: target.instance, **labels.common(spec), **spec.eks.scrape.monitor_labels},
        },
        "spec": {
            "selector": {"matchLabels": {labels.INSTANCE_LABEL: target.instance}},
            "namespaceSelector": {"matchNames": [namespace_of(spec)]},
            "podTargetLabels": [labels.INSTANCE_LABEL],
            "podMetricsEndpoints": [endpoint],
        },
    }


def scrape_config(spec: DeploymentSpec, target: ScrapeTarget) -> dict:
    """A Prometheus `scrape_configs` entry for one target's pods."""
    ns = namespace_of(spec)
    pod_label = "__meta_kubernetes_pod_label_" + sanitize(labels.INSTANCE_LABEL)
    job: dict = {
        "job_name": metrics.scrape_job_name(ns, target.instance),
        "metrics_path": target.path,
        "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": [ns]}}],
        "relabel_configs": [
            {"source_labels": [pod_label], "action": "keep", "regex": target.instance},
            {
                "source_labels": ["__meta_kubernetes_pod_container_port_name"],
                "action": "keep",
                "regex": target.port_name,
            },
            # finished pods keep their IP for a while: never scrape (or count) them
            {"source_labels": ["__meta_kubernetes_pod_phase"], "action": "drop", "regex": "(Failed|Succeeded)"},
            {"action": "labelmap", "regex": "__meta_kubernetes_pod_label_(.+)"},
            {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
        ],
    }
    if target.keep_regex is not None:
        job["metric_relabel_configs"] = [{"source_labels": ["__name__"], "action": "keep", "regex": target.keep_regex}]
    return job


def scrape_config_secret(spec: DeploymentSpec) -> dict:
    """Every target's scrape job in one Secret for `additionalScrapeConfigs` (JSON, which is YAML too)."""
    assert spec.eks is not None
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": f"{spec.name}-scrape-configs",
            "namespace": spec.eks.scrape.secret_namespace,
            "labels": {labels.INSTANCE_LABEL: spec.name, **labels.common(spec)},
        },
        "stringData": {SECRET_KEY: json.dumps([scrape_config(spec, t) for t in targets(spec)], indent=2)},
    }


def objects(spec: DeploymentSpec) -> list[dict]:
    """The PodMonitors, or the scrape-config Secret (`eks.scrape.via`)."""
    assert spec.eks is not None
    if spec.eks.scrape.via == "scrape-config-secret":
        return [scrape_config_secret(spec)]
    return [pod_monitor(spec, t) for t in targets(spec)]


def sanitize(label: str) -> str:
    """Prometheus' Kubernetes SD label-name sanitising: every character outside [a-zA-Z0-9_] becomes '_'."""
    return "".join(c if c.isalnum() or c == "_" else "_" for c in label)
