"""Hypothesis strategies for valid deployment specs, built from the same facts the spec checks.

Instance types come from `catalog.gpu_types_for(target)` and model sizes from `sizing`, so a generated spec is
valid by construction; a `SpecError` from one of them means a rule rejects a spec it should accept.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from llama_infra import catalog, quantization, sizing
from llama_infra.schedules import Cron, local_time_anomalies
from llama_infra.spec import DeploymentSpec

TIMEZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney", "America/Los_Angeles"]


def _fits(params_b: float, precision: str, inst: catalog.GpuInstance, overhead: float, tp: int | None = None) -> bool:
    return sizing.fit(params_b, precision, inst, tp, overhead).fits


def _runs(precision: str, inst: catalog.GpuInstance) -> bool:
    return inst.runs_precision(precision)


@st.composite
def _model(draw, target: str, inst: catalog.GpuInstance) -> dict[str, Any]:
    overhead = draw(st.sampled_from([0.2, 0.25, 0.3]))
    # LMI and TensorRT-LLM are SageMaker (DJL) containers; the EKS target serves vLLM and TGI.
    framework = draw(st.sampled_from(["vllm", "tgi"] + (["lmi", "tensorrt-llm"] if target == "sagemaker" else [])))
    server = quantization.server_of(target, framework)
    # Only precisions the server really applies (llama_infra.quantization): from the checkpoint or at load.
    quantized_checkpoint = draw(st.sampled_from([None, True] if server.reads_checkpoint else [None]))
    precision = draw(
        st.sampled_from(
            [
                p
                for p in sizing.BYTES_PER_PARAM
                if not quantization.problem(p, None, server)
                or not quantization.problem(p, quantized_checkpoint, server)
            ]
        )
    )
    if quantization.problem(precision, None, server) is None or precision in quantization.UNQUANTIZED:
        quantized_checkpoint = None
    if not inst.runs_precision(precision):
        precision, quantized_checkpoint = "fp16", None  # same size; T4s cannot run bfloat16
    # Largest model (0.1 B steps) that fits the whole instance at this precision and overhead.
    largest = math.floor(inst.total_gpu_memory_gb / (sizing.BYTES_PER_PARAM[precision] * (1 + overhead)) * 10) / 10
    params_b = draw(st.sampled_from(sorted({1.0, 3.0, 8.0, 13.0, 70.0, 405.0, min(largest, 2000)})))
    params_b = min(params_b, largest, 2000)
    tp = None
    if target == "eks" and draw(st.booleans()):
        tps = [d for d in sizing.valid_tp_degrees(inst.gpu_count) if _fits(params_b, precision, inst, overhead, d)]
        tp = draw(st.sampled_from(tps))
    source = draw(st.sampled_from(["s3", "hf"]))
    weights: dict[str, Any] = {
        "source": "s3://llama-weights/model/" if source == "s3" else "hf://meta-llama/Model",
        "preload": draw(st.sampled_from(["none", "nvme"])) if inst.has_nvme else "none",
    }
    if source == "hf":
        weights["hf_token_secret"] = "llama/hf-token"
    model = {
        "id": "meta-llama/Model",
        "params_b": params_b,
        "precision": precision,
        "framework": framework,
        "memory_overhead_fraction": overhead,
        "weights": weights,
    }
    if quantized_checkpoint is not None:
        model["quantized_checkpoint"] = quantized_checkpoint
    if tp:
        model["tensor_parallel_degree"] = tp
    return model


@st.composite
def _schedules(
    draw, target: str, model: dict[str, Any], inst: catalog.GpuInstance, lo: int, hi: int, scale_to_zero: bool
) -> list[dict[str, Any]]:
    """0–2 windows on disjoint ranges of the day in one timezone, 3 hours apart at least (a SageMaker switch needs
    lead + update + bake inside a window and between two)."""
    n = draw(st.integers(0, 2))
    if n == 0:
        return []
    tz = draw(st.sampled_from(TIMEZONES))
    hours = sorted(draw(st.lists(st.sampled_from(range(0, 24, 3)), min_size=2 * n, max_size=2 * n, unique=True)))
    smaller = [
        g
        for g in catalog.gpu_types_for(target)  # a downsizing type must hold the window's model
        if _fits(model["params_b"], model["precision"], g, model["memory_overhead_fraction"])
        and g.total_gpu_memory_gb <= inst.total_gpu_memory_gb
        and _runs(model["precision"], g)
    ]
    out = []
    for i in range(n):
        downsize: dict[str, Any] = {}
        # SageMaker scale to zero runs inference components: its windows change only min/max copies.
        if not (scale_to_zero and target == "sagemaker") and draw(st.booleans()):
            downsize["instance_type"] = catalog.target_name(draw(st.sampled_from(smaller)).instance_type, target)
        w_lo = draw(st.integers(0 if scale_to_zero else 1, max(lo, 1)))
        downsize["min_replicas"] = w_lo
        downsize["max_replicas"] = draw(st.integers(max(w_lo, 1), max(hi, w_lo, 1)))
        start, end = hours[2 * i], hours[2 * i + 1]
        # an end the spring daylight-saving change skips is a spec error (docs/bad-input.md)
        assume(not [a for a in local_time_anomalies(Cron(f"0 {end} * * *", tz)) if a.kind == "gap"])
        days = draw(st.sampled_from(["*", "1-5", "MON-FRI", "0,6"]))
        out.append(
            {
                "name": f"window-{i}",
                "timezone": tz,
                "start": f"0 {start} * * {days}",
                "end": f"0 {end} * * {days}",
                "downsize": downsize,
            }
        )
    return out


@st.composite
def valid_spec_dicts(draw, target: str | None = None) -> dict[str, Any]:
    target = target or draw(st.sampled_from(["sagemaker", "eks"]))
    inst = draw(st.sampled_from(catalog.gpu_types_for(target)))
    itype = catalog.target_name(inst.instance_type, target)
    model = draw(_model(target, inst))
    count = draw(st.integers(0, 4))
    scale_to_zero = count == 0 and draw(st.booleans())
    burst_max = draw(st.integers(0 if (count or scale_to_zero) else 1, 6))
    purchase = draw(st.sampled_from(["on-demand", "reserved"] + (["capacity-block"] if target == "eks" else [])))
    burst: dict[str, Any] = {"max": burst_max}
    if target == "eks" and draw(st.booleans()):
        # One Deployment serves every burst type: a replica has the same TP (GPU request) on each of them.
        replica_tp = model.get("tensor_parallel_degree") or inst.gpu_count
        fitting = [
            catalog.target_name(g.instance_type, target)
            for g in catalog.gpu_types_for(target)
            if g.gpu_count % replica_tp == 0
            and _runs(model["precision"], g)
            and _fits(model["params_b"], model["precision"], g, model["memory_overhead_fraction"], replica_tp)
        ]
        if len(fitting) >= 2:
            burst["capacity"] = "spot"
            burst["instance_types"] = draw(st.lists(st.sampled_from(fitting), min_size=2, max_size=4, unique=True))
    cap = count + burst_max
    lo = draw(st.integers(count if (count or scale_to_zero) else 1, cap))
    hi = draw(st.integers(max(lo, 1), max(cap, 1)))
    scaling: dict[str, Any] = {
        "queue_depth_target": draw(st.sampled_from([1, 5, 30])),
        "scale_down_stabilization_seconds": draw(st.sampled_from([60, 300, 600])),
        "scale_to_zero": scale_to_zero,
    }
    explicit = draw(st.booleans()) or (count == 0 and not scale_to_zero)  # default min (= baseline 0) goes cold
    if explicit:
        scaling["min_replicas"], scaling["max_replicas"] = lo, hi
    else:
        lo, hi = (count, max(1, cap))
    spec: dict[str, Any] = {
        "name": "llama-prop",
        "target": target,
        "environment": draw(st.sampled_from(["dev", "staging", "prod"])),
        "region": draw(st.sampled_from(["us-east-1", "eu-west-1"])),
        "model": model,
        "capacity": {
            "baseline": {
                "instance_type": itype,
                "count": count,
                "purchase": purchase,
                # a Capacity Block is bought, so it always has its reservation id
                **({"capacity_reservation_id": "cr-0123456789abcdef0"} if purchase == "capacity-block" else {}),
            },
            "burst": burst,
        },
        "scaling": scaling,
        "schedules": draw(_schedules(target, model, inst, lo, hi, scale_to_zero)),
        "tags": {"team": "ml"},
    }
    if target == "sagemaker":
        spec["sagemaker"] = {"alarm_topic_arn": f"arn:aws:sns:{spec['region']}:111122223333:llama-alarms"}
    if target == "eks":
        # The HPA cannot scale to zero: no scale_to_zero, and a burst Deployment keeps one replica above the baseline.
        hpa_possible = not scale_to_zero and not spec["schedules"] and (burst_max == 0 or count == 0 or lo > count)
        hpa = hpa_possible and draw(st.booleans())
        scaling["autoscaler"] = "hpa" if hpa else "keda"
        # KEDA and prometheus-adapter both serve external metrics: exactly one of them.
        spec["eks"] = {
            "cluster_name": "gpu",
            "addons": {"prometheus_adapter": hpa, "keda": not hpa},
            "router_image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/llama-infra-router:0.1.0",
        }
        if draw(st.booleans()):
            # vLLM quantizes no int4 at load: its fallback is a pre-quantized AWQ checkpoint
            fb_precision = draw(st.sampled_from(["int4", "awq"] if model["framework"] == "tgi" else ["awq"]))
            fb_params = draw(st.sampled_from([1.0, 3.0, 8.0]))
            if sizing.weights_gb(fb_params, fb_precision) < sizing.weights_gb(model["params_b"], model["precision"]):
                spec["fallback"] = {"model_id": "meta-llama/Small", "params_b": fb_params, "precision": fb_precision}
    if draw(st.booleans()):
        spec["load"] = {
            "peak_requests_per_second": draw(st.sampled_from([0.5, 4.0, 20.0, 200.0])),
            "requests_per_second_per_replica": draw(st.sampled_from([0.5, 2.0, 8.0])),
        }
        if draw(st.booleans()):
            shape = draw(st.lists(st.floats(0, 1), min_size=24, max_size=24))
            top = max(shape)  # fractions of the peak: the busiest hour is 1
            spec["load"]["daily_shape"] = [v / top for v in shape] if top > 0 else [1.0] + shape[1:]
    return spec


def valid_specs(target: str | None = None) -> st.SearchStrategy[DeploymentSpec]:
    return valid_spec_dicts(target).map(DeploymentSpec.model_validate)
