"""CloudWatch alarms of the endpoint: P99 latency, 5xx errors and a queue that autoscaling no longer absorbs.

The latency and error alarms also guard deployments: the endpoint's blue/green update rolls back when either
fires during the bake time. Thresholds come from the spec (`slo.ttft_p99_ms`) and the targets target tracking runs
(`autoscaling.queue_target_value`: the queue alarm is relative to the highest configuration's, so a window whose
replicas run fuller by design does not page).
Namespace and dimensions come from `EndpointMetrics` (`llama_infra/targets/sagemaker/cloudwatch_metrics.py`): the
variant's
`EndpointName, VariantName` on a classic endpoint, `InferenceComponentName` on a scale-to-zero endpoint, whose
queue alarm watches requests per copy instead of per model. Each alarm's statistic must be one AWS documents for its
metric (`Metric.accepts`): the queue alarm reads `EndpointMetrics.queue_statistic`, Maximum, since AWS lists only
Min and Max for ConcurrentRequestsPerModel/-PerCopy — it fires when the busiest model (copy) stays above twice
the scaling target in every minute of five.

`first_occurrence_alarm` is the one shape of the alarms that count events (Sum ≥ 1 in a period): the downsizing
workflow's failed-switch and function-error alarms and the scale-to-zero wake-up use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import pulumi
    import pulumi_aws as aws

    from llama_infra.spec import DeploymentSpec
    from llama_infra.targets.sagemaker.cloudwatch_metrics import EndpointMetrics

QUEUE_ALARM_FACTOR = 2  # alarm when the busiest model stays above twice the scaling target: scaling is not keeping up
ERRORS_5XX_PER_MINUTE = 5


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm's numbers (pure; the plan and the tests read these)."""

    role: str
    metric_name: str
    threshold: float
    period_s: int
    evaluation_periods: int
    description: str
    statistic: str | None = None
    extended_statistic: str | None = None
    guards_deployment: bool = False


def alarm_specs(spec: DeploymentSpec, metrics: EndpointMetrics) -> list[AlarmSpec]:
    """The endpoint's alarms; refuses one whose statistic AWS does not document for its metric."""
    from llama_infra.targets.sagemaker.components.autoscaling import queue_target_value

    unit = "copy" if metrics.on_inference_component else "model"
    queue_target = max(queue_target_value(spec, w) for w in (None, *(s.name for s in spec.schedules)))
    specs = [
        AlarmSpec(
            "p99-latency",
            "ModelLatency",
            spec.slo.ttft_p99_ms * 1000,
            60,
            3,
            f"P99 ModelLatency above the {spec.slo.ttft_p99_ms:g} ms SLO for 3 minutes (metric in µs)",
            extended_statistic="p99",
            guards_deployment=True,
        ),
        AlarmSpec(
            "5xx-errors",
            "Invocation5XXErrors",
            ERRORS_5XX_PER_MINUTE,
            60,
            2,
            f"{ERRORS_5XX_PER_MINUTE} or more 5xx responses a minute for 2 minutes",
            statistic="Sum",
            guards_deployment=True,
        ),
        AlarmSpec(
            "queue-depth",
            metrics.queue_metric_name,
            queue_target * QUEUE_ALARM_FACTOR,
            60,
            5,
            f"concurrent requests per {unit} ({metrics.queue_statistic} a minute) above "
            f"{QUEUE_ALARM_FACTOR}× the scaling target ({queue_target:g}) for 5 minutes: "
            "at max replicas or scaling too slowly",
            statistic=metrics.queue_statistic,
        ),
    ]
    for a in specs:
        stat = a.statistic or a.extended_statistic or ""
        metric = metrics.metric(a.metric_name)
        if not metric.accepts(stat):
            raise ValueError(
                f"alarm '{a.role}': AWS documents no '{stat}' statistic for {a.metric_name} "
                f"(valid: {', '.join(sorted(metric.valid_statistics or ()))})"
            )
    return specs


def endpoint_alarms(
    name: str, spec: DeploymentSpec, metrics: EndpointMetrics, *, parent: pulumi.Resource
) -> dict[str, aws.cloudwatch.MetricAlarm]:
    """One MetricAlarm per `AlarmSpec`, named `<endpoint>-<role>` so the endpoint can reference them before it
    exists (its deployment config names the alarms that roll a deployment back)."""
    import pulumi
    import pulumi_aws as aws

    topic = spec.sagemaker_settings.alarm_topic_arn
    alarms = {}
    for a in alarm_specs(spec, metrics):
        metric = metrics.metric(a.metric_name)
        alarms[a.role] = aws.cloudwatch.MetricAlarm(
            f"{name}-{a.role}-alarm",
            name=f"{metrics.endpoint_name}-{a.role}",
            alarm_description=a.description,
            namespace=metric.namespace,
            metric_name=metric.name,
            dimensions=metric.dimension_map,
            statistic=a.statistic,
            extended_statistic=a.extended_statistic,
            period=a.period_s,
            evaluation_periods=a.evaluation_periods,
            threshold=a.threshold,
            comparison_operator="GreaterThanOrEqualToThreshold" if a.role == "5xx-errors" else "GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[topic] if topic else None,
            ok_actions=[topic] if topic else None,
            region=spec.region,
            tags=spec.tags,
            opts=pulumi.ResourceOptions(parent=parent),
        )
    return alarms


FIRST_OCCURRENCE_PERIOD_S = 300


def first_occurrence_alarm(
    logical_name: str,
    *,
    description: str,
    namespace: str,
    metric_name: str,
    dimensions: pulumi.Input[Mapping[str, pulumi.Input[str]]],
    actions: Sequence[pulumi.Input[str]] | None,
    spec: DeploymentSpec,
    opts: pulumi.ResourceOptions,
    name: pulumi.Input[str] | None = None,
    period_s: int = FIRST_OCCURRENCE_PERIOD_S,
    datapoints_to_alarm: int | None = None,
) -> aws.cloudwatch.MetricAlarm:
    """An alarm on the first occurrence of a count metric: Sum of one `period_s` period ≥ 1, no data is no breach.

    The shape of every alarm that counts events rather than levels: a downsizing switch that did not converge, the
    downsizing function's own errors, a request that found no copy of a scaled-to-zero model (the wake-up)."""
    import pulumi_aws as aws

    return aws.cloudwatch.MetricAlarm(
        logical_name,
        name=name,
        alarm_description=description,
        namespace=namespace,
        metric_name=metric_name,
        dimensions=dimensions,
        statistic="Sum",
        period=period_s,
        evaluation_periods=1,
        datapoints_to_alarm=datapoints_to_alarm,
        threshold=1,
        comparison_operator="GreaterThanOrEqualToThreshold",
        treat_missing_data="notBreaching",
        alarm_actions=actions,
        region=spec.region,
        tags=spec.tags,
        opts=opts,
    )
