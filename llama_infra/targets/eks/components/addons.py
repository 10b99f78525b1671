"""`EksAddons`: Helm releases of the add-ons the spec asks llama-infra to install (charts pinned in
`llama_infra.targets.kubernetes.images`): KEDA, prometheus-adapter (with our external rules), NVIDIA device plugin, DCGM
exporter.
Add-ons in `eks.preinstalled` are relied on, not installed."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from llama_infra.spec import DeploymentSpec
from llama_infra.targets.eks import addons
from llama_infra.targets.eks.components._common import COMPONENT_PREFIX, child


@dataclass
class EksAddonsArgs:
    """Inputs of `EksAddons`."""

    spec: DeploymentSpec
    k8s_provider: k8s.Provider | None


class EksAddons(pulumi.ComponentResource):
    """Helm releases of the add-ons in `eks.addons` that are not preinstalled."""

    installed: pulumi.Output[list[str]]

    def __init__(self, name: str, args: EksAddonsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{COMPONENT_PREFIX}EksAddons", name, None, opts)
        self.releases: dict[str, k8s.helm.v3.Release] = {}
        for addon in addons.selected(args.spec):
            c = addons.chart(addon)
            self.releases[addon] = k8s.helm.v3.Release(
                f"{name}-{addon}",
                name=addon,
                chart=c.chart,
                version=c.version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=c.repo),
                namespace=c.namespace,
                create_namespace=True,
                values=addons.values(args.spec, addon),
                atomic=True,  # a failed upgrade rolls back instead of leaving a half-installed metrics API
                opts=child(self, provider=args.k8s_provider),
            )
        self.installed = pulumi.Output.from_input(list(self.releases))
        self.register_outputs({"installed": self.installed})
