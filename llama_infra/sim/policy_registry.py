"""The simulator's control planes, one entry each: its name (what `--policies` takes and the report shows), its role,
a one-line help (the CLI's `--help`), and the class in `llama_infra.sim.policies` that runs it.

This is the only list of policies: `llama-infra simulate --policies` offers these names and prints this help, the
report takes the `oracle` role's cost as the yardstick and labels every row with its role, and each
`Policy` subclass reads its name from here. To add a policy, write its class in `llama_infra/sim/policies.py` and
add one entry below (`tests/sim/test_policy_registry.py` fails until both exist and agree).

The module imports nothing beyond the standard library, so the CLI can build its help without the `sim` extra.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Callable

    from llama_infra.sim.policies import Policy

# peer: a control plane others run (the comparison); spec: what llama-infra deploys from the spec; ablation: the
# spec's policy with one part taken out, to show what that part buys; oracle: the clairvoyant lower bound every
# ratio is taken against; bound: a clairvoyant that keeps a constraint every real policy has (the cold starts), so
# a cost below it is out of reach of any policy on the spec's configurations.
PolicyRole = Literal["peer", "spec", "ablation", "oracle", "bound"]
ROLES: tuple[PolicyRole, ...] = ("peer", "spec", "ablation", "oracle", "bound")
POLICY_MODULE = "llama_infra.sim.policies"
FROM_REGISTRY = ""  # the name a registered Policy subclass passes: `Policy.__post_init__` looks its own up here


@dataclass(frozen=True)
class RegisteredPolicy:
    name: str
    role: PolicyRole
    help: str
    class_name: str  # the factory: a Policy subclass in POLICY_MODULE, built without arguments

    def policy_class(self) -> Callable[..., Policy]:
        """The class itself (a registered class builds without arguments; the oracles also take an epsilon)."""
        return getattr(importlib.import_module(POLICY_MODULE), self.class_name)

    def build(self) -> Policy:
        """A fresh instance (policies keep per-run state)."""
        return self.policy_class()()


POLICIES: dict[str, RegisteredPolicy] = {
    p.name: p
    for p in (
        RegisteredPolicy(
            "static-peak", "peer", "a fixed fleet sized with foresight for the busiest 5 minutes", "StaticPeak"
        ),
        RegisteredPolicy(
            "sagemaker-invocations",
            "peer",
            "SageMaker's default target tracking on InvocationsPerInstance (max RPS × 0.5 × 60)",
            "SageMakerInvocations",
        ),
        RegisteredPolicy(
            "skyserve-qps",
            "peer",
            "SkyServe's request-rate autoscaler (QPS ÷ target, 300 s up / 1200 s down)",
            "SkyServeQps",
        ),
        RegisteredPolicy(
            "hpa-running", "peer", "ai-on-eks style HPA on vllm:num_requests_running per replica", "HpaRunning"
        ),
        RegisteredPolicy(
            "spec",
            "spec",
            "what llama-infra deploys: scaling on the SLO's targets, predictive floor, schedules, overflow",
            "SpecPolicy",
        ),
        RegisteredPolicy(
            "spec-without-floor",
            "ablation",
            "the spec's policy without its predictive floor: what the floor buys during ramps",
            "SpecPolicyWithoutFloor",
        ),
        RegisteredPolicy(
            "oracle",
            "oracle",
            "clairvoyant lower bound: the least replicas per minute that reach the attainable SLO",
            "Oracle",
        ),
        RegisteredPolicy(
            "oracle-cold-start",
            "bound",
            "the oracle on the spec's configurations, paying their cold starts: the least a real policy can cost",
            "ColdStartOracle",
        ),
    )
}
POLICY_NAMES: tuple[str, ...] = tuple(POLICIES)


def registered(name: str) -> RegisteredPolicy:
    """The entry for `name`; a ValueError naming the choices when there is none."""
    try:
        return POLICIES[name]
    except KeyError:
        raise ValueError(f"unknown policy {name!r}; choose from {', '.join(POLICY_NAMES)}") from None


def registered_class(class_name: str) -> RegisteredPolicy:
    """The entry whose factory is the class `class_name`."""
    for entry in POLICIES.values():
        if entry.class_name == class_name:
            return entry
    raise LookupError(
        f"{POLICY_MODULE}.{class_name} is not registered: add a RegisteredPolicy for it to {__name__}.POLICIES"
    )


def role_of(name: str) -> PolicyRole | None:
    """The role of a registered policy; None for one built outside the registry (a test's fixed fleet)."""
    entry = POLICIES.get(name)
    return entry.role if entry else None


def make_policy(name: str) -> Policy:
    return registered(name).build()


def names_of_role(role: PolicyRole) -> tuple[str, ...]:
    return tuple(p.name for p in POLICIES.values() if p.role == role)


def help_lines() -> list[str]:
    """One line per policy, `name (role): help`, in registry order: the CLI's help and docs read these."""
    return [f"{p.name} ({p.role}): {p.help}" for p in POLICIES.values()]
