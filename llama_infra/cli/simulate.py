"""`llama-infra simulate SPEC`: replay or synthesise a workload against every policy and report cost and SLOs."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from llama_infra.cli._extras import require

from llama_infra.cli._sim_options import WorkloadOptions, load_inputs

SHOW_AFTER_SECONDS = 2.0  # short runs finish before a progress bar would help


class SimulationProgress:
    """A rich progress bar with ETA (on stderr) over the simulated steps, shown only once a run has taken longer
    than `SHOW_AFTER_SECONDS`; a callable for `simulate(progress=...)`."""

    def __init__(self, total_steps: int, enabled: bool = True) -> None:
        self.total, self.enabled, self.done = total_steps, enabled, 0
        self.bar = None
        self.task = None

    def __enter__(self) -> SimulationProgress:
        import time

        self.started = time.monotonic()
        return self

    def __call__(self, steps: int) -> None:
        import time

        self.done += steps
        if self.bar is None and self.enabled and time.monotonic() - self.started > SHOW_AFTER_SECONDS:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("simulate", total=self.total, completed=self.done)
        elif self.bar is not None:
            self.bar.update(self.task, completed=self.done)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def register(app: typer.Typer) -> None:
    @app.command()
    def simulate(
        spec_file: Path = typer.Argument(..., metavar="SPEC", help="Spec YAML file."),
        trace: Path | None = WorkloadOptions.trace,
        rate_profile: str | None = WorkloadOptions.rate_profile,
        peak_rps: float | None = WorkloadOptions.peak_rps,
        days: float = WorkloadOptions.days,
        window: str | None = WorkloadOptions.window,
        seed: int = WorkloadOptions.seed,
        step_seconds: float | None = WorkloadOptions.step_seconds,
        policies: str = typer.Option("all", help="Comma-separated: static-peak, sagemaker-invocations, "
                                     "skyserve-qps, hpa-running, spec, oracle (or all)."),
        out: Path | None = typer.Option(None, "--out", help="Directory for results.json and PNG plots."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of the table."),
        processes: int = typer.Option(1, help="Run policies in this many processes."),
    ) -> None:
        """Cost and SLO attainment of the spec's policy next to peer policies and the oracle lower bound."""
        require("sim", "simulate")
        from rich.console import Console

        from llama_infra.sim.policies import POLICY_NAMES
        from llama_infra.sim.replica_model import ReplicaModelError
        from llama_infra.sim.report import default_assumptions, render_table, simulate, to_json, total_steps, \
            write_json, write_plots
        from llama_infra.sim.workload import default_step_seconds

        spec, workload = load_inputs(spec_file, trace, rate_profile, peak_rps, days, window, seed)
        chosen = POLICY_NAMES if policies == "all" else tuple(p.strip() for p in policies.split(","))
        unknown = [p for p in chosen if p not in POLICY_NAMES]
        if unknown:
            typer.echo(f"--policies: unknown policy {', '.join(unknown)}; choose from {', '.join(POLICY_NAMES)}",
                       err=True)
            raise typer.Exit(2)
        assumptions = default_assumptions(spec)
        dt = step_seconds or default_step_seconds(workload)
        try:
            with SimulationProgress(total_steps(workload, dt, len(chosen)), enabled=not as_json) as progress:
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
        console = Console(width=200)
        render_table(spec, workload, results, assumptions, console)
        if out:
            console.print(f"wrote {out / 'results.json'} and " + ", ".join(str(p) for p in paths), highlight=False)
