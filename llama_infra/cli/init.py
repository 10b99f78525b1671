"""`llama-infra init DIR`: scaffold a spec, its stack file and the Pulumi program for a target, model and region."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def init(
        directory: Path = typer.Argument(..., help="New directory to create."),
        target: str = typer.Option("sagemaker", help="sagemaker or eks."),
        model: str = typer.Option("8b", help="8b (bf16 on one L40S) or 70b (AWQ on 4x L40S)."),
        region: str = typer.Option("us-east-1", help="AWS region."),
        name: str | None = typer.Option(None, help="Deployment name (default: llama-<model>-<environment>)."),
        environment: str = typer.Option("dev", help="dev, staging or prod: the stack and spec it writes."),
        cluster_name: str = typer.Option("my-cluster", help="EKS: the existing cluster to deploy into."),
    ) -> None:
        """Write a validated spec, Pulumi.yaml, a stack file and the program into DIR, and print the next steps."""
        from llama_infra.scaffold import SERVING, scaffold
        from llama_infra.spec import SpecError

        choices = {
            "--target": (target, ("sagemaker", "eks")),
            "--model": (model, tuple(SERVING)),
            "--environment": (environment, ("dev", "staging", "prod")),
        }
        for option, (value, allowed) in choices.items():
            if value not in allowed:
                typer.echo(f"{option}: '{value}' is not one of {', '.join(allowed)}", err=True)
                raise typer.Exit(2)
        try:
            files = scaffold(
                directory,
                name=name or f"llama-{model}-{environment}",
                target=target,  # type: ignore[arg-type]
                model=model,  # type: ignore[arg-type]
                region=region,
                environment=environment,
                cluster_name=cluster_name,
            )
        except FileExistsError as e:
            typer.echo(str(e), err=True)
            raise typer.Exit(1) from None
        except SpecError as e:
            typer.echo(f"{e}\nnothing was written", err=True)
            raise typer.Exit(1) from None
        for f in files:
            typer.echo(f"wrote {directory / f}")
        typer.echo(f"""
next:
  cd {directory}
  llama-infra validate specs/{environment}.yaml
  llama-infra plan                       # offline: resources, scaling, cost
  pulumi stack init {environment} && pulumi up --stack {environment}   # for real (Pulumi CLI, AWS credentials)""")
