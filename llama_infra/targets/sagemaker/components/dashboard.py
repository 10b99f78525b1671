"""The endpoint's CloudWatch dashboard: traffic, latency, queue, instances, GPU use (pure body + resource).

Every metric's namespace and dimensions come from `EndpointMetrics`
(`llama_infra/targets/sagemaker/cloudwatch_metrics.py`).
A classic endpoint shows its variant's invocations and instances. A scale-to-zero endpoint shows the inference
component's invocations (with the wake-up signal, NoCapacityInvocationFailures), requests per copy, utilisation
per copy (`/aws/sagemaker/InferenceComponents`) and, in one more widget, its instances' GPU reservation and use.
Statistics are ones AWS documents for each metric (`Metric.accepts`); the queue signal's is `queue_statistic`
(Maximum: AWS lists only Min and Max for it).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pulumi
    import pulumi_aws as aws

    from llama_infra.spec import DeploymentSpec
    from llama_infra.targets.sagemaker.cloudwatch_metrics import EndpointMetrics


def dashboard_url(region: str, dashboard_name: str) -> str:
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name={dashboard_name}"


def dashboard_body(region: str, metrics: EndpointMetrics, queue_target: float) -> dict:
    def widget(title: str, rows: list, x: int, y: int, annotations: dict | None = None) -> dict:
        props = {
            "title": title,
            "region": region,
            "view": "timeSeries",
            "stacked": False,
            "period": 60,
            "metrics": rows,
        }
        if annotations:
            props["annotations"] = annotations
        return {"type": "metric", "x": x, "y": y, "width": 12, "height": 6, "properties": props}

    def row(name: str, stat: str | None = None) -> list:
        metric = metrics.metric(name)
        if stat and not metric.accepts(stat):
            raise ValueError(f"dashboard: AWS documents no '{stat}' statistic for {name}")
        return metric.dashboard_row({"stat": stat} if stat else None)

    ic = metrics.on_inference_component
    traffic = [row("Invocations", "Sum"), row("Invocation4XXErrors", "Sum"), row("Invocation5XXErrors", "Sum")]
    if ic:
        traffic.append(row("NoCapacityInvocationFailures", "Sum"))  # requests that found no copy: the wake-ups
    widgets = [
        widget("Invocations and errors", traffic, 0, 0),
        widget("Model latency (µs)", [row("ModelLatency", p) for p in ("p50", "p95", "p99")], 12, 0),
        widget(
            f"Concurrent requests per {'copy' if ic else 'model'} (scaling signal)",
            [row(metrics.queue_metric_name, metrics.queue_statistic)],
            0,
            6,
            {"horizontal": [{"label": "target", "value": queue_target}]},
        ),
    ]
    if not ic:
        widgets += [
            widget("CPU and memory utilisation (%)", [row("CPUUtilization"), row("MemoryUtilization")], 12, 6),
            widget(
                "GPU and GPU memory utilisation (% × GPUs)", [row("GPUUtilization"), row("GPUMemoryUtilization")], 0, 12
            ),
        ]
    else:
        instance = metrics.instance_metric
        widgets += [
            widget(
                "CPU and memory utilisation per copy (%)",
                [row("CPUUtilizationNormalized"), row("MemoryUtilizationNormalized")],
                12,
                6,
            ),
            widget(
                "GPU and GPU memory utilisation per copy (%)",
                [row("GPUUtilizationNormalized"), row("GPUMemoryUtilizationNormalized")],
                0,
                12,
            ),
            widget(
                "Instances: GPUs reserved and used (%)",
                [
                    instance(n).dashboard_row()
                    for n in ("GPUReservation", "GPUUtilizationNormalized", "GPUMemoryUtilizationNormalized")
                ],
                12,
                12,
            ),
        ]
    return {"widgets": widgets}


def endpoint_dashboard(
    name: str, spec: DeploymentSpec, metrics: EndpointMetrics, *, parent: pulumi.Resource
) -> aws.cloudwatch.Dashboard:
    import pulumi
    import pulumi_aws as aws

    from llama_infra.targets.sagemaker.components.autoscaling import queue_target_value

    body = dashboard_body(spec.region, metrics, queue_target_value(spec))  # the day's target-tracking target
    return aws.cloudwatch.Dashboard(
        f"{name}-dashboard",
        dashboard_name=metrics.endpoint_name,
        dashboard_body=json.dumps(body),
        region=spec.region,
        opts=pulumi.ResourceOptions(parent=parent),
    )
