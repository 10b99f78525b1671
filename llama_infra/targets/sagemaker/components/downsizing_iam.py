"""Least-privilege IAM for the downsizing workflow (Lambda) and for EventBridge Scheduler. Pure: no Pulumi.

Every statement names only this endpoint's resources, except where AWS offers no narrower resource:
- `application-autoscaling:Describe*` take no resource type, so IAM requires `Resource: "*"`.
- The write actions on a scalable target authorise on its ARN, `scalable-target/<random id>`, which changes every
  time the workflow re-registers the target, and no condition key names the resource id: they are scoped to
  scalable targets of this account and region whose namespace is `sagemaker` and dimension the variant's
  instance count (condition keys `application-autoscaling:service-namespace` / `scalable-dimension`).
- `cloudwatch:PutMetricData` takes no resource type: `Resource: "*"`, limited by the `cloudwatch:namespace`
  condition to the workflow's own namespace.
- `cloudwatch:GetMetricStatistics` (where the predictive floor follows the load: the variant's `Invocations`) takes
  no resource type and no condition key: `Resource: "*"`; it reads metrics only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llama_infra.iam import assume_role_policy, policy
from llama_infra.iam import statement as _statement
from llama_infra.targets.sagemaker.downsizing.alarm import METRIC_NAMESPACE
from llama_infra.targets.sagemaker.downsizing.state import SERVICE_NAMESPACE, VARIANT_DIMENSION, variant_resource_id


@dataclass(frozen=True)
class WorkflowArns:
    """The ARNs the workflow touches (plain strings: resolve Pulumi outputs before building the document)."""

    endpoint_arn: str
    endpoint_config_arns: tuple[str, ...]
    function_arn: str
    log_group_arn: str
    variant_name: str
    in_force_parameter_arn: str
    alarm_topic_arn: str | None = None
    reads_load: bool = False  # the predictive floor follows the load: the reconciler reads `Invocations`

    @property
    def partition(self) -> str:
        return self.endpoint_arn.split(":")[1]

    @property
    def region(self) -> str:
        return self.endpoint_arn.split(":")[3]

    @property
    def account(self) -> str:
        return self.endpoint_arn.split(":")[4]


def workflow_policy(a: WorkflowArns, endpoint_name: str) -> dict[str, Any]:
    """The Lambda role's inline policy."""
    region_prefix = f"arn:{a.partition}:{{service}}:{a.region}:{a.account}"
    resource_id = variant_resource_id(endpoint_name, a.variant_name)
    statements = [
        _statement(
            "ReadAndSwitchThisEndpoint",
            ["sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpoint", "sagemaker:UpdateEndpointWeightsAndCapacities"],
            [a.endpoint_arn],
        ),
        # UpdateEndpoint authorises on the endpoint and on the configuration it switches to; Application Auto
        # Scaling reads the configuration when a SageMaker variant is registered.
        _statement(
            "UseTheseEndpointConfigs",
            ["sagemaker:UpdateEndpoint", "sagemaker:DescribeEndpointConfig"],
            sorted(a.endpoint_config_arns),
        ),
        _statement(
            "DescribeScaling",
            ["application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingPolicies"],
            "*",
        ),
        _statement(
            "ChangeVariantScaling",
            [
                "application-autoscaling:RegisterScalableTarget",
                "application-autoscaling:DeregisterScalableTarget",
                "application-autoscaling:PutScalingPolicy",
                "application-autoscaling:DeleteScalingPolicy",
            ],
            [region_prefix.format(service="application-autoscaling") + ":scalable-target/*"],
            {
                "StringEquals": {
                    "application-autoscaling:service-namespace": SERVICE_NAMESPACE,
                    "application-autoscaling:scalable-dimension": VARIANT_DIMENSION,
                }
            },
        ),
        # Target tracking policies create and delete their CloudWatch alarms, named after the resource id.
        _statement(
            "TargetTrackingAlarms",
            ["cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms"],
            [region_prefix.format(service="cloudwatch") + f":alarm:TargetTracking-{resource_id}-*"],
        ),
        _statement(
            "PublishFailureMetric",
            ["cloudwatch:PutMetricData"],
            "*",
            {"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}},
        ),
        _statement("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{a.log_group_arn}:*"]),
        # The record of the configuration in force: the window schedules write it, every tick reads it.
        _statement("ConfigurationInForce", ["ssm:GetParameter", "ssm:PutParameter"], [a.in_force_parameter_arn]),
    ]
    if a.reads_load:
        statements.append(_statement("ReadEndpointLoad", ["cloudwatch:GetMetricStatistics"], "*"))
    if a.alarm_topic_arn:
        statements.append(_statement("NotifyFailure", ["sns:Publish"], [a.alarm_topic_arn]))
    return {"Version": "2012-10-17", "Statement": statements}


def scheduler_policy(function_arn: str) -> dict[str, Any]:
    """EventBridge Scheduler's role: invoke this one function, nothing else."""
    return policy(_statement("InvokeDownsizingWorkflow", ["lambda:InvokeFunction"], [function_arn]))


__all__ = ["WorkflowArns", "assume_role_policy", "scheduler_policy", "workflow_policy"]
