"""The EKS model-server containers use only flags and env names the pinned images know (facts extracted from their
sources in ../shared/data/upstream/container_facts.json), and ask for quantization only where the server applies
it at load: never for a pre-quantized checkpoint, never a silently ignored int4."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llama_infra.spec.errors import SpecRuleErrors
from llama_infra.targets.kubernetes import fallback, images, server

from .specs import edited

FACTS = json.loads((Path(__file__).resolve().parents[3] / "../shared/data/upstream/container_facts.json").read_text())
VLLM = FACTS["vllm v0.11.0"]
TGI = FACTS["tgi v3.3.4"]


def test_the_facts_are_those_of_the_pinned_images():
    assert images.SERVER_IMAGES["vllm"].endswith(":v0.11.0")
    assert images.SERVER_IMAGES["tgi"].endswith(":3.3.4")


SMALL = {"model.id": "meta-llama/Llama-3.1-8B-Instruct", "model.params_b": 8, "model.tensor_parallel_degree": 1}


def _container(**edits) -> dict:
    spec = edited(**SMALL, **edits)
    return server.container(spec, spec.burst_instance_types)


def _flags(c: dict) -> dict[str, str]:
    args = c["args"]
    return {a: args[i + 1] for i, a in enumerate(args) if a.startswith("--")}


def _env(c: dict) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in c["env"]}


PRECISIONS = [
    ("bf16", None),
    ("fp16", None),
    ("fp8", None),
    ("fp8", False),
    ("awq", None),
    ("gptq", None),
    ("int4", True),
]


@pytest.mark.parametrize("precision,quantized_checkpoint", PRECISIONS)
def test_vllm_flags_are_flags_of_the_pinned_vllm(precision, quantized_checkpoint):
    c = _container(**{"model.precision": precision, "model.quantized_checkpoint": quantized_checkpoint})
    assert c["command"][-1] == "vllm.entrypoints.openai.api_server"
    assert "python3 -m vllm.entrypoints.openai.api_server" in VLLM["entrypoints"]
    flags = _flags(c)
    assert set(flags) <= set(VLLM["flags"])
    if "--dtype" in flags:
        assert flags["--dtype"] in VLLM["dtype_values"]


@pytest.mark.parametrize("precision", ["fp8", "awq", "gptq"])
def test_vllm_gets_no_quantization_flag_for_a_pre_quantized_checkpoint(precision):
    """vLLM reads quant_method from the checkpoint: --quantization fp8 on a compressed-tensors FP8 checkpoint stops
    it at start, and --quantization awq|gptq forces the slower non-Marlin kernels."""
    assert "--quantization" not in _flags(_container(**{"model.precision": precision}))


def test_vllm_quantizes_a_16_bit_checkpoint_to_fp8_when_asked():
    flags = _flags(_container(**{"model.precision": "fp8", "model.quantized_checkpoint": False}))
    assert flags["--quantization"] == "fp8"


@pytest.mark.parametrize("precision,quantized_checkpoint", PRECISIONS + [("int8", None), ("int4", None)])
def test_tgi_env_names_and_values_are_those_of_the_pinned_launcher(precision, quantized_checkpoint):
    env = _env(
        _container(
            **{
                "model.framework": "tgi",
                "scaling.gpu_memory_target": None,
                "model.precision": precision,
                "model.quantized_checkpoint": quantized_checkpoint,
            }
        )
    )
    assert set(env) <= set(TGI["launcher_env"]) | {"HF_TOKEN"}
    if "QUANTIZE" in env:
        assert env["QUANTIZE"] in TGI["quantize_values"]
    if "DTYPE" in env:
        assert env["DTYPE"] in ("float16", "bfloat16")  # clap names of the launcher's Dtype enum
        assert "bfloat16" in TGI["dtype_enum_src"]


def test_tgi_quantizes_int4_and_int8_at_load_but_not_a_pre_quantized_checkpoint():
    def quantize(precision, qc=None):
        return _env(
            _container(
                **{
                    "model.framework": "tgi",
                    "scaling.gpu_memory_target": None,
                    "model.precision": precision,
                    "model.quantized_checkpoint": qc,
                }
            )
        ).get("QUANTIZE")

    assert quantize("int4") == "bitsandbytes-nf4" and quantize("int8") == "bitsandbytes"
    assert quantize("awq") is None and quantize("gptq") is None and quantize("fp8") is None
    assert quantize("fp8", False) == "fp8" and quantize("int4", True) is None


def _problems(**edits) -> str:
    with pytest.raises(SpecRuleErrors) as e:
        edited(**edits)
    return str(e.value)


def test_int4_on_vllm_is_a_spec_error_not_a_bf16_load():
    msg = _problems(**SMALL, **{"model.precision": "int4"})
    assert "model.precision: vLLM does not quantize a 16-bit checkpoint to int4 at load" in msg
    assert "fix: use framework tgi" in msg


def test_the_fallback_int4_on_vllm_is_a_spec_error():
    """The old renderer gave the 8B fallback no flag at all: it loaded in BF16 into a volume sized for int4."""
    msg = _problems(fallback={"model_id": "meta-llama/Llama-3.1-8B-Instruct", "params_b": 8})
    assert "fallback.precision: vLLM does not quantize a 16-bit checkpoint to int4 at load" in msg
    assert "quantized_checkpoint" not in msg  # the fallback section has no such field


def test_an_awq_fallback_on_vllm_loads_its_checkpoint_as_is():
    spec = edited(
        fallback={"model_id": "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4", "params_b": 8, "precision": "awq"}
    )
    dep = fallback.deployment(spec)
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    assert "--quantization" not in _flags(c)
    # its volume is sized for the 4-bit weights it really loads
    assert server.weights_volume_gib(fallback.fallback_spec(spec)) < server.weights_volume_gib(
        fallback.fallback_spec(
            edited(fallback={"model_id": "meta-llama/Llama-3.1-8B-Instruct", "params_b": 8, "precision": "bf16"})
        )
    )


def test_an_int4_fallback_on_tgi_is_quantized_at_load():
    spec = edited(
        **{"model.framework": "tgi", "scaling.gpu_memory_target": None},
        fallback={"model_id": "meta-llama/Llama-3.1-8B-Instruct", "params_b": 8},
    )
    (c,) = fallback.deployment(spec)["spec"]["template"]["spec"]["containers"]
    assert _env(c)["QUANTIZE"] == "bitsandbytes-nf4"


def test_awq_cannot_be_made_at_load():
    msg = _problems(**{"model.precision": "awq", "model.quantized_checkpoint": False})
    assert "model.quantized_checkpoint: awq needs an offline calibration pass" in msg


def test_a_16_bit_model_is_not_a_quantized_checkpoint():
    msg = _problems(**SMALL, **{"model.precision": "fp16", "model.quantized_checkpoint": True})
    assert "model.quantized_checkpoint: fp16 weights are not quantized" in msg
