"""`tune` searches every knob that decides SLO and cost, prunes what the SLO envelope rules out, and says
"infeasible" with the reason instead of recommending a configuration that misses the SLO."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llama_infra.cli import app
from llama_infra.sim.report import default_assumptions, run_policy
from llama_infra.sim.tune import tune, write_changes
from llama_infra.sim.tune_space import REMOVE, candidate, space_of
from llama_infra.sim.workload import constant_rate
from llama_infra.slo_envelope import envelopes
from llama_infra.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
OVERSIZED = ROOT / "tests" / "data" / "sim" / "tune-oversized-window.yaml"
SLICE = str(ROOT / "tests" / "data" / "traces" / "azure_code_first_10min.csv")
# short prompts at a steady 0.5 req/s from 2024-05-10 00:00 UTC: inside the spec's 18:00–07:00 UTC window
QUIET_NIGHT = constant_rate(0.5, 600, 256, 32)


def run(*args: str):
    return CliRunner().invoke(app, ["tune", *args])


def test_an_oversized_window_gets_a_cheaper_one_that_still_meets_the_slo(tmp_path):
    spec = load_spec(OVERSIZED)
    result = tune(spec, QUIET_NIGHT, seed=0, dt_s=1.0, passes=1)
    assert result.infeasible is None and result.best.meets_slo
    assert any(p[:1] == ("schedules",) for p in result.recommended), result.recommended
    spec_file = tmp_path / OVERSIZED.name
    shutil.copy(OVERSIZED, spec_file)
    write_changes(spec_file, result.recommended)
    written = load_spec(spec_file)
    # judged again through the simulator, independently of the search: cheaper, and the SLO still holds
    before = run_policy(spec, QUIET_NIGHT, "spec", 0, default_assumptions(spec), 1.0)
    after = run_policy(written, QUIET_NIGHT, "spec", 0, default_assumptions(written), 1.0)
    assert before.meets_slo and after.meets_slo
    assert after.total_cost_usd < before.total_cost_usd * 0.9
    assert all(e.reachable for e in envelopes(written))


def test_window_configurations_the_envelope_rules_out_are_pruned_not_simulated():
    spec = load_spec(OVERSIZED)
    space = space_of(spec)
    assert space.pruned and all("SLO" in p.reason for p in space.pruned)
    pruned = {p.label for p in space.pruned}  # "ml.g4dn.xlarge (8B bf16)"
    window_knob = next(k for k in space.knobs if k.name == "window 'overnight': serving configuration")
    assert any(v is REMOVE for o in window_knob.options for _, v in o.changes)  # "no window" is a candidate
    for option in window_knob.options:
        cand = candidate(spec, dict(option.changes))
        assert cand is not None and all(e.reachable for e in envelopes(cand)), option.label
        assert not any(option.label.startswith(p) for p in pruned), option.label
    for p in space.pruned:  # each pruned configuration really is out of reach, by the envelope's own numbers
        assert "tokens/s per user" in p.reason or "TTFT for the p99 prompt" in p.reason


def test_the_output_states_the_budget_and_the_pruned_candidates():
    r = run(str(OVERSIZED), "--trace", SLICE, "--window", "0:2m", "--max-trials", "2")
    assert r.exit_code == 0, r.output
    assert "trial budget 2 simulations" in r.output and "pruned before simulating" in r.output
    assert "2 simulations (budget 2)" in r.output
    r = run(str(ROOT / "stacks" / "specs" / "prod.yaml"), "--trace", SLICE, "--window", "0:1m", "--max-trials", "1")
    assert "not searched: 'overnight' — never in force during this workload" in r.output


def test_a_spec_whose_day_configuration_cannot_meet_the_slo_is_infeasible_with_the_reason(tmp_path):
    spec_file = tmp_path / "fast.yaml"
    text = OVERSIZED.read_text().replace("tokens_per_s_per_user: 20", "tokens_per_s_per_user: 500")
    spec_file.write_text(text)
    r = run(str(spec_file), "--trace", SLICE, "--window", "0:1m", "--write")
    assert r.exit_code == 3, r.output
    assert f"infeasible: {spec_file}: the day configuration cannot meet the SLO at any scale" in r.stderr
    assert "decode at batch 1 is ≈" in r.stderr and "the SLO is 500" in r.stderr
    assert "nothing was simulated" in r.stderr and "fix: use a faster instance" in r.stderr
    assert spec_file.read_text() == text  # nothing written
    doc = json.loads(run(str(spec_file), "--trace", SLICE, "--window", "0:1m", "--json").stdout)
    assert doc["infeasible"].startswith("the day configuration") and doc["simulations"] == 0
    assert doc["recommended"] is None and doc["diff"] == ""


def test_a_search_that_finds_nothing_within_the_slo_says_how_close_it_came(tmp_path):
    # the spec's stated request sizes are short, the trace's coding prompts are not: one trial cannot carry them
    spec_file = tmp_path / OVERSIZED.name
    shutil.copy(OVERSIZED, spec_file)
    before = spec_file.read_text()
    r = run(str(spec_file), "--trace", SLICE, "--window", "0:5m", "--max-trials", "1", "--write", "--json")
    assert r.exit_code == 3, r.output
    doc = json.loads(r.stdout)
    best = doc["best"]["slo_attainment"]
    assert best < 0.99 and doc["recommended"] is None and doc["written"] is False
    reason = doc["infeasible"]
    assert reason.startswith(
        "no configuration in the search space reaches 99% of requests within TTFT 2,000 ms "
        f"and 20 tokens/s per user: the best, the spec as written, reaches {best:.1%}"
    )
    assert "the window 'overnight' on ml.g6e.4xlarge (8B bf16) prefills the p99 prompt in" in reason
    assert "at its max_replicas of 3" in reason and "the trial budget ran out: raise --max-trials" in reason
    assert f"infeasible: {spec_file}: {reason}" in r.stderr
    assert spec_file.read_text() == before


def test_write_removes_a_window_and_replaces_a_model_keeping_comments(tmp_path):
    spec_file = tmp_path / OVERSIZED.name
    shutil.copy(OVERSIZED, spec_file)
    before = spec_file.read_text()
    write_changes(
        spec_file,
        {("schedules", 0): REMOVE, ("schedules", 0, "downsize", "min_replicas"): 1, ("capacity", "burst", "max"): 5},
    )
    after = spec_file.read_text()
    spec = load_spec(spec_file)
    assert spec.schedules == [] and spec.capacity.burst.max == 5 and "schedules" not in after
    comments = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert comments and all(c in after.splitlines() for c in comments)
    assert "# oversized for this load" not in after  # it was on the removed window's line
    lines = before.splitlines()
    block = slice(lines.index("schedules:"), lines.index("load:"))  # the removed window, and its key
    kept = [x for x in lines[: block.start] + lines[block.stop :] if "burst" not in x]
    assert kept == [x for x in after.splitlines() if "burst" not in x]  # every other line as it was

    shutil.copy(OVERSIZED, spec_file)
    write_changes(
        spec_file,
        {
            ("schedules", 0, "downsize", "instance_type"): "ml.g5.xlarge",
            ("schedules", 0, "downsize", "model_override"): REMOVE,
        },
    )
    after = spec_file.read_text()
    assert load_spec(spec_file).schedules[0].downsize.instance_type == "ml.g5.xlarge"
    line = next(x for x in after.splitlines() if "downsize:" in x)
    assert "instance_type: ml.g5.xlarge, min_replicas: 2, max_replicas: 3}" in line and "# oversized for" in line


@pytest.mark.parametrize(
    "args, where",
    [
        (["--passes", "0"], "--passes"),
        (["--max-trials", "0"], "--max-trials"),
    ],
)
def test_bad_options_are_usage_errors(args, where):
    r = run(str(OVERSIZED), "--trace", SLICE, *args)
    assert r.exit_code == 2 and where in r.output and "Traceback" not in r.output


def test_bad_specs_and_traces_are_located_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(OVERSIZED.read_text().replace("count: 1,", "count: -1,"))
    r = run(str(bad), "--trace", SLICE)
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert f"{bad}:14: error: capacity.baseline.count" in r.stderr
    r = run(str(OVERSIZED), "--trace", str(ROOT / "tests" / "data" / "traces" / "missing-column.csv"))
    assert r.exit_code == 1 and "missing-column.csv" in r.stderr and "Traceback" not in r.output
    r = run(str(tmp_path / "nope.yaml"))
    assert r.exit_code == 1 and "nope.yaml" in r.stderr


def test_write_changes_a_model_override_in_place_keeping_its_flow_style_and_comment(tmp_path):
    spec_file = tmp_path / OVERSIZED.name
    spec_file.write_text(
        OVERSIZED.read_text().replace(
            "    downsize: {instance_type: ml.g6e.4xlarge, min_replicas: 2, max_replicas: 3}"
            "  # oversized for this load",
            "    downsize:\n      instance_type: ml.g6e.4xlarge\n"
            "      model_override: {precision: bf16}  # the night model\n"
            "      min_replicas: 2\n      max_replicas: 3",
        )
    )
    load_spec(spec_file)
    write_changes(
        spec_file,
        {
            ("schedules", 0, "downsize", "model_override"): {
                "id": "meta-llama/Llama-3.1-8B-Instruct",
                "precision": "bf16",
            }
        },
    )
    line = next(x for x in spec_file.read_text().splitlines() if "model_override" in x)
    assert line.startswith("      model_override: {precision: bf16, id: meta-llama/Llama-3.1-8B-Instruct}")
    assert line.endswith("# the night model")
    assert load_spec(spec_file).schedules[0].downsize.model_override.id == "meta-llama/Llama-3.1-8B-Instruct"


def test_the_candidates_carry_the_targets_and_window_bounds_plan_derives_for_them():
    # tune derives through slo_targets' public derivation, so what it tries is what `plan` would show for that spec
    from llama_infra.slo_targets import derived_targets

    spec = load_spec(ROOT / "stacks" / "specs" / "prod.yaml")
    space = space_of(spec)
    queue = next(k for k in space.knobs if k.name == "scaling.queue_depth_target")
    assert derived_targets(spec)[0].queue_depth_target in {v for o in queue.options for _, v in o.changes}
    window = next(k for k in space.knobs if k.name == "window 'overnight': serving configuration")
    checked = 0
    for option in window.options:
        changes = dict(option.changes)
        bounds = {p[-1]: v for p, v in changes.items() if p[-1] in ("min_replicas", "max_replicas")}
        if not bounds:
            continue
        config_only = {p: v for p, v in changes.items() if p[-1] not in bounds}
        night = derived_targets(candidate(spec, config_only))[1]
        assert bounds["max_replicas"] == min(night.replicas_with_headroom, spec.max_replicas), option.label
        assert bounds["min_replicas"] == min(max(1, night.min_replicas), bounds["max_replicas"]), option.label
        checked += 1
    assert checked >= 3


def test_tune_searches_the_floor_lead_where_the_floor_runs_and_only_leads_that_move_it():
    from llama_infra.slo_targets import predictive_floor

    spec = load_spec(ROOT / "stacks" / "specs" / "prod.yaml")
    lead = next(k for k in space_of(spec).knobs if k.name == "scaling.floor_lead_minutes")
    values = [v for o in lead.options for _, v in o.changes]
    assert values and all(
        predictive_floor(candidate(spec, {("scaling", "floor_lead_minutes"): v})) != predictive_floor(spec)
        for v in values
    )
    assert 0 in values  # no lead: the floor rises with the shape, not ahead of it


def _baseline_counts(spec) -> list[int]:
    knob = next(k for k in space_of(spec).knobs if k.name == "capacity.baseline.count")
    return [dict(o.changes)[("capacity", "baseline", "count")] for o in knob.options]


def test_tune_does_not_offer_a_prod_baseline_of_one_which_validate_flags_and_the_policy_pack_blocks():
    from llama_infra.spec.rules import warnings

    spec = load_spec(ROOT / "stacks" / "specs" / "prod-eks.yaml")
    assert spec.environment == "prod" and spec.capacity.baseline.count == 2
    one = spec.model_copy(
        update={
            "capacity": spec.capacity.model_copy(
                update={"baseline": spec.capacity.baseline.model_copy(update={"count": 1})}
            )
        }
    )
    assert any(w.path == ("capacity", "baseline", "count") for w in warnings(one))  # what validate says of it
    assert candidate(spec, {("capacity", "baseline", "count"): 1}) is None
    assert _baseline_counts(spec) == [3]
    # outside prod a baseline of one draws no warning: it stays a candidate
    staging = spec.model_copy(update={"environment": "staging"})
    assert 1 in _baseline_counts(staging)
    # a warning the spec as written already draws does not rule its options out
    assert candidate(one, {("capacity", "burst", "max"): 8}) is not None


def test_tune_offers_the_derived_kv_cache_target_only_where_the_kv_cache_bounds_the_replica():
    from llama_infra.slo_envelope import needs
    from llama_infra.slo_targets import derived_targets

    spec = load_spec(ROOT / "stacks" / "specs" / "prod-eks.yaml")
    derived = derived_targets(spec)[0].kv_cache_target
    assert derived is not None and derived != spec.scaling.gpu_memory_target  # there is a derived value to offer
    assert needs(spec)[0].envelope.limited_by != "KV cache"  # but prefill queueing bounds the replica at SLO
    assert "scaling.gpu_memory_target" not in [k.name for k in space_of(spec).knobs]
