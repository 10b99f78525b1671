"""Hold a recorded resource's inputs against the AWS API it maps to, using botocore's service models.

botocore ships the machine-readable model of every AWS API (the one the SDKs are generated from): for each
operation's input shape its members, which are required, string lengths and patterns, enums and numeric ranges.
`CONTRACTS` says, per Pulumi resource type, which operation input (or nested shape) its inputs fill and which
Pulumi property is which API member where the names differ; everything else is matched by name, ignoring case
(Pulumi's `containerStartupHealthCheckTimeoutInSeconds` is the API's `ContainerStartupHealthCheckTimeoutInSeconds`).

Only values the program itself wrote are checked: a Pulumi input that is unknown, or that depends on another
resource's outputs (an ARN or id the offline mocks invented), is skipped. A value whose shape differs from the API
(pulumi-aws's `tags` map for the API's list of tags) is skipped too: it is the provider's to translate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from llama_infra.contracts.placeholders import COMPUTED, UNKNOWN
from llama_infra.contracts.violation import Violation, shown


@dataclass(frozen=True)
class ShapeBinding:
    """Some of a resource's Pulumi inputs fill one botocore shape."""

    shape: str  # botocore shape name, e.g. "CreateEndpointConfigInput"
    renames: Mapping[str, str] = field(default_factory=dict)  # Pulumi property -> API member where names differ
    only: tuple[str, ...] = ()  # the Pulumi properties this binding covers (empty: all that match a member)
    required: bool = True  # check the shape's required members (False where the provider fills some in)


@dataclass(frozen=True)
class ApiContract:
    service: str  # botocore service name
    operation: str  # the API call `pulumi up` makes (for the message)
    bindings: tuple[ShapeBinding, ...]


def _one(
    service: str, operation: str, shape: str, renames: Mapping[str, str] | None = None, *, required: bool = True
) -> ApiContract:
    return ApiContract(service, operation, (ShapeBinding(shape, dict(renames or {}), required=required),))


# Pulumi type -> the AWS API call it makes on create.
CONTRACTS: dict[str, ApiContract] = {
    "aws:sagemaker/model:Model": _one("sagemaker", "CreateModel", "CreateModelInput", {"name": "ModelName"}),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": _one(
        "sagemaker", "CreateEndpointConfig", "CreateEndpointConfigInput", {"name": "EndpointConfigName"}
    ),
    "aws:sagemaker/endpoint:Endpoint": _one(
        "sagemaker", "CreateEndpoint", "CreateEndpointInput", {"name": "EndpointName"}
    ),
    "aws-native:sagemaker:InferenceComponent": _one(
        "sagemaker", "CreateInferenceComponent", "CreateInferenceComponentInput"
    ),
    "aws:appautoscaling/target:Target": _one(
        "application-autoscaling", "RegisterScalableTarget", "RegisterScalableTargetRequest"
    ),
    "aws:appautoscaling/policy:Policy": _one(
        "application-autoscaling", "PutScalingPolicy", "PutScalingPolicyRequest", {"name": "PolicyName"}
    ),
    "aws:appautoscaling/scheduledAction:ScheduledAction": _one(
        "application-autoscaling", "PutScheduledAction", "PutScheduledActionRequest", {"name": "ScheduledActionName"}
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _one(
        "cloudwatch", "PutMetricAlarm", "PutMetricAlarmInput", {"name": "AlarmName", "metricQueries": "Metrics"}
    ),
    "aws:cloudwatch/dashboard:Dashboard": _one("cloudwatch", "PutDashboard", "PutDashboardInput"),
    "aws:cloudwatch/logGroup:LogGroup": _one(
        "logs", "CreateLogGroup", "CreateLogGroupRequest", {"name": "logGroupName"}
    ),
    "aws:cloudwatch/eventRule:EventRule": _one("events", "PutRule", "PutRuleRequest"),
    "aws:cloudwatch/eventTarget:EventTarget": ApiContract(
        "events",
        "PutTargets",
        (
            ShapeBinding("PutTargetsRequest", only=("rule", "eventBusName"), required=False),
            ShapeBinding(
                "Target",
                {"targetId": "Id"},
                only=(
                    "targetId",
                    "arn",
                    "roleArn",
                    "input",
                    "inputPath",
                    "retryPolicy",
                    "deadLetterConfig",
                    "sqsTarget",
                ),
            ),
        ),
    ),
    "aws:scheduler/schedule:Schedule": _one("scheduler", "CreateSchedule", "CreateScheduleInput"),
    "aws:iam/role:Role": _one(
        "iam",
        "CreateRole",
        "CreateRoleRequest",
        {
            "name": "RoleName",
            "assumeRolePolicy": "AssumeRolePolicyDocument",
            "permissionsBoundary": "PermissionsBoundary",
        },
    ),
    "aws:iam/rolePolicy:RolePolicy": _one(
        "iam",
        "PutRolePolicy",
        "PutRolePolicyRequest",
        {"name": "PolicyName", "role": "RoleName", "policy": "PolicyDocument"},
    ),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _one(
        "iam", "AttachRolePolicy", "AttachRolePolicyRequest", {"role": "RoleName"}
    ),
    "aws:eks/cluster:Cluster": _one(
        "eks", "CreateCluster", "CreateClusterRequest", {"vpcConfig": "resourcesVpcConfig"}
    ),
    "aws:eks/nodeGroup:NodeGroup": _one(
        "eks",
        "CreateNodegroup",
        "CreateNodegroupRequest",
        {"nodeGroupName": "nodegroupName", "subnetIds": "subnets", "nodeRoleArn": "nodeRole"},
    ),
    "aws:eks/addon:Addon": _one("eks", "CreateAddon", "CreateAddonRequest"),
    "aws:eks/accessEntry:AccessEntry": _one("eks", "CreateAccessEntry", "CreateAccessEntryRequest"),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": _one(
        "eks", "CreatePodIdentityAssociation", "CreatePodIdentityAssociationRequest"
    ),
    "aws:ec2/launchTemplate:LaunchTemplate": ApiContract(
        "ec2",
        "CreateLaunchTemplate",
        (
            ShapeBinding(
                "CreateLaunchTemplateRequest",
                {"name": "LaunchTemplateName"},
                only=("name", "description"),
                required=False,
            ),
            ShapeBinding("RequestLaunchTemplateData", required=False),
        ),
    ),
    "aws:autoscaling/tag:Tag": ApiContract(
        "autoscaling",
        "CreateOrUpdateTags",
        (ShapeBinding("Tag", {"autoscalingGroupName": "ResourceId"}, only=("autoscalingGroupName",), required=False),),
    ),
    "aws:sqs/queue:Queue": _one("sqs", "CreateQueue", "CreateQueueRequest", {"name": "QueueName"}),
    # `insecureValue` and `value` (a secret) are two Pulumi inputs for the one API member; a missing one is
    # reported as the last of them, `value`
    "aws:ssm/parameter:Parameter": _one(
        "ssm", "PutParameter", "PutParameterRequest", {"insecureValue": "Value", "value": "Value"}
    ),
    "aws:sqs/queuePolicy:QueuePolicy": _one(
        "sqs", "SetQueueAttributes", "SetQueueAttributesRequest", {"queueUrl": "QueueUrl"}, required=False
    ),
    "aws:lambda/function:Function": _one(
        "lambda", "CreateFunction", "CreateFunctionRequest", {"name": "FunctionName", "code": "Code"}, required=False
    ),
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": _one(
        "lambda", "PutFunctionEventInvokeConfig", "PutFunctionEventInvokeConfigRequest"
    ),
}

# Members the provider fills in when the program leaves them out (so "required" does not apply to the program).
PROVIDER_DEFAULTS: dict[str, set[str]] = {
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": {"ProductionVariant.VariantName"},
    "aws:sagemaker/model:Model": {"CreateModelInput.ExecutionRoleArn"},  # optional for some containers since 2023
}

# Inputs the provider translates rather than passes (an empty `tags` map is never sent; `region` picks the endpoint).
PROVIDER_INPUTS = {"tags", "tagsAll", "region"}

UNEVALUATED_PATTERNS: set[str] = set()  # Java regexes Python's `re` cannot compile (reported, not guessed)


@cache
def _service(service: str) -> Any:
    return _session().get_service_model(service)


@cache
def _session() -> Any:
    import botocore.session

    return botocore.session.get_session()


@cache
def _pattern(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        UNEVALUATED_PATTERNS.add(pattern)
        return None


def covered_types() -> list[str]:
    return sorted(CONTRACTS)


def member_max_length(type_token: str, prop: str) -> int | None:
    """botocore's `max` for the API member a top-level Pulumi input fills (None: no contract or no maximum)."""
    contract = CONTRACTS.get(type_token)
    if contract is None:
        return None
    for binding in contract.bindings:
        if binding.only and prop not in binding.only:
            continue
        shape = _service(contract.service).shape_for(binding.shape)
        member = binding.renames.get(prop) or {m.lower(): m for m in shape.members}.get(prop.lower())
        if member in shape.members:
            return shape.members[member].metadata.get("max")
    return None


def check(
    type_token: str,
    logical_name: str,
    inputs: Mapping[str, Any],
    skip: Set[str] = frozenset(),
) -> list[Violation]:
    """Every input of this resource the AWS API would reject (empty when the type has no contract here)."""
    contract = CONTRACTS.get(type_token)
    if contract is None:
        return []
    model = _service(contract.service)
    out: list[Violation] = []
    for binding in contract.bindings:
        shape = model.shape_for(binding.shape)
        chosen = {
            k: v
            for k, v in inputs.items()
            if (not binding.only or k in binding.only) and k not in skip and k not in PROVIDER_INPUTS
        }
        ctx = _Context(
            type_token,
            logical_name,
            f"botocore {contract.service} {contract.operation}",
            PROVIDER_DEFAULTS.get(type_token, set()),
            out,
        )
        ctx.structure(shape, chosen, "", binding.renames, check_required=binding.required, skipped=skip)
    return out


@dataclass
class _Context:
    type_token: str
    name: str
    contract: str
    provider_defaults: set[str]
    out: list[Violation]

    def add(self, path: str, problem: str, value: Any, member: str) -> None:
        self.out.append(
            Violation(
                self.type_token, self.name, path or "(inputs)", problem, shown(value), f"{self.contract}: {member}"
            )
        )

    def structure(
        self,
        shape: Any,
        value: Mapping[str, Any],
        path: str,
        renames: Mapping[str, str] | None = None,
        *,
        check_required: bool = True,
        skipped: Set[str] = frozenset(),
    ) -> None:
        members = shape.members
        by_lower = {m.lower(): m for m in members}
        seen: set[str] = set()
        for key, item in value.items():
            member = (renames or {}).get(key) or by_lower.get(key.lower())
            if member is None or member not in members:
                continue
            seen.add(member)
            self.value(members[member], item, f"{path}.{key}" if path else key, f"{shape.name}.{member}")
        if not check_required:
            return
        back = {v: k for k, v in (renames or {}).items()}
        for member in shape.required_members:
            if member in seen or f"{shape.name}.{member}" in self.provider_defaults:
                continue
            pulumi_key = back.get(member, member[0].lower() + member[1:])
            if pulumi_key in skipped or any(k.lower() == member.lower() for k in skipped):
                continue  # set from another resource's outputs: present, just not checkable offline
            self.out.append(
                Violation(
                    self.type_token,
                    self.name,
                    f"{path}.{pulumi_key}" if path else pulumi_key,
                    "required by the API and missing",
                    "(absent)",
                    f"{self.contract}: {shape.name}.{member}",
                )
            )

    def value(self, shape: Any, value: Any, path: str, member: str) -> None:
        if value is None or _unknown(value):
            return
        kind = shape.type_name
        meta = shape.metadata
        if kind == "structure":
            if isinstance(value, Mapping):
                self.structure(shape, value, path)
            return
        if kind == "list":
            if not isinstance(value, list):
                return
            self._bounds(len(value), meta, path, value, member, "items")
            for i, item in enumerate(value):
                self.value(shape.member, item, f"{path}[{i}]", member)
            return
        if kind == "map":
            if not isinstance(value, Mapping):
                return
            self._bounds(len(value), meta, path, value, member, "entries")
            for k, v in value.items():
                self.value(shape.key, k, f"{path} key", member + " key")
                self.value(shape.value, v, f"{path}.{k}", member)
            return
        if kind == "string":
            if not isinstance(value, str):
                return
            if shape.enum and value not in shape.enum:
                self.add(path, f"must be one of {', '.join(shape.enum)}", value, member)
                return
            if self._bounds(len(value), meta, path, value, member, "characters"):
                return  # one problem per value: a name too long also fails a `{0,62}` pattern
            pattern = meta.get("pattern")
            compiled = _pattern(pattern) if pattern else None
            if compiled is not None and value and not compiled.fullmatch(value):
                self.add(path, f"must match /{pattern}/", value, member)
            return
        if kind in ("integer", "long", "float", "double"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return
            if kind in ("integer", "long") and float(value) != int(value):
                self.add(path, "must be a whole number", value, member)
                return
            low, high = meta.get("min"), meta.get("max")
            if low is not None and value < low or high is not None and value > high:
                self.add(
                    path,
                    f"must be between {low if low is not None else '-∞'} and {high if high is not None else '∞'}",
                    value,
                    member,
                )

    def _bounds(self, n: int, meta: Mapping[str, Any], path: str, value: Any, member: str, unit: str) -> bool:
        low, high = meta.get("min"), meta.get("max")
        count = "" if unit == "characters" else f" (has {n})"
        if high is not None and n > high:
            self.add(path, f"at most {high} {unit}{count}", value, member)
            return True
        if low is not None and n < low:
            self.add(path, f"at least {low} {unit}{count}", value, member)
            return True
        return False


def _unknown(value: Any) -> bool:
    return isinstance(value, str) and value in (UNKNOWN, COMPUTED)
