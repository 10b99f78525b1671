"""Pinned container images and Helm charts: the one table that says which versions the EKS target runs.

Metric names in `llama_infra.targets.kubernetes.prometheus_metrics` and env/flag names in
`llama_infra.targets.kubernetes.server` are those of these versions;
bump them together.
"""

from __future__ import annotations

from dataclasses import dataclass

SERVER_IMAGES = {
    "vllm": "vllm/vllm-openai:v0.11.0",
    "tgi": "ghcr.io/huggingface/text-generation-inference:3.3.4",
}
# Copies weights from S3 to the pod's local volume (NVMe RAID0 when preloading) before the server starts.
WEIGHTS_SYNC_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.22.0"

# The router has no image here: the spec names one built from docker/router.Dockerfile (`eks.router_image`,
# required where the router is deployed), because nothing may be installed from a package index at pod start.


@dataclass(frozen=True)
class HelmChart:
    chart: str
    version: str
    repo: str
    namespace: str


CHARTS = {
    "keda": HelmChart("keda", "2.17.2", "https://kedacore.github.io/charts", "keda"),
    "prometheus-adapter": HelmChart(
        "prometheus-adapter", "4.11.0", "https://prometheus-community.github.io/helm-charts", "monitoring"
    ),
    "nvidia-device-plugin": HelmChart(
        "nvidia-device-plugin", "0.17.1", "https://nvidia.github.io/k8s-device-plugin", "kube-system"
    ),
    "dcgm-exporter": HelmChart(
        "dcgm-exporter", "3.6.1", "https://nvidia.github.io/dcgm-exporter/helm-charts", "monitoring"
    ),
}
