"""`llama-infra tune SPEC`: search every knob that decides SLO and cost for the least cost that meets the SLO, or
say why nothing in the search space can (exit 3)."""

from __future__ import annotations

from pathlib import Path

import typer

from llama_infra.cli._extras import require
from llama_infra.cli._sim_options import WorkloadOptions, load_inputs
from llama_infra.cli.progress import EtaProgress

EXIT_INFEASIBLE = 3
SHOWN_PRUNED = 4


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
        passes: int = typer.Option(2, min=1, max=10, help="Coordinate-descent passes over the knobs."),
        max_trials: int = typer.Option(
            200,
            "--max-trials",
            min=1,
            help="Most simulations to run (the trial budget is the smaller of this and 1 + passes × options).",
        ),
        held_out_draws: int = typer.Option(
            2,
            "--held-out-draws",
            min=0,
            max=10,
            help="Draws a recommended change must also meet the SLO on: with --rate-profile, new arrivals and spot "
            "draws (seeds --seed + 1, + 2, ...); on a replayed trace, new spot draws only. 0: none.",
        ),
        write: bool = typer.Option(
            False,
            "--write",
            help="Write the recommended change into SPEC (comments and layout kept), not only print it as a diff.",
        ),
        as_json: bool = typer.Option(
            False, "--json", help="Print the result as JSON (trials as they run go to stderr)."
        ),
    ) -> None:
        """Search window configurations (instance type and model, min/max, whether the window exists, its times),
        baseline count and purchase, burst max, scaling targets and stabilization windows through the simulator;
        print the change with the least cost that meets the SLO as a YAML diff, or "infeasible" with the reason
        (exit 3). Configurations the SLO envelope rules out at any scale are pruned before simulating. Each trial
        simulates the `spec` policy (see `simulate --help` for it and its peers)."""
        require("sim", "tune")
        from llama_infra import terminal
        from llama_infra.sim.replica_model import ReplicaModelError
        from llama_infra.sim.tune import describe_changes, idle_windows, trial_budget, without_idle_windows, yaml_diff
        from llama_infra.sim.tune import tune as run_tune
        from llama_infra.sim.tune_space import REMOVE, path_str, space_of
        from llama_infra.sim.workload import default_step_seconds

        spec, workload = load_inputs(spec_file, trace, rate_profile, peak_rps, days, window, seed)
        draws = held_out(workload, trace, rate_profile, peak_rps, days, window, seed, held_out_draws)
        console = terminal.console(width=160, stderr=as_json)
        console.print(f"tuning {spec.name} on {workload.description}", highlight=False)
        try:
            space = space_of(spec)
        except ReplicaModelError as e:
            typer.echo(f"error: {spec_file}: {e}", err=True)
            raise typer.Exit(1) from None
        idle = idle_windows(spec, workload)
        if idle:
            space = without_idle_windows(space, idle)
            console.print(
                f"not searched: {', '.join(repr(n) for n in idle)} — never in force during this workload "
                "(the simulator cannot judge a window it never runs; use a workload that covers it, e.g. "
                "--rate-profile shared --days 1)",
                highlight=False,
            )
        budget = trial_budget(space, passes, max_trials)
        console.print(
            f"search space: {len(space.knobs)} knobs, {space.options} options; trial budget {budget} "
            f"simulations (1 + {passes} passes × {space.options} options, at most --max-trials "
            f"{max_trials})",
            highlight=False,
        )
        if space.pruned:
            console.print(
                f"pruned before simulating: {len(space.pruned)} window configurations the SLO envelope "
                "rules out at any scale, e.g.",
                highlight=False,
            )
            for p in space.pruned[:SHOWN_PRUNED]:
                console.print(f"  {p.knob.split(':')[0]} on {p.label}: {p.reason}", highlight=False, markup=False)
        if space.rejected:
            console.print(
                f"left out: {space.rejected} options the spec's rules reject or warn against", highlight=False
            )

        def show(t) -> None:
            progress(1)
            r = t.result
            mark = "" if t.eligible else " (a configuration the SLO envelope rules out)"
            console.print(
                f"  {describe_changes(t.changes)}: ${r.total_cost_usd:,.2f}, SLO attainment "
                f"{r.slo_attainment:.1%}{mark}",
                highlight=False,
                markup=False,
            )

        try:
            with EtaProgress(budget, "tuning (trials, at most)", console=terminal.console(stderr=True)) as progress:
                result = run_tune(
                    spec,
                    workload,
                    seed,
                    step_seconds or default_step_seconds(workload),
                    passes,
                    max_trials,
                    show,
                    space,
                    draws,
                )
        except ReplicaModelError as e:
            typer.echo(f"error: {spec_file}: {e}", err=True)
            raise typer.Exit(1) from None
        best, start, changes = result.best, result.start, result.recommended
        if as_json:
            import json

            def outcome(t) -> dict | None:
                if t is None:
                    return None
                return {
                    "changes": {path_str(k): (None if v is REMOVE else v) for k, v in t.changes.items()},
                    "removed": [path_str(k) for k, v in t.changes.items() if v is REMOVE],
                    "cost_usd": round(t.result.total_cost_usd, 2),
                    "slo_attainment": t.result.slo_attainment,
                    "meets_slo": t.meets_slo,
                    "by_configuration": [
                        {
                            "configuration": s.name,
                            "instance_type": s.config.instance_type,
                            "requests": s.requests,
                            "slo_attainment": round(s.attainment, 4),
                        }
                        for s in t.shares
                    ],
                }

            typer.echo(
                json.dumps(
                    {
                        "spec": spec.name,
                        "workload": workload.description,
                        "budget": budget,
                        "simulations": len(result.trials),
                        "knobs": [{"name": k.name, "options": [o.label for o in k.options]} for k in space.knobs],
                        "pruned": [{"knob": p.knob, "option": p.label, "reason": p.reason} for p in space.pruned],
                        "rejected": space.rejected,
                        "not_searched_windows": idle,
                        "infeasible": result.infeasible,
                        "held_out": {
                            "seeds": [d.seed for d in draws],
                            "new_arrivals": rate_profile is not None,
                            "candidates": [
                                {
                                    "changes": describe_changes(h.trial.changes),
                                    "holds": h.holds,
                                    "slo_attainment": [None if r is None else r.slo_attainment for r in h.results],
                                }
                                for h in result.held_out
                            ],
                            "not_confirmed": result.not_confirmed,
                        },
                        "as_written": outcome(start),
                        "recommended": outcome(best) if not result.infeasible else None,
                        "best": outcome(best),
                        "diff": yaml_diff(spec_file, changes) if changes else "",
                        "written": bool(write and changes),
                    },
                    indent=2,
                )
            )
        elif start is not None and best is not None:
            s, b = start.result, best.result
            if not result.infeasible:
                verdict = f"Recommended: ${b.total_cost_usd:,.2f}, {b.slo_attainment:.1%} within SLO."
            elif b.meets_slo:  # on the searched workload, not on a held-out draw
                verdict = f"Best: ${b.total_cost_usd:,.2f}, {b.slo_attainment:.1%} within SLO (not on held-out draws)."
            else:
                verdict = f"Best: ${b.total_cost_usd:,.2f}, {b.slo_attainment:.1%} within SLO (misses it)."
            extra = sum(h.simulations for h in result.held_out)
            console.print(
                f"\n{len(result.trials)} simulations (budget {budget}) and {extra} on held-out draws. As written: "
                f"${s.total_cost_usd:,.2f}, {s.slo_attainment:.1%} within SLO. {verdict}",
                highlight=False,
            )
            for h in result.held_out:
                console.print(
                    f"  held out: {h.describe(draws)}: {'holds' if h.holds else 'misses the SLO'}",
                    highlight=False,
                    markup=False,
                )
            if result.not_confirmed:
                console.print(f"Not recommended: {result.not_confirmed}.", highlight=False, markup=False)
        if result.infeasible:
            typer.echo(f"infeasible: {spec_file}: {result.infeasible}", err=True)
            raise typer.Exit(EXIT_INFEASIBLE)
        if not changes:
            if not as_json:
                console.print("No change recommended.")
            return
        if not as_json:
            typer.echo(yaml_diff(spec_file, changes))
        if write:
            from llama_infra.sim.tune import write_changes

            write_changes(spec_file, changes)
            console.print(f"wrote the recommended change into {spec_file}", highlight=False)


def held_out(workload, trace, rate_profile, peak_rps, days, window, seed: int, n: int) -> list:
    """The held-out draws: with a rate profile, new arrivals (and spot draws) from seeds seed + 1 ... seed + n; on a
    replayed trace the same requests, new spot draws only."""
    from llama_infra.sim.tune import Draw
    from llama_infra.sim.workload import build_workload

    if rate_profile is None:
        return [Draw(workload, seed + k) for k in range(1, n + 1)]
    return [
        Draw(build_workload(trace, rate_profile, peak_rps, days, window, seed + k), seed + k) for k in range(1, n + 1)
    ]
