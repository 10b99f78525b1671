"""Offline resource-level diff between two deployment specs (files or git revisions), with the monthly cost delta.

    from llama_infra.diff import diff_refs
    d = diff_refs("main:stacks/specs/prod.yaml", "stacks/specs/prod.yaml")
    print(render_text(d))

Both sides are planned offline (the components run under Pulumi mocks, no cloud, no Pulumi CLI); the recorded
registrations are compared (`compare.py`), replacements are explained from the providers' replace-on-change facts
(`replacement.py`), and the cost of each side comes from `llama_infra.targets.cost_report`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from llama_infra.diff.compare import FieldChange, ResourceChange, ResourceDiff, compare
from llama_infra.diff.sources import DiffInputError, SpecAt, read_spec

__all__ = ["DiffInputError", "FieldChange", "ResourceChange", "SpecDiff", "diff_refs", "diff_specs"]


@dataclass(frozen=True)
class CostSide:
    cost_per_month_usd: float
    snapshot: str
    estimated_prices: tuple[str, ...]


@dataclass(frozen=True)
class SpecDiff:
    """What `pulumi up` would do to go from BASE to HEAD, and what it does to the monthly bill."""

    base: SpecAt
    head: SpecAt
    resources: ResourceDiff
    base_cost: CostSide
    head_cost: CostSide

    @property
    def has_changes(self) -> bool:
        """Anything `pulumi up` would do (an ignored change is not applied, so it is not one)."""
        return bool(self.resources.changes)

    @property
    def cost_delta_per_month_usd(self) -> float:
        return round(self.head_cost.cost_per_month_usd - self.base_cost.cost_per_month_usd, 2)

    @property
    def replacements(self) -> list[ResourceChange]:
        return [c for c in self.resources.changes if c.op == "replace"]


def _cost(at: SpecAt) -> CostSide:
    from llama_infra.targets import cost_report

    report = cost_report(at.spec)
    return CostSide(report.cost_per_month_usd, report.snapshot, tuple(report.estimated_prices))


def diff_specs(base: SpecAt, head: SpecAt) -> SpecDiff:
    from llama_infra.diff.program import resources_for

    return SpecDiff(base, head, compare(resources_for(base.spec), resources_for(head.spec)), _cost(base), _cost(head))


def diff_refs(base: str, head: str, cwd: str | Path | None = None) -> SpecDiff:
    """Diff two spec references (file or `REV:PATH`). Raises DiffInputError or SpecError for bad input."""
    return diff_specs(read_spec(base, cwd), read_spec(head, cwd))
