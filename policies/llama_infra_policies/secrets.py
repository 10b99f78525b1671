"""Gated-weight tokens are referenced, never written into a model's or a pod's environment."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity
from pulumi_policy.proxy import UnknownValueError

from . import kubernetes
from .resource import Resource, as_list, get
from .rule import MANDATORY, LlamaRule, checkov, ours

SAGEMAKER_MODEL = "aws:sagemaker/model:Model"

# Names that carry credentials: a TOKEN, SECRET, PASSWORD, PASSWD, KEY or APIKEY word anywhere in the name
# (HF_TOKEN, AWS_SECRET_ACCESS_KEY, DB_PASSWORD_FILE), words split at '_', '-' or '.' so MAX_TOTAL_TOKENS is not
# one; and the prefix every Hugging Face user access token starts with.
_SECRET_NAME = re.compile(r"(^|[_.-])(TOKEN|SECRET|PASSWORD|PASSWD|KEY|APIKEY)([_.-]|$)", re.IGNORECASE)
_HF_TOKEN_VALUE = re.compile(r"^hf_[A-Za-z0-9]{20,}$")
_SECRET_REFERENCE = re.compile(r"^arn:aws[a-z-]*:(secretsmanager|ssm):")


def _literal_secret(name: str, value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    if _HF_TOKEN_VALUE.match(value):
        return True
    return bool(_SECRET_NAME.search(name)) and not _SECRET_REFERENCE.match(value)


def _known(mapping: Any, key: str) -> Any:
    """A value computed from another resource (unknown during preview) is a reference, never a literal."""
    try:
        return get(mapping, key)
    except UnknownValueError:
        return None


def _model_environments(resource: Resource) -> list[tuple[str, Mapping[str, Any]]]:
    found = [("primaryContainer.environment", resource.get("primaryContainer", "environment"))]
    found += [
        (f"containers[{i}].environment", get(c, "environment"))
        for i, c in enumerate(as_list(resource.get("containers")))
    ]
    return [(where, env) for where, env in found if isinstance(env, Mapping)]


def _check(resource: Resource) -> Iterator[str]:
    if resource.type == SAGEMAKER_MODEL:
        for where, env in _model_environments(resource):
            for name in env:
                if _literal_secret(name, _known(env, name)):
                    yield (
                        f"{where}.{name} holds a literal credential: SageMaker keeps a Model's environment "
                        "in clear text (sagemaker:DescribeModel shows it). Serve the weights from an S3 prefix "
                        "(model.weights.source, and model_override.weights for a window's model) so no token "
                        "is needed; the pinned TGI and LMI containers read a Hub token only from HF_TOKEN."
                    )
        return
    for path, container in kubernetes.containers(resource):
        for index, var in enumerate(as_list(get(container, "env"))):
            name = get(var, "name", default="")
            if _literal_secret(str(name), _known(var, "value")):
                yield (
                    f"{kubernetes.label(path, container)} env[{index}] {name} is a literal value. Use "
                    "valueFrom.secretKeyRef pointing at a Kubernetes Secret (synced from Secrets Manager)."
                )


NO_LITERAL_TOKENS = LlamaRule(
    "no-literal-model-tokens",
    "Hugging Face tokens and other credentials are never literals in a model or pod environment.",
    resource_types=[SAGEMAKER_MODEL, *kubernetes.WORKLOADS],
    check=_check,
    enforcement_level=MANDATORY,
    severity=Severity.CRITICAL,
    citations=[
        checkov("CKV_AWS_45", "terraform/checks/resource/aws/LambdaEnvironmentCredentials.py"),
        ours("gated weights need a referenced secret", "docs/policies.md#our-rules"),
    ],
    remediation="Reference a Secrets Manager secret / Kubernetes Secret; never put the token in code or config.",
)

RULES = [NO_LITERAL_TOKENS]
