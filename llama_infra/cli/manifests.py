"""`llama-infra manifests SPEC`: the Kubernetes objects of an EKS spec as YAML, for review or `kubectl diff -f -`."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def manifests(
        spec_file: Path = typer.Argument(..., help="Spec YAML with target: eks."),
        node_role: str = typer.Option("KARPENTER_NODE_ROLE", help="IAM role name the EC2NodeClass gives nodes."),
        adapter_rules: bool = typer.Option(
            False, help="Print prometheus-adapter's rules.external instead (for a preinstalled adapter)."
        ),
        output: str = typer.Option(
            "yaml", "--output", "-o", help="yaml (a multi-document stream for kubectl) or json (a kind: List)."
        ),
    ) -> None:
        """Print every Kubernetes object (namespace, NodePools, Deployments, Service, PDB, autoscaler) as YAML."""
        import sys

        from ruamel.yaml import YAML

        from llama_infra.spec import SpecError, load_spec

        try:
            spec = load_spec(spec_file)
        except SpecError as e:
            typer.echo(str(e), err=True)
            raise typer.Exit(1) from None
        if output not in ("yaml", "json"):
            typer.echo(f"--output: '{output}' is not a format; choose yaml or json", err=True)
            raise typer.Exit(2)
        from llama_infra import targets
        from llama_infra.targets.kubernetes.autoscaling import adapter_external_rules

        objects = targets.get(spec.target).kubernetes_objects(spec, node_role)
        if objects is None:
            typer.echo(
                f"{spec_file}: target is {spec.target}; manifests are rendered for target: eks",
                err=True,
            )
            raise typer.Exit(2)

        if output == "json":
            import json

            doc = (
                {"rules": {"external": adapter_external_rules(spec)}}
                if adapter_rules
                else {"apiVersion": "v1", "kind": "List", "items": objects}
            )
            typer.echo(json.dumps(doc, indent=2))
            return
        yaml = YAML()
        yaml.default_flow_style = False
        yaml.representer.ignore_aliases = lambda *_: True  # plain YAML for kubectl and reviewers
        if adapter_rules:
            yaml.dump({"rules": {"external": adapter_external_rules(spec)}}, sys.stdout)
            return
        yaml.dump_all(objects, sys.stdout)
