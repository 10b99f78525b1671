"""Cloud contracts: what AWS, the Pulumi providers and the Kubernetes API server would reject, checked offline.

`check_resource(type, name, inputs)` returns every violation of one resource registration: the provider's
autonaming limits (`autonaming`), the AWS API's shapes from botocore's service models (`aws_api`), IAM's policy
grammar and action names (`iam_policy`), and the Kubernetes schemas (`kube`). The offline recorder
(`llama_infra.plan.record.RecordingMocks`) runs it on every registration, so every `plan` and every test that
records a program is held against the same contracts.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

from llama_infra.contracts import autonaming, aws_api, iam_policy, kube
from llama_infra.contracts.violation import ContractError, Violation, shown

__all__ = ["ContractError", "Violation", "shown", "check_resource", "covered_types", "name_limit", "physical_name"]


def physical_name(
    type_token: str, logical_name: str, inputs: Mapping[str, Any], seed: Any = None
) -> tuple[str, str] | None:
    """(property, value) the provider would fill in, or None; raises autonaming.AutoNameError."""
    return autonaming.physical_name(type_token, logical_name, dict(inputs), seed)


def check_resource(
    type_token: str, logical_name: str, inputs: Mapping[str, Any], *, computed: Set[str] = frozenset(), seed: Any = None
) -> tuple[dict[str, Any], list[Violation]]:
    """(inputs with the provider's autoname filled in, violations). `computed`: top-level inputs whose value comes
    from other resources' outputs (mock values offline), skipped by the API shape checks."""
    values = _revealed(dict(inputs))
    computed = set(computed)
    out: list[Violation] = []
    try:
        named = autonaming.physical_name(type_token, logical_name, values, seed)
    except autonaming.AutoNameError as e:
        out.append(
            Violation(
                type_token,
                logical_name,
                e.rule.property,
                f"the provider autonames it '<logical name>-' + 7 random hex characters and allows at "
                f"most {e.rule.max_length} characters",
                shown(logical_name + "-xxxxxxx"),
                e.rule.source,
                fix=_NAME_FIX,
            )
        )
        computed.add(e.rule.property)  # reported once, as the provider would (not again as "required")
        named = None
    if named:
        values[named[0]] = named[1]
    if type_token.startswith(("aws:", "aws-native:")):
        found = aws_api.check(type_token, logical_name, values, computed)
        found += iam_policy.check(type_token, logical_name, values)
        if named:
            found = [v if v.field != named[0] else _autonamed(v) for v in found]
        out += found
    elif type_token.startswith("kubernetes:"):
        out += kube.check(type_token, logical_name, values)
    return values, out


def _revealed(value: Any) -> Any:
    """Pulumi secret wrappers (as raw mocks see them) replaced by their values: the API sees the value."""
    from pulumi.runtime import rpc

    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return _revealed(value.get("value"))
        return {k: _revealed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_revealed(v) for v in value]
    return value


_NAME_FIX = (
    "give the resource an explicit name that fits, or a shorter logical name (for a component, a shorter spec `name`)"
)


def _autonamed(v: Violation) -> Violation:
    return Violation(
        v.resource_type,
        v.resource_name,
        v.field,
        v.problem + " (autonamed by the provider)",
        v.value,
        v.contract,
        v.fix or _NAME_FIX,
    )


def name_limit(type_token: str) -> int | None:
    """The longest physical name a resource the provider autonames may have: the tighter of the provider's maximum
    and the API member's (`EndpointConfigName`: 63, while pulumi-aws allows 255). None: not autonamed."""
    rule = autonaming.AUTONAMED.get(type_token)
    if rule is None:
        return None
    api = aws_api.member_max_length(type_token, rule.property)
    return min(rule.max_length, api) if api else rule.max_length


def covered_types() -> list[str]:
    """The Pulumi resource types whose inputs are held against an API contract."""
    return sorted(set(aws_api.CONTRACTS) | set(iam_policy.POLICY_INPUTS) | {"kubernetes:<group/version>:<Kind>"})
