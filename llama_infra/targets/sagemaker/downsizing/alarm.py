"""Raising the alarm when a transition fails: a custom metric an alarm watches, and SNS when a topic is configured."""

from __future__ import annotations

import json
from typing import Any

METRIC_NAMESPACE = "llama-infra/Downsizing"
METRIC_NAME = "TransitionFailed"
METRIC_DIMENSION = "EndpointName"


def raise_alarm(
    cloudwatch: Any, sns: Any | None, topic_arn: str | None, endpoint_name: str, summary: dict[str, Any]
) -> list[str]:
    """Publish the failure; returns the problems met while publishing (an alarm must never hide the failure)."""
    problems = []
    try:
        cloudwatch.put_metric_data(
            Namespace=METRIC_NAMESPACE,
            MetricData=[
                {
                    "MetricName": METRIC_NAME,
                    "Value": 1.0,
                    "Unit": "Count",
                    "Dimensions": [{"Name": METRIC_DIMENSION, "Value": endpoint_name}],
                }
            ],
        )
    except Exception as e:  # noqa: BLE001 - report every publishing problem, keep going
        problems.append(f"put_metric_data: {e}")
    if sns is not None and topic_arn:
        try:
            sns.publish(
                TopicArn=topic_arn,
                Subject=f"llama-infra downsizing failed: {endpoint_name}"[:100],
                Message=json.dumps(summary, default=str, indent=2),
            )
        except Exception as e:  # noqa: BLE001
            problems.append(f"sns publish: {e}")
    return problems
