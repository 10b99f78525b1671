"""How fast one serving replica is: prefill tokens/s, decode step time vs batch, KV-cache capacity.

One table per fact, each number with its public source. Rates are built from GPU datasheet figures times
efficiencies calibrated against published vLLM measurements; every row says when it is extrapolated.

A replica of model M at precision P on instance type I with tensor-parallel degree TP:
- decode is memory-bound: one step reads the weights once, so at batch 1 the step time is
  weights_bytes / (TP × HBM bandwidth × decode_efficiency × tp_efficiency × precision_kernel_efficiency), and each
  extra sequence in the batch adds `BATCH_SLOWDOWN_PER_SEQUENCE` of that time (KV reads, sampling);
  tokens/s per user = 1 / step time.
- prefill is compute-bound: 2 × parameters FLOPs per prompt token at TP × dense BF16 FLOPS × PREFILL_MFU.
- TTFT = queueing + one scheduler step + prompt / prefill rate + REQUEST_OVERHEAD_S.
- concurrent sequences are bounded by vLLM's max_num_seqs (256) and by KV-cache memory: TP × GPU memory ×
  gpu_memory_utilization (0.9) − weights (sizing.weights_gb), at the architecture's KV bytes per token.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from llama_infra import catalog, sizing


@dataclass(frozen=True)
class GpuSpec:
    hbm_bandwidth_gb_s: float
    dense_bf16_tflops: float
    source: str


# NVIDIA datasheets (dense, no sparsity). Keyed by the catalog's GPU model and memory (A100 40 vs 80 GB differ).
GPUS: dict[str, GpuSpec] = {
    "A100-40": GpuSpec(1555, 312, "NVIDIA A100 Tensor Core GPU datasheet (40GB SXM: 1,555 GB/s; BF16 312 TFLOPS)"),
    "A100-80": GpuSpec(2039, 312, "NVIDIA A100 Tensor Core GPU datasheet (80GB SXM: 2,039 GB/s; BF16 312 TFLOPS)"),
    "H100": GpuSpec(3350, 989, "NVIDIA H100 datasheet (SXM: 3.35 TB/s; BF16 989 TFLOPS dense)"),
    "H200": GpuSpec(4800, 989, "NVIDIA H200 datasheet (4.8 TB/s; BF16 989 TFLOPS dense)"),
    "L40S": GpuSpec(864, 362, "NVIDIA L40S datasheet (864 GB/s; BF16 362 TFLOPS dense)"),
    "L4": GpuSpec(300, 121, "NVIDIA L4 datasheet (300 GB/s; BF16 121 TFLOPS dense)"),
    "A10G": GpuSpec(600, 125, "NVIDIA A10 datasheet (600 GB/s; BF16 125 TFLOPS dense) — EXTRAPOLATED: AWS's A10G "
                    "is an A10 variant; NVIDIA publishes no separate A10G sheet"),
    "T4": GpuSpec(320, 65, "NVIDIA T4 datasheet (320 GB/s; FP16 65 TFLOPS)"),
}


@dataclass(frozen=True)
class Architecture:
    layers: int
    kv_heads: int
    head_dim: int
    source: str


# Llama 3.x configs (config.json on the Hugging Face Hub: num_hidden_layers, num_key_value_heads, hidden/heads).
ARCHITECTURES: dict[float, Architecture] = {
    1: Architecture(16, 8, 64, "meta-llama/Llama-3.2-1B config.json"),
    3: Architecture(28, 8, 128, "meta-llama/Llama-3.2-3B config.json"),
    8: Architecture(32, 8, 128, "meta-llama/Llama-3.1-8B config.json"),
    70: Architecture(80, 8, 128, "meta-llama/Llama-3.1-70B config.json"),
    405: Architecture(126, 8, 128, "meta-llama/Llama-3.1-405B config.json"),
}

# Calibrations (each from one public measurement; see the module docstring for the formulas).
DECODE_EFFICIENCY = 0.77
DECODE_EFFICIENCY_SOURCE = ("vLLM throughput–latency sweep on one A100 40GB, Llama-3.1-8B BF16, vLLM 0.23: "
                            "~75 tokens/s at concurrency 1, '77% of the memory-bandwidth ceiling' "
                            "(johnmusgrave.com/p/vllm-throughput-latency-sweep-on)")
BATCH_SLOWDOWN_PER_SEQUENCE = 0.03
BATCH_SLOWDOWN_SOURCE = ("same sweep: 6.6x throughput at concurrency 8 → step time 8/6.6 = 1.21x of batch 1 "
                         "→ +3 % per extra sequence (EXTRAPOLATED linearly beyond 8)")
TP_EFFICIENCY = 0.61
TP_EFFICIENCY_SOURCE = ("vLLM nightly serving benchmark, Llama-3.3-70B TP4 on 4xA100 80GB, ShareGPT, QPS 1: mean TPOT "
                        "44.9 ms (gist surajssd/eef8ebf8…, vLLM benchmarks/ format); at ~9 concurrent sequences "
                        "(Little's law) the roofline gives 27.7 ms → 0.61 for all-reduce and kernel overheads")
PREFILL_MFU = 0.35
PREFILL_MFU_SOURCE = ("same benchmark: mean TTFT 155 ms for ~213-token prompts = one 45 ms step + ~30 ms overhead + "
                      "prefill at 35 % of dense BF16 FLOPS")
REQUEST_OVERHEAD_S = 0.030
GPU_MEMORY_UTILIZATION = 0.9  # vLLM default --gpu-memory-utilization
MAX_NUM_SEQS = 256  # vLLM default --max-num-seqs
# Quantized kernels (AWQ/GPTQ/INT4 Marlin, FP8/INT8 weight-only) do not reach the bandwidth of BF16 GEMV, and
# dequantisation costs prefill FLOPS. EXTRAPOLATED from vLLM's quantization docs' statement that AWQ trades throughput
# for memory; no single public number covers every GPU.
PRECISION_DECODE_EFFICIENCY = {"fp16": 1.0, "bf16": 1.0, "fp8": 0.85, "int8": 0.85, "int4": 0.7, "awq": 0.7,
                               "gptq": 0.7}
PRECISION_PREFILL_EFFICIENCY = {"fp16": 1.0, "bf16": 1.0, "fp8": 0.9, "int8": 0.8, "int4": 0.6, "awq": 0.6,
                                "gptq": 0.6}
KV_BYTES_PER_VALUE = 2  # vLLM's default KV cache dtype follows the model dtype (BF16/FP16)


class ReplicaModelError(ValueError):
    pass


def gpu_key(instance: catalog.GpuInstance) -> str:
    if instance.gpu_model == "A100":
        return "A100-80" if instance.gpu_memory_gb > 60 else "A100-40"
    return instance.gpu_model


def architecture(params_b: float) -> tuple[Architecture, bool]:
    """The Llama 3 architecture of this size, or the nearest one (then `extrapolated` is True)."""
    nearest = min(ARCHITECTURES, key=lambda k: abs(k - params_b) / k)
    return ARCHITECTURES[nearest], nearest != params_b


@dataclass(frozen=True)
class ReplicaPerf:
    """Serving rates of one replica."""

    instance_type: str
    params_b: float
    precision: str
    tp_degree: int
    prefill_tokens_per_s: float
    decode_step_s_batch1: float
    kv_cache_tokens: int
    max_num_seqs: int
    extrapolated: bool
    sources: tuple[str, ...]

    def decode_step_s(self, batch: float) -> float:
        return self.decode_step_s_batch1 * (1 + BATCH_SLOWDOWN_PER_SEQUENCE * max(batch - 1.0, 0.0))

    def tokens_per_s_per_user(self, batch: float) -> float:
        return 1.0 / self.decode_step_s(batch)

    def max_batch_for_tokens_per_s(self, tokens_per_s: float) -> float:
        """Largest batch at which every user still sees `tokens_per_s` (0 when even batch 1 is too slow)."""
        ratio = 1.0 / (tokens_per_s * self.decode_step_s_batch1)
        if ratio < 1:
            return 0.0
        return 1 + (ratio - 1) / BATCH_SLOWDOWN_PER_SEQUENCE

    def ttft_s(self, prompt_tokens: float) -> float:
        """TTFT without queueing."""
        return self.decode_step_s_batch1 + prompt_tokens / self.prefill_tokens_per_s + REQUEST_OVERHEAD_S


@cache
def replica_perf(instance_type: str, params_b: float, precision: str, tp_degree: int | None = None) -> ReplicaPerf:
    inst = catalog.lookup(instance_type)
    if inst is None:
        raise ReplicaModelError(f"{instance_type} is not a GPU instance type in the catalog")
    key = gpu_key(inst)
    if key not in GPUS:
        raise ReplicaModelError(f"no serving rates for GPU {inst.gpu_model} ({instance_type}); add it to GPUS "
                                "in llama_infra/sim/replica_model.py with its datasheet source")
    gpu = GPUS[key]
    tp = tp_degree or inst.gpu_count
    weights_gb = sizing.weights_gb(params_b, precision)
    arch, extrapolated = architecture(params_b)
    tp_eff = 1.0 if tp == 1 else TP_EFFICIENCY
    bw = tp * gpu.hbm_bandwidth_gb_s * DECODE_EFFICIENCY * tp_eff * PRECISION_DECODE_EFFICIENCY[precision]
    step1 = weights_gb / bw
    flops = tp * gpu.dense_bf16_tflops * 1e12 * PREFILL_MFU * PRECISION_PREFILL_EFFICIENCY[precision]
    prefill = flops / (2 * params_b * 1e9)
    kv_bytes_per_token = 2 * arch.layers * arch.kv_heads * arch.head_dim * KV_BYTES_PER_VALUE
    free_gb = tp * inst.gpu_memory_gb * GPU_MEMORY_UTILIZATION - weights_gb
    if free_gb <= 0:
        raise ReplicaModelError(f"{params_b:g}B {precision} ({weights_gb:.0f} GB) leaves no KV-cache memory on "
                                f"{tp}× {inst.gpu_model} of {instance_type}")
    kv_tokens = int(free_gb * 1e9 / kv_bytes_per_token)
    extrapolated = extrapolated or key == "A10G" or precision not in ("fp16", "bf16")
    return ReplicaPerf(instance_type, params_b, precision, tp, prefill, step1, kv_tokens, MAX_NUM_SEQS, extrapolated,
                       (gpu.source, arch.source, DECODE_EFFICIENCY_SOURCE, BATCH_SLOWDOWN_SOURCE,
                        TP_EFFICIENCY_SOURCE if tp > 1 else "TP 1: no all-reduce", PREFILL_MFU_SOURCE))


def table_rows(combinations: list[tuple[str, float, str]]) -> list[dict]:
    """The derived table for display (`llama-infra simulate --json` includes it)."""
    rows = []
    for itype, params, prec in combinations:
        p = replica_perf(itype, params, prec)
        rows.append({"instance_type": itype, "model_b": params, "precision": prec, "tp": p.tp_degree,
                     "prefill_tokens_per_s": round(p.prefill_tokens_per_s),
                     "decode_tokens_per_s_batch1": round(1 / p.decode_step_s_batch1, 1),
                     "decode_tokens_per_s_batch32": round(p.tokens_per_s_per_user(32), 1),
                     "kv_cache_tokens": p.kv_cache_tokens, "extrapolated": p.extrapolated})
    return rows
