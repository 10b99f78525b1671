"""`llama-infra plan [STACK|SPEC_FILE...] [--json]`: what `pulumi up` would create, offline, for each environment."""

from __future__ import annotations

from pathlib import Path

import typer


def complete_stack_or_spec(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion for `plan`'s arguments: the stacks of the stacks directory, then spec files beside."""
    from llama_infra.plan.engine import find_stacks_dir, is_spec_file, stack_names

    stacks_dir = ctx.params.get("stacks_dir") or find_stacks_dir()
    stacks = stack_names(Path(stacks_dir)) if stacks_dir else []
    folder, _, prefix = incomplete.rpartition("/")
    base = Path(folder or ".")
    files = sorted(
        (f"{folder}/{p.name}" if folder else p.name) + ("/" if p.is_dir() else "")
        for p in (base.iterdir() if base.is_dir() else [])
        if p.name.startswith(prefix) and not p.name.startswith(".") and (p.is_dir() or is_spec_file(p.name))
    )
    return [s for s in stacks if s.startswith(incomplete)] + files


def register(app: typer.Typer) -> None:
    @app.command()
    def plan(
        stacks: list[str] = typer.Argument(
            None,
            metavar="[STACK|SPEC_FILE]...",
            autocompletion=complete_stack_or_spec,
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
