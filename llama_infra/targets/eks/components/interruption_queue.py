"""`KarpenterInterruptionQueue`: the SQS queue and EventBridge rules Karpenter drains nodes from.

Karpenter reads spot interruption warnings (2 minutes' notice), rebalance recommendations, instance state changes
and AWS Health scheduled changes from this queue and cordons + drains the node before EC2 reclaims it. Point
Karpenter's `settings.interruptionQueue` at `queue_name` (its controller role needs sqs:ReceiveMessage,
sqs:DeleteMessage, sqs:GetQueueUrl on `queue_arn`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from llama_infra import naming
from llama_infra.targets.eks.components._common import COMPONENT_PREFIX, child

# EventBridge patterns from Karpenter's own CloudFormation template (getting-started guide).
EVENT_PATTERNS: dict[str, dict] = {
    "scheduled-change": {"source": ["aws.health"], "detail-type": ["AWS Health Event"]},
    "spot-interruption": {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]},
    "rebalance": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]},
    "state-change": {"source": ["aws.ec2"], "detail-type": ["EC2 Instance State-change Notification"]},
}
MESSAGE_RETENTION_SECONDS = 300  # a notice older than 5 minutes is stale: the instance is already gone


@dataclass
class KarpenterInterruptionQueueArgs:
    """Inputs of `KarpenterInterruptionQueue`."""

    tags: dict[str, str] = field(default_factory=dict)


class KarpenterInterruptionQueue(pulumi.ComponentResource):
    """SQS queue + EventBridge rules that carry interruption notices to Karpenter."""

    queue_name: pulumi.Output[str]
    queue_arn: pulumi.Output[str]

    def __init__(self, name: str, args: KarpenterInterruptionQueueArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{COMPONENT_PREFIX}KarpenterInterruptionQueue", name, None, opts)
        queue = aws.sqs.Queue(
            naming.logical(naming.SQS_QUEUE, f"{name}-queue"),
            message_retention_seconds=MESSAGE_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
            tags=args.tags,
            opts=child(self),
        )
        aws.sqs.QueuePolicy(
            f"{name}-queue-policy",
            queue_url=queue.id,
            policy=queue.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "EventBridgeSends",
                                "Effect": "Allow",
                                "Action": "sqs:SendMessage",
                                "Resource": arn,
                                "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
                            },
                            {
                                "Sid": "DenyHTTP",
                                "Effect": "Deny",
                                "Action": "sqs:*",
                                "Resource": arn,
                                "Principal": "*",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            },
                        ],
                    }
                )
            ),
            opts=child(self),
        )
        self.rules = []
        for kind, pattern in EVENT_PATTERNS.items():
            rule = aws.cloudwatch.EventRule(
                naming.logical(naming.EVENT_RULE, f"{name}-{kind}"),
                event_pattern=json.dumps(pattern),
                tags=args.tags,
                opts=child(self),
            )
            # An explicit target id: autonamed, it is `<logical name>-<7 hex>`, which passes EventBridge's 64-character
            # limit on `Targets[].Id` only for very short component names. Ids are unique per rule: one each here.
            aws.cloudwatch.EventTarget(
                f"{name}-{kind}-target", rule=rule.name, arn=queue.arn, target_id=f"karpenter-{kind}", opts=child(self)
            )
            self.rules.append(rule)
        self.queue_name = queue.name
        self.queue_arn = queue.arn
        self.register_outputs({"queue_name": self.queue_name, "queue_arn": self.queue_arn})
