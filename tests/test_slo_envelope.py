"""The SLO envelope: reachable or not (with the numbers), and what one replica carries at SLO.

Expectations come from the replica model itself (`replica_perf`), so they follow its calibration.
"""

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from llama_infra import request_sizes
from llama_infra.capacity_plan import Config
from llama_infra.request_sizes import RequestSizes, TokenDistribution
from llama_infra.sim.replica_model import replica_perf
from llama_infra.sim.workload import load_trace
from llama_infra.slo_envelope import envelope, miss_share, needs, occupancy
from llama_infra.spec import load_spec, parse_spec
from llama_infra.spec.slo import slo_issues

ROOT = Path(__file__).resolve().parents[1]
P4D = Config(None, "ml.p4d.24xlarge", "meta-llama/Llama-3.1-70B-Instruct", 70, "fp16", 2, 6)
CHAT = RequestSizes(TokenDistribution(400, 1200, 1800, 550), TokenDistribution(150, 400, 600, 180), "test")


def _perf():
    return replica_perf("p4d.24xlarge", 70, "fp16")


def test_tokens_per_s_above_batch_one_is_unreachable_with_both_numbers():
    tps1 = _perf().tokens_per_s_per_user(1)
    e = envelope(P4D, None, 10.0, tps1 * 1.05, CHAT)
    assert not e.reachable and e.requests_per_second == 0
    assert f"≈ {tps1:.1f} tokens/s per user" in e.problems[0] and f"the SLO is {tps1 * 1.05:g}" in e.problems[0]


def test_ttft_below_the_p99_prompts_prefill_is_unreachable():
    ttft = _perf().ttft_s(CHAT.prompt.p99)
    e = envelope(P4D, None, ttft * 0.95, 20, CHAT)
    assert not e.reachable
    assert e.problems == (
        f"TTFT for the p99 prompt of 1,800 tokens is ≈ {ttft * 1000:,.0f} ms on ml.p4d.24xlarge "
        f"(70B fp16, TP 8); the SLO is {ttft * 950:,.0f} ms",
    )
    assert envelope(P4D, None, ttft * 1.05, 20, CHAT).reachable


def _holds(perf, rate, sizes, ttft_slo_s, tps_slo):
    """The envelope's conditions, written out from the replica model for a test to check."""
    ttft_mean = perf.ttft_s(sizes.prompt.mean)
    b = 1.0
    for _ in range(200):
        b = rate * (ttft_mean + sizes.output.mean * perf.decode_step_s(max(b, 1)))
    limit = min(
        perf.max_batch_for_tokens_per_s(tps_slo),
        perf.max_num_seqs,
        perf.kv_cache_tokens / (sizes.prompt.mean + sizes.output.mean),
    )
    service = sizes.prompt.mean / perf.prefill_tokens_per_s
    rho = rate * service
    if rho >= 1:
        return False
    misses = 0.0
    levels = [(i + 0.5) / 400 for i in range(400)]
    for q in levels:  # P(prefill wait > what is left of the target after this prompt's own work), M/M/1
        left = ttft_slo_s - (
            perf.ttft_s(sizes.prompt.quantile(q)) - perf.decode_step_s(1) + perf.decode_step_s(max(b, 1))
        )
        misses += 1.0 if left < 0 else rho * math.exp(-(1 - rho) * left / service)
    return b <= limit and misses / len(levels) <= 0.01 and perf.tokens_per_s_per_user(max(b, 1)) >= tps_slo - 1e-9


@pytest.mark.parametrize("ttft_slo_s", [0.6, 1.5, 5.0])
def test_rate_at_slo_is_the_largest_at_which_ttft_and_tokens_per_s_hold(ttft_slo_s):
    perf = _perf()
    e = envelope(P4D, None, ttft_slo_s, 20, CHAT)
    assert e.reachable and e.requests_per_second > 0
    assert _holds(perf, e.requests_per_second * 0.999, CHAT, ttft_slo_s, 20)
    assert not _holds(perf, e.requests_per_second * 1.02, CHAT, ttft_slo_s, 20)
    # Little's law: the concurrency at that rate
    duration = perf.ttft_s(CHAT.prompt.mean) + CHAT.output.mean * perf.decode_step_s(e.concurrency)
    assert e.concurrency == pytest.approx(e.requests_per_second * duration, rel=1e-6)


def test_short_prompts_and_long_outputs_are_limited_by_tokens_per_s_per_user():
    sizes = RequestSizes(TokenDistribution(20, 40, 50, 25), TokenDistribution(800, 1500, 2000, 900), "test")
    perf = _perf()
    tps = perf.tokens_per_s_per_user(perf.max_num_seqs / 4)  # a target that binds well below max_num_seqs
    e = envelope(P4D, None, 2.0, tps, sizes)
    assert e.limited_by == "tokens/s per user"
    assert e.concurrency == pytest.approx(perf.max_batch_for_tokens_per_s(tps), rel=0.02)


def test_a_looser_ttft_target_carries_more_per_replica():
    rates = [envelope(P4D, None, s, 20, CHAT).requests_per_second for s in (0.6, 1.0, 2.0, 4.0)]
    assert rates == sorted(rates) and rates[0] < rates[-1]


def test_miss_share_is_the_mm1_tail_over_the_prompt_sizes():
    assert miss_share(0.5, 1.0, [-0.1, 0.0]) == pytest.approx((1 + 0.5) / 2)
    assert miss_share(0.5, 2.0, [3.0]) == pytest.approx(0.5 * math.exp(-0.5 * 3.0 / 2.0))
    assert miss_share(0.0, 1.0, [0.5, 1.0]) == 0.0


# --- request sizes ------------------------------------------------------------------------------------------


def test_default_sizes_are_the_shared_traces_percentiles_and_the_docs_state_them():
    w = load_trace()
    s = request_sizes.shared()
    assert (s.prompt.p50, s.prompt.p95, s.prompt.p99) == tuple(
        float(np.percentile(w.prompt_tokens, q)) for q in (50, 95, 99)
    )
    assert s.output.mean == pytest.approx(float(w.output_tokens.mean()))
    from llama_infra.spec.model import Load

    doc = Load.model_fields["request_sizes"].description
    for value in (s.prompt.p50, s.prompt.p95, s.prompt.p99, s.output.p50, s.output.p95, s.output.p99):
        assert f"{value:,.0f}" in doc


SPEC = """
name: llama-70b-test
target: sagemaker
model: {id: meta-llama/Llama-3.1-70B-Instruct, params_b: 70, precision: fp16,
        weights: {source: "s3://bucket/llama-70b/"}}
slo: {ttft_p99_ms: 1500, tokens_per_s_per_user: 20}
capacity:
  baseline: {instance_type: ml.p4d.24xlarge, count: 2, purchase: reserved}
  burst: {max: 2}
"""


def test_a_trace_next_to_the_spec_gives_the_sizes(tmp_path, monkeypatch):
    rows = [(2000 + 100 * i, 50 + i) for i in range(100)]
    (tmp_path / "traffic").mkdir()
    (tmp_path / "traffic" / "week.csv").write_text(
        "TIMESTAMP,ContextTokens,GeneratedTokens\n"
        + "".join(f"2024-05-10 00:{i // 60:02d}:{i % 60:02d},{p},{o}\n" for i, (p, o) in enumerate(rows))
    )
    (tmp_path / "spec.yaml").write_text(SPEC + "load: {request_sizes: {trace: traffic/week.csv}}\n")
    monkeypatch.chdir(ROOT)  # not the spec's folder: the path resolves against the spec file
    sizes = request_sizes.of_spec(load_spec(tmp_path / "spec.yaml"))
    assert sizes.prompt.p99 == float(np.percentile([p for p, _ in rows], 99))
    assert sizes.output.mean == pytest.approx(np.mean([o for _, o in rows]))


def test_stated_percentiles_without_a_mean_take_the_lognormal_mean():
    spec = parse_spec(
        SPEC + "load:\n  request_sizes:\n    prompt_tokens: {p50: 1000, p95: 3000, p99: 5000}\n"
        "    output_tokens: {p50: 100, p95: 300, p99: 500, mean: 140}\n"
    )
    sizes = request_sizes.of_spec(spec)
    sigma = math.log(3) / 1.6448536269514722
    assert sizes.prompt.mean == pytest.approx(1000 * math.exp(sigma**2 / 2))
    assert sizes.output.mean == 140


# --- what validate says -------------------------------------------------------------------------------------


def test_a_stated_rate_per_replica_far_from_the_derived_one_is_a_warning_naming_both():
    spec = parse_spec(SPEC + "load: {peak_requests_per_second: 4, requests_per_second_per_replica: 40}\n")
    day = needs(spec)[0].envelope
    issues = [i for i in slo_issues(spec) if i.path == ("load", "requests_per_second_per_replica")]
    assert len(issues) == 1 and issues[0].severity == "warning"
    assert "40 requests/s per replica" in issues[0].problem
    assert f"the {day.requests_per_second:.2f} the replica model derives" in issues[0].problem
    close = parse_spec(
        SPEC + f"load: {{peak_requests_per_second: 4, "
        f"requests_per_second_per_replica: {day.requests_per_second * 1.2:.4f}}}\n"
    )
    assert not [i for i in slo_issues(close) if i.path == ("load", "requests_per_second_per_replica")]


def test_max_replicas_below_the_peak_at_slo_is_a_warning_naming_how_many():
    spec = parse_spec(SPEC + "load: {peak_requests_per_second: 40}\n")
    need = needs(spec)[0]
    assert need.replicas_at_peak == math.ceil(40 / need.envelope.requests_per_second) > spec.max_replicas
    (issue,) = [i for i in slo_issues(spec) if i.path == ("capacity", "burst", "max")]
    assert issue.severity == "warning" and f"so it takes {need.replicas_at_peak}" in issue.problem
    assert issue.fix.startswith(f"set burst max: {need.replicas_at_peak - 2} or more")
    stated = parse_spec(SPEC + "scaling: {max_replicas: 3}\nload: {peak_requests_per_second: 40}\n")
    (issue,) = [i for i in slo_issues(stated) if i.path == ("scaling", "max_replicas")]
    assert issue.fix == f"set max_replicas: {need.replicas_at_peak} or more"


def test_an_unreachable_configuration_is_an_error_with_the_numbers_and_fixes_that_reach_it():
    from llama_infra import catalog, sizing

    sizes = request_sizes.shared()
    idle = {}
    for g in catalog.gpu_types_for("sagemaker"):
        if sizing.fit(70, "fp16", g).fits:
            try:
                idle[g.instance_type] = replica_perf(g.instance_type, 70, "fp16").ttft_s(sizes.prompt.p99)
            except ValueError:
                continue
    best = min(idle.values())
    assert best < idle["p4d.24xlarge"]  # a faster instance exists for the fix to name
    slo_s = (best + idle["p4d.24xlarge"]) / 2
    spec = parse_spec(SPEC.replace("ttft_p99_ms: 1500", f"ttft_p99_ms: {slo_s * 1000:.0f}"))
    (issue,) = [i for i in slo_issues(spec) if i.severity == "error"]
    assert issue.path == ("capacity", "baseline", "instance_type")
    assert (
        f"cannot meet the SLO at any scale: TTFT for the p99 prompt of {sizes.prompt.p99:,.0f} tokens is ≈ "
        f"{idle['p4d.24xlarge'] * 1000:,.0f} ms on ml.p4d.24xlarge"
    ) in issue.problem
    named = issue.fix.split("a faster instance (")[1].split(")")[0].split(", ")
    assert named
    for itype in named:  # every instance the fix names does reach the SLO
        cfg = Config(None, itype, P4D.model_id, 70, "fp16", 2, 4)
        assert envelope(cfg, None, round(slo_s * 1000) / 1000, 20, sizes).reachable, itype


# --- validate and plan --------------------------------------------------------------------------------------


def test_validate_fails_on_an_slo_no_scale_reaches_and_names_the_numbers(tmp_path):
    from typer.testing import CliRunner

    from llama_infra.cli import app

    bad = tmp_path / "fast.yaml"
    bad.write_text(SPEC.replace("ttft_p99_ms: 1500", "ttft_p99_ms: 200"))
    good = tmp_path / "ok.yaml"
    good.write_text(SPEC)
    result = CliRunner().invoke(app, ["validate", str(good), str(bad)])
    assert result.exit_code == 1 and result.exception is None or isinstance(result.exception, SystemExit)
    ttft = replica_perf("p4d.24xlarge", 70, "fp16").ttft_s(request_sizes.shared().prompt.p99)
    assert (
        f"{bad}: error: capacity.baseline.instance_type: the day configuration cannot meet the SLO at any "
        f"scale: TTFT for the p99 prompt of 7,436 tokens is ≈ {ttft * 1000:,.0f} ms"
    ) in result.output
    assert f"{good}: ok" in result.output and f"{good}: error" not in result.output


@pytest.mark.parametrize("example", sorted((ROOT / "stacks" / "specs").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_configuration_can_meet_its_slo(example):
    spec = load_spec(example)
    assert [i.render() for i in slo_issues(spec) if i.severity == "error"] == []
    assert all(n.envelope.requests_per_second > 0 for n in needs(spec))


# --- derived targets ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("baseline", [2, 6], ids=["floor-carries-headroom", "no-floor"])
def test_sagemaker_target_is_what_the_metric_reads_at_the_rate_at_slo_with_the_headroom_provisioned_once(baseline):
    """Running + queued per instance (`occupancy.in_system`, checked against the simulator's queue in
    tests/sim/test_slo_envelope_in_simulator.py) of the fleet carrying the peak: at its rate at SLO where the
    predictive floor (warm one switch time ahead of the ramps) carries the cold-start headroom, at (1 − headroom)
    of it where no floor rises above the minimum (a baseline of 6 already carries the 10 req/s peak)."""
    from llama_infra.capacity_timeline import switch_time_s
    from llama_infra.pricing import default_daily_shape
    from llama_infra.slo_targets import derived_targets, floor_carries_headroom, predictive_floor

    spec = parse_spec(
        SPEC.replace("count: 2", f"count: {baseline}").replace("max: 2", "max: 4")
        + "load: {peak_requests_per_second: 10}\n"
    )
    need = needs(spec)[0]
    (d,) = derived_targets(spec)
    shape = default_daily_shape()
    switch = switch_time_s(spec, need.envelope.config)
    rise = max(shape[(h + 1) % 24] - shape[h] for h in range(24))
    h = min(0.5, rise * switch / 3600 / max(shape))
    assert d.headroom_fraction == pytest.approx(h) and h > 0
    floor = max(f.min_replicas for f in predictive_floor(spec))
    assert floor_carries_headroom(spec) == (floor > baseline) == (baseline == 2)
    in_target = 0.0 if baseline == 2 else h
    held = occupancy(need.envelope, need.envelope.requests_per_second * (1 - in_target))
    # above the spread: + √(mean ÷ fleet), below mean × max ÷ (max − 1), max = the baseline + a burst of 4
    fleet, most = need.envelope.replicas, need.envelope.config.max_replicas
    assert most == baseline + 4
    above = min(held.in_system + math.sqrt(held.in_system / fleet), held.in_system * most / (most - 1))
    assert above - 0.02 <= d.queue_depth_target < above
    assert d.queue_depth_target > held.in_system
    assert held.in_system > need.envelope.concurrency * (1 - in_target)  # the queue counts too
    assert d.replicas_with_headroom == math.ceil(10 / (need.envelope.requests_per_second * (1 - h)))
    assert d.replicas_with_headroom >= d.replicas_at_peak == need.replicas_at_peak
    assert d.arriving_during_cold_start == pytest.approx(10 * switch)


@settings(max_examples=300, deadline=None)
@given(
    mean=st.floats(0.05, 60),
    fleet=st.integers(1, 40),
    most=st.integers(1, 60),
)
@example(mean=2.00001, fleet=1, most=9)  # the HPA's milli-units: 9 × mean reads 18.000, which 8 × 2.25 carries
def test_a_target_above_the_spread_scales_out_past_the_mean_and_scales_no_fleet_at_the_mean_in(mean, fleet, most):
    """`above_spread`: at most one Poisson standard deviation above the mean at SLO, and the autoscalers' own
    proportional rules — SageMaker target tracking (`TargetTrackingPolicy.desired_capacity`) and the HPA's
    (`external_average_value_replicas`, 10 % tolerance) — keep every fleet of up to `most` replicas whose metric reads
    that mean: none is scaled in below what carries it at SLO."""
    from llama_infra.scaling.hpa import external_average_value_replicas
    from llama_infra.scaling.target_tracking import TargetTrackingPolicy
    from llama_infra.slo_targets import above_spread

    target = above_spread(mean, fleet, most)
    assert target <= mean + math.sqrt(mean / fleet)
    if most == 1 or mean / (most - 1) > 0.02:  # room above the mean at 2 decimals
        assert target >= math.floor(mean * 100) / 100
    tt = TargetTrackingPolicy("SageMakerVariantConcurrentRequestsPerModelHighResolution", target, 1, most)
    for n in range(1, most + 1):
        assert tt.desired_capacity(n, mean) >= n
        assert external_average_value_replicas(n, mean * n, target, 0.1) >= n


def test_eks_targets_read_waiting_requests_and_the_kv_cache_the_envelope_holds():
    from llama_infra.slo_envelope import perf_of
    from llama_infra.slo_targets import derived_targets, floor_carries_headroom

    spec = load_spec(ROOT / "stacks" / "specs" / "dev-eks.yaml")
    d = derived_targets(spec)[0]
    e = needs(spec)[0].envelope
    perf = perf_of(e.config, e.tp_degree)
    kv = e.concurrency * (1 - d.headroom_fraction) * (e.sizes.prompt.mean + e.sizes.output.mean)
    assert d.kv_cache_target == pytest.approx(kv / perf.kv_cache_tokens, abs=0.001)
    held = occupancy(e, e.requests_per_second * (1 - d.headroom_fraction))
    assert d.queue_depth_target == 1.0 and held.waiting < held.in_system  # below one waiting request: 1
    # prod-eks waits more than one request per replica at SLO: the target sits above its spread
    spec = load_spec(ROOT / "stacks" / "specs" / "prod-eks.yaml")
    d, e = derived_targets(spec)[0], needs(spec)[0].envelope
    held = occupancy(e, e.requests_per_second * (1 - (0.0 if floor_carries_headroom(spec) else d.headroom_fraction)))
    most = e.config.max_replicas
    above = min(held.waiting + math.sqrt(held.waiting / e.replicas), held.waiting * most / (most - 1))
    assert held.waiting > 1 and above - 0.02 <= d.queue_depth_target < above


def test_the_predictive_floor_rises_one_switch_time_before_the_ramp_and_falls_after_it():
    from llama_infra.capacity_timeline import switch_time_s
    from llama_infra.slo_targets import predictive_floor

    shape = [0.1] * 9 + [1.0] * 10 + [0.1] * 5  # a ramp at 09:00, down at 19:00
    spec = parse_spec(
        SPEC.replace("burst: {max: 2}", "burst: {max: 30}")
        + f"load: {{peak_requests_per_second: 10, daily_shape: {shape}}}\n"
    )
    e = needs(spec)[0].envelope
    ahead_h = math.ceil(switch_time_s(spec, e.config) / 3600)
    high = math.ceil(10 / e.requests_per_second - 1e-9)
    low = max(math.ceil(1 / e.requests_per_second - 1e-9), spec.min_replicas)
    floor = [f.min_replicas for f in predictive_floor(spec)]
    assert floor[9 - ahead_h : 19] == [high] * (10 + ahead_h)  # warm from one switch time before 09:00
    assert floor[9 - ahead_h - 1] == low and floor[19] == low  # and back down after the ramp


@pytest.mark.parametrize("lead_minutes", [0, 60, 120, 180])
def test_the_floor_lead_sets_how_many_hours_ahead_the_floor_rises(lead_minutes):
    """`scaling.floor_lead_minutes` replaces the switch time as the floor's lead: the floor carries the ramp's load
    from ceil(lead / 1 h) hours before 09:00 (none with no lead: it rises at 09:00 itself)."""
    from llama_infra.slo_targets import predictive_floor

    shape = [0.1] * 9 + [1.0] * 10 + [0.1] * 5
    spec = parse_spec(
        SPEC.replace("burst: {max: 2}", "burst: {max: 30}")
        + f"scaling: {{floor_lead_minutes: {lead_minutes}}}\n"
        + f"load: {{peak_requests_per_second: 10, daily_shape: {shape}}}\n"
    )
    e = needs(spec)[0].envelope
    ahead_h = math.ceil(lead_minutes / 60)
    high = math.ceil(10 / e.requests_per_second - 1e-9)
    floor = [f.min_replicas for f in predictive_floor(spec)]
    first_high = floor.index(high)
    assert first_high == 9 - ahead_h and floor[19:] == [floor[19]] * 5 and floor[19] < high


@given(load_rps=st.floats(0.5, 40.0), fleet=st.integers(1, 8))
@settings(max_examples=60, deadline=None)
def test_replicas_for_a_load_are_the_fewest_that_carry_it_whichever_fleet_the_envelope_was_taken_at(load_rps, fleet):
    """`replicas_for` starts from any envelope — `needs` passes the one at the peak's fleet, whose replicas carry more
    each than a smaller fleet's — and still returns the fewest replicas whose own fleet carries the load at SLO."""
    from llama_infra.slo_envelope import replicas_for

    e = envelope(P4D, None, 4.0, 20, CHAT, fleet)
    n, at_n = replicas_for(e, load_rps)
    assert at_n.replicas == n and n * at_n.requests_per_second >= load_rps - 1e-9
    if n > 1:
        fewer = envelope(P4D, None, 4.0, 20, CHAT, n - 1)
        assert (n - 1) * fewer.requests_per_second < load_rps


@pytest.mark.parametrize("ratio", [0.25, 0.5, 0.8, 1.0])
def test_the_floor_that_follows_the_load_is_the_fleet_that_carries_the_busiest_load_scaled_by_it(ratio):
    """Each floor hour's capacity steps (`FloorHour.carries_rps`) make the following floor
    (`scaling.floor_follow.following_floor`) the fewest replicas whose fleet carries, at SLO, the busiest load the
    hour was sized for × how the observed load compares with the hour's forecast — inside the ramp (forecast =
    busiest) and in the lead hour before it (forecast 1, sized for the ramp's 10)."""
    from llama_infra.capacity_timeline import switch_time_s
    from llama_infra.scaling.floor_follow import MARGIN, following_floor
    from llama_infra.slo_targets import predictive_floor

    shape = [0.1] * 9 + [1.0] * 10 + [0.1] * 5
    spec = parse_spec(
        SPEC.replace("burst: {max: 2}", "burst: {max: 30}")
        + f"load: {{peak_requests_per_second: 10, daily_shape: {shape}}}\n"
    )
    e = needs(spec)[0].envelope
    ahead_h = math.ceil(switch_time_s(spec, e.config) / 3600)
    floor = predictive_floor(spec)

    def fewest_carrying(load_rps: float) -> int:
        n = 1
        while n * envelope(e.config, e.tp_degree, e.ttft_slo_s, e.tokens_per_s_slo, e.sizes, n).requests_per_second < (
            load_rps - 1e-6
        ):
            n += 1
        return n

    for h in (12, 9 - ahead_h):
        hour = floor[h]
        observed = hour.forecast_rps * ratio / (1 + MARGIN)
        followed = following_floor(hour.min_replicas, observed, hour.forecast_rps, carries_rps=hour.carries_rps)
        assert len(hour.carries_rps) == hour.min_replicas - 1
        assert max(followed, spec.min_replicas) == max(
            min(fewest_carrying(10 * ratio), hour.min_replicas), spec.min_replicas
        )
