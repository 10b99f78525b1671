"""The replica model is the physics its docstring states: each rate derived here from datasheet facts and the
model's named constants, so a change to a formula (not to a constant) fails."""

import dataclasses

import pytest

from llama_infra import catalog, sizing
from llama_infra.sim import replica_model as rm
from llama_infra.sim.replica_model import ReplicaModelError, architecture, replica_perf


def test_decode_at_batch_one_reads_the_weights_once_at_the_calibrated_bandwidth():
    p = replica_perf("p4d.24xlarge", 8, "bf16", tp_degree=1)
    gpu, arch, fw = rm.GPUS["A100-40"], rm.ARCHITECTURES[8], rm.FRAMEWORKS["vllm"]
    bandwidth = gpu.hbm_bandwidth_gb_s * 1e9 * rm.DECODE_BANDWIDTH_EFFICIENCY
    kv_per_token = 2 * arch.layers * arch.kv_heads * arch.head_dim * 2
    one_sequence = rm.DEFAULT_CONTEXT_TOKENS * kv_per_token / bandwidth + 2 * 8e9 / (
        gpu.dense_bf16_tflops * 1e12 * rm.DECODE_COMPUTE_EFFICIENCY
    )
    expected = fw.layer_overhead_s * arch.layers + sizing.weights_gb(8, "bf16") * 1e9 / bandwidth + one_sequence
    assert p.decode_step_s_batch1 == pytest.approx(expected, rel=1e-9)
    assert p.decode_s_per_sequence == pytest.approx(one_sequence, rel=1e-9)


def test_decode_step_is_linear_in_batch_and_in_context():
    p = replica_perf("p5.48xlarge", 70, "fp8", tp_degree=4)
    assert p.decode_step_s(33) - p.decode_step_s(1) == pytest.approx(32 * p.decode_s_per_sequence, rel=1e-9)
    # 1000 more tokens of context per sequence: 1000 × batch more KV bytes read per step
    extra = p.decode_step_s(16, rm.DEFAULT_CONTEXT_TOKENS + 1000) - p.decode_step_s(16)
    assert extra == pytest.approx(16 * 1000 * p.kv_read_s_per_context_token, rel=1e-9)
    assert p.decode_step_s(32) == pytest.approx(p.decode_step_s_batch1 * (1 + p.batch_slowdown_per_sequence * 31))


def test_max_batch_for_tokens_per_s_inverts_tokens_per_s_per_user():
    p = replica_perf("g6e.12xlarge", 70, "awq")
    b = p.max_batch_for_tokens_per_s(20)
    assert b > 1 and p.tokens_per_s_per_user(b) == pytest.approx(20, rel=1e-9)
    assert p.max_batch_for_tokens_per_s(1.5 / p.decode_step_s_batch1) == 0.0  # batch 1 already too slow


def test_tensor_parallel_traffic_goes_over_pcie_on_l40s_and_nvlink_on_a100():
    pcie = replica_perf("g6e.12xlarge", 70, "fp8", tp_degree=4)
    nvlink = replica_perf("p4de.24xlarge", 70, "fp8", tp_degree=4)
    arch = rm.ARCHITECTURES[70]
    traffic = 2 * arch.layers * arch.hidden * rm.ACTIVATION_BYTES * 2 * 3 / 4  # bytes per token per GPU
    compute_l40s = 2 * 70e9 / (4 * rm.GPUS["L40S"].dense_fp8_tflops * 1e12 * rm.PREFILL_MFU["fp8"])
    assert pcie.prefill_s_per_token == pytest.approx(compute_l40s + traffic / 32e9, rel=1e-9)
    compute_a100 = 2 * 70e9 / (4 * rm.GPUS["A100-80"].dense_bf16_tflops * 1e12 * rm.PREFILL_MFU["bf16"])
    assert nvlink.prefill_s_per_token == pytest.approx(compute_a100 + traffic / 300e9, rel=1e-9)
    assert traffic / 32e9 > 9 * traffic / 300e9  # PCIe moves the same bytes ~10x slower


def test_g5_gpus_all_reduce_through_the_host_bridge_far_below_the_pcie_line_rate():
    arch = rm.ARCHITECTURES[7]
    traffic = 2 * arch.layers * arch.hidden * rm.ACTIVATION_BYTES * 2 * 3 / 4  # bytes per token per GPU at TP 4
    compute = 2 * 7e9 / (4 * rm.GPUS["A10G"].dense_bf16_tflops * 1e12 * rm.PREFILL_MFU["bf16"])
    for itype in ("g5.12xlarge", "ml.g5.12xlarge", "g5.24xlarge"):
        p = replica_perf(itype, 7, "fp16", tp_degree=4, framework="tgi")
        assert p.prefill_s_per_token == pytest.approx(compute + traffic / (rm.ALLREDUCE_GB_S["g5.12xlarge"] * 1e9))
    assert rm.ALLREDUCE_GB_S["g5.12xlarge"] < rm.GPUS["A10G"].link_gb_s / 5  # host-staged, not PCIe Gen4 x16
    # eight GPUs over two sockets: the ring also crosses the link between them
    assert rm.ALLREDUCE_GB_S["g5.48xlarge"] < rm.ALLREDUCE_GB_S["g5.12xlarge"]
    assert replica_perf("g5.2xlarge", 7, "fp16", framework="tgi").prefill_s_per_token == pytest.approx(
        2 * 7e9 / (rm.GPUS["A10G"].dense_bf16_tflops * 1e12 * rm.PREFILL_MFU["bf16"])
    )  # one GPU: no all-reduce


def test_prefill_is_compute_bound_with_causal_attention_and_a_weight_read_floor():
    p = replica_perf("p5.48xlarge", 8, "bf16", tp_degree=1)
    arch = rm.ARCHITECTURES[8]
    flops = rm.GPUS["H100"].dense_bf16_tflops * 1e12 * rm.PREFILL_MFU["bf16"]
    fixed = rm.FRAMEWORKS["vllm"].layer_overhead_s * arch.layers
    assert p.prefill_s(4096) == pytest.approx(
        fixed + (4096 * 2 * 8e9 + 2 * arch.layers * arch.hidden * 4096**2) / flops, rel=1e-9
    )
    assert p.prefill_s(1) == pytest.approx(fixed + p.weights_read_s)  # one token still reads every weight
    assert p.ttft_s(4096) == pytest.approx(p.prefill_s(4096) + p.decode_step_s_batch1 + rm.REQUEST_OVERHEAD_S)


def test_fp8_uses_fp8_tensor_cores_only_where_the_gpu_has_them():
    h100_fp8, h100_bf16 = (replica_perf("p5.48xlarge", 8, prec, tp_degree=1) for prec in ("fp8", "bf16"))
    a100_fp8, a100_bf16 = (replica_perf("p4de.24xlarge", 8, prec, tp_degree=1) for prec in ("fp8", "bf16"))
    ratio = (rm.GPUS["H100"].dense_fp8_tflops * rm.PREFILL_MFU["fp8"]) / (
        rm.GPUS["H100"].dense_bf16_tflops * rm.PREFILL_MFU["bf16"]
    )
    assert h100_bf16.prefill_s_per_token / h100_fp8.prefill_s_per_token == pytest.approx(ratio, rel=1e-9)
    assert a100_bf16.prefill_s_per_token / a100_fp8.prefill_s_per_token == pytest.approx(
        rm.PREFILL_MFU["bf16"] / rm.PREFILL_MFU["bf16"]
    )  # W8A16 on Ampere: same BF16 compute
    assert a100_fp8.decode_step_s_batch1 < a100_bf16.decode_step_s_batch1  # but half the bytes to read


def test_chunked_prefill_interference_stretches_the_inter_token_latency():
    p = replica_perf("p5.48xlarge", 70, "fp8", tp_degree=2)
    load = 5000.0  # prompt tokens per second arriving at the replica
    rho = load * p.prefill_s(2000) / 2000 * rm.PREFILL_INTERFERENCE
    assert 0 < rho < 1
    assert p.itl_s(32, load, prompt_tokens=2000) == pytest.approx(p.decode_step_s(32) / (1 - rho), rel=1e-9)
    assert p.itl_s(32) == pytest.approx(p.decode_step_s(32))


def test_whole_prompt_prefill_stalls_tgis_running_batch_for_all_of_it():
    load = 2000.0  # prompt tokens per second arriving at the replica
    tgi = replica_perf("p4d.24xlarge", 70, "fp16", framework="tgi")
    rho = load * tgi.prefill_s(250) / 250  # the whole prefill: TGI 1.x's router awaits it before the next decode
    assert tgi.itl_s(20, load, prompt_tokens=250) == pytest.approx(tgi.decode_step_s(20) / (1 - rho), rel=1e-9)
    vllm = replica_perf("p4d.24xlarge", 70, "fp16")  # chunked: the fitted share
    assert vllm.prefill_share(load, 250) == pytest.approx(
        load * vllm.prefill_s(250) / 250 * rm.PREFILL_INTERFERENCE, rel=1e-9
    )


def test_gptq_on_tgi_before_1_1_1_pays_the_triton_kernels_serial_k_loop_on_its_column_parallel_layers():
    arch = rm.ARCHITECTURES[70]
    column = arch.column_parallel_share()
    # fused QKV (8192 x (8192 + 2 x 1024)) and gate/up (2 x 8192 x 28672) against o (8192²) and down (28672 x 8192)
    assert column == pytest.approx((8192 * 10240 + 2 * 8192 * 28672) / (8192 * 10240 + 3 * 8192 * 28672 + 8192**2))
    loops = {}
    for itype, tp, gpu in (("g5.12xlarge", 4, "A10G"), ("g5.48xlarge", 8, "A10G"), ("p4d.24xlarge", 8, "A100-40")):
        now = replica_perf(itype, 70, "gptq", tp, "tgi")
        old = replica_perf(itype, 70, "gptq", tp, "tgi", framework_version="1.0.3")
        loops[itype] = 80 * 2 * 8192 * rm.TRITON_W4_CYCLES_PER_K / (rm.GPUS[gpu].boost_clock_mhz * 1e6)
        assert old.weights_read_s == pytest.approx(
            (1 - column) * now.weights_read_s + max(column * now.weights_read_s, loops[itype]), rel=1e-9
        )
        assert old.decode_step_s_batch1 - now.decode_step_s_batch1 == pytest.approx(
            old.weights_read_s - now.weights_read_s, rel=1e-9
        )
        assert old.weights_read_s > now.weights_read_s  # the loop, not the bytes, sets those layers' time here
    # the loop is as long on 4 GPUs as on 8 (each program walks all of K) and longer at the A100's lower clock
    assert loops["g5.12xlarge"] == loops["g5.48xlarge"] < loops["p4d.24xlarge"]
    assert loops["p4d.24xlarge"] / loops["g5.48xlarge"] == pytest.approx(1695 / 1410)
    # 1.1.1 runs exllama there too (PR 1101), as does every release when no version is named, and no other framework
    # or precision has the term
    for version in ("1.1.1", "2.0.4", None):
        assert replica_perf("p4d.24xlarge", 70, "gptq", 8, "tgi", framework_version=version) == replica_perf(
            "p4d.24xlarge", 70, "gptq", 8, "tgi"
        )
    assert not rm.triton_w4_columns("tgi", "1.0.3", "awq")
    assert not rm.triton_w4_columns("vllm", "0.2.0", "gptq")
    assert rm.triton_w4_columns("tgi", "1.1.0", "gptq")


def test_the_triton_gptq_term_needs_the_gpus_clock_rather_than_guessing_it():
    with pytest.raises(ReplicaModelError, match="boost_clock_mhz"):
        replica_perf("p5.48xlarge", 70, "gptq", 8, "tgi", framework_version="1.0.3")


def test_kv_cache_capacity_from_memory_left_after_weights():
    p = replica_perf("p4d.24xlarge", 70, "fp16")
    # 8 x 42.9 GB x 0.9 - 140 GB weights, at 2 x 80 layers x 8 KV heads x 128 dims x 2 bytes per token
    assert p.kv_cache_tokens == int((8 * 42.9 * 0.9 - 140) * 1e9 / (2 * 80 * 8 * 128 * 2))
    assert p.max_batch_for_tokens_per_s(20) > 1
    assert not p.extrapolated


# aiconfigurator's measured TensorRT-LLM maximum concurrent sequences, Llama-3.1-8B BF16 on one H100 per TP rank,
# free_gpu_memory_fraction 0.8, max_num_tokens twice the prompt, max_seq_len prompt + output + 1000
# (github.com/ai-dynamo/aiconfigurator tests/integration/test_trtllm_kv_cache_capacity.py)
TRTLLM_MEASURED_MAX_SEQUENCES = [
    (1, 2048, 2048, 78),
    (2, 2048, 2048, 173),
    (4, 2048, 2048, 363),
    (1, 4096, 4096, 43),
    (2, 4096, 4096, 96),
    (4, 4096, 4096, 201),
]


@pytest.mark.parametrize(("tp", "prompt", "output", "measured"), TRTLLM_MEASURED_MAX_SEQUENCES)
def test_tensorrt_llms_kv_budget_is_its_fraction_of_the_memory_the_engine_leaves_free(tp, prompt, output, measured):
    fw = dataclasses.replace(rm.FRAMEWORKS["tensorrt-llm"], memory_fraction=0.8, chunk_tokens=2 * prompt)
    arch = rm.ARCHITECTURES[8]
    gpu_gb = catalog.lookup("p5.48xlarge").gpu_memory_gb
    kv_gb = rm.kv_cache_gb(fw, True, tp, gpu_gb, sizing.weights_gb(8, "bf16"), arch.hidden)
    sequences = kv_gb * 1e9 / (2 * arch.layers * arch.kv_heads * arch.head_dim * 2 * (prompt + output + 1000))
    assert sequences == pytest.approx(measured, rel=0.02)
    # the share of the whole GPUs overestimates, the more the higher the TP
    whole = rm.kv_cache_gb(fw, False, tp, gpu_gb, sizing.weights_gb(8, "bf16"), arch.hidden)
    assert whole > kv_gb


def test_the_in_flight_tensorrt_llm_runtime_and_nim_size_kv_from_free_memory_not_static_batches_or_vllm():
    assert rm.kv_budget_of_free_memory("tensorrt-llm", None)
    assert rm.kv_budget_of_free_memory("tensorrt-llm", "NIM 1.8.0")
    assert rm.kv_budget_of_free_memory("tensorrt-llm", "1.0 (trtllm-bench)")
    assert not rm.kv_budget_of_free_memory("tensorrt-llm", "0.5 (static batch)")
    assert not rm.kv_budget_of_free_memory("vllm", None)
    trt = replica_perf("p5.48xlarge", 70, "fp8", 2, "tensorrt-llm")
    static = replica_perf("p5.48xlarge", 70, "fp8", 2, "tensorrt-llm", framework_version="0.5 (static batch)")
    assert trt.kv_cache_tokens < static.kv_cache_tokens


def test_tensorrt_llms_static_batch_runs_all_reduce_at_nccls_measured_time_not_the_link_rate():
    arch, gpu = rm.ARCHITECTURES[70], rm.GPUS["A100-80"]
    static = replica_perf("p4de.24xlarge", 70, "fp16", 4, "tensorrt-llm", framework_version="0.5 (static batch)")
    per_call_s, per_byte_s = rm.nccl_allreduce_line("A100-80", 4)
    layers_cost = rm.FRAMEWORKS["tensorrt-llm"].layer_overhead_s * arch.layers
    assert static.prefill_fixed_s == pytest.approx(layers_cost + 2 * arch.layers * per_call_s, rel=1e-9)
    # a 128-token prefill's all-reduces (2 MB each) cost NCCL's time, 4x what NVLink's rate alone gives
    message_bytes = 128 * arch.hidden * rm.ACTIVATION_BYTES
    assert per_call_s + message_bytes * per_byte_s > 4 * message_bytes * 1.5 / (gpu.link_gb_s * 1e9)
    # the line stays within 15 % of every measured time it is drawn through
    for size, us in zip(rm.NCCL_ALLREDUCE_MESSAGE_BYTES, rm.NCCL_ALLREDUCE_US["A100-80"][4], strict=True):
        assert per_call_s + size * per_byte_s == pytest.approx(us * 1e-6, rel=0.15)
    # TensorRT-LLM's in-flight runtime, other frameworks and GPUs without a measurement keep the link rate
    assert not rm.nccl_outside_cuda_graphs("tensorrt-llm", None)
    assert not rm.nccl_outside_cuda_graphs("tgi", "1.0.3")
    assert rm.nccl_allreduce_line("L40S", 4) is None
    in_flight = replica_perf("p4de.24xlarge", 70, "fp16", 4, "tensorrt-llm")
    assert in_flight.prefill_fixed_s == pytest.approx(layers_cost, rel=1e-9)


def test_tensorrt_llms_static_batch_decode_reads_each_kv_head_once_per_query_head_that_shares_it():
    # Llama-2-70B: 64 query heads on 8 KV heads; the masked MHA kernel loads a KV head's cache for each of its 8
    static = replica_perf("p5.48xlarge", 70, "fp8", 2, "tensorrt-llm", framework_version="0.6.1 (static batch)")
    in_flight = replica_perf("p5.48xlarge", 70, "fp8", 2, "tensorrt-llm")
    assert rm.ARCHITECTURES[70].query_heads_per_kv_head() == 8
    assert static.kv_read_s_per_context_token == pytest.approx(8 * in_flight.kv_read_s_per_context_token, rel=1e-9)
    # per running sequence and context token: 8 x its FP8 KV bytes (K and V, 80 layers, 8 KV heads of 128) at the
    # calibrated bandwidth of the two GPUs
    bandwidth = 2 * rm.GPUS["H100"].hbm_bandwidth_gb_s * 1e9 * rm.DECODE_BANDWIDTH_EFFICIENCY
    assert static.kv_read_s_per_context_token == pytest.approx(8 * 2 * 80 * 8 * 128 / bandwidth, rel=1e-9)
    # no grouped-query attention in Llama-2-7B: one read, whatever the runtime
    seven = replica_perf("p5.48xlarge", 7, "fp8", 1, "tensorrt-llm", framework_version="0.6.1 (static batch)")
    assert (
        seven.kv_read_s_per_context_token
        == replica_perf("p5.48xlarge", 7, "fp8", 1, "tensorrt-llm").kv_read_s_per_context_token
    )


def test_max_num_seqs_follows_vllms_hardware_defaults():
    # vLLM's get_batch_defaults: 1024 sequences on GPUs with >= 70 GiB except A100, else 256
    assert replica_perf("p5.48xlarge", 70, "fp8", tp_degree=2).max_num_seqs == 1024
    assert catalog.lookup("p5.48xlarge").gpu_memory_gb * 1e9 >= 70 * rm.GIB
    assert replica_perf("p4de.24xlarge", 70, "bf16", tp_degree=4).max_num_seqs == 256
    assert replica_perf("g6e.12xlarge", 70, "fp8").max_num_seqs == 256
    assert replica_perf("g6e.12xlarge", 70, "fp8", framework="tensorrt-llm").max_num_seqs == 2048


def test_unknown_frameworks_and_models_that_do_not_fit_are_errors_not_guesses():
    with pytest.raises(ReplicaModelError, match="framework 'sglang'"):
        replica_perf("p5.48xlarge", 8, "bf16", framework="sglang")
    with pytest.raises(ReplicaModelError, match="leaves no KV-cache memory"):
        replica_perf("g5.2xlarge", 70, "fp16")


def test_sizes_between_published_architectures_are_marked_extrapolated():
    arch, extrapolated = architecture(13)
    assert extrapolated and arch.layers in (32, 80)
    assert replica_perf("g6e.12xlarge", 70, "awq").extrapolated  # no AWQ measurement: extrapolated from GPTQ
    assert not replica_perf("p5.48xlarge", 70, "fp8", tp_degree=2).extrapolated


def test_a_replica_bound_to_a_workloads_context_steps_as_the_default_one_does_at_that_context():
    default = replica_perf("p4d.24xlarge", 70, "fp16")
    bound = replica_perf("p4d.24xlarge", 70, "fp16", context_tokens=2062)
    assert bound.decode_step_s_batch1 == pytest.approx(default.decode_step_s(1, 2062), rel=1e-12)
    assert bound.decode_step_s(40) == pytest.approx(default.decode_step_s(40, 2062), rel=1e-12)
    assert bound.decode_step_s(40, 1024) == pytest.approx(default.decode_step_s(40), rel=1e-12)
    assert rm.running_context_tokens(2048, 28) == 2062  # the prompt and half the output, on average


def test_tensorrt_llms_static_batch_context_step_follows_tensorrt_llms_measured_gemm_times():
    # NVIDIA's measured GEMM sums of a Llama layer stack (STATIC_BATCH_GEMM_LINE's table), ms at 128 and 2,048 tokens
    measured = {
        ("p5.48xlarge", 7, "fp8", 1): (5.19, 27.82),
        ("p5.48xlarge", 70, "fp8", 4): (13.26, 74.94),
        ("p4de.24xlarge", 7, "fp16", 1): (11.11, 102.86),
        ("p4de.24xlarge", 70, "fp16", 4): (30.07, 279.85),
    }
    for (itype, params, precision, tp), gemm_ms in measured.items():
        static = replica_perf(itype, params, precision, tp, "tensorrt-llm", framework_version="0.5 (static batch)")
        arch = rm.ARCHITECTURES[params]
        gpu_key = "H100" if itype == "p5.48xlarge" else "A100-80"
        per_byte_s = rm.nccl_allreduce_line(gpu_key, tp)[1] if tp > 1 else 0.0
        for tokens, ms in zip((128, 2048), gemm_ms, strict=True):
            # the prefill less its per-layer cost and all-reduce calls, attention and all-reduce bytes: the GEMMs
            attention_s = tokens**2 * static.prefill_s_per_token_squared
            allreduce_bytes_s = tokens * 2 * arch.layers * arch.hidden * rm.ACTIVATION_BYTES * per_byte_s
            gemm_s = static.prefill_s(tokens) - static.prefill_fixed_s - attention_s - allreduce_bytes_s
            assert gemm_s == pytest.approx(ms / 1000, rel=0.05), (itype, params, tokens)
    # a short prompt's GEMMs take more than one weight read: the weight stream does not overlap their math
    h100 = replica_perf("p5.48xlarge", 7, "fp8", 1, "tensorrt-llm", framework_version="0.5 (static batch)")
    assert h100.prefill_step_s > 1.5 * h100.weights_read_s
    # TensorRT-LLM's in-flight runtime and GPUs without a measurement keep PREFILL_MFU and the weight-read floor
    assert replica_perf("p5.48xlarge", 7, "fp8", 1, "tensorrt-llm").prefill_step_s == 0
    l40s = replica_perf("g6e.xlarge", 7, "fp8", 1, "tensorrt-llm", framework_version="0.5 (static batch)")
    assert l40s.prefill_step_s == 0
    assert l40s.prefill_s(1) == pytest.approx(l40s.prefill_fixed_s + l40s.weights_read_s)
