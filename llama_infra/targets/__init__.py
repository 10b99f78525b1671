"""Deployment targets behind one seam: each target registers itself, callers say `targets.get(spec.target)`.

A target (SageMaker, EKS) is one home, `llama_infra/targets/<target>/`, holding everything that is its own — its
Pulumi components, its pure objects (Kubernetes manifests, SageMaker metric dimensions), its runtime workflow — and
one small object implementing `Target` (`<target>/target.py`), which registers itself with `register` when its
module is imported. The stacks program, the multi-language component, `plan` and `diff` dispatch through `get`;
none of them names a target. The neutral core (`spec`, `sizing`, `pricing`, `schedules`, `capacity_plan`, the
pure controllers in `scaling`) imports nothing from here; the import-linter contract in pyproject.toml holds that.

Adding a target: a new package `llama_infra/targets/<name>/` with a `target.py` whose object implements `Target`
and calls `register(...)`, and its module path in `BUILT_IN` (ARCHITECTURE.md walks through it).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pulumi

    from llama_infra.capacity_timeline import TimelineFacts
    from llama_infra.cost_model import CostReport
    from llama_infra.pricing import BillingUnits
    from llama_infra.spec import DeploymentSpec
    from llama_infra.spec.errors import SpecIssue

# The targets this package ships, by the module that registers each (imported on first use: `plan` for a
# SageMaker spec never imports the EKS code).
BUILT_IN: dict[str, str] = {
    "sagemaker": "llama_infra.targets.sagemaker.target",
    "eks": "llama_infra.targets.eks.target",
}


@dataclass(frozen=True)
class Entry:
    """What a client of a deployment calls, whatever the target (the multi-language component's outputs)."""

    endpoint_name: Any  # pulumi.Output[str]: the SageMaker endpoint, or the Kubernetes Service clients call
    endpoint_arn: Any = None  # pulumi.Output[str] | None: for callers' IAM policies (SageMaker only)
    dashboard_url: Any = None  # pulumi.Output[str] | None: the target's dashboard, where it builds one


class Target(Protocol):
    """One deployment target: what the target-neutral callers need from it, and nothing more."""

    name: str
    """The spec's `target` value this object serves (`sagemaker`, `eks`)."""

    def spec_errors(self, spec: DeploymentSpec) -> list[SpecIssue]:
        """The target's own spec rules on the whole spec (`llama-infra validate` reports them with the rest)."""
        ...

    def window_errors(self, spec: DeploymentSpec, i: int) -> list[SpecIssue]:
        """The target's own rules on window `spec.schedules[i]` (its crons parse and it is not empty)."""
        ...

    def spec_warnings(self, spec: DeploymentSpec) -> list[SpecIssue]:
        """Likely mistakes on this target that do not stop a plan."""
        ...

    def build(
        self,
        name: str,
        spec: DeploymentSpec,
        opts: pulumi.ResourceOptions | None = None,
        *,
        endpoint_name: str | None = None,
    ) -> pulumi.ComponentResource:
        """The target's component for a validated spec, children named `<name>-<role>`. `endpoint_name` is the
        name clients call where the target lets a caller choose it (a SageMaker endpoint; ignored elsewhere)."""
        ...

    def stack_outputs(self, component: Any) -> dict[str, Any]:
        """The stack outputs (`pulumi stack output`) the stacks program exports for the component, in order."""
        ...

    def entry(self, component: Any) -> Entry:
        """What clients call, for the multi-language component's outputs."""
        ...

    def plan_lines(self, spec: DeploymentSpec) -> list[str]:
        """Lines the target adds to `llama-infra plan` besides the resource tree (EKS: its capacity pools)."""
        ...

    def scaling_notes(self, spec: DeploymentSpec) -> list[str]:
        """Sentences `plan` adds to the scaling policy's words (what the target does not scale on, and why)."""
        ...

    def scales_on_gpu_memory(self, spec: DeploymentSpec) -> bool:
        """Whether the target renders the spec's GPU-memory trigger (`scaling.gpu_memory_target`)."""
        ...

    def renders_floor(self, spec: DeploymentSpec) -> bool:
        """Whether the components render the spec's predictive floor (`slo_targets.predictive_floor`, when it has
        one): `plan` shows it and the simulator's spec policy should run it only then."""
        ...

    def floor_follow_period_s(self, spec: DeploymentSpec) -> float | None:
        """How often the rendered predictive floor re-reads the load it follows (`scaling.floor_follow`: the
        scheduled floor scaled by the observed over the forecast rate), in seconds; None where the floor is
        scheduled only (or there is none)."""
        ...

    def floor_follows_capacity_steps(self, spec: DeploymentSpec) -> bool:
        """Whether the following floor is the fewest replicas that carry the followed load (the hour's capacity
        steps, `slo_targets.FloorHour.carries_rps`) rather than the scheduled floor scaled by the ratio
        (`scaling.floor_follow`)."""
        ...

    def retires_on_demand_first(self, spec: DeploymentSpec) -> bool:
        """Whether the rendered scale-in removes on-demand burst replicas before spot ones (the simulator's spec
        policy retires them so), rather than in the order the target's own controller picks regardless of price."""
        ...

    def empty_node_s(self, spec: DeploymentSpec, capacity: str) -> float:
        """How long the node of a burst replica of `capacity` (spot, on-demand) that left keeps running, billed,
        before the target removes it (the simulator bills it, and a burst replica asked for meanwhile takes it); 0
        where the instance goes with the replica."""
        ...

    def billing_units(self, spec: DeploymentSpec) -> BillingUnits:
        """How the target bills the spec's capacity, for the week plan and the cost report."""
        ...

    def timeline_facts(self, spec: DeploymentSpec) -> TimelineFacts:
        """What the plan's 24-hour timeline says that differs by target."""
        ...

    def window_schedulers(self, spec: DeploymentSpec) -> list[str]:
        """What fires the spec's window crons on this target, as the DST rules name it ("EventBridge Scheduler")."""
        ...

    def kubernetes_objects(self, spec: DeploymentSpec, node_role_name: str) -> list[dict] | None:
        """Every Kubernetes object the target's components apply, as manifests (`llama-infra manifests`), or None
        where the target runs nothing on Kubernetes. `node_role_name`: the IAM role its nodes get, where it has
        nodes."""
        ...

    def scaffold(self, doc: dict[str, Any], *, environment: str, region: str, cluster_name: str) -> dict[str, Any]:
        """A spec `llama-infra init` writes (`doc`: the target-neutral part), with the target's own settings."""
        ...


_REGISTRY: dict[str, Target] = {}


def register(target: Target) -> Target:
    """Make `target` the one `get(target.name)` returns (a target module calls this when imported)."""
    _REGISTRY[target.name] = target
    return target


def get(name: str) -> Target:
    """The target registered under `name` (the spec's `target`), importing a built-in one on first use."""
    if name not in _REGISTRY and name in BUILT_IN:
        importlib.import_module(BUILT_IN[name])
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted({*BUILT_IN, *_REGISTRY}))
        raise LookupError(f"no deployment target {name!r} is registered (known: {known})") from None


def cost_report(spec: DeploymentSpec, *, with_schedules: bool = True) -> CostReport:
    """The spec's monthly cost (`cost_model.cost_report`) with its target's billing units."""
    from llama_infra.cost_model import cost_report as report

    return report(spec, get(spec.target).billing_units(spec), with_schedules=with_schedules)


def names() -> list[str]:
    """Every target that `get` can return."""
    return sorted({*BUILT_IN, *_REGISTRY})


__all__ = ["BUILT_IN", "Entry", "Target", "cost_report", "get", "names", "register"]
