"""Call one rule's validate the way the SDK does and collect what it reports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llama_infra_policies import ALL_RULES, validation_args
from llama_infra_policies.rule import LlamaRule

RULES_BY_NAME: dict[str, LlamaRule] = {rule.name: rule for rule in ALL_RULES}


def run_rule(
    rule_name: str,
    resource_type: str,
    props: Mapping[str, Any],
    stack_tags: Mapping[str, str] | None = None,
) -> list[str]:
    """Messages the rule reports for one resource (an exemption raises the SDK's not-applicable error)."""
    messages: list[str] = []
    args = validation_args(resource_type, props, "res", stack_tags)
    RULES_BY_NAME[rule_name].validate(args, lambda message, urn=None: messages.append(message))
    return messages
