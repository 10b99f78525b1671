"""How the Pulumi providers name a resource that has no explicit name: the physical name `pulumi up` would create.

pulumi-aws gives every resource with a `name` input `<logical name>-<7 random hex>` and refuses (at preview) a
logical name for which that is longer than the resource's maximum: 255 by default, or the override the provider
declares for the resource. pulumi-aws-native does the same with the CloudFormation schema's `maxLength`, but
shortens the random suffix (down to one character) before it refuses. Sources, as read:

- pulumi/pulumi-aws `provider/autonaming.go` (commit 0c5f6583): `setAutonaming` — every resource whose Terraform
  schema has an input (optional or required) `name` gets `tfbridge.AutoName("name", 255, "-")`.
- pulumi/pulumi-aws `provider/resources.go` (commit 00ba5ea5): the per-resource overrides below
  (`tfbridge.AutoName(<property>, <max>, "-")`, or `AutoNameWithCustomOptions` with `Maxlen`, `Randlen: 7`).
- pulumi/pulumi-aws-native `provider/pkg/autonaming/application.go` (commit 178c614a): `getDefaultName`, and the
  `maxLength` of `InferenceComponentName` in CloudFormation's AWS::SageMaker::InferenceComponent schema.

The provider's maximum is only the first limit: the API behind the resource has its own (an EventTarget's id may be
255 characters for pulumi-aws and 64 for EventBridge). `llama_infra.contracts.aws_api` checks those.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

RANDOM_HEX_CHARS = 7
SEPARATOR = "-"
DEFAULT_MAX_LENGTH = 255  # pulumi-aws setAutonaming(255, "-")


@dataclass(frozen=True)
class AutoName:
    """Which input a provider fills in when it is absent, and how long the provider lets it be."""

    property: str
    max_length: int
    source: str
    shrinks_suffix: bool = False  # aws-native: shorten the random suffix before refusing
    fifo_suffix: bool = False  # SQS: `.fifo` appended to a FIFO queue's generated name


_AWS_DEFAULT = "pulumi-aws provider/autonaming.go setAutonaming (default for a `name` input)"
_AWS_OVERRIDE = "pulumi-aws provider/resources.go override"

AUTONAMED: dict[str, AutoName] = {
    # per-resource overrides (resources.go)
    "aws:iam/role:Role": AutoName("name", 64, _AWS_OVERRIDE),
    "aws:cloudwatch/eventRule:EventRule": AutoName("name", 64, _AWS_OVERRIDE),
    "aws:cloudwatch/eventTarget:EventTarget": AutoName("targetId", 255, _AWS_OVERRIDE),
    "aws:cloudwatch/metricAlarm:MetricAlarm": AutoName("name", 255, _AWS_OVERRIDE),
    "aws:lambda/function:Function": AutoName("name", 64, _AWS_OVERRIDE),
    "aws:sqs/queue:Queue": AutoName("name", 80, _AWS_OVERRIDE, fifo_suffix=True),
    "aws:eks/nodeGroup:NodeGroup": AutoName("nodeGroupName", 255, _AWS_OVERRIDE),
    # resources with a `name` input and no override (autonaming.go default)
    "aws:iam/rolePolicy:RolePolicy": AutoName("name", DEFAULT_MAX_LENGTH, _AWS_DEFAULT),
    "aws:sagemaker/model:Model": AutoName("name", DEFAULT_MAX_LENGTH, _AWS_DEFAULT),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": AutoName("name", DEFAULT_MAX_LENGTH, _AWS_DEFAULT),
    "aws:sagemaker/endpoint:Endpoint": AutoName("name", DEFAULT_MAX_LENGTH, _AWS_DEFAULT),
    "aws:appautoscaling/policy:Policy": AutoName("name", DEFAULT_MAX_LENGTH, _AWS_DEFAULT),
    "aws:appautoscaling/scheduledAction:ScheduledAction": AutoName("name", DEFAULT_MAX_LENGTH, _AWS_DEFAULT),
    "aws:cloudwatch/logGroup:LogGroup": AutoName("name", DEFAULT_MAX_LENGTH, _AWS_DEFAULT),
    "aws:scheduler/schedule:Schedule": AutoName("name", DEFAULT_MAX_LENGTH, _AWS_DEFAULT),
    "aws:ec2/launchTemplate:LaunchTemplate": AutoName("name", DEFAULT_MAX_LENGTH, _AWS_DEFAULT),
    "aws:eks/cluster:Cluster": AutoName("name", DEFAULT_MAX_LENGTH, _AWS_DEFAULT),
    "aws:ssm/parameter:Parameter": AutoName("name", DEFAULT_MAX_LENGTH, _AWS_DEFAULT),
    # pulumi-aws-native: maxLength from the CloudFormation schema, suffix shrinks first
    "aws-native:sagemaker:InferenceComponent": AutoName(
        "inferenceComponentName",
        63,
        "pulumi-aws-native autonaming/application.go + CloudFormation "
        "AWS::SageMaker::InferenceComponent InferenceComponentName maxLength",
        shrinks_suffix=True,
    ),
}


class AutoNameError(ValueError):
    """The provider would refuse to autoname: the logical name leaves no room for the random suffix."""

    def __init__(self, rule: AutoName, logical_name: str, length: int):
        self.rule, self.logical_name, self.length = rule, logical_name, length
        super().__init__(
            f"{rule.property}: the provider autonames it '{logical_name}{SEPARATOR}' + "
            f"{RANDOM_HEX_CHARS} random hex characters = {length} characters; it allows at most "
            f"{rule.max_length} ({rule.source})"
        )


def random_hex(seed: Any) -> str:
    """The 7 'random' hex characters, deterministic here (a digest of `seed`) so that runs repeat."""
    return hashlib.sha256(json.dumps(seed, sort_keys=True, default=str).encode()).hexdigest()[:RANDOM_HEX_CHARS]


def physical_name(
    type_token: str, logical_name: str, inputs: dict[str, Any], seed: Any = None
) -> tuple[str, str] | None:
    """(property, value) the provider fills in for this resource, or None when it names nothing (or the input is
    set). Raises AutoNameError where the provider itself would refuse."""
    rule = AUTONAMED.get(type_token)
    if rule is None or _present(inputs.get(rule.property)):
        return None
    prefix = logical_name + SEPARATOR
    suffix = random_hex(seed if seed is not None else [type_token, logical_name])
    if rule.shrinks_suffix:
        room = rule.max_length - len(prefix) - 1  # aws-native keeps at least one random character
        if room <= 0:
            raise AutoNameError(rule, logical_name, len(prefix) + 1)
        return rule.property, prefix + suffix[: min(RANDOM_HEX_CHARS, room)]
    name = prefix + suffix
    if len(name) > rule.max_length:
        raise AutoNameError(rule, logical_name, len(name))
    fifo = rule.fifo_suffix and inputs.get("fifoQueue") is True
    return rule.property, name + (".fifo" if fifo else "")


def _present(value: Any) -> bool:
    return value is not None and value != ""
