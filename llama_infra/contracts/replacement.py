"""Which input changes force Pulumi to *replace* a resource instead of updating it in place, and why.

Pulumi replaces a resource when its provider says a changed input cannot be updated in place, or when the program
asks for it (`replace_on_changes`). Offline we have no provider to ask, so this table keeps the provider's answer
for every resource type llama-infra creates, with its source:

* pulumi-aws is bridged from the Terraform AWS provider; a replacement there is an argument marked `ForceNew: true`
  in the resource's schema in hashicorp/terraform-provider-aws (`internal/service/<service>/<resource>.go`). The
  pulumi-aws Python SDK does not ship the provider schema, so the rules below cite those files.
* pulumi-aws-native, and any resource created with `replace_on_changes`, send the list to the engine with the
  resource registration; the recorder captures it (`RecordedResource.replace_on_changes`) and `reasons` uses it,
  so those need no table entry.
* pulumi-kubernetes replaces on the properties in its `forceNewProperties` table
  (pulumi/pulumi-kubernetes `provider/pkg/provider/diff.go`): `.metadata.name`/`.metadata.namespace` on every
  kind, `.spec.selector` on a Deployment, `.spec.clusterIP` on a Service, `.data`/`.stringData`/`.type` on a
  Secret, `.data`/`.binaryData` on a ConfigMap.

Paths are Pulumi property paths (wire names, camelCase): `productionVariants[0].instanceType`. A rule path matches
a changed path equal to it or below it; `[*]` matches any index.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

ALL = "*"  # every input (the resource has no in-place update besides the listed exceptions)
_TAGS = ("tags", "tagsAll")
_TF = "hashicorp/terraform-provider-aws internal/service/"
_K8S = "pulumi/pulumi-kubernetes provider/pkg/provider/diff.go"


@dataclass(frozen=True)
class ReplaceRule:
    """Inputs of one resource type whose change replaces the resource."""

    type_token: str
    paths: tuple[str, ...]  # or (ALL,)
    why: str  # the consequence, in the user's terms
    source: str
    except_paths: tuple[str, ...] = ()


RULES: tuple[ReplaceRule, ...] = (
    # SageMaker: a model and an endpoint configuration are immutable; the endpoint moves between configurations.
    ReplaceRule(
        "aws:sagemaker/endpointConfiguration:EndpointConfiguration",
        (ALL,),
        "an endpoint configuration is immutable: any change (instance type, instance count, model, "
        "timeouts, KMS key) needs a new endpoint configuration, and the endpoint then moves to it with a "
        "blue/green UpdateEndpoint",
        _TF + "sagemaker/endpoint_configuration.go",
        _TAGS,
    ),
    ReplaceRule(
        "aws:sagemaker/model:Model",
        (ALL,),
        "a SageMaker model is immutable: a new container image, environment (tensor-parallel degree, "
        "precision) or weights location creates a new model, and with it a new endpoint configuration",
        _TF + "sagemaker/model.go",
        _TAGS,
    ),
    ReplaceRule(
        "aws:sagemaker/endpoint:Endpoint",
        ("name",),
        "the endpoint name is its identity: a new name is a new endpoint (clients must follow)",
        _TF + "sagemaker/endpoint.go",
    ),
    # Application Auto Scaling
    ReplaceRule(
        "aws:appautoscaling/target:Target",
        ("resourceId", "scalableDimension", "serviceNamespace"),
        "the scalable target is keyed by resource id and dimension: it is registered anew",
        _TF + "appautoscaling/target.go",
    ),
    ReplaceRule(
        "aws:appautoscaling/policy:Policy",
        ("name", "resourceId", "scalableDimension", "serviceNamespace"),
        "a scaling policy is keyed by name and scalable target: it is deleted and put again",
        _TF + "appautoscaling/policy.go",
    ),
    ReplaceRule(
        "aws:appautoscaling/scheduledAction:ScheduledAction",
        ("name", "resourceId", "scalableDimension", "serviceNamespace"),
        "a scheduled action is keyed by name and scalable target: it is deleted and put again",
        _TF + "appautoscaling/scheduled_action.go",
    ),
    # EKS
    ReplaceRule(
        "aws:eks/nodeGroup:NodeGroup",
        (
            "amiType",
            "capacityType",
            "clusterName",
            "diskSize",
            "instanceTypes",
            "nodeGroupName",
            "nodeGroupNamePrefix",
            "nodeRoleArn",
            "remoteAccess",
            "subnetIds",
            "launchTemplate.id",
            "launchTemplate.name",
        ),
        "a managed node group's instance types, capacity type (ON_DEMAND/SPOT), AMI type, disk, role and "
        "subnets are fixed at creation: a new node group is created and the old one drained",
        _TF + "eks/node_group.go",
    ),
    ReplaceRule(
        "aws:eks/addon:Addon",
        ("addonName", "clusterName"),
        "an add-on is keyed by cluster and name",
        _TF + "eks/addon.go",
    ),
    ReplaceRule(
        "aws:eks/accessEntry:AccessEntry",
        ("clusterName", "principalArn", "type"),
        "an access entry is keyed by cluster and IAM principal",
        _TF + "eks/access_entry.go",
    ),
    ReplaceRule(
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
        ("clusterName", "namespace", "serviceAccount"),
        "a pod identity association is keyed by cluster, namespace and service account",
        _TF + "eks/pod_identity_association.go",
    ),
    ReplaceRule(
        "aws:ec2/launchTemplate:LaunchTemplate",
        ("name", "namePrefix"),
        "the launch template name is its identity (other changes add a version)",
        _TF + "ec2/ec2_launch_template.go",
    ),
    # Identity, alarms, orchestration: names are identities.
    ReplaceRule(
        "aws:iam/role:Role",
        ("name", "namePrefix", "path"),
        "an IAM role's name and path are its identity",
        _TF + "iam/role.go",
    ),
    ReplaceRule(
        "aws:iam/rolePolicy:RolePolicy",
        ("name", "namePrefix", "role"),
        "an inline policy is keyed by role and name",
        _TF + "iam/role_policy.go",
    ),
    ReplaceRule(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        ("role", "policyArn"),
        "an attachment is the (role, policy) pair itself",
        _TF + "iam/role_policy_attachment.go",
    ),
    ReplaceRule(
        "aws:iam/policy:Policy",
        ("name", "namePrefix", "path"),
        "a managed policy's name and path are its identity",
        _TF + "iam/policy.go",
    ),
    ReplaceRule(
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        ("name",),
        "the alarm name is its identity",
        _TF + "cloudwatch/metric_alarm.go",
    ),
    ReplaceRule(
        "aws:cloudwatch/dashboard:Dashboard",
        ("dashboardName",),
        "the dashboard name is its identity",
        _TF + "cloudwatch/dashboard.go",
    ),
    ReplaceRule(
        "aws:cloudwatch/eventRule:EventRule",
        ("name", "namePrefix", "eventBusName"),
        "an EventBridge rule is keyed by bus and name",
        _TF + "events/rule.go",
    ),
    ReplaceRule(
        "aws:cloudwatch/eventTarget:EventTarget",
        ("rule", "targetId", "eventBusName"),
        "an EventBridge target is keyed by bus, rule and target id",
        _TF + "events/target.go",
    ),
    ReplaceRule(
        "aws:scheduler/schedule:Schedule",
        ("name", "namePrefix", "groupName"),
        "an EventBridge Scheduler schedule is keyed by group and name",
        _TF + "scheduler/schedule.go",
    ),
    ReplaceRule(
        "aws:sfn/stateMachine:StateMachine",
        ("name", "namePrefix", "type"),
        "a state machine's name and type (STANDARD/EXPRESS) are fixed at creation",
        _TF + "sfn/state_machine.go",
    ),
    ReplaceRule(
        "aws:lambda/function:Function", ("name",), "the function name is its identity", _TF + "lambda/function.go"
    ),
    ReplaceRule(
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
        ("functionName", "qualifier"),
        "the async-invoke settings belong to one function version",
        _TF + "lambda/function_event_invoke_config.go",
    ),
    ReplaceRule(
        "aws:cloudwatch/logGroup:LogGroup",
        ("name", "namePrefix", "logGroupClass"),
        "a log group's name and class are fixed: a new group starts empty (old logs stay in the old one "
        "until it is deleted)",
        _TF + "logs/group.go",
    ),
    ReplaceRule(
        "aws:sns/topic:Topic",
        ("name", "namePrefix", "fifoTopic"),
        "a topic's name and FIFO-ness are fixed",
        _TF + "sns/topic.go",
    ),
    ReplaceRule(
        "aws:sqs/queue:Queue",
        ("name", "namePrefix", "fifoQueue"),
        "a queue's name and FIFO-ness are fixed",
        _TF + "sqs/queue.go",
    ),
    ReplaceRule(
        "aws:sqs/queuePolicy:QueuePolicy",
        ("queueUrl",),
        "a queue policy belongs to one queue",
        _TF + "sqs/queue_policy.go",
    ),
    ReplaceRule(
        "aws:secretsmanager/secret:Secret",
        ("name", "namePrefix"),
        "the secret name is its identity",
        _TF + "secretsmanager/secret.go",
    ),
    # Kubernetes
    ReplaceRule(
        "kubernetes:apps/v1:Deployment",
        ("spec.selector",),
        "a Deployment's label selector is immutable in the Kubernetes API",
        _K8S,
    ),
    ReplaceRule("kubernetes:core/v1:Service", ("spec.clusterIP",), "a Service's cluster IP is immutable", _K8S),
    ReplaceRule(
        "kubernetes:core/v1:Secret",
        ("data", "stringData", "type"),
        "pulumi-kubernetes replaces Secrets on data change so that workloads pick up the new data",
        _K8S,
    ),
    ReplaceRule(
        "kubernetes:core/v1:ConfigMap",
        ("data", "binaryData"),
        "pulumi-kubernetes replaces ConfigMaps on data change so that workloads roll to the new data",
        _K8S,
    ),
)

_BY_TYPE = {r.type_token: r for r in RULES}
_AWS_REGION = ReplaceRule(
    "aws:*",
    ("region",),
    "a regional resource lives in one region: a new region is a new resource there (and the old one is deleted)",
    "hashicorp/terraform-provider-aws docs/enhanced-region-support.md "
    "(the per-resource region argument, provider v6 / pulumi-aws v7)",
)
_K8S_IDENTITY = ReplaceRule(
    "kubernetes:*",
    ("metadata.name", "metadata.namespace"),
    "a Kubernetes object's name and namespace are its identity",
    _K8S,
)


def rule_for(type_token: str) -> list[ReplaceRule]:
    rules = [_BY_TYPE[type_token]] if type_token in _BY_TYPE else []
    if type_token.startswith("kubernetes:") and not type_token.startswith("kubernetes:helm"):
        rules.append(_K8S_IDENTITY)
    if type_token.startswith("aws:"):
        rules.append(_AWS_REGION)
    return rules


def normalize(path: str) -> str:
    """`productionVariants[0].instanceType` and `containers[name=vllm].image` -> `…[*]…`; `a["b"]` -> `a.b`."""
    return re.sub(r'\["([^"]*)"\]', r".\1", re.sub(r"\[(\d+|name=[^\]]*)\]", "[*]", path))


def matches(rule_path: str, changed: str) -> bool:
    """True if `changed` is `rule_path` or lies below it (indexes generalised to [*])."""
    rule_path, changed = normalize(rule_path), normalize(changed)
    if rule_path == ALL:
        return True
    return changed == rule_path or changed.startswith(rule_path + ".") or changed.startswith(rule_path + "[")


@dataclass(frozen=True)
class Replacement:
    """Why a resource is replaced: the inputs that force it, the consequence and where that fact comes from."""

    paths: tuple[str, ...]
    why: str
    source: str


def reasons(type_token: str, changed_paths: Iterable[str], replace_on_changes: Iterable[str] = ()) -> list[Replacement]:
    """Every reason the changed inputs force a replacement (empty: an in-place update)."""
    changed = list(changed_paths)
    found: list[Replacement] = []
    for rule in rule_for(type_token):
        hits = tuple(
            c
            for c in changed
            if any(matches(p, c) for p in rule.paths) and not any(matches(e, c) for e in rule.except_paths)
        )
        if hits:
            found.append(Replacement(hits, rule.why, rule.source))
    declared = list(replace_on_changes)
    hits = tuple(c for c in changed if any(matches(p, c) for p in declared))
    if hits and not any(set(hits) <= set(r.paths) for r in found):
        source = (
            "the provider's replaceOnChanges for this type"
            if type_token.startswith("aws-native:")
            else "the program's replace_on_changes option"
        )
        found.append(Replacement(hits, "these inputs are marked replace-on-change", source))
    return found


def markdown_table() -> str:
    """docs/diff-replacements.md: every rule, generated from this table (a test keeps the file fresh)."""
    lines = [
        "# What replaces a resource (llama-infra diff)",
        "",
        "Generated from `llama_infra/contracts/replacement.py` by "
        '`python -c "from llama_infra.contracts.replacement import markdown_table; '
        "print(markdown_table(), end='')\"`.",
        "Besides these, a resource is replaced when an input listed in its registration's `replace_on_changes` "
        "changes (pulumi-aws-native sends its own list; components may add theirs).",
        "",
        "| resource type | inputs that force replacement | consequence | source |",
        "|---|---|---|---|",
    ]
    for rule in (*RULES, _AWS_REGION, _K8S_IDENTITY):
        paths = "every input" if rule.paths == (ALL,) else ", ".join(f"`{p}`" for p in rule.paths)
        if rule.except_paths:
            paths += " except " + ", ".join(f"`{p}`" for p in rule.except_paths)
        lines.append(f"| `{rule.type_token}` | {paths} | {rule.why} | {rule.source} |")
    return "\n".join(lines) + "\n"
