"""A consumer stack: another team's Pulumi program that uses llama-infra's components as a library.

It builds a Llama endpoint from its own spec, reads the platform stack's outputs through a StackReference (the
on-call SNS topic and the application's IAM role), and passes the endpoint's outputs on: an alarm of its own on
server errors that pages the platform's topic, and an invoke-only policy for the application role.

    cd examples/consumer-stack && pulumi stack select dev && pulumi preview
"""

import json
from pathlib import Path

import pulumi
import pulumi_aws as aws

from llama_infra import SageMakerLlamaEndpoint, SageMakerLlamaEndpointArgs, load_spec

config = pulumi.Config()
stack = pulumi.get_stack()

# Another stack's outputs: the platform team owns paging and the application's role.
platform = pulumi.StackReference(config.require("networkStack"))
alarm_topic_arn = platform.require_output("alarmTopicArn")
app_role_name = platform.require_output("appRoleName")

# The component, built from a validated spec (a bad spec stops here with file, line, field and fix).
spec = load_spec(Path(__file__).parent / (config.get("spec") or "spec.yaml"))
chat = SageMakerLlamaEndpoint("chat", SageMakerLlamaEndpointArgs(spec, endpoint_name=f"chat-{stack}"))

# Outputs passed on: our own alarm on the endpoint's server errors, paging the platform's topic.
variant = spec.sagemaker_settings.variant_name
aws.cloudwatch.MetricAlarm(
    "chat-5xx",
    alarm_description=f"{spec.name}: the model container returns 5xx errors",
    namespace="AWS/SageMaker",
    metric_name="Invocation5XXErrors",
    dimensions={"EndpointName": chat.endpoint_name, "VariantName": variant},
    statistic="Sum",
    period=60,
    evaluation_periods=5,
    datapoints_to_alarm=3,
    threshold=config.get_int("errorsPerMinute") or 5,
    comparison_operator="GreaterThanOrEqualToThreshold",
    treat_missing_data="notBreaching",
    alarm_actions=[alarm_topic_arn],
    ok_actions=[alarm_topic_arn],
    tags=spec.tags,
)

# The application may invoke this endpoint and nothing else.
invoke_policy = aws.iam.Policy(
    "chat-invoke",
    description=f"Invoke the {spec.name} endpoint",
    policy=chat.endpoint_arn.apply(
        lambda arn: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
                        "Resource": arn,
                    }
                ],
            }
        )
    ),
    tags=spec.tags,
)
aws.iam.RolePolicyAttachment("chat-invoke-app", role=app_role_name, policy_arn=invoke_policy.arn)

pulumi.export("endpoint_name", chat.endpoint_name)
pulumi.export("endpoint_arn", chat.endpoint_arn)
pulumi.export("dashboard_url", chat.dashboard_url)
pulumi.export("invoke_policy_arn", invoke_policy.arn)
