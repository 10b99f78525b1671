"""`llama-infra simulate` and `llama-infra tune` end to end (CliRunner)."""

import json

from typer.testing import CliRunner

from llama_infra.cli import app

SPEC = "tests/data/sim/eks-8b-spot.yaml"
SLICE = "tests/data/traces/azure_code_first_10min.csv"


def test_simulate_json_and_plots(tmp_path):
    r = CliRunner().invoke(
        app,
        [
            "simulate",
            SPEC,
            "--trace",
            SLICE,
            "--window",
            "0:5m",
            "--json",
            "--out",
            str(tmp_path),
            "--policies",
            "spec,oracle",
        ],
    )
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert [p["policy"] for p in data["policies"]] == ["spec", "oracle"]
    assert data["workload"].endswith("window 0s–5m")
    assert {
        "ttft_p99_ms",
        "slo_attainment",
        "ratio_to_oracle",
        "replica_hours",
        "interruptions",
        "dropped",
        "tokens_per_s_per_user_p5",
        "cost_per_1k_requests_usd",
    } <= set(data["policies"][0])
    for png in ("replicas_over_time.png", "ttft_cdf.png", "cost_breakdown.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / "results.json").read_text())["spec"] == "sim-eks-8b"


def test_simulate_table_on_synthetic_workload():
    r = CliRunner().invoke(
        app,
        [
            "simulate",
            SPEC,
            "--trace",
            SLICE,
            "--rate-profile",
            "shared",
            "--peak-rps",
            "1",
            "--days",
            "0.05",
            "--policies",
            "static-peak,skyserve-qps",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "synthetic Poisson arrivals" in r.output and "skyserve-qps" in r.output


def test_bad_trace_is_a_clean_error():
    r = CliRunner().invoke(app, ["simulate", SPEC, "--trace", "tests/data/traces/negative-tokens.csv"])
    assert r.exit_code == 1
    assert "negative-tokens.csv, line 3, column GeneratedTokens: negative token count -3" in r.output
    assert "Traceback" not in r.output


def test_unknown_policy_is_a_clean_error():
    r = CliRunner().invoke(app, ["simulate", SPEC, "--trace", SLICE, "--policies", "spec,magic"])
    assert r.exit_code == 2 and "unknown policy magic" in r.output


def test_tune_prints_a_yaml_diff_of_the_spec():
    r = CliRunner().invoke(app, ["tune", SPEC, "--trace", SLICE, "--window", "0:5m", "--passes", "1"])
    assert r.exit_code == 0, r.output
    assert "simulations (budget" in r.output and "As written:" in r.output and "trial budget" in r.output
    if "No change recommended." not in r.output:
        assert f"--- {SPEC}" in r.output and f"+++ {SPEC} (recommended)" in r.output
        assert any(line.startswith("+") and ":" in line for line in r.output.splitlines()[2:])


def test_progress_reports_every_step_once():
    from llama_infra.sim.report import simulate, total_steps
    from llama_infra.sim.workload import constant_rate
    from llama_infra.spec import load_spec

    spec = load_spec("stacks/specs/dev.yaml")
    w = constant_rate(0.5, 9000, 256, 32)  # 9,000 one-second steps: two in-loop reports and the rest at the end
    seen: list[int] = []
    simulate(spec, w, ("static-peak", "spec"), seed=1, dt_s=1.0, progress=seen.append)
    assert sum(seen) == total_steps(w, 1.0, 2) == 18_000 and max(seen) == 4096
    seen.clear()
    simulate(spec, w, ("static-peak", "spec"), seed=1, dt_s=1.0, processes=2, progress=seen.append)
    assert seen == [9000, 9000]


def test_progress_bar_shows_only_on_long_runs(monkeypatch):
    from llama_infra.cli import progress as cli

    with cli.EtaProgress(100, "simulating") as p:
        p(50)
        assert p.bar is None  # under SHOW_AFTER_SECONDS: nothing drawn
        monkeypatch.setattr(cli, "SHOW_AFTER_SECONDS", -1.0)
        p(25)
        assert p.bar is not None and p.bar.tasks[0].completed == 75 and p.bar.tasks[0].total == 100


def test_progress_goes_to_stderr_with_an_eta_and_not_to_stdout(capsys):
    import sys

    from rich.console import Console

    from llama_infra.cli.progress import EtaProgress

    with EtaProgress(
        4, "tuning", show_after_seconds=0.0, console=Console(file=sys.stderr, force_terminal=True, width=120)
    ) as p:
        p.describe("trial 1")
        p(1)
        p.bar.refresh()
    out, err = capsys.readouterr()
    assert out == ""
    assert "tuning" in err and "trial 1" in err and "1/4" in err and "ETA" in err


def test_tune_json_keeps_stdout_pure_json_while_the_bar_runs(monkeypatch):
    from llama_infra.cli import progress

    monkeypatch.setattr(progress, "SHOW_AFTER_SECONDS", -1.0)  # the bar from the first trial on
    r = CliRunner().invoke(app, ["tune", SPEC, "--trace", SLICE, "--window", "0:2m", "--passes", "1", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["simulations"] >= 1 and "tuning" in r.stderr


def test_trial_budget_bounds_the_trials_tune_runs():
    from llama_infra.sim.tune import trial_budget, tune
    from llama_infra.sim.tune_space import space_of
    from llama_infra.sim.workload import constant_rate
    from llama_infra.spec import load_spec

    spec = load_spec(SPEC)
    result = tune(spec, constant_rate(0.5, 120, 256, 32), seed=0, dt_s=1.0, passes=1)
    assert 1 < len(result.trials) <= result.budget == trial_budget(space_of(spec), passes=1)
    few = tune(spec, constant_rate(0.5, 120, 256, 32), seed=0, dt_s=1.0, passes=1, max_trials=3)
    assert len(few.trials) == few.budget == 3
