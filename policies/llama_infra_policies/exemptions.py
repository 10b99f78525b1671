"""Exemptions are documented, reasoned and visible.

A resource opts out of one rule with the AWS tag `llama-infra:policy-exempt` (Kubernetes annotation
`llama-infra.io/policy-exempt`) set to `<rule-name>:<reason>`. More exemptions use suffixed keys
(`llama-infra:policy-exempt.2`). The exempted rule reports "not applicable" with the reason; the two rules here
reject malformed exemptions and list every valid one in the preview so reviewers see it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from .resource import Resource
from .rule import ADVISORY, MANDATORY, LlamaRule, ours


def _check_valid(known_rules: Callable[[], set[str]]) -> Callable[[Resource], Iterator[str]]:
    def check(resource: Resource) -> Iterator[str]:
        for exemption in resource.exemptions():
            if exemption.problem:
                yield exemption.problem
            elif exemption.rule not in known_rules():
                yield (
                    f"{exemption.key} names unknown rule {exemption.rule!r}; use one of the names in docs/policies.md."
                )

    return check


def _check_audit(resource: Resource) -> Iterator[str]:
    for exemption in resource.exemptions():
        if exemption.problem is None:
            yield f"exempt from {exemption.rule}: {exemption.reason} ({exemption.key})"


def _known_rule_names() -> set[str]:
    from . import ALL_RULES  # late import: this module is part of ALL_RULES

    return {rule.name for rule in ALL_RULES}


EXEMPTION_VALID = LlamaRule(
    "policy-exemption-valid",
    "Policy exemptions name a real rule and give a reason ('<rule-name>:<reason>').",
    resource_types=[],
    check=_check_valid(_known_rule_names),
    enforcement_level=MANDATORY,
    citations=[ours("documented exemptions", "docs/policies.md#exemptions")],
    remediation="Write the tag/annotation as '<rule-name>:<reason>'.",
    honours_exemptions=False,
)
EXEMPTION_AUDIT = LlamaRule(
    "policy-exemption-audit",
    "Lists every policy exemption so it shows up in each preview.",
    resource_types=[],
    check=_check_audit,
    enforcement_level=ADVISORY,
    citations=[ours("documented exemptions", "docs/policies.md#exemptions")],
    remediation="Nothing to fix; remove the exemption when the reason no longer holds.",
    honours_exemptions=False,
)

RULES = [EXEMPTION_VALID, EXEMPTION_AUDIT]
