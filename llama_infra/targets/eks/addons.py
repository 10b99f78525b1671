"""Helm values of the add-ons llama-infra installs (`eks.addons`), charts pinned in
`llama_infra.targets.kubernetes.images`."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from llama_infra.targets.kubernetes import labels
from llama_infra.targets.kubernetes.autoscaling import adapter_external_rules
from llama_infra.targets.kubernetes.images import CHARTS, HelmChart

if TYPE_CHECKING:
    from llama_infra.spec import DeploymentSpec

_GPU_NODES = {"tolerations": [dict(labels.GPU_TOLERATION)], "nodeSelector": {labels.GPU_PRESENT_LABEL: "true"}}


def selected(spec: DeploymentSpec) -> list[str]:
    assert spec.eks is not None
    a = spec.eks.addons
    wanted = {
        "keda": a.keda,
        "prometheus-adapter": a.prometheus_adapter,
        "nvidia-device-plugin": a.nvidia_device_plugin,
        "dcgm-exporter": a.dcgm_exporter,
    }
    return [k for k, on in wanted.items() if on and k not in spec.eks.preinstalled]


def values(spec: DeploymentSpec, addon: str) -> dict:
    assert spec.eks is not None
    if addon == "keda":
        return {}
    if addon == "prometheus-adapter":
        url = urlsplit(spec.eks.prometheus_url)
        return {
            "prometheus": {
                "url": f"{url.scheme}://{url.hostname}",
                "port": url.port or 9090,
                "path": url.path.rstrip("/"),
            },
            "rules": {"default": False, "external": adapter_external_rules(spec)},
        }
    if addon == "nvidia-device-plugin":
        # The chart's default affinity matches nvidia.com/gpu.present=true, which our GPU nodes carry.
        return {"tolerations": [dict(labels.GPU_TOLERATION), {"key": "CriticalAddonsOnly", "operator": "Exists"}]}
    if addon == "dcgm-exporter":
        # The chart's own ServiceMonitor, labelled for the same Prometheus selector as our PodMonitors (dashboards
        # only: GPU memory is not a load signal, see llama_infra.targets.kubernetes.prometheus_metrics); none with a
        # scrape-config Secret.
        scrape = spec.eks.scrape
        if scrape.via != "pod-monitor":
            return {**_GPU_NODES, "serviceMonitor": {"enabled": False}}
        return {**_GPU_NODES, "serviceMonitor": {"enabled": True, "additionalLabels": dict(scrape.monitor_labels)}}
    raise ValueError(f"unknown add-on {addon}")


def chart(addon: str) -> HelmChart:
    return CHARTS[addon]
