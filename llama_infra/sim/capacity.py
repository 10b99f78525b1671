"""Capacity facts the simulator assumes: start-up delays, spot behaviour, prices per replica, and the closed-form
replica count a load needs (used by static-for-peak, the oracle and policy targets).

Start-up = node/instance provisioning + the cold-start estimate of `llama_infra.sizing.cold_start` (mean of its low
and high). Provisioning delays and spot rates are ASSUMPTIONS stated here and printed in every report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from llama_infra import catalog, pricing, sizing
from llama_infra.capacity_plan import Config
from llama_infra.sim.replica_model import REQUEST_OVERHEAD_S, ReplicaPerf, replica_perf

# Seconds from "asked for" to "instance running" before the model starts loading.
PROVISIONING_S = {
    "eks": 120.0,  # ASSUMPTION: Karpenter GPU node launch + join + GPU device plugin; image pull is in cold start
    "sagemaker": 300.0,  # ASSUMPTION: SageMaker adds ML instances to a variant in minutes
}
SPOT_NOTICE_S = 120.0  # EC2 spot interruption notice: two minutes (EC2 user guide, "Spot Instance interruption notices")
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
        return [f"node/instance provisioning {self.provisioning_s:.0f} s + sizing.cold_start (mean of low/high)",
                f"spot: {self.spot_interruptions_per_hour:g} interruptions per instance-hour, "
                f"{SPOT_NOTICE_S:.0f} s notice, {self.spot_unavailable_probability:.0%} of launches find no spot",
                f"requests waiting > {self.queue_timeout_s:.0f} s for a replica are dropped"]


def perf_for(config: Config, tp_degree: int | None) -> ReplicaPerf:
    return replica_perf(catalog.ec2_name(config.instance_type), config.params_b, config.precision, tp_degree)


def startup_s(config: Config, provisioning_s: float, nvme_preload: bool) -> float:
    cs = sizing.cold_start(config.params_b, config.precision, nvme_preload)
    return provisioning_s + (cs.total_low_s + cs.total_high_s) / 2


def replicas_per_instance(instance_type: str, tp_degree: int | None) -> int:
    inst = catalog.lookup(instance_type)
    if inst is None:
        return 1
    return max(1, inst.gpu_count // (tp_degree or inst.gpu_count))


def usd_per_replica_hour(instance_type: str, target: catalog.Target, capacity: pricing.Capacity,
                         tp_degree: int | None) -> float:
    return pricing.hourly(instance_type, target, capacity).usd_per_hour / replicas_per_instance(instance_type,
                                                                                                 tp_degree)


def saturation_rps(perf: ReplicaPerf, mean_prompt: float, mean_output: float, tokens_per_s_slo: float) -> float:
    """Most requests per second one replica completes: prefill-bound or bound by the batch that keeps the SLO's
    tokens/s per user (and KV cache / max_num_seqs). What a load test at saturation would measure."""
    b_slo = max(1.0, perf.max_batch_for_tokens_per_s(tokens_per_s_slo))
    b_cap = min(b_slo, perf.max_num_seqs, perf.kv_cache_tokens / max(mean_prompt + mean_output, 1.0))
    per_request_s = perf.ttft_s(mean_prompt) + mean_output * perf.decode_step_s(b_cap)
    return min(perf.prefill_tokens_per_s / max(mean_prompt, 1.0), b_cap / per_request_s)


def ttft_with_replicas(arrival_s: np.ndarray, prompt: np.ndarray, perf: ReplicaPerf, n: int,
                       start_s: float = 0.0, backlog_tokens: float = 0.0) -> tuple[np.ndarray, float]:
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


def interval_replicas(arrival_s: np.ndarray, prompt: np.ndarray, output: np.ndarray, start_s: float,
                      seconds: float, perf: ReplicaPerf, ttft_slo_s: float, tokens_per_s_slo: float, n_max: int,
                      backlog_tokens: float = 0.0, miss_allowance: float = 0.01) -> tuple[int, float, float]:
    """Least warm replicas that serve exactly these requests (perfect foresight) within the SLO, the prefill
    backlog (tokens) they leave for the next interval, and the share of the requests that miss the TTFT target
    (above the allowance only when `n_max` is reached).

    Within the SLO means: at most ceil(`miss_allowance` × requests) more requests miss the TTFT target than would
    miss it on unlimited capacity (prompts too long for the target miss it whatever the capacity), and the decode
    batch stays at or under the one that gives users the SLO's tokens/s.
    """
    end = start_s + seconds
    if len(arrival_s) == 0:
        return 0, 0.0, 0.0
    rps = len(arrival_s) / seconds
    b_slo = max(1.0, perf.max_batch_for_tokens_per_s(tokens_per_s_slo))
    b_cap = min(b_slo, perf.max_num_seqs, perf.kv_cache_tokens / max(float((prompt + output).mean()), 1.0))
    in_flight = rps * (perf.ttft_s(float(prompt.mean())) + float(output.mean()) * perf.decode_step_s(b_cap))
    n = max(1, math.ceil(in_flight / b_cap - 1e-9),
            math.ceil(float(prompt.sum()) / seconds / perf.prefill_tokens_per_s - 1e-9))
    n = min(n, n_max)
    unqueued = prompt / perf.prefill_tokens_per_s + perf.decode_step_s_batch1 + REQUEST_OVERHEAD_S
    best_misses = int((unqueued > ttft_slo_s).sum())
    allowed = math.ceil(miss_allowance * len(arrival_s))  # whole requests: a quiet minute may still miss one
    while True:
        ttft, left = ttft_with_replicas(arrival_s, prompt, perf, n, start_s, backlog_tokens)
        misses = int((ttft > ttft_slo_s).sum())
        miss = misses / len(arrival_s)
        if n >= n_max or misses <= best_misses + allowed:
            rate = n * perf.prefill_tokens_per_s
            return n, max(0.0, left - (end - float(arrival_s[-1])) * rate), miss
        n += 1


__all__ = ["Assumptions", "PROVISIONING_S", "REQUEST_OVERHEAD_S", "SPOT_NOTICE_S", "perf_for", "interval_replicas", "saturation_rps", "ttft_with_replicas",
           "replicas_per_instance", "startup_s", "usd_per_replica_hour"]
