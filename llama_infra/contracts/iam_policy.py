"""IAM policy documents held against IAM's grammar, and each action against the API it names.

The grammar is AWS's "IAM JSON policy elements reference": `Version` 2012-10-17 (or the legacy 2008-10-17), one
or more statements, each with `Effect` Allow|Deny, exactly one of `Action`/`NotAction`, for an identity policy
exactly one of `Resource`/`NotResource`, for a trust or resource policy a `Principal` (or `NotPrincipal`), and a
`Condition` of operator -> {key: value(s)}. An action is `<service prefix>:<operation>` with `*`/`?` wildcards;
botocore's service models list every operation, so an action that names none (a typo such as
`sagemaker:InvokeEndpoints`) is caught. IAM prefixes are mostly botocore's service names; `PREFIX_SERVICES`
lists the ones that differ, and `PERMISSION_ONLY_ACTIONS` the few actions that authorize something other than one
API call (from AWS's Service Authorization Reference).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Set
from functools import cache
from typing import Any

from llama_infra.contracts.violation import Violation, shown

VERSIONS = ("2012-10-17", "2008-10-17")
STATEMENT_KEYS = {
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
}
# IAM service prefix -> botocore services whose operations it authorizes (where the names differ).
PREFIX_SERVICES: dict[str, tuple[str, ...]] = {
    "sagemaker": ("sagemaker", "sagemaker-runtime", "sagemaker-featurestore-runtime"),
    "states": ("stepfunctions",),
    "elasticloadbalancing": ("elb", "elbv2"),
    "execute-api": ("apigatewaymanagementapi",),
    "aps": ("amp",),
}
# Actions that are permissions, not API operations (Service Authorization Reference).
PERMISSION_ONLY_ACTIONS = {
    "iam:PassRole",  # lets a service assume a role the caller hands it
    "lambda:InvokeFunction",  # authorizes the Invoke API call
    "sts:TagSession",  # session tags on AssumeRole* (EKS Pod Identity's trust policy needs it)
    "s3:ListBucket",  # authorizes ListObjects / ListObjectsV2 / HeadBucket
    "s3:GetObjectVersion",
    "s3:PutObjectAcl",
    "ecr:GetDownloadUrlForLayer",  # authorizes layer downloads by the container runtime
    "kms:GenerateDataKey*",
    "logs:CreateLogDelivery",
}


@cache
def _operations(prefix: str) -> frozenset[str] | None:
    from botocore.exceptions import UnknownServiceError

    from llama_infra.contracts.aws_api import _session

    names: set[str] = set()
    loader = _session().get_component("data_loader")
    for service in PREFIX_SERVICES.get(prefix, (prefix,)):
        try:
            names |= set(loader.load_service_model(service, "service-2")["operations"])
        except UnknownServiceError:
            continue
    return frozenset(names) if names else None


def action_problem(action: str) -> str | None:
    """Why IAM would not know this action, or None."""
    if action == "*":
        return None
    if action.count(":") != 1:
        return "an action is '<service>:<operation>'"
    prefix, op = action.split(":")
    if action in PERMISSION_ONLY_ACTIONS or f"{prefix}:{op}" in PERMISSION_ONLY_ACTIONS:
        return None
    ops = _operations(prefix.lower())
    if ops is None:
        return f"no AWS service has the IAM prefix '{prefix}'"
    if any(ch in op for ch in "*?"):
        matches = fnmatch.filter(ops, op) or [a for a in PERMISSION_ONLY_ACTIONS if fnmatch.fnmatch(a, action)]
        return None if matches else f"'{op}' matches no {prefix} operation"
    if op in ops or any(o.lower() == op.lower() for o in ops):
        return None
    return f"{prefix} has no operation '{op}'"


def check_document(document: Any, *, kind: str, type_token: str, name: str, field: str) -> list[Violation]:
    """kind: 'identity' (role/user policies: Resource required, no Principal), 'trust' or 'resource'."""
    out: list[Violation] = []

    def bad(path: str, problem: str, value: Any) -> None:
        out.append(Violation(type_token, name, f"{field}{path}", problem, shown(value), "IAM JSON policy grammar"))

    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as e:
            bad("", f"is not JSON ({e.msg} at line {e.lineno} column {e.colno})", document)
            return out
    if not isinstance(document, dict):
        bad("", "a policy document is a JSON object", document)
        return out
    if document.get("Version") not in VERSIONS:
        bad(".Version", f"must be {VERSIONS[0]}", document.get("Version"))
    statements = document.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        bad(".Statement", "needs at least one statement", statements)
        return out
    for i, st in enumerate(statements):
        path = f".Statement[{i}]"
        if not isinstance(st, dict):
            bad(path, "a statement is a JSON object", st)
            continue
        for key in st:
            if key not in STATEMENT_KEYS:
                bad(f"{path}.{key}", f"is not a statement element ({', '.join(sorted(STATEMENT_KEYS))})", key)
        if st.get("Effect") not in ("Allow", "Deny"):
            bad(f"{path}.Effect", "must be Allow or Deny", st.get("Effect"))
        if ("Action" in st) == ("NotAction" in st):
            bad(path, "needs exactly one of Action, NotAction", sorted(st))
        has_principal = "Principal" in st or "NotPrincipal" in st
        if kind == "identity":
            if has_principal:
                bad(path, "an identity policy has no Principal", st.get("Principal"))
            if ("Resource" in st) == ("NotResource" in st):
                bad(path, "needs exactly one of Resource, NotResource", sorted(st))
        elif not has_principal:
            bad(path, f"a {kind} policy statement needs a Principal", sorted(st))
        for key in ("Action", "NotAction"):
            actions = st.get(key)
            for j, action in enumerate([actions] if isinstance(actions, str) else actions or []):
                if not isinstance(action, str):
                    bad(f"{path}.{key}[{j}]", "an action is a string", action)
                    continue
                problem = action_problem(action)
                if problem:
                    bad(f"{path}.{key}[{j}]", problem, action)
        condition = st.get("Condition")
        if condition is not None:
            if not isinstance(condition, dict) or not all(isinstance(v, dict) for v in condition.values()):
                bad(f"{path}.Condition", "is {operator: {key: value}}", condition)
    return out


# Pulumi type -> (input holding a policy document, kind)
POLICY_INPUTS: dict[str, tuple[tuple[str, str], ...]] = {
    "aws:iam/role:Role": (("assumeRolePolicy", "trust"),),
    "aws:iam/rolePolicy:RolePolicy": (("policy", "identity"),),
    "aws:iam/policy:Policy": (("policy", "identity"),),
    "aws:sqs/queuePolicy:QueuePolicy": (("policy", "resource"),),
}


def check(type_token: str, name: str, inputs: dict[str, Any], skip: Set[str] = frozenset()) -> list[Violation]:
    out: list[Violation] = []
    for prop, kind in POLICY_INPUTS.get(type_token, ()):
        value = inputs.get(prop)
        if value is None or prop in skip:
            continue
        if isinstance(value, str) and value.startswith(("(known", "<computed")):
            continue
        out += check_document(value, kind=kind, type_token=type_token, name=name, field=prop)
    for i, inline in enumerate(inputs.get("inlinePolicies") or []):
        if isinstance(inline, dict) and isinstance(inline.get("policy"), str):
            out += check_document(
                inline["policy"], kind="identity", type_token=type_token, name=name, field=f"inlinePolicies[{i}].policy"
            )
    return out
