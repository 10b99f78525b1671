"""`OverflowRouter`: the router of an EKS spec with `fallback` or scale to zero, and the fallback model service.

Objects come from `llama_infra.targets.kubernetes.fallback` and `llama_infra.targets.kubernetes.router` (plain data,
validated by the tests);
this component only applies them. The router's Service `<name>-router` is the entry point clients use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from llama_infra.spec import DeploymentSpec
from llama_infra.targets.eks.components._common import COMPONENT_PREFIX, child, kubernetes_resource
from llama_infra.targets.kubernetes import fallback, router


def _suffix(spec: DeploymentSpec, obj: dict) -> str:
    """Pulumi name suffix: the object's name after the spec name, plus the kind (names repeat across kinds)."""
    short = obj["metadata"]["name"].removeprefix(spec.name).strip("-") or spec.name
    return f"{short}-{obj['kind'].lower()}"


@dataclass
class OverflowRouterArgs:
    """Inputs of `OverflowRouter`."""

    spec: DeploymentSpec
    k8s_provider: k8s.Provider | None
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    """E.g. the Namespace, when created in the same program."""


class OverflowRouter(pulumi.ComponentResource):
    """Fallback model (ServiceAccount, Deployment, Service) and router (ConfigMap, Deployment, Service, PDB, and the
    NetworkPolicy that admits only the router to the model servers)."""

    entry_service_name: pulumi.Output[str]
    fallback_service_name: pulumi.Output[str | None]

    def __init__(self, name: str, args: OverflowRouterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{COMPONENT_PREFIX}OverflowRouter", name, None, opts)
        spec = args.spec
        if not router.needed(spec):
            raise ValueError(f"spec '{spec.name}' has neither a fallback nor scale to zero: it needs no router")
        o = child(self, provider=args.k8s_provider, depends_on=list(args.depends_on))
        self.resources: dict[str, pulumi.CustomResource] = {}
        for obj in [*fallback.objects(spec), *router.objects(spec)]:
            suffix = _suffix(spec, obj)
            self.resources[suffix] = kubernetes_resource(f"{name}-{suffix}", obj, o)
        self.entry_service_name = pulumi.Output.from_input(router.name_of(spec))
        self.fallback_service_name = pulumi.Output.from_input(
            fallback.name_of(spec) if spec.fallback is not None else None
        )
        self.register_outputs(
            {"entry_service_name": self.entry_service_name, "fallback_service_name": self.fallback_service_name}
        )
