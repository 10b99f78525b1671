"""Capacity facts the simulator assumes: start-up delays, spot behaviour, prices per replica, and the closed-form
replica count a load needs (used by static-for-peak, the oracle and policy targets).

Start-up = node/instance provisioning + the cold-start estimate of `llama_infra.sizing.cold_start` (mean of its low
and high). Provisioning delays and spot rates are ASSUMPTIONS stated here and printed in every report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from llama_infra import catalog, pricing, provisioning, sizing, target_facts
from llama_infra.capacity_plan import Config
from llama_infra.sim.replica_model import DEFAULT_CONTEXT_TOKENS, REQUEST_OVERHEAD_S, ReplicaPerf, replica_perf

# Seconds from "asked for" to "instance running" before the model starts loading: the typical value of the stated
# assumption (`llama_infra.provisioning`); lead times use its high value.
PROVISIONING_S = {target: provisioning.for_target(target).typical_s for target in target_facts.TARGETS}
SPOT_NOTICE_S = (
    120.0  # EC2 spot interruption notice: two minutes (EC2 user guide, "Spot Instance interruption notices")
)
DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR = 0.002  # ASSUMPTION: ≈ 1.5 per instance-month, Spot Advisor ">20 %" bucket
DEFAULT_SPOT_UNAVAILABLE_PROBABILITY = 0.1  # ASSUMPTION: a spot launch finds no capacity 1 time in 10
QUEUE_TIMEOUT_S = 120.0  # a request waiting longer than this for a replica is dropped (client time-out)


@dataclass(frozen=True)
class Assumptions:
    provisioning_s: float
    spot_interruptions_per_hour: float = DEFAULT_SPOT_INTERRUPTIONS_PER_HOUR
    spot_unavailable_probability: float = DEFAULT_SPOT_UNAVAILABLE_PROBABILITY
    queue_timeout_s: float = QUEUE_TIMEOUT_S

    def describe(self) -> list[str]:
        return [
            f"node/instance provisioning {self.provisioning_s:.0f} s + sizing.cold_start (mean of low/high)",
            f"spot: {self.spot_interruptions_per_hour:g} interruptions per instance-hour, "
            f"{SPOT_NOTICE_S:.0f} s notice, {self.spot_unavailable_probability:.0%} of launches find no spot",
            f"requests waiting > {self.queue_timeout_s:.0f} s for a replica are dropped",
        ]


def perf_for(config: Config, tp_degree: int | None, context_tokens: float = DEFAULT_CONTEXT_TOKENS) -> ReplicaPerf:
    """Rates of one replica of this configuration, its decode steps at the workload's running context
    (`replica_model.running_context_tokens`)."""
    return replica_perf(
        catalog.ec2_name(config.instance_type),
        config.params_b,
        config.precision,
        tp_degree,
        context_tokens=round(context_tokens),
    )


def startup_s(config: Config, provisioning_s: float, nvme_preload: bool) -> float:
    cs = sizing.cold_start(config.params_b, config.precision, nvme_preload)
    return provisioning_s + (cs.total_low_s + cs.total_high_s) / 2


def replicas_per_instance(instance_type: str, tp_degree: int | None) -> int:
    inst = catalog.lookup(instance_type)
    if inst is None:
        return 1
    return max(1, inst.gpu_count // (tp_degree or inst.gpu_count))


def usd_per_replica_hour(
    instance_type: str, target: catalog.Target, capacity: pricing.Capacity, tp_degree: int | None
) -> float:
    return pricing.hourly(instance_type, target, capacity).usd_per_hour / replicas_per_instance(
        instance_type, tp_degree
    )


def saturation_rps(perf: ReplicaPerf, mean_prompt: float, mean_output: float, tokens_per_s_slo: float) -> float:
    """Most requests per second one replica completes: prefill-bound or bound by the batch that keeps the SLO's
    tokens/s per user (and KV cache / max_num_seqs). What a load test at saturation would measure."""
    b_slo = max(1.0, perf.max_batch_for_tokens_per_s(tokens_per_s_slo))
    b_cap = min(b_slo, perf.max_num_seqs, perf.kv_cache_tokens / max(mean_prompt + mean_output, 1.0))
    per_request_s = perf.ttft_s(mean_prompt) + mean_output * perf.decode_step_s(b_cap)
    return min(perf.prefill_tokens_per_s / max(mean_prompt, 1.0), b_cap / per_request_s)


def ttft_with_replicas(
    arrival_s: np.ndarray,
    prompt: np.ndarray,
    perf: ReplicaPerf,
    n: int,
    start_s: float = 0.0,
    backlog_tokens: float = 0.0,
) -> tuple[np.ndarray, float]:
    """TTFT of these requests on n warm replicas with the engine's prefill model (aggregate FIFO prefill server,
    Lindley recursion), starting at `start_s` with `backlog_tokens` of prefill work ahead; also the prompt tokens
    still queued at the last arrival."""
    rate = n * perf.prefill_tokens_per_s
    w = prompt / rate
    c = np.cumsum(w)
    top = np.maximum.accumulate(np.maximum(arrival_s - (c - w), start_s + backlog_tokens / rate))
    in_system = c - arrival_s + top
    ttft = (in_system - w) + prompt / perf.prefill_tokens_per_s + perf.decode_step_s_batch1 + REQUEST_OVERHEAD_S
    return ttft, float(in_system[-1]) * rate


ORACLE_EPSILON = 0.01  # the oracle may fall this share of an interval's requests short of its attainable ceiling
SEARCH_LIMIT_REPLICAS = 4096  # safety bound on the oracle's search (no real interval comes near it)


@dataclass(frozen=True)
class IntervalChoice:
    """The least warm replicas whose SLO attainment on one interval's requests is within epsilon of the ceiling."""

    replicas: int
    backlog_tokens: float  # prefill work (prompt tokens) still queued at the end of the interval
    attainment: float  # share of the interval's requests within both SLO targets on `replicas`
    ceiling: float  # share within both targets on unlimited warm capacity (no queueing, batch of one)


def interval_attainment(
    arrival_s: np.ndarray,
    prompt: np.ndarray,
    output: np.ndarray,
    start_s: float,
    seconds: float,
    perf: ReplicaPerf,
    ttft_slo_s: float,
    tokens_per_s_slo: float,
    n: int,
    backlog_tokens: float = 0.0,
) -> tuple[int, float]:
    """Requests of one interval within both SLO targets on n warm replicas, and the prefill backlog left.

    TTFT as in the engine (aggregate FIFO prefill, one decode step at the interval's mean batch); tokens/s per user
    from that batch, which Little's law gives: requests in flight = rate × (TTFT + output × step(batch)), spread
    over n replicas. A batch beyond KV cache / max_num_seqs, or one too slow for the tokens/s target, fails all."""
    rps = len(arrival_s) / seconds
    s1, c = perf.decode_step_s_batch1, perf.batch_slowdown_per_sequence
    t0 = float(prompt.mean()) / perf.prefill_tokens_per_s + s1 + REQUEST_OVERHEAD_S
    o = float(output.mean())
    denom = n - rps * o * s1 * c
    batch = max(1.0, rps * (t0 + o * s1 * (1 - c)) / denom) if denom > 0 else math.inf
    ttft, left = ttft_with_replicas(arrival_s, prompt, perf, n, start_s, backlog_tokens)
    end = start_s + seconds
    left = max(0.0, left - (end - float(arrival_s[-1])) * n * perf.prefill_tokens_per_s)
    b_cap = min(perf.max_num_seqs, perf.kv_cache_tokens / max(float((prompt + output).mean()), 1.0))
    if batch > b_cap or batch > max(1.0, perf.max_batch_for_tokens_per_s(tokens_per_s_slo)):
        return 0, left
    step = perf.decode_step_s(batch)
    return int((ttft - s1 + step <= ttft_slo_s).sum()), left


def interval_replicas(
    arrival_s: np.ndarray,
    prompt: np.ndarray,
    output: np.ndarray,
    start_s: float,
    seconds: float,
    perf: ReplicaPerf,
    ttft_slo_s: float,
    tokens_per_s_slo: float,
    backlog_tokens: float = 0.0,
    epsilon: float = ORACLE_EPSILON,
    n_limit: int = SEARCH_LIMIT_REPLICAS,
    allowed_misses: int | None = None,
) -> IntervalChoice:
    """The least warm replicas (perfect foresight) whose SLO attainment on exactly these requests is within
    `epsilon` of the attainable ceiling — the attainment on unlimited capacity, where nothing queues and every
    replica decodes a batch of one. Prompts too long to prefill within the TTFT target miss it at any scale, so the
    ceiling can be far below 100 %; attainment rises with n and saturates, and this is where it saturates.

    Epsilon is counted in whole requests, at least one (a quiet interval may miss one request rather than demand
    a replica per request); `allowed_misses` overrides that count (the oracle passes what its run-wide budget
    allows). Attainment never falls as n grows, so the search is doubling plus bisection."""
    k = len(arrival_s)
    if k == 0:
        return IntervalChoice(0, 0.0, 1.0, 1.0)
    unqueued = prompt / perf.prefill_tokens_per_s + perf.decode_step_s_batch1 + REQUEST_OVERHEAD_S
    b_slo = perf.max_batch_for_tokens_per_s(tokens_per_s_slo)
    ceiling_hits = int((unqueued <= ttft_slo_s).sum()) if b_slo >= 1 else 0
    allowed = max(1, math.floor(epsilon * k)) if allowed_misses is None else allowed_misses
    target = ceiling_hits - allowed

    def hits(n: int) -> tuple[int, float]:
        return interval_attainment(
            arrival_s, prompt, output, start_s, seconds, perf, ttft_slo_s, tokens_per_s_slo, n, backlog_tokens
        )

    # lower bound: the prefill work of the interval (and the backlog) must fit in it
    lo = max(1, math.ceil((float(prompt.sum()) + backlog_tokens) / seconds / perf.prefill_tokens_per_s - 1e-9))
    lo = min(lo, n_limit)
    got = hits(lo)
    if got[0] >= target:
        return IntervalChoice(lo, got[1], got[0] / k, ceiling_hits / k)
    hi = lo
    while True:  # double until the target is met (or the safety limit)
        hi = min(hi * 2, n_limit)
        got_hi = hits(hi)
        if got_hi[0] >= target or hi >= n_limit:
            break
        lo = hi
    if got_hi[0] < target:
        return IntervalChoice(hi, got_hi[1], got_hi[0] / k, ceiling_hits / k)
    while hi - lo > 1:  # invariant: hits(lo) < target <= hits(hi)
        mid = (lo + hi) // 2
        got_mid = hits(mid)
        if got_mid[0] >= target:
            hi, got_hi = mid, got_mid
        else:
            lo = mid
    return IntervalChoice(hi, got_hi[1], got_hi[0] / k, ceiling_hits / k)


__all__ = [
    "Assumptions",
    "PROVISIONING_S",
    "REQUEST_OVERHEAD_S",
    "SPOT_NOTICE_S",
    "perf_for",
    "interval_replicas",
    "interval_attainment",
    "IntervalChoice",
    "ORACLE_EPSILON",
    "saturation_rps",
    "ttft_with_replicas",
    "replicas_per_instance",
    "startup_s",
    "usd_per_replica_hour",
]
