"""Results do not depend on the step size: every policy within 1 point of attainment and 3 % of cost between 1 s
and 5 s steps on the shared hour (the week is in `benchmarks/bench_sim.py`). Before sequences that finished in the
previous step were released ahead of the control tick, the spec's target tracking moved 22 % here."""

import pytest

from llama_infra.sim.report import simulate
from llama_infra.sim.workload import load_trace
from llama_infra.spec import load_spec


@pytest.mark.parametrize("path", ["stacks/specs/prod.yaml", "tests/data/sim/eks-8b-spot.yaml"])
def test_every_policy_is_step_size_independent(path):
    spec, w = load_spec(path), load_trace()
    fine = simulate(spec, w, seed=1, dt_s=1.0, processes=2)
    coarse = simulate(spec, w, seed=1, dt_s=5.0, processes=2)
    for a, b in zip(fine, coarse, strict=True):
        assert abs(a.slo_attainment - b.slo_attainment) <= 0.01, a.policy
        assert b.total_cost_usd == pytest.approx(a.total_cost_usd, rel=0.03), a.policy
