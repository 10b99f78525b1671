"""`tune` recommends a change only once it also meets the SLO on held-out draws: the search stops at the cheapest
candidate on the one draw it searched, which is where a new draw of arrivals or spot interruptions tips it over."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from llama_infra.cli import app
from llama_infra.sim.report import default_assumptions, run_policy
from llama_infra.sim.tune import HELD_OUT_CANDIDATES, Draw, tune
from llama_infra.sim.tune_space import candidate
from llama_infra.sim.workload import constant_rate
from llama_infra.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
OVERSIZED = ROOT / "tests" / "data" / "sim" / "tune-oversized-window.yaml"  # SageMaker: no spot burst
EKS_SPOT = ROOT / "tests" / "data" / "sim" / "eks-8b-spot.yaml"
# inside OVERSIZED's 18:00–07:00 UTC window: the searched night, a like one, and one 60 times as busy
QUIET_NIGHT = constant_rate(0.5, 600, 256, 32)
LIKE_NIGHT = constant_rate(1.0, 600, 256, 32)
BUSY_NIGHT = constant_rate(30.0, 600, 256, 32)


def test_a_change_that_holds_on_the_held_out_draws_is_recommended_as_without_them():
    spec = load_spec(OVERSIZED)
    searched = tune(spec, QUIET_NIGHT, seed=0, dt_s=1.0, passes=1)
    confirmed = tune(spec, QUIET_NIGHT, seed=0, dt_s=1.0, passes=1, held_out=[Draw(LIKE_NIGHT, 1)])
    assert searched.recommended and confirmed.recommended == searched.recommended
    assert [h.holds for h in confirmed.held_out] == [True] and confirmed.not_confirmed is None
    costs = [t.result.total_cost_usd for t in searched.trials]
    assert [t.result.total_cost_usd for t in confirmed.trials] == costs  # the same search; held-out runs apart


def test_a_change_that_misses_the_slo_on_a_held_out_draw_is_not_recommended():
    spec = load_spec(OVERSIZED)
    searched = tune(spec, QUIET_NIGHT, seed=0, dt_s=1.0, passes=1)
    result = tune(spec, QUIET_NIGHT, seed=0, dt_s=1.0, passes=1, held_out=[Draw(LIKE_NIGHT, 1), Draw(BUSY_NIGHT, 2)])
    assert searched.recommended and result.recommended == {} and result.infeasible is None
    assert result.best is result.start  # the spec as written (it met the SLO on the searched draw)
    assert len(result.held_out) == HELD_OUT_CANDIDATES and not any(h.holds for h in result.held_out)
    assert result.held_out[0].trial.changes == searched.recommended  # the search's best was tried first
    assert result.not_confirmed.startswith(f"the {HELD_OUT_CANDIDATES} cheapest changes that meet the SLO")
    assert "seed 2: " in result.not_confirmed
    # judged again by the simulator, outside tune: the search's best really misses the SLO on the busy night
    best = candidate(spec, searched.recommended)
    assert not run_policy(best, BUSY_NIGHT, "spec", 2, default_assumptions(best), 1.0).meets_slo
    assert run_policy(best, QUIET_NIGHT, "spec", 0, default_assumptions(best), 1.0).meets_slo


def test_a_replayed_workload_is_simulated_again_only_for_candidates_with_spot_draws():
    sagemaker = tune(load_spec(OVERSIZED), QUIET_NIGHT, seed=0, dt_s=1.0, passes=1, held_out=[Draw(QUIET_NIGHT, 1)])
    assert sagemaker.held_out[0].results == [None] and sagemaker.held_out[0].simulations == 0
    w = constant_rate(0.5, 120, 256, 32)
    eks = tune(load_spec(EKS_SPOT), w, seed=0, dt_s=1.0, passes=1, held_out=[Draw(w, 1), Draw(w, 2)])
    assert eks.recommended and eks.held_out[0].simulations == 2  # a spot burst: new interruption draws


def test_the_cli_draws_new_arrivals_from_a_rate_profile_and_reports_them():
    args = ["tune", str(OVERSIZED), "--rate-profile", "shared", "--peak-rps", "1", "--days", "0.01", "--passes", "1"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "and 2 on held-out draws" in r.output and "(seed 1: " in r.output and ": holds" in r.output
    doc = json.loads(CliRunner().invoke(app, [*args, "--json", "--seed", "5"]).stdout)
    assert doc["held_out"]["seeds"] == [6, 7] and doc["held_out"]["new_arrivals"] is True
    assert doc["held_out"]["candidates"][0]["holds"] and len(doc["held_out"]["candidates"][0]["slo_attainment"]) == 2
    doc = json.loads(CliRunner().invoke(app, [*args, "--json", "--held-out-draws", "0"]).stdout)
    assert doc["held_out"] == {"seeds": [], "new_arrivals": True, "candidates": [], "not_confirmed": None}
    r = CliRunner().invoke(app, [*args, "--held-out-draws", "-1"])
    assert r.exit_code == 2 and "--held-out-draws" in r.output


def test_with_nothing_that_holds_and_the_spec_as_written_missing_too_the_result_is_infeasible(tmp_path):
    # one g6e.4xlarge overnight cannot carry 60 req/s; the search finds changes that can, none carries 200
    spec_file = tmp_path / "one-replica-night.yaml"
    spec_file.write_text(
        OVERSIZED.read_text().replace("min_replicas: 2, max_replicas: 3", "min_replicas: 1, max_replicas: 1")
    )
    spec, busy = load_spec(spec_file), constant_rate(60.0, 600, 256, 32)
    searched = tune(spec, busy, seed=0, dt_s=1.0, passes=1)
    assert not searched.start.meets_slo and searched.recommended and searched.infeasible is None
    result = tune(spec, busy, seed=0, dt_s=1.0, passes=1, held_out=[Draw(constant_rate(200.0, 600, 256, 32), 1)])
    assert result.recommended == {} and not any(h.holds for h in result.held_out)
    assert result.infeasible.startswith("no change that meets 99% of requests within TTFT 2,000 ms")
    assert f"the spec as written misses it ({searched.start.result.slo_attainment:.1%})" in result.infeasible
