"""What a published load test of one replica would measure, according to the replica model.

Each row of `llama_infra/data/calibration/replica_measurements.csv` is one measurement: C clients in a closed loop
(each sends its next request when the last one finishes; `max` = an offline run that keeps the server full; a
static batch of C for TensorRT-LLM 0.5), fixed prompt and output lengths. The replica model predicts it in steady
state: the running batch is C, capped by max sequences and KV-cache memory (the rest wait for a slot); decode steps
run at that batch with the mean context of a running request; prompts arrive at C / cycle time and their prefill
takes its share of the time from decoding (`ReplicaPerf.itl_s`) and queues behind other prompts (M/D/1 wait); one
cycle is TTFT + (output − 1) × ITL, solved as a fixed point.

`errors()` compares every measured number with its prediction; the calibration test and
`python -m benchmarks bench_calibration` read it. `open_loop` is the same model under independent arrivals at a
given rate (what capacity at an SLO is computed from).
"""

from __future__ import annotations

import csv
import dataclasses
import math
from dataclasses import dataclass
from importlib import resources

from llama_infra.sim import replica_model
from llama_infra.sim.replica_model import ReplicaPerf, replica_perf

TABLE = "replica_measurements.csv"
METRICS = ("ttft_ms", "itl_ms", "output_tokens_per_s", "ms_per_output_token", "request_latency_s")
TOLERANCE = 0.25  # a point hits when every number it reports is within ±25 % of the prediction


@dataclass(frozen=True)
class Measurement:
    point_id: str
    model: str
    params_b: float
    precision: str
    gpu: str
    instance_type: str
    tp: int
    framework: str
    framework_version: str
    harness: str  # "http" (a server behind a client) or "offline" (the engine's own benchmark)
    prompt_tokens: float
    output_tokens: float
    concurrency: int | None  # None: as many as the server holds
    measured: dict[str, float]
    source: str
    miss_reason: str


def load_measurements() -> list[Measurement]:
    text = resources.files("llama_infra.data.calibration").joinpath(TABLE).read_text()
    rows = []
    for row in csv.DictReader(text.splitlines()):
        rows.append(
            Measurement(
                row["point_id"],
                row["model"],
                float(row["params_b"]),
                row["precision"],
                row["gpu"],
                row["instance_type"],
                int(row["tp"]),
                row["framework"],
                row["framework_version"],
                row["harness"],
                float(row["prompt_tokens"]),
                float(row["output_tokens"]),
                None if row["concurrency"] == "max" else int(row["concurrency"]),
                {k: float(row[k]) for k in METRICS if row[k]},
                row["source"],
                row["miss_reason"],
            )
        )
    return rows


@dataclass(frozen=True)
class LoadTest:
    """Steady state of a closed-loop load test on one replica."""

    batch: float
    ttft_ms: float
    itl_ms: float
    output_tokens_per_s: float
    ms_per_output_token: float
    request_latency_s: float


def closed_loop(
    perf: ReplicaPerf,
    prompt_tokens: float,
    output_tokens: float,
    concurrency: int | None,
    request_overhead_s: float = replica_model.REQUEST_OVERHEAD_S,
) -> LoadTest:
    p, o = prompt_tokens, output_tokens
    cap = max(1.0, min(float(perf.max_num_seqs), perf.kv_cache_tokens / (p + o)))
    clients = cap if concurrency is None else float(concurrency)
    b = min(clients, cap)
    ctx = p + o / 2
    # a static batch's b prompts share one context step, so each pays 1/b of its per-step cost
    perf = dataclasses.replace(perf, prefill_step_s=perf.prefill_step_s / b)
    step = perf.decode_step_s(b, ctx)
    pre = perf.prefill_s(p)
    chunks = math.ceil(p / perf.chunk_tokens) if perf.chunk_tokens else 0
    # chunked: the steps that carry the prompt's chunks also decode the other b − 1 sequences; whole-prompt
    # prefill: the prompt waits for the decode step in flight
    first_token_s = chunks * (step - perf.decode_step_s(1, ctx)) if chunks else (step / 2 if b > 1 else 0.0)

    def parts(cycle: float) -> tuple[float, float]:
        rate = b / cycle  # requests (prompts) per second in steady state
        itl = perf.itl_s(b, rate * p, ctx, prompt_tokens=p)
        busy = rate * pre  # the prefill work queues like an M/D/1 server
        wait = busy * pre / (2 * (1 - busy)) if b > 1 else 0.0
        return request_overhead_s + wait + pre + first_token_s, itl

    def excess(cycle: float) -> float:  # increasing in cycle: a longer cycle means fewer prompts per second
        ttft, itl = parts(cycle)
        return cycle - ttft - max(o - 1, 0) * itl

    lo = b * pre * (1 + 1e-9) + 1e-12  # the prefill work of b requests must fit in one cycle
    hi = max(2 * lo, pre + o * step + request_overhead_s)
    while excess(hi) < 0:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if excess(mid) < 0 else (lo, mid)
        if hi - lo < 1e-9 * hi:
            break
    cycle = hi
    ttft, itl = parts(cycle)
    slot_wait = (clients / b - 1) * cycle
    return LoadTest(
        b,
        1000 * (slot_wait + ttft),
        1000 * itl,
        b * o / cycle,
        1000 * (cycle - request_overhead_s) / o,
        slot_wait + cycle,
    )


def open_loop(
    perf: ReplicaPerf,
    requests_per_s: float,
    prompt_tokens: float,
    output_tokens: float,
    request_overhead_s: float = replica_model.REQUEST_OVERHEAD_S,
) -> LoadTest | None:
    """Steady state of one replica under `requests_per_s` arriving independently (mean TTFT and ITL), or None when
    it cannot keep up: prefill or decode work above its capacity, or a batch beyond KV cache / max sequences.

    Little's law gives the batch, batch = rate × cycle; a step is linear in the batch and prefill takes
    rate × prefill time of every second from decoding, so the cycle solves a linear equation."""
    p, o, rate = prompt_tokens, output_tokens, requests_per_s
    ctx = p + o / 2
    pre = perf.prefill_s(p)
    busy = rate * pre
    rho = perf.prefill_share(rate * p, p)
    if busy >= 1 or rho >= 0.99:
        return None
    s1 = perf.decode_step_s(1, ctx)
    c = perf.decode_step_s(2, ctx) - s1
    chunks = math.ceil(p / perf.chunk_tokens) if perf.chunk_tokens else 0
    wait = busy * pre / (2 * (1 - busy))
    # cycle = overhead + wait + pre + first-token share + (o − 1) × (s1 + (rate × cycle − 1) × c) / (1 − rho)
    slope = (max(o - 1, 0) / (1 - rho) + chunks) * rate * c
    if slope >= 1:
        return None
    fixed = request_overhead_s + wait + pre + max(o - 1, 0) * (s1 - c) / (1 - rho) - chunks * c
    cycle = fixed / (1 - slope)
    batch = max(rate * cycle, 1.0)
    if batch > min(perf.max_num_seqs, perf.kv_cache_tokens / (p + o)):
        return None
    itl = perf.decode_step_s(batch, ctx) / (1 - rho)
    ttft = cycle - max(o - 1, 0) * itl
    return LoadTest(batch, 1000 * ttft, 1000 * itl, rate * o, 1000 * (cycle - request_overhead_s) / o, cycle)


def predict(m: Measurement) -> LoadTest:
    perf = replica_perf(
        m.instance_type, m.params_b, m.precision, m.tp, m.framework, framework_version=m.framework_version
    )
    overhead = replica_model.REQUEST_OVERHEAD_S if m.harness == "http" else 0.0
    return closed_loop(perf, m.prompt_tokens, m.output_tokens, m.concurrency, overhead)


@dataclass(frozen=True)
class PointError:
    measurement: Measurement
    predicted: LoadTest
    errors: dict[str, float]  # metric -> predicted / measured − 1

    @property
    def worst(self) -> float:
        return max(abs(e) for e in self.errors.values())

    @property
    def hit(self) -> bool:
        return self.worst <= TOLERANCE


def errors(measurements: list[Measurement] | None = None) -> list[PointError]:
    out = []
    for m in measurements if measurements is not None else load_measurements():
        pred = predict(m)
        out.append(PointError(m, pred, {k: getattr(pred, k) / v - 1 for k, v in m.measured.items()}))
    return out
