"""`llama-infra simulate SPEC`: replay or synthesise a workload against every policy and report cost and SLOs."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from llama_infra.cli._extras import require
from llama_infra.cli._sim_options import WorkloadOptions, load_inputs
from llama_infra.cli.progress import EtaProgress
from llama_infra.sim.policy_registry import POLICY_NAMES, help_lines

# The policies `--policies` offers, one line each, from the registry (it needs no extra to import).
POLICIES_EPILOG = "Policies (--policies):\n\n" + "\n\n".join(help_lines())


def parse_policies(value: str) -> tuple[str, ...]:
    """`all` or comma-separated registered names, in the order given; a BadParameter naming the choices else."""
    if value.strip() == "all":
        return POLICY_NAMES
    chosen = tuple(p.strip() for p in value.split(",") if p.strip())
    unknown = [p for p in chosen if p not in POLICY_NAMES]
    if unknown or not chosen:
        raise typer.BadParameter(
            f"unknown policy {', '.join(unknown) or '(none given)'}; choose from {', '.join(POLICY_NAMES)} (or all)",
            param_hint="--policies",
        )
    return chosen


def register(app: typer.Typer) -> None:
    @app.command(epilog=POLICIES_EPILOG)
    def simulate(
        spec_file: Path = typer.Argument(..., metavar="SPEC", help="Spec YAML file."),
        trace: Path | None = WorkloadOptions.trace,
        rate_profile: str | None = WorkloadOptions.rate_profile,
        peak_rps: float | None = WorkloadOptions.peak_rps,
        days: float = WorkloadOptions.days,
        window: str | None = WorkloadOptions.window,
        seed: int = WorkloadOptions.seed,
        step_seconds: float | None = WorkloadOptions.step_seconds,
        policies: str = typer.Option(
            "all", help=f"Comma-separated, of {', '.join(POLICY_NAMES)} (each described below), or all."
        ),
        out: Path | None = typer.Option(None, "--out", help="Directory for results.json and PNG plots."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of the table."),
        processes: int = typer.Option(1, help="Run policies in this many processes."),
    ) -> None:
        """Cost and SLO attainment of the spec's policy next to peer policies and the oracle lower bound."""
        require("sim", "simulate")
        from llama_infra import terminal
        from llama_infra.sim.replica_model import ReplicaModelError
        from llama_infra.sim.report import (
            default_assumptions,
            render_table,
            simulate,
            to_json,
            total_steps,
            write_json,
            write_plots,
        )
        from llama_infra.sim.workload import default_step_seconds

        chosen = parse_policies(policies)
        spec, workload = load_inputs(spec_file, trace, rate_profile, peak_rps, days, window, seed)
        assumptions = default_assumptions(spec)
        dt = step_seconds or default_step_seconds(workload)
        try:
            with EtaProgress(total_steps(workload, dt, len(chosen)), "simulating", enabled=not as_json) as progress:
                results = simulate(spec, workload, chosen, seed, assumptions, dt, processes, progress)
        except ReplicaModelError as e:
            typer.echo(f"error: {spec_file}: {e}", err=True)
            raise typer.Exit(1) from None
        payload = to_json(spec, workload, results, assumptions, seed)
        if out:
            write_json(out / "results.json", payload)
            paths = write_plots(spec, workload, results, out)
        if as_json:
            typer.echo(json.dumps(payload, indent=2))
            return
        console = terminal.console(width=200)
        render_table(spec, workload, results, assumptions, console)
        if out:
            console.print(f"wrote {out / 'results.json'} and " + ", ".join(str(p) for p in paths), highlight=False)
