"""Sizing against the serving guide's own numbers (DESIGN.md "Sizing facts")."""

import pytest

from llama_infra import catalog, sizing

GUIDE_WEIGHTS_GB = {  # params (B): (FP16, INT8, INT4) from the guide
    7: (14, 7, 3.5),
    13: (26, 13, 6.5),
    70: (140, 70, 35),
    405: (810, 405, 203),
}


@pytest.mark.parametrize("params_b", sorted(GUIDE_WEIGHTS_GB))
def test_weights_match_the_guide_table(params_b):
    fp16, int8, int4 = GUIDE_WEIGHTS_GB[params_b]
    assert sizing.weights_gb(params_b, "fp16") == fp16
    assert sizing.weights_gb(params_b, "int8") == int8
    assert sizing.weights_gb(params_b, "int4") == pytest.approx(int4, abs=0.5)  # the guide rounds 202.5 to 203


def test_same_width_precisions_weigh_the_same():
    assert sizing.weights_gb(70, "bf16") == sizing.weights_gb(70, "fp16")
    assert sizing.weights_gb(70, "fp8") == sizing.weights_gb(70, "int8")
    assert sizing.weights_gb(70, "awq") == sizing.weights_gb(70, "gptq") == sizing.weights_gb(70, "int4")


def test_overhead_is_the_guides_20_to_30_percent_and_configurable():
    assert sizing.memory_range_gb(70, "fp16") == pytest.approx((168, 182))
    assert sizing.memory_needed_gb(70, "fp16") == pytest.approx(182)  # the fit check's default: conservative end
    assert sizing.memory_needed_gb(70, "fp16", overhead_fraction=0.2) == pytest.approx(168)
    assert sizing.memory_needed_gb(8, "bf16", overhead_fraction=0.5) == pytest.approx(24)


def test_tp_degrees_divide_the_gpu_count():
    assert sizing.valid_tp_degrees(1) == [1]
    assert sizing.valid_tp_degrees(4) == [1, 2, 4]
    assert sizing.valid_tp_degrees(8) == [1, 2, 4, 8]


@pytest.mark.parametrize(
    ("params_b", "precision", "instance_type", "tp"),
    [
        (70, "fp16", "p4d.24xlarge", 8),  # 182 GB: 4×40 GB = 160 is short, 8×40 = 320 holds it
        (70, "fp16", "g6e.12xlarge", 4),  # 4×48 GB L40S = 192 GB
        (70, "awq", "g6e.12xlarge", 1),  # 45.5 GB on one 48 GB L40S
        (8, "bf16", "g5.12xlarge", 1),  # 20.8 GB on one 24 GB A10G
        (70, "fp16", "g5.12xlarge", None),  # 96 GB in all: does not fit at any degree
    ],
)
def test_smallest_fitting_tp(params_b, precision, instance_type, tp):
    inst = catalog.lookup(instance_type)
    assert sizing.smallest_fitting_tp(params_b, precision, inst) == tp
    if tp:
        assert sizing.fit(params_b, precision, inst, tp).fits
        smaller = [d for d in sizing.valid_tp_degrees(inst.gpu_count) if d < tp]
        assert not any(sizing.fit(params_b, precision, inst, d).fits for d in smaller)


def test_fit_counts_replicas_per_instance_and_headroom():
    f = sizing.fit(8, "bf16", catalog.lookup("g5.12xlarge"), tp_degree=1)
    assert f.replicas_per_instance == 4
    assert f.available_gb == 24 and f.needed_gb == pytest.approx(20.8)
    assert f.headroom_fraction == pytest.approx(1 - 20.8 / 24)
    assert sizing.fit(70, "fp16", catalog.lookup("g5.12xlarge")).headroom_fraction < 0


def test_fitting_instances_hold_the_model_smallest_first_in_target_spelling():
    names = sizing.fitting_instances(70, "fp16", "sagemaker", limit=5)
    assert names and all(n.startswith("ml.") for n in names)
    insts = [catalog.lookup(n) for n in names]
    assert all(sizing.fit(70, "fp16", i).fits for i in insts)
    totals = [i.total_gpu_memory_gb for i in insts]
    assert totals == sorted(totals)
    # nothing smaller that fits was skipped
    smallest = min(g.total_gpu_memory_gb for g in catalog.gpu_types_for("sagemaker") if sizing.fit(70, "fp16", g).fits)
    assert totals[0] == smallest
    assert "ml.g6e.12xlarge" in names and "ml.g5.12xlarge" not in names


def test_cold_start_of_70b_fp16_is_the_guides_phases():
    cs = sizing.cold_start(70, "fp16")
    assert cs.storage_to_ram_s == (30, 60) and cs.ram_to_gpu_s == (60, 120) and cs.engine_init_s == (10, 30)
    assert (cs.total_low_s, cs.total_high_s) == (100, 210)


def test_nvme_preload_cuts_cold_start_by_50_to_70_percent():
    for params_b, precision in [(70, "fp16"), (8, "bf16"), (405, "fp8")]:
        raw, pre = sizing.cold_start(params_b, precision), sizing.cold_start(params_b, precision, nvme_preload=True)
        for raw_s, pre_s in [(raw.total_low_s, pre.total_low_s), (raw.total_high_s, pre.total_high_s)]:
            assert 0.50 <= 1 - pre_s / raw_s <= 0.70
        assert pre.total_low_s < pre.total_high_s


def test_cold_start_scales_with_weights_but_engine_init_does_not():
    small, big = sizing.cold_start(8, "bf16"), sizing.cold_start(70, "fp16")
    assert small.storage_to_ram_s[1] == pytest.approx(60 * 16 / 140)
    assert small.engine_init_s == big.engine_init_s
    assert small.total_high_s < big.total_high_s


def test_sagemaker_timeouts_cover_the_estimate_and_stay_within_aws_limits():
    for params_b, precision in [(8, "bf16"), (70, "fp16"), (405, "fp16")]:
        cs = sizing.cold_start(params_b, precision)
        assert cs.total_high_s <= cs.startup_health_check_timeout_s or cs.startup_health_check_timeout_s == 3600
        assert 600 <= cs.startup_health_check_timeout_s <= 3600
        assert 600 <= cs.model_download_timeout_s <= 3600
        assert cs.startup_health_check_timeout_s % 60 == 0
        assert cs.model_download_timeout_s >= min(3600, 2 * cs.storage_to_ram_s[1])
    assert sizing.cold_start(2000, "fp16").startup_health_check_timeout_s == 3600  # capped at AWS's limit
