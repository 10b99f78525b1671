"""The SLO envelope of a serving configuration: can it meet the SLO at all, and how much does one replica carry.

For one configuration (the day one or a window's: instance type, model, precision, GPUs per replica), the spec's
SLO (`ttft_p99_ms`, `tokens_per_s_per_user`) and the workload's request sizes, from the replica model
(`llama_infra.sim.replica_model`, one table with sources):

- **reachable at any scale**: an idle replica decodes at least the SLO's tokens/s per user at batch 1, and prefills
  the p99 prompt within the TTFT target (a request whose prompt alone takes longer misses it however many replicas
  run; when more than 1 % do, the p99 target is out of reach).
- **concurrency at SLO**: the sequences one replica runs at the largest request rate at which
  - every user still decodes at the SLO's tokens/s (`max_batch_for_tokens_per_s`), the KV cache holds the
    sequences at the mean prompt + output size and vLLM's `max_num_seqs` admits them, and
  - at most 1 % of requests miss the TTFT target: a request's TTFT is its wait for prefill, its own prefill, one
    decode step at that batch and the request overhead; the wait is that of the fleet's prefill queue at the
    prefill utilisation, taken over the prompt-size distribution (`RequestSizes.prompt.quantile`), so short
    prompts may wait longer than long ones. A fleet of n replicas behind least-outstanding-requests routing
    (SageMaker's `LEAST_OUTSTANDING_REQUESTS`, the router's queue on EKS) shares its prefill work like one
    server n times as fast — the simulator's model too — so the wait is an M/M/1 queue with n× the service rate:
    P(wait > x) = ρ·exp(−(1 − ρ)·n·x / mean prefill). One replica (n = 1) is the most conservative case; a fleet
    waits less at the same utilisation, so the rate per replica at SLO grows with the fleet.
- **request rate per replica at SLO**: that rate (Little's law: concurrency = rate × (TTFT + output × step)).
- **replicas for a load** (`replicas_for`): the fewest n whose n × rate per replica at n carries it.

Pure: no Pulumi, no target. `plan`, `validate` and the derived scaling targets read it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from llama_infra import catalog
from llama_infra.capacity_plan import Config, day_config, window_config
from llama_infra.request_sizes import RequestSizes, of_spec

if TYPE_CHECKING:
    from llama_infra.sim.replica_model import ReplicaPerf
    from llama_infra.spec import DeploymentSpec

TAIL_QUANTILE = 0.99  # the SLO's percentile (ttft_p99_ms)
_SEARCH_STEPS = 60


@dataclass(frozen=True)
class Envelope:
    """What one replica of a configuration does at the SLO."""

    config: Config
    tp_degree: int
    ttft_slo_s: float
    tokens_per_s_slo: float
    sizes: RequestSizes
    ttft_p99_prompt_s: float  # TTFT of the p99 prompt on an idle replica (no queueing, batch 1)
    tokens_per_s_batch1: float  # decode speed per user at batch 1
    batch_limit: float  # most sequences per replica: tokens/s per user, KV cache and max_num_seqs
    batch_limited_by: str
    concurrency: float  # sequences per replica at the rate below
    requests_per_second: float  # per replica at SLO (0 when unreachable)
    limited_by: str  # what stops a higher rate: the batch limit's reason, or "TTFT (prefill queueing)"
    problems: tuple[str, ...]  # why the SLO is out of reach at any scale (empty: reachable)
    replicas: int = 1  # the fleet size the rate holds for (its replicas share prefill)

    @property
    def reachable(self) -> bool:
        return not self.problems

    @property
    def name(self) -> str:
        return "day" if self.config.window is None else f"window '{self.config.window}'"


def perf_of(config: Config, tp_degree: int | None) -> ReplicaPerf:
    from llama_infra.sim.replica_model import replica_perf

    return replica_perf(catalog.ec2_name(config.instance_type), config.params_b, config.precision, tp_degree)


PROMPT_LEVELS = tuple((i + 0.5) / 400 for i in range(400))  # equal-mass prompt sizes the TTFT share is taken over


def miss_share(utilisation: float, mean_service_s: float, slack_s) -> float:
    """Share of requests whose TTFT exceeds the target: for equal-mass prompt sizes with `slack_s` left after their
    own prefill and decode step, P(W > slack) of an M/M/1 prefill queue (1 when there is no slack)."""
    rate = (1 - utilisation) / mean_service_s
    total = 0.0
    for x in slack_s:
        total += 1.0 if x < 0 else utilisation * math.exp(-rate * x)
    return total / len(slack_s)


def _batch_for_rate(perf: ReplicaPerf, rate: float, ttft_mean_s: float, mean_output: float) -> float:
    """Concurrency at `rate` (Little's law with the step time at that concurrency: a fixed point, increasing)."""
    b = rate * (ttft_mean_s + mean_output * perf.decode_step_s(1.0))
    for _ in range(50):
        nb = rate * (ttft_mean_s + mean_output * perf.decode_step_s(max(b, 1.0)))
        if abs(nb - b) < 1e-9:
            break
        b = nb
        if b > 1e6:
            return math.inf
    return b


@lru_cache(maxsize=4096)
def envelope(
    config: Config,
    tp_degree: int | None,
    ttft_slo_s: float,
    tokens_per_s_slo: float,
    sizes: RequestSizes,
    replicas: int = 1,
) -> Envelope:
    """The envelope of one replica in a fleet of `replicas` (see the module docstring)."""
    perf = perf_of(config, tp_degree)
    prompt, output = sizes.prompt, sizes.output
    ttft_p99 = perf.ttft_s(prompt.p99)
    tps1 = perf.tokens_per_s_per_user(1.0)
    where = f"{config.instance_type} ({config.params_b:g}B {config.precision}, TP {perf.tp_degree})"
    problems = []
    if tps1 < tokens_per_s_slo:
        problems.append(
            f"decode at batch 1 is ≈ {tps1:.1f} tokens/s per user on {where}; the SLO is {tokens_per_s_slo:g}"
        )
    if ttft_p99 > ttft_slo_s:
        problems.append(
            f"TTFT for the p99 prompt of {prompt.p99:,.0f} tokens is ≈ {ttft_p99 * 1000:,.0f} ms on "
            f"{where}; the SLO is {ttft_slo_s * 1000:,.0f} ms"
        )
    limits = {
        "tokens/s per user": perf.max_batch_for_tokens_per_s(tokens_per_s_slo),
        "KV cache": perf.kv_cache_tokens / max(prompt.mean + output.mean, 1.0),
        "max_num_seqs": float(perf.max_num_seqs),
    }
    batch_limited_by = min(limits, key=lambda k: limits[k])
    batch_limit = limits[batch_limited_by]
    unreachable = Envelope(
        config=config,
        tp_degree=perf.tp_degree,
        ttft_slo_s=ttft_slo_s,
        tokens_per_s_slo=tokens_per_s_slo,
        sizes=sizes,
        ttft_p99_prompt_s=ttft_p99,
        tokens_per_s_batch1=tps1,
        batch_limit=max(batch_limit, 0.0),
        batch_limited_by=batch_limited_by,
        concurrency=0.0,
        requests_per_second=0.0,
        limited_by="unreachable",
        problems=tuple(problems),
        replicas=replicas,
    )
    if problems or batch_limit < 1:
        return unreachable
    step1 = perf.decode_step_s(1.0)
    ttft_mean = perf.ttft_s(prompt.mean)
    service_s = prompt.mean / perf.prefill_tokens_per_s
    idle_ttft = [perf.ttft_s(prompt.quantile(q)) - step1 for q in PROMPT_LEVELS]

    def ttft_ok(rate: float) -> bool:
        b = _batch_for_rate(perf, rate, ttft_mean, output.mean)
        if b > batch_limit:
            return False
        rho = rate * service_s
        if rho >= 1:
            return False
        left = ttft_slo_s - perf.decode_step_s(max(b, 1.0))
        slack = [left - t for t in idle_ttft]
        return miss_share(rho, service_s / replicas, slack) <= 1 - TAIL_QUANTILE

    # the rate ceiling: a saturated prefill, or the batch limit with no queueing
    ceiling = min(
        perf.prefill_tokens_per_s / max(prompt.mean, 1.0),
        batch_limit / (ttft_mean + output.mean * perf.decode_step_s(batch_limit)),
    )
    lo, hi = 0.0, ceiling
    for _ in range(_SEARCH_STEPS):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ttft_ok(mid) else (lo, mid)
    rate = lo
    b = _batch_for_rate(perf, rate, ttft_mean, output.mean)
    limited_by = batch_limited_by if b >= 0.98 * batch_limit else "TTFT (prefill queueing)"
    # reachable: batch_limit ≥ 1 here, so the unreachable envelope's max(batch_limit, 0) is batch_limit itself
    return replace(unreachable, concurrency=b, requests_per_second=rate, limited_by=limited_by, problems=())


@dataclass(frozen=True)
class Occupancy:
    """Requests per replica at a request rate, as the autoscalers' metrics count them."""

    requests_per_second: float  # per replica
    prefill_utilisation: float
    waiting: float  # not yet prefilled (vLLM's num_requests_waiting)
    in_system: float  # running + waiting: every request the replica holds (SageMaker's ConcurrentRequestsPerModel)


def occupancy(e: Envelope, rate_per_replica: float) -> Occupancy:
    """Mean requests per replica of `e`'s fleet (`e.replicas` replicas sharing their prefill, as in the envelope)
    at `rate_per_replica`, by Little's law: the wait for prefill is the Pollaczek–Khinchine mean wait of the fleet's
    prefill queue (one server `e.replicas`× as fast, service time = prompt ÷ prefill rate, its second moment over
    the prompt-size distribution), so `waiting` = rate × wait and `in_system` = rate × (wait + idle TTFT + output ×
    decode step at that batch). A prefill at or past saturation holds an unbounded queue (inf)."""
    perf = perf_of(e.config, e.tp_degree)
    prompt, output = e.sizes.prompt, e.sizes.output
    s = [prompt.quantile(q) / perf.prefill_tokens_per_s for q in PROMPT_LEVELS]
    mean_s, second_s = sum(s) / len(s), sum(x * x for x in s) / len(s)
    rho = rate_per_replica * mean_s
    if rho >= 1:
        return Occupancy(rate_per_replica, rho, math.inf, math.inf)
    n = max(e.replicas, 1)
    wait_s = rate_per_replica * second_s / (n * 2 * (1 - rho))  # Λ·E[(S/n)²] / (2(1 − ρ)), Λ = n × rate
    in_system = _batch_for_rate(perf, rate_per_replica, wait_s + perf.ttft_s(prompt.mean), output.mean)
    return Occupancy(rate_per_replica, rho, rate_per_replica * wait_s, in_system)


def at_fleet(e: Envelope, n: int) -> Envelope:
    """`e`'s configuration and SLO, enveloped at a fleet of `n` replicas."""
    return envelope(e.config, e.tp_degree, e.ttft_slo_s, e.tokens_per_s_slo, e.sizes, n)


def fleet_rps(e: Envelope, n: int) -> float:
    """Requests per second a fleet of `n` replicas of `e`'s configuration carries at SLO (0 for none)."""
    if n <= 0 or e.requests_per_second <= 0:
        return 0.0
    return n * at_fleet(e, n).requests_per_second


def replicas_for(e: Envelope, load_rps: float, utilisation: float = 1.0) -> tuple[int, Envelope]:
    """The fewest replicas of `e`'s configuration that carry `load_rps` at SLO, each at most at `utilisation` of
    its rate there (1 − headroom), and the envelope at that fleet size. (0, e) without load; (0, e) when the SLO
    is out of reach."""
    if load_rps <= 0 or e.requests_per_second <= 0:
        return 0, e

    def carries(n: int) -> bool:
        return fleet_rps(e, n) * utilisation >= load_rps - 1e-9

    # at the rate of one replica alone the fewest that carry it is an upper bound: a fleet's replicas carry more each
    # (`e` may be the envelope of a larger fleet, whose rate per replica would undercount)
    one = at_fleet(e, 1).requests_per_second
    hi = max(1, math.ceil(load_rps / (one * utilisation) - 1e-9)) if one > 0 else 1
    lo = 1
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if carries(mid) else (mid + 1, hi)
    return hi, at_fleet(e, hi)


def envelopes(spec: DeploymentSpec) -> list[Envelope]:
    """The day configuration's envelope, then each window's (in schedule order)."""
    sizes = of_spec(spec)
    ttft_s, tps = spec.slo.ttft_p99_ms / 1000, spec.slo.tokens_per_s_per_user
    tp = spec.model.tensor_parallel_degree
    out = [envelope(day_config(spec), tp, ttft_s, tps, sizes)]
    for s in spec.schedules:
        cfg = window_config(spec, s)
        # a window on another instance type or model serves with every GPU of its instance (its own server)
        out.append(
            envelope(cfg, tp if cfg.instance_type == spec.capacity.baseline.instance_type else None, ttft_s, tps, sizes)
        )
    return out


@dataclass(frozen=True)
class ConfigNeed:
    """Replicas a configuration needs at the stated peak: the busiest hour it serves (daily shape × peak)."""

    envelope: Envelope
    peak_requests_per_second: float  # the busiest hour's rate while this configuration is in force
    replicas_at_peak: int | None  # None: the SLO is out of reach, or the spec states no peak


_WEEK_CONFIGS: dict[int, tuple[DeploymentSpec, list[Config]]] = {}


def week_configs(spec: DeploymentSpec) -> list[Config]:
    """The configuration in force at the middle of each of the plan week's 168 local hours (`capacity_plan.config_at`,
    computed once per spec object: cron expansion is the slow part of `validate` and `plan`)."""
    from datetime import timedelta

    from llama_infra.capacity_plan import WEEK_START, config_at, plan_timezone
    from llama_infra.schedules import zone

    hit = _WEEK_CONFIGS.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    start = WEEK_START.replace(tzinfo=zone(plan_timezone(spec)))
    out = [config_at(spec, start + timedelta(hours=h, minutes=30)) for h in range(168)]
    if len(_WEEK_CONFIGS) >= 32:
        _WEEK_CONFIGS.pop(next(iter(_WEEK_CONFIGS)))
    _WEEK_CONFIGS[id(spec)] = (spec, out)  # the spec is kept, so its id is not reused while cached
    return out


def peak_by_config(spec: DeploymentSpec) -> dict[str | None, float]:
    """The busiest hour's request rate while each configuration is in force over the plan week (key: window name,
    None for the day), from `load.peak_requests_per_second` × `load.daily_shape` (the cost report's shape)."""
    from llama_infra.load_shape import daily_shape

    peak = spec.load.peak_requests_per_second or 0.0
    shape = daily_shape(spec)
    out: dict[str | None, float] = {None: 0.0, **{s.name: 0.0 for s in spec.schedules}}
    for h, cfg in enumerate(week_configs(spec)):
        out[cfg.window] = max(out[cfg.window], shape[h % 24] * peak)
    return out


def needs(spec: DeploymentSpec) -> list[ConfigNeed]:
    """Each configuration's envelope at the fleet that carries its peak load at SLO, and that fleet's size."""
    peaks = peak_by_config(spec)
    out = []
    for e in envelopes(spec):
        load = peaks.get(e.config.window, 0.0)
        n = None
        if e.requests_per_second > 0 and spec.load.peak_requests_per_second:
            n, at_peak = replicas_for(e, load)
            e = at_peak if n else e
        out.append(ConfigNeed(e, load, n))
    return out
