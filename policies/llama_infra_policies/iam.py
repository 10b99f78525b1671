"""IAM policy document rules (role inline policies, managed policies, trust policies)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from .resource import Resource, as_list, get
from .rule import ADVISORY, MANDATORY, LlamaRule, aws_config, checkov

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
POLICY = "aws:iam/policy:Policy"
USER_POLICY = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
PERMISSION_DOCUMENT_TYPES = [ROLE, ROLE_POLICY, POLICY, USER_POLICY, GROUP_POLICY]


def parse_document(value: Any) -> Mapping[str, Any] | None:
    """A policy arrives as a JSON string or as a PolicyDocument object (same JSON keys: Statement, Action...)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, Mapping) else None


def permission_documents(resource: Resource) -> list[tuple[str, Mapping[str, Any]]]:
    """(where, document) for every permissions policy on the resource; trust policies are not included."""
    if resource.type == ROLE:
        found = [
            (f"inlinePolicies[{i}].policy", get(p, "policy"))
            for i, p in enumerate(as_list(resource.get("inlinePolicies")))
        ]
    else:
        found = [("policy", resource.get("policy"))]
    parsed = [(where, parse_document(doc)) for where, doc in found]
    return [(where, doc) for where, doc in parsed if doc is not None]


def allow_statements(document: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    for index, statement in enumerate(as_list(get(document, "Statement"))):
        if isinstance(statement, Mapping) and get(statement, "Effect") == "Allow":
            yield index, statement


def _actions(statement: Mapping[str, Any]) -> list[str]:
    return [a for a in as_list(get(statement, "Action")) if isinstance(a, str)]


def _check_wildcard_actions(resource: Resource) -> Iterator[str]:
    for where, document in permission_documents(resource):
        for index, statement in allow_statements(document):
            if "*" in _actions(statement):
                yield f"{where} Statement[{index}] allows Action '*'; list the actions the workload needs."
            if get(statement, "NotAction") is not None:
                yield f"{where} Statement[{index}] allows NotAction, i.e. every other action; list actions instead."


def _check_admin(resource: Resource) -> Iterator[str]:
    for where, document in permission_documents(resource):
        for index, statement in allow_statements(document):
            resources = as_list(get(statement, "Resource"))
            if "*" in _actions(statement) and "*" in resources:
                yield f"{where} Statement[{index}] grants full administrative access (Action '*' on Resource '*')."


def _check_service_wide(resource: Resource) -> Iterator[str]:
    for where, document in permission_documents(resource):
        for index, statement in allow_statements(document):
            wide = [a for a in _actions(statement) if a != "*" and a.endswith(":*")]
            if wide:
                yield f"{where} Statement[{index}] allows every action of {', '.join(wide)}; name the actions."


def _check_public_trust(resource: Resource) -> Iterator[str]:
    document = parse_document(resource.get("assumeRolePolicy"))
    if document is None:
        return
    for index, statement in allow_statements(document):
        principal = get(statement, "Principal")
        wildcard = principal == "*" or (isinstance(principal, Mapping) and "*" in as_list(get(principal, "AWS")))
        if wildcard:
            yield f"assumeRolePolicy Statement[{index}] lets any AWS principal ('*') assume this role."


NO_WILDCARD_ACTIONS = LlamaRule(
    "iam-no-wildcard-actions",
    "IAM policies never allow Action '*' (or NotAction).",
    resource_types=PERMISSION_DOCUMENT_TYPES,
    check=_check_wildcard_actions,
    enforcement_level=MANDATORY,
    severity=Severity.HIGH,
    citations=[checkov("CKV_AWS_63", "terraform/checks/resource/aws/IAMStarActionPolicyDocument.py")],
    remediation="Replace '*' with the specific actions (e.g. sagemaker:InvokeEndpoint, s3:GetObject).",
)
NO_ADMIN = LlamaRule(
    "iam-no-admin-access",
    "IAM policies never grant '*' on '*'.",
    resource_types=PERMISSION_DOCUMENT_TYPES,
    check=_check_admin,
    enforcement_level=MANDATORY,
    severity=Severity.CRITICAL,
    citations=[
        checkov("CKV_AWS_62", "terraform/checks/resource/aws/IAMAdminPolicyDocument.py"),
        aws_config("iam-policy-no-statements-with-admin-access"),
    ],
    remediation="Scope both actions and resources.",
)
NO_SERVICE_WIDE = LlamaRule(
    "iam-no-service-wide-actions",
    "IAM policies avoid service-wide actions such as 's3:*'.",
    resource_types=PERMISSION_DOCUMENT_TYPES,
    check=_check_service_wide,
    enforcement_level=ADVISORY,
    citations=[aws_config("iam-policy-no-statements-with-full-access")],
    remediation="Name the actions instead of '<service>:*'.",
)
NO_PUBLIC_TRUST = LlamaRule(
    "iam-role-no-public-assume",
    "IAM role trust policies name specific principals, never '*'.",
    resource_types=[ROLE],
    check=_check_public_trust,
    enforcement_level=MANDATORY,
    severity=Severity.CRITICAL,
    citations=[checkov("CKV_AWS_60", "terraform/checks/resource/aws/IAMRoleAllowsPublicAssume.py")],
    remediation="Trust a service principal (sagemaker.amazonaws.com) or an OIDC provider with conditions.",
)

RULES = [NO_WILDCARD_ACTIONS, NO_ADMIN, NO_SERVICE_WIDE, NO_PUBLIC_TRUST]
