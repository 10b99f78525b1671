"""Who quantizes the weights: the checkpoint (it carries a `quantization_config` the server reads) or the server at
load (a 16-bit checkpoint and a quantization flag). One table for both targets; the spec rules and the containers
read it.

How the spec knows a checkpoint is pre-quantized: `model.quantized_checkpoint`, by default inferred from the
precision. awq and gptq need an offline calibration pass, so they only exist as checkpoints; fp8 Llama weights are
published as checkpoints too (e.g. meta-llama/Llama-3.1-405B-Instruct-FP8, RedHatAI/…-FP8), so fp8 is pre-quantized
unless `quantized_checkpoint: false` asks the server to quantize a 16-bit checkpoint at load. int8 and int4 are
quantized at load unless `quantized_checkpoint: true`. A window's model (`model_override`) and the fallback are
downloaded by id from the Hub and always follow the inference for their precision.

A pre-quantized checkpoint gets NO quantization flag: vLLM reads `quant_method` from the checkpoint's config and
picks its fastest kernel (awq_marlin / gptq_marlin); an explicit `--quantization awq|gptq` forces the slower
non-Marlin kernels, and a flag that differs from `quant_method` (fp8 vs compressed-tensors, fbgemm_fp8) stops vLLM
at start (`ModelConfig._verify_quantization`). DJL LMI passes `OPTION_QUANTIZE` to vLLM as `quantization`
(`VllmRbProperties.quantize`), with the same effect. TGI reads `quantization_config` itself too.

At load, each pinned server applies only what it implements (flag / env values from the pinned images' sources):
- vLLM (EKS image; LMI on SageMaker): fp8 (`--quantization fp8` / `OPTION_QUANTIZE=fp8`, dynamic per-tensor).
- TGI 3.3: fp8, int8 (`QUANTIZE=bitsandbytes`), int4 (`QUANTIZE=bitsandbytes-nf4`) — the launcher's `Quantization`
  enum.
- TensorRT-LLM (DJL LMI): builds its engine from a 16-bit checkpoint at start and quantizes while building: awq,
  fp8, int8 (smoothquant). It does not load pre-quantized checkpoints here.
Anything else is a spec error, never a 16-bit load into memory sized for a quantized model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from llama_infra import target_facts

UNQUANTIZED = frozenset({"fp16", "bf16"})
PRE_QUANTIZED_BY_DEFAULT = frozenset({"awq", "gptq", "fp8"})
CALIBRATED_OFFLINE = frozenset({"awq", "gptq"})  # need a calibration pass: no vLLM/TGI server makes them at load


@dataclass(frozen=True)
class ServerQuantization:
    """What one pinned model server does with quantization."""

    server: str  # as users know it, for messages
    setting: str  # the flag or environment variable that asks for quantization at load
    at_load: Mapping[str, str] = field(default_factory=dict)  # precision -> value that quantizes a 16-bit checkpoint
    reads_checkpoint: bool = True  # loads a pre-quantized checkpoint by its own quantization_config


SERVERS: dict[str, ServerQuantization] = {
    "vllm": ServerQuantization("vLLM", "--quantization", {"fp8": "fp8"}),
    "tgi": ServerQuantization("TGI", "QUANTIZE", {"fp8": "fp8", "int8": "bitsandbytes", "int4": "bitsandbytes-nf4"}),
    "lmi-vllm": ServerQuantization("DJL LMI (vLLM engine)", "OPTION_QUANTIZE", {"fp8": "fp8"}),
    "lmi-tensorrt-llm": ServerQuantization(
        "DJL LMI TensorRT-LLM",
        "OPTION_QUANTIZE",
        {"awq": "awq", "fp8": "fp8", "int8": "smoothquant"},
        reads_checkpoint=False,
    ),
}


def server_of(target: str, framework: str) -> ServerQuantization:
    """The server a spec's framework runs as on its target (`TargetFacts.framework_servers`: SageMaker serves vllm
    and lmi with DJL LMI's vLLM)."""
    return SERVERS[target_facts.of(target).framework_servers[framework]]


def declared_for(
    day_model_id: str, day_precision: str, day_declared: bool | None, model_id: str, precision: str
) -> bool | None:
    """`quantized_checkpoint` of a configuration: the day model's where it serves the same checkpoint, else None
    (a window's other model is downloaded by id and follows the inference for its precision)."""
    return day_declared if (model_id, precision) == (day_model_id, day_precision) else None


def is_pre_quantized(precision: str, quantized_checkpoint: bool | None, server: ServerQuantization) -> bool:
    """Whether the checkpoint carries the quantization (so the server gets no quantization flag)."""
    if precision in UNQUANTIZED or not server.reads_checkpoint:
        return False
    if quantized_checkpoint is not None:
        return quantized_checkpoint
    return precision in PRE_QUANTIZED_BY_DEFAULT


def quantize_at_load(precision: str, quantized_checkpoint: bool | None, server: ServerQuantization) -> str | None:
    """The value of `server.setting`, or None: no flag for 16-bit weights and for pre-quantized checkpoints.
    The spec rules (`problem`) guarantee that a quantized precision the checkpoint does not carry is in `at_load`."""
    if precision in UNQUANTIZED or is_pre_quantized(precision, quantized_checkpoint, server):
        return None
    return server.at_load[precision]


def problem(
    precision: str, quantized_checkpoint: bool | None, server: ServerQuantization, *, checkpoint_field: bool = True
) -> tuple[str, str] | None:
    """(what is wrong, fix) when the server would not serve `precision` as the spec says, else None.
    `checkpoint_field`: the spec section has a `quantized_checkpoint` field (the day model; not a window or the
    fallback, which follow the inference)."""
    if precision in UNQUANTIZED:
        if quantized_checkpoint:
            return (
                f"{precision} weights are not quantized, so there is no quantization_config to read",
                "remove quantized_checkpoint, or set precision to the checkpoint's quantization (fp8, int8, "
                "int4, awq or gptq)",
            )
        return None
    if quantized_checkpoint and not server.reads_checkpoint:
        return (
            f"{server.server} builds its engine from a 16-bit checkpoint and quantizes while building; it does "
            "not load a pre-quantized checkpoint here",
            "remove quantized_checkpoint and point the weights at the 16-bit checkpoint, or use framework lmi "
            "(vLLM engine), which reads the checkpoint's quantization",
        )
    if is_pre_quantized(precision, quantized_checkpoint, server):
        return None
    if precision in server.at_load:
        return None
    can = ", ".join(sorted(server.at_load)) or "nothing"
    if not server.reads_checkpoint:
        return (
            f"{server.server} quantizes {can} while building its engine, not {precision}",
            f"use precision {' or '.join(sorted(server.at_load))}, or framework lmi (vLLM engine) with a "
            f"{precision} checkpoint",
        )
    if precision in CALIBRATED_OFFLINE:
        return (
            f"{precision} needs an offline calibration pass: {server.server} cannot make it from a 16-bit "
            f"checkpoint at load (it quantizes {can} at load)",
            f"point the weights at an {precision.upper()} checkpoint and remove quantized_checkpoint: false, or "
            "use precision fp8",
        )
    tgi = SERVERS["tgi"]
    fixes = (
        [f"use framework tgi ({precision} with bitsandbytes at load)"]
        if (precision in tgi.at_load and server is not tgi)
        else []
    )
    fixes.append(
        "a pre-quantized 4-bit checkpoint (precision awq or gptq, e.g. "
        "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4)"
    )
    if checkpoint_field:
        fixes.append(f"quantized_checkpoint: true if these weights already carry their {precision} quantization_config")
    return (
        f"{server.server} does not quantize a 16-bit checkpoint to {precision} at load (it quantizes {can}): "
        f"it would load the weights unquantized into memory sized for {precision}",
        ", or ".join(fixes),
    )
