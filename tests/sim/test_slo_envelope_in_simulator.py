"""The SLO envelope is a safe bound: replicas carrying the envelope's rate meet the SLO in the simulator.

The envelope bounds one replica's prefill queue (M/M/1); the simulator pools prefill across replicas, so a fleet
at the envelope's rate must meet the SLO there, and a fleet past its prefill saturation must not.
"""

from datetime import UTC, datetime

import numpy as np
import pytest

from llama_infra.sim.engine import Simulation
from llama_infra.sim.policies import Policy
from llama_infra.sim.report import default_assumptions, summarise
from llama_infra.sim.workload import Workload, load_trace
from llama_infra.slo_envelope import needs, perf_of
from llama_infra.spec import parse_spec

SPEC = """
name: llama-8b-envelope
target: sagemaker
model: {id: meta-llama/Llama-3.1-8B-Instruct, params_b: 8, precision: bf16,
        weights: {source: "s3://bucket/llama-8b/"}}
slo: {ttft_p99_ms: 2500, tokens_per_s_per_user: 20}
capacity:
  baseline: {instance_type: ml.g6e.xlarge, count: 3}
"""
REPLICAS = 3


class Fixed(Policy):
    def __init__(self, n: int):
        super().__init__("fixed", f"fixed {n} replicas", 60.0)
        self.n = n

    def initial_count(self, cfg):
        return self.n

    def desired(self, obs, cfg):
        return self.n


def _poisson(rate_rps: float, seconds: float, seed: int) -> Workload:
    sizes = load_trace()  # the envelope's default sizes: the shared trace
    rng = np.random.default_rng(seed)
    arrivals = np.sort(rng.random(rng.poisson(rate_rps * seconds)) * seconds)
    pick = rng.integers(0, len(sizes), len(arrivals))
    return Workload(
        arrivals,
        sizes.prompt_tokens[pick],
        sizes.output_tokens[pick],
        datetime(2026, 1, 5, 12, tzinfo=UTC),
        seconds,
        f"Poisson {rate_rps:.2f} req/s",
    )


def _attainment(spec, rate_rps: float) -> float:
    sim = Simulation(spec, _poisson(rate_rps, 1800, seed=7), Fixed(REPLICAS), default_assumptions(spec), 7).run()
    return summarise(sim, 0.0).slo_attainment


@pytest.fixture(scope="module")
def spec():
    return parse_spec(SPEC)


def test_a_fleet_at_the_envelopes_rate_meets_the_slo(spec):
    e = needs(spec)[0].envelope
    assert e.reachable and e.requests_per_second > 0
    assert _attainment(spec, REPLICAS * e.requests_per_second) >= 0.99


def test_a_fleet_past_its_prefill_saturation_does_not(spec):
    e = needs(spec)[0].envelope
    saturated = perf_of(e.config, None).prefill_tokens_per_s / e.sizes.prompt.mean
    assert _attainment(spec, REPLICAS * saturated * 1.1) < 0.99


class Watching(Fixed):
    """A fixed fleet that records what the autoscalers' metrics read at every tick (after the first 5 minutes)."""

    def __init__(self, n: int):
        super().__init__(n)
        self.control_period_s = 10.0
        self.in_system: list[float] = []
        self.waiting: list[float] = []

    def desired(self, obs, cfg):
        if obs.now >= 300 and obs.ready_replicas:
            self.in_system.append((obs.running + obs.queue_depth) / obs.ready_replicas)
            self.waiting.append(obs.queue_depth / obs.ready_replicas)
        return self.n


@pytest.mark.parametrize("share", [0.6, 0.9])
def test_the_occupancy_the_targets_are_derived_from_is_what_the_simulator_reads(spec, share):
    """`slo_envelope.occupancy` (Little's law with a Pollaczek–Khinchine prefill wait), which the derived targets
    read, agrees with the replica model's own queue: SageMaker's running + queued and vLLM's waiting per replica, at
    a fleet running at a share of its rate at SLO. (Before the pool stopped counting requests waiting for prefill as
    running too, its metric read twice the queue.)"""
    from llama_infra.slo_envelope import envelope, occupancy

    e = needs(spec)[0].envelope
    fleet = envelope(e.config, e.tp_degree, e.ttft_slo_s, e.tokens_per_s_slo, e.sizes, REPLICAS)
    rate = fleet.requests_per_second * share
    expected = occupancy(fleet, rate)
    watch = Watching(REPLICAS)
    Simulation(spec, _poisson(REPLICAS * rate, 3600, seed=3), watch, default_assumptions(spec), 3).run()
    assert np.mean(watch.in_system) == pytest.approx(expected.in_system, rel=0.15)
    # the simulator also counts the unfinished part of the prefill in service as waiting: at most one request's
    # worth for the fleet (it pools prefill as one server), 1/REPLICAS per replica
    assert expected.waiting <= np.mean(watch.waiting) <= expected.waiting + 1 / REPLICAS


@pytest.mark.parametrize("share", [0.6, 0.9])
def test_a_10_s_datapoint_spreads_at_least_as_a_poisson_count_around_the_occupancy(spec, share):
    """The derived targets sit one standard deviation of a datapoint above the mean they are derived from
    (`slo_targets.above_spread`), taking a count of requests averaged over the fleet as Poisson: √(mean ÷ fleet).
    The replica model's own datapoints, one every 10 s (SageMaker's high-resolution period), spread at least that
    much, running + queued and waiting alike: the margin is not more than the noise it stands for."""
    from llama_infra.slo_envelope import envelope, occupancy

    e = needs(spec)[0].envelope
    fleet = envelope(e.config, e.tp_degree, e.ttft_slo_s, e.tokens_per_s_slo, e.sizes, REPLICAS)
    expected = occupancy(fleet, fleet.requests_per_second * share)
    watch = Watching(REPLICAS)
    Simulation(
        spec, _poisson(REPLICAS * fleet.requests_per_second * share, 3600, seed=3), watch, default_assumptions(spec), 3
    ).run()
    for read, mean in ((watch.in_system, expected.in_system), (watch.waiting, expected.waiting)):
        poisson = np.sqrt(mean / REPLICAS)
        assert poisson <= np.std(read) < 3 * poisson  # and of that order: the margin is not a sliver of the noise
