"""The endpoint's CloudWatch dashboard: traffic, latency, queue, instances, GPU use (pure body + resource)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pulumi
    import pulumi_aws as aws

    from llama_infra.spec import DeploymentSpec


def dashboard_url(region: str, dashboard_name: str) -> str:
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name={dashboard_name}"


def dashboard_body(region: str, endpoint_name: str, variant_name: str, queue_target: float) -> dict:
    dims = ["EndpointName", endpoint_name, "VariantName", variant_name]

    def widget(title: str, metrics: list, x: int, y: int, annotations: dict | None = None) -> dict:
        props = {"title": title, "region": region, "view": "timeSeries", "stacked": False, "period": 60,
                 "metrics": metrics}
        if annotations:
            props["annotations"] = annotations
        return {"type": "metric", "x": x, "y": y, "width": 12, "height": 6, "properties": props}

    sm, inst = "AWS/SageMaker", "/aws/sagemaker/Endpoints"
    return {"widgets": [
        widget("Invocations and errors", [[sm, "Invocations", *dims, {"stat": "Sum"}],
                                          [sm, "Invocation4XXErrors", *dims, {"stat": "Sum"}],
                                          [sm, "Invocation5XXErrors", *dims, {"stat": "Sum"}]], 0, 0),
        widget("Model latency (µs)", [[sm, "ModelLatency", *dims, {"stat": "p50"}],
                                      [sm, "ModelLatency", *dims, {"stat": "p95"}],
                                      [sm, "ModelLatency", *dims, {"stat": "p99"}]], 12, 0),
        widget("Concurrent requests per model (scaling signal)",
               [[sm, "ConcurrentRequestsPerModel", *dims, {"stat": "Average"}]], 0, 6,
               {"horizontal": [{"label": "target", "value": queue_target}]}),
        widget("CPU and memory utilisation (%)", [[inst, "CPUUtilization", *dims], [inst, "MemoryUtilization", *dims]],
               12, 6),
        widget("GPU and GPU memory utilisation (% × GPUs)", [[inst, "GPUUtilization", *dims],
                                                              [inst, "GPUMemoryUtilization", *dims]], 0, 12),
    ]}


def endpoint_dashboard(name: str, spec: DeploymentSpec, endpoint_name: str, *,
                       parent: pulumi.Resource) -> aws.cloudwatch.Dashboard:
    import pulumi
    import pulumi_aws as aws

    body = dashboard_body(spec.region, endpoint_name, spec.sagemaker_settings.variant_name,
                          spec.scaling.queue_depth_target)
    return aws.cloudwatch.Dashboard(
        f"{name}-dashboard",
        dashboard_name=endpoint_name,
        dashboard_body=json.dumps(body),
        region=spec.region,
        opts=pulumi.ResourceOptions(parent=parent),
    )
