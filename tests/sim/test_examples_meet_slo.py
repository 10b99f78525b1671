"""The shipped examples meet their SLO at their stated load on the shared week (the Azure 2024 coding week's arrival
rate scaled to the spec's peak, sizes from the shared code trace), through the simulator's `spec` control plane —
the targets and the predictive floor the SLO implies. Here on a weekday's slice from the quiet night through the
morning ramp to the afternoon peak (seconds); the full week for prod and prod-eks is `benchmarks/bench_slo.py`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llama_infra.cli import app
from llama_infra.sim.engine import Simulation
from llama_infra.sim.policies import SpecPolicy, SpecPolicyWithoutFloor
from llama_infra.sim.report import default_assumptions, summarise
from llama_infra.sim.workload import load_rate_profile, load_trace, synthesize
from llama_infra.slo_targets import floor_at, predictive_floor
from llama_infra.spec import load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "stacks" / "specs").glob("*.yaml"))
DEV_PEAK_RPS = 1.0  # dev states no load: one request per second at the busiest hour (as benchmarks/bench_sim.py)
# Monday of the shared week (it starts on a Friday, 00:00 UTC): 10:00–17:00 UTC is New York's night's end (the
# switch back to the day configuration), the morning ramp (12:00–14:00 UTC, the steepest of the week) and the climb
# to the afternoon peak
SLICE = (3 * 86400 + 10 * 3600, 3 * 86400 + 17 * 3600)


def _week(spec, days: float = 4.0):
    peak = spec.load.peak_requests_per_second or DEV_PEAK_RPS
    return synthesize(load_rate_profile(), load_trace(), peak, days, seed=1)


def _run(spec, workload, policy):
    sim = Simulation(spec, workload, policy, default_assumptions(spec), seed=1, dt_s=5.0).run()
    return sim, summarise(sim, 0.0)


def test_every_example_validates_strictly_with_no_slo_warning():
    result = CliRunner().invoke(app, ["validate", "--strict", *map(str, EXAMPLES)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_meets_its_slo_through_the_morning_ramp(path):
    spec = load_spec(path)
    workload = _week(spec).window(*SLICE)
    _, result = _run(spec, workload, SpecPolicy())
    assert result.slo_attainment >= 0.99, (path.stem, result.slo_attainment, result.dropped)


def test_prod_floor_has_replicas_warm_before_the_ramp_and_a_policy_without_it_has_fewer():
    spec = load_spec(ROOT / "stacks" / "specs" / "prod.yaml")
    workload = _week(spec).window(*SLICE)
    floor = predictive_floor(spec, on=workload.start.date())
    ramp_start_s = 2 * 3600  # 12:00 UTC, 2 h into the slice: the hour before the steepest rise
    expected = floor_at(spec, floor, workload.start + timedelta(seconds=ramp_start_s))
    assert expected is not None and expected > spec.capacity.baseline.count  # the floor rises ahead of the ramp
    with_floor, a = _run(spec, workload, SpecPolicy())
    without, b = _run(spec, workload, SpecPolicyWithoutFloor())
    i = int(ramp_start_s // 60) + 30  # half an hour in, every replica the floor asked for is warm
    assert with_floor.series["ready"][i] >= expected
    assert without.series["ready"][i] < with_floor.series["ready"][i]
    assert a.slo_attainment >= b.slo_attainment
    # the report's attainment in ramps says what the floor buys: the slice's morning ramp is in it
    assert a.ramp_attainment is not None and b.ramp_attainment is not None
    assert a.ramp_attainment > b.ramp_attainment


def test_an_unstated_queue_target_is_the_derived_one_and_a_stated_one_wins():
    from types import SimpleNamespace

    from llama_infra.slo_targets import derived_targets

    text = (ROOT / "stacks" / "specs" / "prod.yaml").read_text()
    unstated = parse_spec(text)
    assert "queue_depth_target" not in unstated.scaling.model_fields_set  # the example leaves it to the derivation
    stated = parse_spec(text.replace("scaling:\n", "scaling:\n  queue_depth_target: 2.7\n", 1))
    derived = derived_targets(unstated)[0].queue_depth_target
    assert derived is not None and derived != unstated.scaling.queue_depth_target  # not the field's default
    for spec, want in ((unstated, derived), (stated, 2.7)):
        policy = SpecPolicy()
        policy.prepare(SimpleNamespace(spec=spec))
        assert policy.controller.policy.target_value == pytest.approx(want)


def test_the_floor_follows_the_workload_calendar_weekdays_only():
    spec = load_spec(ROOT / "stacks" / "specs" / "prod.yaml")
    week = _week(spec, days=7.0)
    floor = predictive_floor(spec, on=week.start.date())
    saturday_noon = week.start + timedelta(days=1, hours=16)  # the week starts on a Friday
    monday_noon = week.start + timedelta(days=3, hours=16)
    assert floor_at(spec, floor, saturday_noon) is None
    assert floor_at(spec, floor, monday_noon) == max(f.min_replicas for f in floor)  # New York's noon: the peak
