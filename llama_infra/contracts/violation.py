"""A contract violation: an input that the cloud API (or the provider, or the Kubernetes API server) would reject."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    """One rejected input: which resource, which field, the limit it breaks, the value, and who says so."""

    resource_type: str
    resource_name: str  # the logical (Pulumi) name
    field: str  # the Pulumi input path, e.g. `productionVariants[0].instanceType`
    problem: str  # what the API requires, with the limit: "at most 64 characters", "one of A, B"
    value: str  # the offending value as the API would see it (shortened for the message)
    contract: str  # where the limit comes from: "botocore events PutTargets Target.Id", "pulumi-aws autonaming"
    fix: str = ""

    def render(self) -> str:
        head = (
            f"{self.resource_type} '{self.resource_name}': {self.field}: {self.problem}; "
            f"value {self.value} ({self.contract})"
        )
        return head + (f"\n    fix: {self.fix}" if self.fix else "")


class ContractError(Exception):
    """Raised after a recorded run whose resources the real APIs would reject; holds every violation."""

    def __init__(self, violations: list[Violation], where: str = ""):
        self.violations = list(violations)
        self.where = where
        super().__init__(self.render())

    def render(self) -> str:
        n = len(self.violations)
        head = (
            f"{self.where + ': ' if self.where else ''}{n} contract violation{'s' if n != 1 else ''} "
            f"(inputs the cloud APIs would reject at `pulumi up`)"
        )
        return "\n".join([head, *("  " + v.render() for v in self.violations)])


def shown(value: object, limit: int = 90) -> str:
    """A value as a message shows it: quoted, with its length when it is a string, shortened when long."""
    if isinstance(value, str):
        text = value if len(value) <= limit else value[: limit - 1] + "…"
        return f"'{text}' ({len(value)} characters)"
    return repr(value)
