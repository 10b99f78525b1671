"""`llama-infra plan [STACK|SPEC_FILE...] [--json]`: what `pulumi up` would create, offline, for each environment."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def plan(
        stacks: list[str] = typer.Argument(
            None,
            metavar="[STACK|SPEC_FILE]...",
            help="Stacks (stacks/Pulumi.<stack>.yaml) or spec files (.yaml/.yml/.json) "
            "to plan (default: every stack, dev to prod).",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the plans as JSON for machines."),
        details: bool | None = typer.Option(
            None,
            "--details/--summary",
            help="After the summary table, each stack's resources, scaling, "
            "timeline and cost (default: --details for one stack, else --summary).",
        ),
        stacks_dir: Path | None = typer.Option(
            None, "--stacks-dir", help="Directory with __main__.py and Pulumi.<stack>.yaml files (default: ./stacks)."
        ),
    ) -> None:
        """Run the Pulumi program offline under mocks: resources, scaling policy, cost and warnings per stack."""
        import json

        from llama_infra import terminal
        from llama_infra.plan import PlanError, plan_stacks
        from llama_infra.spec import SpecError

        err = terminal.console(stderr=True, soft_wrap=True)
        try:
            plans = plan_stacks(stacks or None, stacks_dir)
        except (SpecError, PlanError) as e:
            err.print(str(e), markup=False, highlight=False)
            raise typer.Exit(1) from None
        if as_json:
            typer.echo(json.dumps({"plans": [p.to_dict() for p in plans]}, indent=2, sort_keys=True))
            return
        from llama_infra.plan.render import render

        render(plans, details=details if details is not None else len(plans) == 1)
