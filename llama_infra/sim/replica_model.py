"""How fast one serving replica is, from first principles: prefill FLOPs, decode bytes, tensor-parallel traffic.

A replica of model M at precision P with serving framework F on instance type I, tensor-parallel degree TP:

- **Prefill** is compute-bound: a prompt of p tokens costs 2 × parameters × p FLOPs in the matrix multiplies plus
  2 × layers × hidden × p² in causal attention, at TP × the GPU's dense tensor FLOPS for the precision's compute
  type × `PREFILL_MFU`; under TP every layer also all-reduces p × hidden activations twice (`comm_s`).
- **Decode** is memory-bandwidth-bound: one step reads the weights once (weights / TP per GPU) and every running
  sequence's KV cache (context × KV bytes per token / TP), at HBM bandwidth × `DECODE_BANDWIDTH_EFFICIENCY`; each
  sequence also costs its 2 × parameters FLOPs at `DECODE_COMPUTE_EFFICIENCY` (what makes large batches
  compute-bound), each layer the framework's launch/scheduling overhead, and under TP two all-reduces per layer
  of batch × hidden × 2 bytes over the GPUs' link (NVLink on p4d/p5; PCIe on g5/g6e/g6, which have no NVLink; on
  the multi-GPU g5 through the host bridge, `ALLREDUCE_GB_S`) plus the framework's per-all-reduce launch cost. A
  step is linear in the batch: ``decode_step_s(b) = decode_step_s_batch1 + (b − 1) × decode_s_per_sequence``.
- **Chunked-prefill interference**: prefill work shares the GPU with decode steps; when prompts arrive at
  `prefill_tokens_per_s_load`, a fraction ρ = load × prefill time per token × `PREFILL_INTERFERENCE` of the time
  is not decoding and the inter-token latency stretches to step / (1 − ρ) (`itl_s`). A framework that prefills
  whole prompts between decode steps (TGI 1.x) stalls the batch for all of it: its `prefill_interference` is 1.
- **Past releases** where the calibration row names one: GPTQ on TGI before 1.1.1 runs the column-parallel layers on
  a Triton kernel whose serial loop over the input dimension lasts `TRITON_W4_CYCLES_PER_K` clock cycles per
  element, so that share of a pass takes the longer of that and its bytes (`triton_w4_columns`). TensorRT-LLM's
  static-batch runs (0.5, 0.6.1) all-reduce through NCCL outside CUDA graphs, at NCCL's measured time per call and
  byte rather than the link rate (`nccl_allreduce_line`). Their context step's GEMMs take TensorRT-LLM's measured
  time, a line in the prompt tokens whose intercept is a weight stream the math does not overlap
  (`STATIC_BATCH_GEMM_LINE`). A static batch pays that intercept once for all of its prompts. Their decode
  attention reads each KV head's cache once per query head that shares it (`kv_cache_reads_per_step`).
- **Concurrency** is bounded by the framework's max sequences (vLLM's defaults depend on the GPU) and by KV-cache
  memory: TP × GPU memory × the framework's memory fraction − weights, at the architecture's KV bytes per token;
  TensorRT-LLM's fraction is of the memory left once the weights and its engine's activation, NCCL and runtime
  reserve are in (`kv_cache_gb`).

Facts (datasheets, configs, framework defaults) carry their source next to them. Six efficiency constants, six
per-framework overheads, the g5 all-reduce bandwidths and the Triton GPTQ kernel's cycles are fitted to the
published measurements in `llama_infra/data/calibration/replica_measurements.csv` (`python -m
benchmarks.bench_calibration --fit` refits them; `tests/sim/test_replica_calibration.py` checks every point
lands within ±25 %).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from llama_infra import catalog, sizing

GIB = 2**30


@dataclass(frozen=True)
class GpuSpec:
    hbm_bandwidth_gb_s: float
    dense_bf16_tflops: float
    dense_fp8_tflops: float | None  # None: no FP8 tensor cores (FP8 weights run as weight-only, BF16 compute)
    dense_int8_tops: float
    link: str  # "nvlink" or "pcie": what the GPUs of one instance all-reduce over
    link_gb_s: float  # per GPU, per direction
    source: str
    # boost clock, only where a latency-bound kernel needs it (`triton_w4_pass_s`); None: not stated here
    boost_clock_mhz: float | None = None


# NVIDIA datasheets, dense tensor throughput (no sparsity). Keyed by the catalog's GPU model and memory.
GPUS: dict[str, GpuSpec] = {
    "A100-40": GpuSpec(
        1555,
        312,
        None,
        624,
        "nvlink",
        300,
        "NVIDIA A100 datasheet (40GB SXM: 1,555 GB/s; BF16 312 TFLOPS; INT8 624 TOPS; NVLink 600 GB/s); boost "
        "clock 1,410 MHz (312 TFLOPS = 108 SMs x 2,048 dense FP16 FLOPs per clock x 1.41 GHz)",
        boost_clock_mhz=1410,
    ),
    "A100-80": GpuSpec(
        2039,
        312,
        None,
        624,
        "nvlink",
        300,
        "NVIDIA A100 datasheet (80GB SXM: 2,039 GB/s; BF16 312 TFLOPS; INT8 624 TOPS; NVLink 600 GB/s); boost "
        "clock 1,410 MHz (312 TFLOPS = 108 SMs x 2,048 dense FP16 FLOPs per clock x 1.41 GHz)",
        boost_clock_mhz=1410,
    ),
    "H100": GpuSpec(
        3350,
        989,
        1979,
        1979,
        "nvlink",
        450,
        "NVIDIA H100 datasheet (SXM: 3.35 TB/s; BF16 989, FP8 1,979 TFLOPS dense; NVLink 900 GB/s)",
    ),
    "H200": GpuSpec(
        4800,
        989,
        1979,
        1979,
        "nvlink",
        450,
        "NVIDIA H200 datasheet (4.8 TB/s; BF16 989, FP8 1,979 TFLOPS dense; NVLink 900 GB/s)",
    ),
    "L40S": GpuSpec(
        864,
        362,
        733,
        733,
        "pcie",
        32,
        "NVIDIA L40S datasheet (864 GB/s; BF16 362, FP8 733 TFLOPS dense; PCIe Gen4 x16 64 GB/s, no NVLink)",
    ),
    "L4": GpuSpec(
        300,
        121,
        242,
        242,
        "pcie",
        32,
        "NVIDIA L4 datasheet (300 GB/s; BF16 121, FP8 242 TFLOPS dense; PCIe Gen4 x16 64 GB/s, no NVLink)",
    ),
    "A10G": GpuSpec(
        600,
        125,
        None,
        250,
        "pcie",
        32,
        "NVIDIA A10 datasheet (600 GB/s; BF16 125 TFLOPS, INT8 250 TOPS; PCIe Gen4 64 GB/s) — EXTRAPOLATED: "
        "AWS's A10G is an A10 variant; NVIDIA publishes no separate A10G sheet; boost clock 1,695 MHz (the A10's: "
        "125 TFLOPS = 72 SMs x 1,024 dense BF16 FLOPs per clock x 1.695 GHz)",
        boost_clock_mhz=1695,
    ),
    "T4": GpuSpec(
        320,
        65,
        None,
        130,
        "pcie",
        16,
        "NVIDIA T4 datasheet (320 GB/s; FP16 65 TFLOPS; INT8 130 TOPS; PCIe Gen3 x16 32 GB/s)",
    ),
}


# NCCL all-reduce bus bandwidth per GPU where an instance's GPUs have neither NVLink nor a PCIe switch between them:
# on g5 each A10G sits on its own root port, so peer traffic crosses the host bridge, far below the PCIe line rate in
# GPUS; g5.48xlarge spreads its eight over two CPU sockets, four on each (aws/aws-ofi-nccl
# topology/g5.48xl-topo.xml), and its ring also crosses the link between them. FITTED on the TGI 1.0.3 points on
# g5.12xlarge and g5.48xlarge (tgi-sagemaker-llama2), where at 20 clients every new prompt's prefill all-reduces
# its whole prompt while the batch waits (70B on g5.48xlarge: 52 to 413 ms/token from 1 to 20 clients). Checked
# against nccl-tests all_reduce_perf on 4 × A10G, NCCL 2.18.5, 29 MB messages: busbw 3.1 GB/s (pytorch/pytorch
# issue 127077). g5.24xlarge has g5.12xlarge's four GPUs (EXTRAPOLATED). Other instances all-reduce at their GPU's
# `link_gb_s`.
ALLREDUCE_GB_S: dict[str, float] = {
    "g5.12xlarge": 3.57,
    "g5.24xlarge": 3.57,
    "g5.48xlarge": 1.79,
}


def allreduce_gb_s(instance: catalog.GpuInstance, gpu: GpuSpec) -> float:
    """Per-GPU all-reduce bandwidth between the GPUs of this instance."""
    return ALLREDUCE_GB_S.get(instance.instance_type, gpu.link_gb_s)


# TensorRT-LLM's static-batch runs (gptSessionBenchmark, the calibration table's TensorRT-LLM 0.5 and 0.6.1 rows)
# all-reduce through NCCL outside CUDA graphs: the performance doc's engines are built without
# `--use_custom_all_reduce` (examples/llama/build.py: "Activates latency-optimized algorithm for all-reduce instead
# of NCCL", off unless given) and its benchmark commands do not pass `--enable_cuda_graph` (github.com/NVIDIA/
# TensorRT-LLM docs/source/performance.md, commit 138f96d4). There an all-reduce takes NCCL's time, far above the
# link rate for the messages a prefill sends (hidden x 2 bytes per prompt token): on 4 A100 a 2 MB all-reduce takes
# 46 us where NVLink's 300 GB/s would take 10. Measured: nccl-tests all_reduce_perf, FP16, no CUDA graph, on
# A100-SXM4-80GB (NCCL 2.27.3) and H100 80GB HBM3 (NCCL 2.29.2), microseconds by message bytes
# (github.com/ai-dynamo/aiconfigurator, aic-core `systems/data/{a100_sxm,h100_sxm}/comm/nccl/2.27.3/
# nccl_perf.parquet`, collected by its `collector/network/collect_nccl.py`), from 1 to 64 MB (64 to 4,096 prompt
# tokens at hidden 8,192). A100 40 GB has the 80 GB's NVLink. EXTRAPOLATED: the NCCL of TensorRT-LLM 0.5's time
# (2023) ran the same algorithms over the same links.
STATIC_BATCH = "static batch"  # the calibration table's mark of TensorRT-LLM's static-batch (gptSession) runs
NCCL_ALLREDUCE_MESSAGE_BYTES = tuple(2**20 * mb for mb in (1, 2, 4, 8, 16, 32, 64))
NCCL_ALLREDUCE_US: dict[str, dict[int, tuple[float, ...]]] = {  # at each of NCCL_ALLREDUCE_MESSAGE_BYTES
    "A100-80": {
        2: (40.8, 47.6, 55.8, 87.1, 128.2, 224.2, 391.5),
        4: (29.8, 46.2, 68.8, 111.0, 183.5, 288.0, 544.3),
        8: (38.9, 53.7, 77.3, 128.0, 216.5, 367.0, 595.3),
    },
    "H100": {
        2: (14.2, 27.6, 32.7, 46.4, 81.4, 142.3, 253.0),
        4: (18.1, 27.1, 41.1, 62.6, 99.2, 172.8, 324.0),
        8: (25.4, 38.6, 50.3, 79.1, 122.1, 199.9, 321.9),
    },
}
NCCL_ALLREDUCE_US["A100-40"] = NCCL_ALLREDUCE_US["A100-80"]


def nccl_allreduce_line(gpu_key: str, tp: int) -> tuple[float, float] | None:
    """(seconds per call, seconds per byte): the line through NCCL's measured all-reduce times on this GPU at this TP
    degree (`NCCL_ALLREDUCE_US`) that least-squares their relative errors; None where none was measured."""
    measured = NCCL_ALLREDUCE_US.get(gpu_key, {}).get(tp)
    if not measured:
        return None
    # weighted normal equations of t = a + b x with weights 1 / t^2
    x, t = NCCL_ALLREDUCE_MESSAGE_BYTES, [us * 1e-6 for us in measured]
    w = [1 / ti**2 for ti in t]
    sw = sum(w)
    sx, st = sum(wi * xi for wi, xi in zip(w, x, strict=True)), sum(wi * ti for wi, ti in zip(w, t, strict=True))
    sxx = sum(wi * xi * xi for wi, xi in zip(w, x, strict=True))
    sxt = sum(wi * xi * ti for wi, xi, ti in zip(w, x, t, strict=True))
    per_byte = (sw * sxt - sx * st) / (sw * sxx - sx * sx)
    return (st - per_byte * sx) / sw, per_byte


def nccl_outside_cuda_graphs(framework: str, framework_version: str | None) -> bool:
    """Whether every TP all-reduce is an NCCL call outside CUDA graphs: TensorRT-LLM's static-batch runs. Since 0.12
    TensorRT-LLM picks NCCL or its custom all-reduce by message size itself (NVIDIA/TensorRT-LLM issue 1601), which
    this module does not model: there, and for every other framework, the link rate stands."""
    return framework == "tensorrt-llm" and STATIC_BATCH in (framework_version or "")


# TensorRT-LLM's static-batch runs (0.5, 0.6.1) decode attention with the masked multi-head attention kernel only:
# one thread block per query head and sequence, each loading the K and V cache of its KV head (`hi_kv = hi /
# qhead_per_kv`, cpp/tensorrt_llm/kernels/decoderMaskedMultiheadAttention/decoderMaskedMultiheadAttentionTemplate.h),
# so under grouped-query attention a step reads every KV head's cache once per query head that shares it: 8 times
# for Llama-2-70B (64 query heads, 8 KV heads), once for Llama-2-7B (no GQA). The kernel that reads it once per KV
# head (XQA, "reducing data loading") came after: experimental behind TRTLLM_ENABLE_XQA in the performance doc's next
# revision (github.com/NVIDIA/TensorRT-LLM docs/source/performance.md, commit 77d24b5f), on by default in 0.8, where
# NVIDIA measured Llama-70B at 128 in / 2,048 out on one H200 at 1,227 output tokens/s per GPU without it and 2,941
# with it, 2.4x (docs/source/blogs/XQA-kernel.md). The in-flight runtime (TensorRT-LLM 1.x, NIM) and the other
# frameworks read each KV head once. EXTRAPOLATED: whatever share of the repeated reads L2 serves is not credited.
def kv_cache_reads_per_step(arch: Architecture, framework: str, framework_version: str | None) -> int:
    """How many times a decode step reads each running sequence's KV cache."""
    return arch.query_heads_per_kv_head() if nccl_outside_cuda_graphs(framework, framework_version) else 1


# A static-batch context step's matrix multiplies at their measured time, not at dense peak x PREFILL_MFU with a
# weight read as the floor. TensorRT-LLM's GEMMs were measured by NVIDIA on H100 SXM (FP8) and A100 SXM 80 GB (BF16)
# by M, N and K (github.com/ai-dynamo/aiconfigurator, aic-core `systems/data/h100_sxm/gemm/trtllm/1.2.0rc5/` and
# `a100_sxm/gemm/trtllm/1.0.0/` `gemm_perf.parquet`). Summed over a Llama layer's five GEMMs (QKV, attention output,
# gate, up, down; N = 11,008 interpolated) and its layers, they take this long, in ms:
#
# | GPU, compute type | model | 128 tokens | 2,048 tokens |
# |---|---|---|---|
# | H100 FP8 | Llama-2-7B | 5.19 | 27.82 |
# | H100 FP8 | Llama-2-70B, TP 4 | 13.26 | 74.94 |
# | A100 BF16 | Llama-2-7B | 11.11 | 102.86 |
# | A100 BF16 | Llama-2-70B, TP 4 | 30.07 | 279.85 |
#
# So a GEMM does not run at the larger of compute and one weight read. At 128 tokens H100 FP8 reaches 16 % of peak
# and takes 2.7 weight reads. The line through the two lengths has an intercept, weights streamed without the math
# overlapping them:
# - H100 FP8: intercept 1.90 and 1.79 weight reads at full HBM bandwidth; slope at 55.5 % and 53.8 % of dense peak.
# - A100 BF16: intercept 0.79 and 0.80 weight reads; slope at 87 % and 84 % of dense peak.
# The fitted PREFILL_MFU (0.589) is too low for A100 at long prompts, and too high for either GPU at short ones.
# Each entry below is the mean of its two models. The line stays within 18 % of the measured sums from 128 to 8,192
# tokens (7B, 8B and 70B at TP 2 and 4).
# Applied to the static-batch runs only. A static batch runs its prompts as one context step
# (`--remove_input_padding` packs them), so it streams the weights once per batch (`ReplicaPerf.prefill_step_s`).
# Other frameworks and TensorRT-LLM's in-flight runtime keep the fitted PREFILL_MFU, which their points were fitted
# with. EXTRAPOLATED: TensorRT-LLM 0.5's GEMMs (TensorRT 9.1 tactics, 2023) are timed by 1.0's and 1.2's. The
# A100 40 GB is timed by the 80 GB's; no L40S measurement.
# Keyed by GPU and compute type: (intercept in weight reads at HBM peak, share of dense peak the slope reaches).
STATIC_BATCH_GEMM_LINE: dict[tuple[str, str], tuple[float, float]] = {
    ("H100", "fp8"): (1.85, 0.546),
    ("A100-80", "bf16"): (0.79, 0.856),
    ("A100-40", "bf16"): (0.79, 0.856),
}


@dataclass(frozen=True)
class Architecture:
    layers: int
    kv_heads: int
    head_dim: int
    hidden: int
    intermediate: int  # MLP width (intermediate_size)
    source: str

    def matmul_params(self) -> int:
        """Weights of the layers' matrix multiplies (QKV, attention output, gate, up, down): what a prefill runs
        every prompt token through. The embedding is a lookup and the LM head runs on the last token only."""
        kv = self.kv_heads * self.head_dim
        per_layer = (
            self.hidden * (self.hidden + 2 * kv) + self.hidden * self.hidden + 3 * self.hidden * self.intermediate
        )
        return self.layers * per_layer

    def query_heads_per_kv_head(self) -> int:
        """Query heads that share one KV head (grouped-query attention; 1 without it)."""
        return self.hidden // self.head_dim // self.kv_heads

    def column_parallel_share(self) -> float:
        """Share of a layer's matrix weights in its column-parallel projections (fused QKV, gate/up); the rest
        (attention output, down) are row-parallel."""
        kv = self.kv_heads * self.head_dim
        column = self.hidden * (self.hidden + 2 * kv) + 2 * self.hidden * self.intermediate
        row = self.hidden * self.hidden + self.intermediate * self.hidden
        return column / (column + row)


# config.json on the Hugging Face Hub (num_hidden_layers, num_key_value_heads, hidden_size / num_attention_heads,
# intermediate_size).
ARCHITECTURES: dict[float, Architecture] = {
    1: Architecture(16, 8, 64, 2048, 8192, "meta-llama/Llama-3.2-1B config.json"),
    3: Architecture(28, 8, 128, 3072, 8192, "meta-llama/Llama-3.2-3B config.json"),
    7: Architecture(32, 32, 128, 4096, 11008, "meta-llama/Llama-2-7b-hf config.json (no grouped-query attention)"),
    8: Architecture(32, 8, 128, 4096, 14336, "meta-llama/Llama-3.1-8B config.json"),
    70: Architecture(80, 8, 128, 8192, 28672, "meta-llama/Llama-3.1-70B config.json (Llama-2-70b: the same shape)"),
    405: Architecture(126, 8, 128, 16384, 53248, "meta-llama/Llama-3.1-405B config.json"),
}


@dataclass(frozen=True)
class Framework:
    layer_overhead_s: float  # per layer and forward pass: kernel launches, scheduling, sampling spread (fitted)
    allreduce_overhead_s: float  # per all-reduce on top of the link's latency (NCCL launch outside CUDA graphs)
    sequence_overhead_s: float  # host work per running sequence and step (per-request sampling/stopping in Python)
    memory_fraction: float  # share of GPU memory the server takes for weights + KV cache
    max_num_seqs: int  # concurrent sequences on GPUs < 70 GiB (or A100)
    max_num_seqs_large_gpu: int  # on GPUs with >= 70 GiB that are not A100
    chunk_tokens: int  # prefill tokens scheduled per step alongside decodes (0: no chunked prefill)
    source: str
    # share of a prefill's time the running batch waits for; None: the fitted PREFILL_INTERFERENCE
    prefill_interference: float | None = None


FRAMEWORKS: dict[str, Framework] = {
    "vllm": Framework(
        3.75e-05,
        0.0,
        0.0,
        0.9,
        256,
        1024,
        2048,
        "vLLM EngineArgs: gpu_memory_utilization 0.9; get_batch_defaults: OpenAI server max_num_seqs "
        "256 and max_num_batched_tokens 2048, 1024/8192 on GPUs with >= 70 GiB except A100 "
        "(vllm/engine/arg_utils.py); chunked prefill on by default in the V1 engine",
    ),
    "tensorrt-llm": Framework(
        8.61e-05,
        0.0,
        0.0,
        0.9,
        2048,
        2048,
        8192,
        "TensorRT-LLM KvCacheConfig free_gpu_memory_fraction 0.9; BuildConfig max_batch_size 2048, max_num_tokens 8192",
    ),
    "tgi": Framework(
        1.70e-04,
        4.77e-05,
        2.34e-04,
        0.9,
        128,
        128,
        0,
        "TGI launcher: max_concurrent_requests 128; TGI 1.x prefills whole prompts between decode steps "
        "(no chunking): its router awaits a new batch's prefill before the running batch's next decode "
        "(router/src/infer.rs, batching_task), so the batch waits for all of it; memory fraction EXTRAPOLATED "
        "(TGI sizes its KV budget from free memory)",
        prefill_interference=1.0,
    ),
    "lmi": Framework(
        2.29e-04,
        0.0,
        0.0,
        0.9,
        256,
        256,
        0,
        "DJL LMI: option.max_rolling_batch_size 256 (the FMBench configs'); lmi-dist prefills whole "
        "prompts; memory fraction EXTRAPOLATED",
    ),
}

# Fitted constants: `python -m benchmarks.bench_calibration --fit` over the calibration table (their source). The
# first two sit at their physical bounds (90 % of HBM bandwidth, 80 % of dense FLOPS): the saturated TensorRT-LLM
# H100 runs need all the hardware gives.
DECODE_BANDWIDTH_EFFICIENCY = 0.9  # share of HBM bandwidth a decode step reaches
DECODE_COMPUTE_EFFICIENCY = 0.8  # share of dense tensor FLOPS the per-sequence decode work reaches
# share of dense tensor FLOPS prefill reaches, BF16 and FP8/INT8 GEMMs (FP8's doubled peak is harder to reach)
PREFILL_MFU = {"bf16": 0.589, "fp8": 0.493}
PREFILL_INTERFERENCE = 0.778  # share of prefill time decode steps wait for (1: serialised, 0: fully overlapped)
# 4-bit weight-only kernels (GPTQ/AWQ Marlin or exllama) reach less of the bandwidth than BF16 GEMV; fitted on the
# GPTQ points (AWQ runs the same class of kernel: EXTRAPOLATED to it).
W4_DECODE_EFFICIENCY = 0.456
W4_PREFILL_EFFICIENCY = 0.8  # dequantisation before the BF16 GEMM: EXTRAPOLATED (no prefill-only W4 measurement)
# TGI before 1.1.1 runs the column-parallel GPTQ layers (fused QKV, gate/up) on its Triton GPTQ kernel on every GPU
# and TP degree: `Weights.get_multi_weights_col` hard-codes `use_exllama` False (server/text_generation_server/utils/
# weights.py at v1.0.3; huggingface/text-generation-inference issue 1098, "half of the layers still use the slow
# triton kernel", fixed in 1.1.1 by PR 1101). The row-parallel layers run exllama there (4 bits; the image builds
# it for sm_80 and sm_86, so A100 and A10G alike) unless the checkpoint has act-order groups under TP, which would
# put them on Triton too, with loops over K / TP: not modelled, the measured 4- and 8-GPU times agree). That kernel
# (utils/gptq/quant_linear.py, `matmul_248_kernel`) has no split-K: each program walks the whole input dimension in
# BLOCK_SIZE_K steps, each a dependent load of the packed weights, the scales and zeros their g_idx picks, unpack
# and dot, so at decode (up to 32 sequences are one M block) a call lasts K x this many clock cycles whatever N, the
# TP degree or the memory bandwidth. FITTED on the TGI 1.0.3 GPTQ points (tgi-sagemaker-llama2): 70B GPTQ at one
# client takes 57 ms/token on 4 A10G, 56 on 8 A10G and 68 on 8 A100, though the bytes per GPU halve from 4 to 8
# and an A100 streams 2.6x an A10G's bandwidth; 68 / 56 is about the clock ratio 1,695 / 1,410 MHz. 42.6 cycles
# per element is ~1,360 per 32-wide K step, the order of two dependent global-memory round trips (g_idx, then the
# scales it indexes). Checked against issue 1098's "about 2.5x for llama-2-70b-GPTQ" from the 1.1.1 fix: the model
# gives 2.0-2.4x for 70B GPTQ at one client on 4 or 8 A100 (1.2-1.5x on A10G, where the bytes weigh more). A refit
# of W4_DECODE_EFFICIENCY beside this constant gives 0.44, so the 4-bit bandwidth share above stands.
TRITON_W4_CYCLES_PER_K = 42.6
TGI_EXLLAMA_COLUMNS_RELEASE = (1, 1, 1)  # first TGI release that runs exllama on the column-parallel layers too


def _release(version: str) -> tuple[int, ...]:
    """(1, 0, 3) from "1.0.3" (leading numbers only)."""
    return tuple(int(n) for n in re.findall(r"\d+", version)[:3])


def triton_w4_columns(framework: str, framework_version: str | None, precision: str) -> bool:
    """Whether the column-parallel layers run TGI's Triton GPTQ kernel: GPTQ weights on TGI before 1.1.1. Without a
    version the framework's current release is meant, which runs exllama there."""
    if framework != "tgi" or precision != "gptq" or not framework_version:
        return False
    return _release(framework_version) < TGI_EXLLAMA_COLUMNS_RELEASE


def triton_w4_pass_s(arch: Architecture, gpu: GpuSpec) -> float:
    """The serial K loops of one forward pass's Triton GPTQ calls: two column-parallel projections per layer, each
    over the hidden size."""
    if gpu.boost_clock_mhz is None:
        raise ReplicaModelError(
            "TGI's Triton GPTQ kernel is latency-bound: give this GPU its boost_clock_mhz in GPUS "
            "(llama_infra/sim/replica_model.py) with its source"
        )
    return arch.layers * 2 * arch.hidden * TRITON_W4_CYCLES_PER_K / (gpu.boost_clock_mhz * 1e6)


REQUEST_OVERHEAD_S = 0.010  # HTTP, tokenisation and detokenisation around one request (EXTRAPOLATED)
GPU_MEMORY_UTILIZATION = FRAMEWORKS["vllm"].memory_fraction  # vLLM default --gpu-memory-utilization
MAX_NUM_SEQS = FRAMEWORKS["vllm"].max_num_seqs  # vLLM default --max-num-seqs below 70 GiB
DEFAULT_CONTEXT_TOKENS = 1024.0  # context per running sequence when a caller gives none (decode KV reads)


def running_context_tokens(mean_prompt_tokens: float, mean_output_tokens: float) -> float:
    """Mean context of a running sequence: its prompt and, on average, half its output."""
    return max(mean_prompt_tokens + mean_output_tokens / 2, 1.0)


DEFAULT_PROMPT_TOKENS = 1024.0  # prompt length at which `prefill_tokens_per_s` is quoted
ACTIVATION_BYTES = 2  # BF16 activations all-reduced under TP
WEIGHT_ONLY_4BIT = ("int4", "awq", "gptq")


def kv_bytes_per_value(precision: str, framework: str) -> int:
    """vLLM's default KV cache dtype follows the model dtype (BF16/FP16) for every weight format; TensorRT-LLM's FP8
    engines keep an FP8 KV cache (`--fp8_kv_cache` in its performance builds)."""
    return 1 if framework == "tensorrt-llm" and precision == "fp8" else 2


# TensorRT-LLM sizes its KV cache as `KvCacheConfig.free_gpu_memory_fraction` (0.9) of the memory still free once the
# engine is loaded: after the weights, the activation buffers the engine reserves for `max_num_tokens` tokens, NCCL's
# buffers and the CUDA context, cuBLAS workspaces and runtime, less what the block allocator keeps. vLLM's
# `gpu_memory_utilization` is a share of the whole GPU instead. The reserve per GPU is NVIDIA's TensorRT-LLM memory
# model in aiconfigurator (github.com/ai-dynamo/aiconfigurator, aic-core `sdk/backends/trtllm_backend.py` and
# `base_backend.py` `_get_memory_usage`, `systems/h100_sxm.yaml` `misc`): activations 2 bytes x max_num_tokens x
# hidden x 11, 6.5 or 5 for Llama at TP 1, 2 or 4 and more; NCCL 342 MiB at TP 2, 392 MiB at TP 4 and 8; 3.5 GiB of
# CUDA context, cuBLAS and the rest; 1.5 % of the budget to the block allocator. Checked against the measured
# TensorRT-LLM maximum concurrent sequences that model is tested on (`tests/integration/
# test_trtllm_kv_cache_capacity.py`, Llama-3.1-8B BF16 on H100 at TP 1, 2 and 4, fraction 0.8, four prompt/output
# lengths, max_num_tokens twice the prompt): with this module's weights (8 B x 2 bytes) the rule gives all twelve
# within 1.2 %; the share of the whole GPU (0.8 x TP x 80 GiB - weights) gives 0.5-7.2 % more, the more the higher
# the TP.
# keyed by TP degree; a TP above 4 takes 4's
TRTLLM_ACTIVATION_BYTES_PER_TOKEN_HIDDEN: dict[int, float] = {1: 2 * 11, 2: 2 * 6.5, 4: 2 * 5}
TRTLLM_NCCL_BYTES: dict[int, float] = {1: 0, 2: 358_612_992, 4: 411_041_792}
TRTLLM_RUNTIME_BYTES = 3_758_096_384  # CUDA context, cuBLAS workspaces and the rest of the runtime (3.5 GiB)
TRTLLM_BLOCK_ALLOCATOR_SHARE = 0.015  # of the KV budget, kept by the block allocator


def kv_budget_of_free_memory(framework: str, framework_version: str | None) -> bool:
    """Whether the KV budget is a share of the memory the engine leaves free (TensorRT-LLM's in-flight batching
    runtime, also inside NIM) rather than of the whole GPU. TensorRT-LLM 0.5's static-batch runs are not: one L40S
    held their 64 sequences x 2,176 tokens of FP8 KV cache (36.5 GB beside 7 GB of weights), more than 0.9 of the
    memory free after that runtime's reserve leaves (32.4 GB, 57 sequences)."""
    return framework == "tensorrt-llm" and STATIC_BATCH not in (framework_version or "")


def _by_tp(table: dict[int, float], tp: int) -> float:
    return table[max(k for k in table if k <= tp)]


def kv_cache_gb(
    fw: Framework, of_free_memory: bool, tp: int, gpu_memory_gb: float, weights_gb: float, hidden: int
) -> float:
    """Memory a replica gives its KV cache, all GPUs together (decimal GB): `fw.memory_fraction` of the whole GPUs
    less the weights or, `of_free_memory` (`kv_budget_of_free_memory`), of what the weights and TensorRT-LLM's
    reserve for `fw.chunk_tokens` (max_num_tokens) leave free."""
    if not of_free_memory:
        return tp * gpu_memory_gb * fw.memory_fraction - weights_gb
    activations = _by_tp(TRTLLM_ACTIVATION_BYTES_PER_TOKEN_HIDDEN, tp) * fw.chunk_tokens * hidden
    reserve_gb = (activations + _by_tp(TRTLLM_NCCL_BYTES, tp) + TRTLLM_RUNTIME_BYTES) / 1e9
    free_gb = tp * (gpu_memory_gb - reserve_gb) - weights_gb
    return free_gb * fw.memory_fraction * (1 - TRTLLM_BLOCK_ALLOCATOR_SHARE)


class ReplicaModelError(ValueError):
    pass


def gpu_key(instance: catalog.GpuInstance) -> str:
    if instance.gpu_model == "A100":
        return "A100-80" if instance.gpu_memory_gb > 60 else "A100-40"
    return instance.gpu_model


def architecture(params_b: float) -> tuple[Architecture, bool]:
    """The Llama architecture of this size, or the nearest one (then `extrapolated` is True)."""
    nearest = min(ARCHITECTURES, key=lambda k: abs(k - params_b) / k)
    return ARCHITECTURES[nearest], nearest != params_b


def compute_tflops(gpu: GpuSpec, precision: str) -> float:
    """Dense tensor throughput of the precision's compute type: FP8 and INT8 are W8A8 where the GPU has the tensor
    cores; 4-bit formats are weight-only (BF16 compute)."""
    if precision == "fp8":
        return gpu.dense_fp8_tflops or gpu.dense_bf16_tflops
    if precision == "int8":
        return gpu.dense_int8_tops
    return gpu.dense_bf16_tflops


@dataclass(frozen=True)
class ReplicaPerf:
    """Serving rates of one replica."""

    instance_type: str
    params_b: float
    precision: str
    tp_degree: int
    prefill_tokens_per_s: float  # at a DEFAULT_PROMPT_TOKENS prompt; ttft_s/prefill_s take the exact length
    decode_step_s_batch1: float  # at `context_tokens` of context
    kv_cache_tokens: int
    max_num_seqs: int
    extrapolated: bool
    sources: tuple[str, ...]
    framework: str = "vllm"
    decode_s_per_sequence: float = 0.0  # what each extra running sequence adds to a step, at `context_tokens`
    kv_read_s_per_context_token: float = 0.0  # per running sequence and context token
    prefill_s_per_token: float = 0.0  # matrix multiplies and TP traffic, per prompt token
    prefill_s_per_token_squared: float = 0.0  # causal attention, per prompt token squared
    prefill_fixed_s: float = 0.0  # all-reduce latencies of one prefill pass
    weights_read_s: float = 0.0  # one pass over the weights: the floor under a short prompt's prefill
    # per context step, whatever its prompts: the GEMMs' weight stream that their math does not overlap
    # (`STATIC_BATCH_GEMM_LINE`); set, it replaces the weight-read floor. A static batch runs its prompts in one step
    prefill_step_s: float = 0.0
    chunk_tokens: int = 0
    context_tokens: float = DEFAULT_CONTEXT_TOKENS  # context per running sequence the step times above are at
    prefill_interference: float | None = None  # the framework's; None: PREFILL_INTERFERENCE

    @property
    def batch_slowdown_per_sequence(self) -> float:
        """Relative step-time increase per extra running sequence: decode_step_s(b) = step1 × (1 + this × (b − 1))."""
        return self.decode_s_per_sequence / self.decode_step_s_batch1

    def decode_step_s(self, batch: float, context_tokens: float | None = None) -> float:
        """One decode step with `batch` running sequences of `context_tokens` context each (no prefill in it)."""
        b = max(batch, 1.0)
        per_seq = self.decode_s_per_sequence
        if context_tokens is not None:
            per_seq += (context_tokens - self.context_tokens) * self.kv_read_s_per_context_token
        step1 = self.decode_step_s_batch1 + (per_seq - self.decode_s_per_sequence)
        return step1 + (b - 1.0) * per_seq

    def tokens_per_s_per_user(self, batch: float) -> float:
        return 1.0 / self.decode_step_s(batch)

    def max_batch_for_tokens_per_s(self, tokens_per_s: float) -> float:
        """Largest batch at which every user still sees `tokens_per_s` (0 when even batch 1 is too slow)."""
        budget = 1.0 / tokens_per_s
        if budget < self.decode_step_s_batch1:
            return 0.0
        return 1 + (budget - self.decode_step_s_batch1) / self.decode_s_per_sequence

    def prefill_s(self, prompt_tokens: float) -> float:
        """Compute time of one prompt's prefill on an otherwise idle replica."""
        p = max(prompt_tokens, 0.0)
        compute = p * self.prefill_s_per_token + p * p * self.prefill_s_per_token_squared
        if self.prefill_step_s:  # the measured GEMM line: its intercept is the weight stream
            return self.prefill_fixed_s + self.prefill_step_s + compute
        return self.prefill_fixed_s + max(compute, self.weights_read_s)

    def ttft_s(self, prompt_tokens: float) -> float:
        """TTFT without queueing or interference: prefill, the step that emits the first token, request overhead."""
        return self.prefill_s(prompt_tokens) + self.decode_step_s_batch1 + REQUEST_OVERHEAD_S

    def prefill_share(self, prefill_tokens_per_s_load: float, prompt_tokens: float = DEFAULT_PROMPT_TOKENS) -> float:
        """Share of the replica's time that prefill at this load takes from decoding (capped below 1)."""
        per_token = self.prefill_s(prompt_tokens) / max(prompt_tokens, 1.0)
        waits = PREFILL_INTERFERENCE if self.prefill_interference is None else self.prefill_interference
        return min(0.99, prefill_tokens_per_s_load * per_token * waits)

    def itl_s(
        self,
        batch: float,
        prefill_tokens_per_s_load: float = 0.0,
        context_tokens: float | None = None,
        prompt_tokens: float = DEFAULT_PROMPT_TOKENS,
    ) -> float:
        """Inter-token latency at `batch` while prompts arrive at `prefill_tokens_per_s_load` tokens/s
        (chunked-prefill interference: decode gets the time prefill leaves)."""
        rho = self.prefill_share(prefill_tokens_per_s_load, prompt_tokens)
        return self.decode_step_s(batch, context_tokens) / (1.0 - rho)

    def output_tokens_per_s(self, batch: float, context_tokens: float | None = None) -> float:
        """Decode throughput of the whole replica at `batch` (no prefill in the way)."""
        return max(batch, 1.0) / self.decode_step_s(batch, context_tokens)


def _comm_s(
    arch: Architecture, link_gb_s: float, fw: Framework, tp: int, nccl: tuple[float, float] | None = None
) -> tuple[float, float]:
    """(fixed part, per-token part) of the 2 × layers all-reduces of one forward pass: at the link rate or, given
    `nccl` (`nccl_allreduce_line`), at NCCL's measured time per call and per byte."""
    if tp == 1:
        return 0.0, 0.0
    passes = 2 * arch.layers
    if nccl is not None:
        per_call_s, per_byte_s = nccl
        return passes * (fw.allreduce_overhead_s + per_call_s), passes * arch.hidden * ACTIVATION_BYTES * per_byte_s
    bytes_per_token = arch.hidden * ACTIVATION_BYTES * 2 * (tp - 1) / tp  # ring all-reduce traffic per GPU
    return (passes * fw.allreduce_overhead_s, passes * bytes_per_token / (link_gb_s * 1e9))


@cache
def replica_perf(
    instance_type: str,
    params_b: float,
    precision: str,
    tp_degree: int | None = None,
    framework: str = "vllm",
    context_tokens: float = DEFAULT_CONTEXT_TOKENS,
    framework_version: str | None = None,
) -> ReplicaPerf:
    """Rates of one replica; decode step times at `context_tokens` of context per running sequence (the
    workload's `running_context_tokens`; `decode_step_s` takes another context per call). `framework_version`
    names a past release where one behaves differently (`triton_w4_columns`); None: the current one."""
    inst = catalog.lookup(instance_type)
    if inst is None:
        raise ReplicaModelError(f"{instance_type} is not a GPU instance type in the catalog")
    key = gpu_key(inst)
    if key not in GPUS:
        raise ReplicaModelError(
            f"no serving rates for GPU {inst.gpu_model} ({instance_type}); add it to GPUS "
            "in llama_infra/sim/replica_model.py with its datasheet source"
        )
    if framework not in FRAMEWORKS:
        raise ReplicaModelError(f"no serving model for framework {framework!r}; known: {', '.join(FRAMEWORKS)}")
    gpu, fw = GPUS[key], FRAMEWORKS[framework]
    tp = tp_degree or inst.gpu_count
    arch, extrapolated = architecture(params_b)
    weights_gb = sizing.weights_gb(params_b, precision)
    w4 = precision in WEIGHT_ONLY_4BIT
    bandwidth_b_s = (
        tp * gpu.hbm_bandwidth_gb_s * 1e9 * DECODE_BANDWIDTH_EFFICIENCY * (W4_DECODE_EFFICIENCY if w4 else 1)
    )
    flops = tp * compute_tflops(gpu, precision) * 1e12
    kv_bytes_per_token = 2 * arch.layers * arch.kv_heads * arch.head_dim * kv_bytes_per_value(precision, framework)
    nccl = nccl_allreduce_line(key, tp) if nccl_outside_cuda_graphs(framework, framework_version) else None
    comm_fixed, comm_per_token = _comm_s(arch, allreduce_gb_s(inst, gpu), fw, tp, nccl)

    weights_read_s = weights_gb * 1e9 / bandwidth_b_s
    if triton_w4_columns(framework, framework_version, precision):
        # the column-parallel share streams at the kernel's serial K loops when they take longer than its bytes
        column = arch.column_parallel_share()
        weights_read_s = (1 - column) * weights_read_s + max(column * weights_read_s, triton_w4_pass_s(arch, gpu))
    kv_read_s = kv_bytes_per_token * kv_cache_reads_per_step(arch, framework, framework_version) / bandwidth_b_s
    decode_compute_s = 2 * params_b * 1e9 / (flops * DECODE_COMPUTE_EFFICIENCY)
    per_sequence = context_tokens * kv_read_s + decode_compute_s + comm_per_token + fw.sequence_overhead_s
    overhead_s = fw.layer_overhead_s * arch.layers
    step1 = overhead_s + weights_read_s + comm_fixed + per_sequence

    compute_type = "fp8" if compute_tflops(gpu, precision) > gpu.dense_bf16_tflops else "bf16"
    mfu = PREFILL_MFU[compute_type]
    prefill_flops = flops * mfu * (W4_PREFILL_EFFICIENCY if w4 else 1)
    prefill_per_token = 2 * params_b * 1e9 / prefill_flops + comm_per_token
    prefill_per_token_sq = 2 * arch.layers * arch.hidden / prefill_flops
    step_s = 0.0
    gemm_line = STATIC_BATCH_GEMM_LINE.get((key, compute_type))
    if gemm_line and nccl_outside_cuda_graphs(framework, framework_version) and not w4:
        weight_reads, peak_share = gemm_line
        matmul = arch.matmul_params()
        matmul_bytes = matmul * weights_gb / params_b  # at the precision's bytes per weight
        step_s = weight_reads * matmul_bytes / (tp * gpu.hbm_bandwidth_gb_s * 1e9)
        prefill_per_token = 2 * matmul / (flops * peak_share) + comm_per_token
    compute_s = DEFAULT_PROMPT_TOKENS * prefill_per_token + DEFAULT_PROMPT_TOKENS**2 * prefill_per_token_sq
    rate = DEFAULT_PROMPT_TOKENS / (
        overhead_s + comm_fixed + (step_s + compute_s if step_s else max(weights_read_s, compute_s))
    )

    large_gpu = inst.gpu_memory_gb * 1e9 >= 70 * GIB and key not in ("A100-40", "A100-80")
    max_seqs = fw.max_num_seqs_large_gpu if large_gpu else fw.max_num_seqs
    chunk = fw.chunk_tokens * (4 if framework == "vllm" and large_gpu else 1)  # vLLM: 8192 on the large GPUs
    of_free = kv_budget_of_free_memory(framework, framework_version)
    free_gb = kv_cache_gb(fw, of_free, tp, inst.gpu_memory_gb, weights_gb, arch.hidden)
    if free_gb <= 0:
        raise ReplicaModelError(
            f"{params_b:g}B {precision} ({weights_gb:.0f} GB) leaves no KV-cache memory on "
            f"{tp}× {inst.gpu_model} of {instance_type}"
        )
    kv_tokens = int(free_gb * 1e9 / kv_bytes_per_token)
    extrapolated = extrapolated or key == "A10G" or precision in ("awq", "int4", "int8")
    return ReplicaPerf(
        instance_type,
        params_b,
        precision,
        tp,
        rate,
        step1,
        kv_tokens,
        max_seqs,
        extrapolated,
        (
            gpu.source,
            arch.source,
            fw.source,
            "efficiencies fitted to llama_infra/data/calibration/replica_measurements.csv",
        ),
        framework=framework,
        decode_s_per_sequence=per_sequence,
        kv_read_s_per_context_token=kv_read_s,
        prefill_s_per_token=prefill_per_token,
        prefill_s_per_token_squared=prefill_per_token_sq,
        prefill_fixed_s=overhead_s + comm_fixed,
        weights_read_s=weights_read_s,
        prefill_step_s=step_s,
        chunk_tokens=chunk,
        context_tokens=context_tokens,
        prefill_interference=fw.prefill_interference,
    )


def table_rows(combinations: list[tuple[str, float, str]]) -> list[dict]:
    """The derived table for display (`llama-infra simulate --json` includes it)."""
    rows = []
    for itype, params, prec in combinations:
        p = replica_perf(itype, params, prec)
        rows.append(
            {
                "instance_type": itype,
                "model_b": params,
                "precision": prec,
                "tp": p.tp_degree,
                "prefill_tokens_per_s": round(p.prefill_tokens_per_s),
                "decode_tokens_per_s_batch1": round(1 / p.decode_step_s_batch1, 1),
                "decode_tokens_per_s_batch32": round(p.tokens_per_s_per_user(32), 1),
                "kv_cache_tokens": p.kv_cache_tokens,
                "extrapolated": p.extrapolated,
            }
        )
    return rows
