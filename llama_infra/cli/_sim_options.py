"""Workload options shared by `simulate` and `tune`, and turning bad input into clean errors."""

from __future__ import annotations

from pathlib import Path

import typer


class WorkloadOptions:
    trace = typer.Option(
        None,
        "--trace",
        help="Per-request trace CSV (TIMESTAMP, ContextTokens, GeneratedTokens); "
        "default: the shared Azure LLM 2023 code trace.",
    )
    rate_profile = typer.Option(
        None,
        "--rate-profile",
        help="Rate CSV (minute_offset, requests_per_minute_mid) to "
        "synthesise Poisson arrivals from, sizes sampled from --trace; 'shared' for the "
        "Azure LLM 2024 coding week.",
    )
    peak_rps = typer.Option(None, "--peak-rps", help="Busiest rate the profile is scaled to (req/s).")
    days = typer.Option(7.0, "--days", help="Days to synthesise.")
    window = typer.Option(None, "--window", help="START:END of the workload to keep, e.g. 0:1h, 2d:3d.")
    seed = typer.Option(0, "--seed", help="Seed for arrivals, spot interruptions and sampling.")
    step_seconds = typer.Option(None, "--step-seconds", help="Simulation step (default 1 s up to a day, 5 s beyond).")


def load_inputs(spec_file: Path, trace, rate_profile, peak_rps, days, window, seed):
    from llama_infra.sim.workload import TraceError, build_workload
    from llama_infra.spec import SpecError, load_spec

    try:
        spec = load_spec(spec_file)
    except SpecError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    try:
        workload = build_workload(trace, rate_profile, peak_rps, days, window, seed)
    except (TraceError, ValueError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    if len(workload) == 0:
        typer.echo("error: the workload has no requests (check --window)", err=True)
        raise typer.Exit(1)
    return spec, workload
