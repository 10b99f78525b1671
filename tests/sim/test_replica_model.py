"""The replica model reproduces the published measurements it is calibrated on."""

import pytest

from llama_infra.sim.replica_model import architecture, replica_perf


def test_single_a100_40gb_8b_decode_matches_the_vllm_sweep():
    # johnmusgrave.com vLLM sweep: Llama-3.1-8B BF16 on one A100 40GB, ~75 tokens/s at concurrency 1
    p = replica_perf("p4d.24xlarge", 8, "bf16", tp_degree=1)
    assert p.tokens_per_s_per_user(1) == pytest.approx(75, rel=0.03)
    # same sweep: 6.6x throughput at concurrency 8
    assert 8 * p.tokens_per_s_per_user(8) / p.tokens_per_s_per_user(1) == pytest.approx(6.6, rel=0.02)


def test_70b_tp4_a100_80gb_tpot_matches_vllm_benchmark():
    # vLLM serving benchmark, Llama-3.3-70B TP4 on 4xA100 80GB, QPS 1: mean TPOT 44.9 ms at ~9 sequences
    p = replica_perf("p4de.24xlarge", 70, "bf16", tp_degree=4)
    assert p.decode_step_s(9) * 1000 == pytest.approx(44.9, rel=0.05)


def test_kv_cache_capacity_from_memory_left_after_weights():
    p = replica_perf("p4d.24xlarge", 70, "fp16")
    # 8 x 42.9 GB x 0.9 - 140 GB weights, at 2 x 80 layers x 8 KV heads x 128 dims x 2 bytes per token
    assert p.kv_cache_tokens == int((8 * 42.9 * 0.9 - 140) * 1e9 / (2 * 80 * 8 * 128 * 2))
    assert p.max_batch_for_tokens_per_s(20) > 1
    assert not p.extrapolated


def test_sizes_between_published_architectures_are_marked_extrapolated():
    arch, extrapolated = architecture(13)
    assert extrapolated and arch.layers in (32, 80)
    assert replica_perf("g6e.12xlarge", 70, "awq").extrapolated  # quantized kernels are extrapolated
