"""`llama-infra tune SPEC`: search the spec's scaling knobs for the least cost that meets the SLO."""

from __future__ import annotations

from pathlib import Path

import typer

from llama_infra.cli._extras import require
from llama_infra.cli._sim_options import WorkloadOptions, load_inputs
from llama_infra.cli.progress import EtaProgress


def register(app: typer.Typer) -> None:
    @app.command()
    def tune(
        spec_file: Path = typer.Argument(..., metavar="SPEC", help="Spec YAML file."),
        trace: Path | None = WorkloadOptions.trace,
        rate_profile: str | None = WorkloadOptions.rate_profile,
        peak_rps: float | None = WorkloadOptions.peak_rps,
        days: float = WorkloadOptions.days,
        window: str | None = WorkloadOptions.window,
        seed: int = WorkloadOptions.seed,
        step_seconds: float | None = WorkloadOptions.step_seconds,
        passes: int = typer.Option(2, help="Coordinate-descent passes over the knobs."),
        write: bool = typer.Option(False, "--write", help="Write the recommended change into SPEC (comments and "
                                   "layout kept), not only print it as a diff."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (trials as they run go to "
                                     "stderr)."),
    ) -> None:
        """Try queue_depth_target, baseline count, stabilization windows and schedule times; print the change
        with the least cost that meets the SLO (or, if none does, the highest SLO attainment) as a YAML diff.
        Each trial simulates the `spec` policy (see `simulate --help` for it and its peers)."""
        require("sim", "tune")
        from llama_infra import terminal

        from llama_infra.sim.replica_model import ReplicaModelError
        from llama_infra.sim.tune import trial_budget
        from llama_infra.sim.tune import tune as run_tune
        from llama_infra.sim.tune import yaml_diff
        from llama_infra.sim.workload import default_step_seconds

        spec, workload = load_inputs(spec_file, trace, rate_profile, peak_rps, days, window, seed)
        console = terminal.console(width=160, stderr=as_json)
        console.print(f"tuning {spec.name} on {workload.description}", highlight=False)

        def show(t) -> None:
            progress(1)
            what = ", ".join(f"{'.'.join(map(str, k))}={v}" for k, v in t.changes.items()) or "as written"
            r = t.result
            console.print(f"  {what}: ${r.total_cost_usd:,.2f}, SLO attainment {r.slo_attainment:.1%}",
                          highlight=False, markup=False)

        try:
            with EtaProgress(trial_budget(spec, passes), "tuning (trials, at most)", console=terminal.console(stderr=True)) \
                    as progress:
                start, best, trials = run_tune(spec, workload, seed, step_seconds or default_step_seconds(workload),
                                               passes, show)
        except ReplicaModelError as e:
            typer.echo(f"error: {spec_file}: {e}", err=True)
            raise typer.Exit(1) from None
        b, s = best.result, start.result
        if as_json:
            import json

            def outcome(t) -> dict:
                return {"changes": {".".join(map(str, k)): v for k, v in t.changes.items()},
                        "cost_usd": round(t.result.total_cost_usd, 2), "slo_attainment": t.result.slo_attainment,
                        "meets_slo": t.result.meets_slo}

            typer.echo(json.dumps({"spec": spec.name, "workload": workload.description, "simulations": len(trials),
                                   "as_written": outcome(start), "recommended": outcome(best),
                                   "diff": yaml_diff(spec_file, best.changes) if best.changes else "",
                                   "written": bool(write and best.changes)}, indent=2))
        else:
            console.print(f"\n{len(trials)} simulations. As written: ${s.total_cost_usd:,.2f}, "
                          f"{s.slo_attainment:.1%} within SLO. Recommended: ${b.total_cost_usd:,.2f}, "
                          f"{b.slo_attainment:.1%} within SLO{'' if b.meets_slo else ' (no candidate meets the SLO)'}.",
                          highlight=False)
        if not best.changes:
            if not as_json:
                console.print("No change recommended.")
            return
        if not as_json:
            typer.echo(yaml_diff(spec_file, best.changes))
        if write:
            from llama_infra.sim.tune import write_changes

            write_changes(spec_file, best.changes)
            console.print(f"wrote the recommended change into {spec_file}", highlight=False)
