"""The cloud contracts `llama-infra plan` checks offline, at a real `pulumi preview` / `pulumi up`.

The same checks as the strict recorder (`llama_infra.contracts.check_resource`): the provider's autonaming limits,
the AWS API's input shapes from botocore's service models, IAM's policy grammar and action names, and the Kubernetes
schemas. Here they see the real inputs (ARNs and ids of resources that exist), which the offline plan cannot.
Advisory: botocore describes the API, and a provider may translate an input before it calls it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy.proxy import UnknownValueError

from .resource import Resource
from .rule import ADVISORY, LlamaRule, ours

_CHECKED_PREFIXES = ("aws:", "aws-native:", "kubernetes:")


def _plain(value: Any) -> Any:
    """The known part of an input: values still unknown at preview are left out (they cannot be judged yet)."""
    if isinstance(value, Mapping):
        out = {}
        for key in list(value.keys()):
            try:
                out[key] = _plain(value[key])
            except UnknownValueError:
                continue
        return out
    if not isinstance(value, (str, bytes)) and hasattr(value, "__len__") and hasattr(value, "__getitem__"):
        # lists, and the SDK's list proxies
        items = []
        for i in range(len(value)):
            try:
                items.append(_plain(value[i]))
            except UnknownValueError:
                continue
        return items
    return value


def _check(resource: Resource) -> Iterator[str]:
    if not resource.type.startswith(_CHECKED_PREFIXES):
        return
    from llama_infra.contracts import check_resource

    _, found = check_resource(resource.type, resource.name, _plain(resource.props))
    for v in found:
        yield f"{v.field}: {v.problem}; value {v.value} ({v.contract})"


CLOUD_CONTRACTS = LlamaRule(
    "cloud-api-contracts",
    "Inputs are what the AWS API (botocore's service models), IAM's policy grammar and the Kubernetes schemas "
    "accept, and autonamed names fit.",
    resource_types=[],
    check=_check,
    enforcement_level=ADVISORY,
    citations=[ours("cloud-contracts")],
    remediation="Fix the input the message names (its limit is in the message); for a name, shorten the spec name.",
)

RULES = [CLOUD_CONTRACTS]
