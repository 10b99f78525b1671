"""The shape every llama-infra policy shares: a citation, an enforcement level, resource types, exemptions.

A rule is a real `pulumi_policy.ResourceValidationPolicy`. Its `check` function receives a `Resource` view of the
inputs Pulumi hands to the analyzer and yields one message per violation. The wrapper here filters by resource
type, honours documented exemptions (reported to the engine as "not applicable", with the reason) and reports
each message through the SDK's `report_violation`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from .resource import Resource

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY


@dataclass(frozen=True)
class Citation:
    """The established check a rule mirrors: a checkov ID, an AWS Config managed rule, or our own design note."""

    source: str  # "checkov" | "aws-config" | "llama-infra" | a document name
    check_id: str
    url: str

    def __str__(self) -> str:
        return f"{self.source} {self.check_id}"


def checkov(check_id: str, source_path: str) -> Citation:
    """A checkov check, linked to the file that implements it."""
    return Citation("checkov", check_id, f"https://github.com/bridgecrewio/checkov/blob/main/checkov/{source_path}")


def aws_config(rule_name: str) -> Citation:
    """An AWS Config managed rule, linked to its documentation page."""
    return Citation(
        "aws-config", rule_name, f"https://docs.aws.amazon.com/config/latest/developerguide/{rule_name}.html"
    )


def ours(topic: str, url: str = "docs/policies.md#our-rules") -> Citation:
    """A llama-infra reliability rule; `url` points at the fact it rests on."""
    return Citation("llama-infra", topic, url)


Check = Callable[[Resource], Iterable[str]]
StackCheck = Callable[[list[Resource]], Iterable[tuple[Resource, str]]]


def _metadata(name: str, description: str, citations: tuple[Citation, ...], remediation: str) -> dict:
    """The Policy keyword arguments every llama-infra rule shares: citations become framework, tags and url."""
    if not citations:
        raise ValueError(f"rule {name!r} needs at least one citation")
    first = citations[0]
    return {
        "name": name,
        "description": f"{description} [{', '.join(str(c) for c in citations)}]",
        "framework": PolicyComplianceFramework(name=first.source, reference=first.check_id),
        "tags": sorted({c.source for c in citations}),
        "remediation_steps": remediation,
        "url": first.url,
    }


class LlamaRule(ResourceValidationPolicy):
    """A resource rule with its citations. `resource_types` empty means every resource type."""

    def __init__(
        self,
        name: str,
        description: str,
        *,
        resource_types: Iterable[str],
        check: Check,
        enforcement_level: EnforcementLevel,
        citations: Iterable[Citation],
        remediation: str,
        severity: Severity = Severity.MEDIUM,
        honours_exemptions: bool = True,
    ) -> None:
        self.citations = tuple(citations)
        self.resource_types = frozenset(resource_types)
        self.check = check
        self.honours_exemptions = honours_exemptions
        super().__init__(
            validate=self._validate,
            enforcement_level=enforcement_level,
            severity=severity,
            **_metadata(name, description, self.citations, remediation),
        )

    def applies_to(self, resource_type: str) -> bool:
        return not self.resource_types or resource_type in self.resource_types

    def _validate(self, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if not self.applies_to(args.resource_type):
            return
        resource = Resource.from_args(args)
        if self.honours_exemptions:
            exemption = resource.exemption_for(self.name)
            if exemption is not None:
                # The SDK reports this to the engine as "policy not applicable" with the reason.
                args.not_applicable(f"exempt via {exemption.key}: {exemption.reason}")
        for message in self.check(resource):
            report_violation(message, None)


class LlamaStackRule(StackValidationPolicy):
    """A rule that needs several resources at once (e.g. a PDB and the workload it covers).

    A finding on a resource that carries an exemption for this rule is skipped; the audit rule lists the exemption.
    """

    def __init__(
        self,
        name: str,
        description: str,
        *,
        resource_types: Iterable[str],
        check: StackCheck,
        enforcement_level: EnforcementLevel,
        citations: Iterable[Citation],
        remediation: str,
        severity: Severity = Severity.MEDIUM,
    ) -> None:
        self.citations = tuple(citations)
        self.resource_types = frozenset(resource_types)
        self.check = check
        super().__init__(
            validate=self._validate,
            enforcement_level=enforcement_level,
            severity=severity,
            **_metadata(name, description, self.citations, remediation),
        )

    def _validate(self, args: StackValidationArgs, report_violation: ReportViolation) -> None:
        stack_tags = dict(args.stack_tags or {})
        resources = [Resource(r.resource_type, r.name, r.urn, r.props, stack_tags) for r in args.resources]
        for resource, message in self.check(resources):
            if resource.exemption_for(self.name) is None:
                report_violation(message, resource.urn)
