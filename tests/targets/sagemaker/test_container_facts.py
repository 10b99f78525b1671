"""The SageMaker containers' environment uses only names the pinned images read (facts extracted from their sources
in ../shared/data/upstream/container_facts.json), and a quantization setting only where the server quantizes at load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llama_infra.targets.sagemaker.components.container_env import container_env
from llama_infra.targets.sagemaker.components.image import PINNED_IMAGES

FACTS = json.loads((Path(__file__).resolve().parents[3] / "../shared/data/upstream/container_facts.json").read_text())
LMI = FACTS["djl-lmi 0.32.0 (LMI 14)"]
TGI = FACTS["tgi v3.3.6"]
VLLM_FLAGS = set(FACTS["vllm v0.11.0"]["flags"])


def test_the_facts_are_those_of_the_pinned_images():
    assert PINNED_IMAGES["lmi"][:2] == PINNED_IMAGES["vllm"][:2] == ("djl-lmi", "0.32.0")
    assert PINNED_IMAGES["tgi"][:2] == ("huggingface-llm", "3.3.6")


def _env(framework, precision, quantized_checkpoint=None):
    return container_env(
        framework,
        weights_source="s3://b/llama/",
        tp_degree=4,
        precision=precision,
        max_model_len=8192,
        quantized_checkpoint=quantized_checkpoint,
    )


LMI_CASES = [
    ("bf16", None),
    ("fp16", None),
    ("fp8", None),
    ("fp8", False),
    ("awq", None),
    ("gptq", None),
    ("int4", True),
]


@pytest.mark.parametrize("framework", ["lmi", "vllm"])
@pytest.mark.parametrize("precision,quantized_checkpoint", LMI_CASES)
def test_lmi_options_are_properties_of_djl_lmi_0_32(framework, precision, quantized_checkpoint):
    """OPTION_<KEY> → option.<key>: a property of LMI's Properties or VllmRbProperties, or (extra keys are allowed
    and passed to vLLM's engine arguments) a vLLM engine argument of the pinned vLLM."""
    env = _env(framework, precision, quantized_checkpoint)
    known = set(LMI["Properties"]) | set(LMI["VllmRbProperties"])
    for name in env:
        if not name.startswith("OPTION_"):
            assert name == "HF_MODEL_ID"
            continue
        key = name.removeprefix("OPTION_").lower()
        assert key in known or (LMI["extra_allowed"] and "--" + key.replace("_", "-") in VLLM_FLAGS), name
    assert env["OPTION_ROLLING_BATCH"] in LMI["rolling_batch_values"]


@pytest.mark.parametrize("precision", ["fp8", "awq", "gptq"])
def test_lmi_gets_no_quantize_option_for_a_pre_quantized_checkpoint(precision):
    assert "OPTION_QUANTIZE" not in _env("lmi", precision)


def test_lmi_quantizes_a_16_bit_checkpoint_to_fp8_when_asked():
    env = _env("lmi", "fp8", quantized_checkpoint=False)
    assert env["OPTION_QUANTIZE"] == "fp8"
    assert LMI["VllmRbProperties"]["quantize"] == "quantization"  # LMI hands it to vLLM as --quantization
    assert "--quantization" in VLLM_FLAGS


@pytest.mark.parametrize("precision,quantized_checkpoint", LMI_CASES + [("int8", None), ("int4", None)])
def test_tgi_env_names_are_read_by_the_pinned_tgi(precision, quantized_checkpoint):
    env = _env("tgi", precision, quantized_checkpoint)
    exported = TGI["sagemaker_entrypoint_exports"]  # the SageMaker entrypoint's HF_* → launcher names
    for name in env:
        assert name in TGI["launcher_env"] or name in exported.values(), name
    assert exported["MODEL_ID"] == "HF_MODEL_ID" and exported["NUM_SHARD"] == "SM_NUM_GPUS"
    if "QUANTIZE" in env:
        assert env["QUANTIZE"] in TGI["quantize_values"]
    assert ("QUANTIZE" in env) == (
        precision in ("int8", "int4")
        and not quantized_checkpoint
        or (precision == "fp8" and quantized_checkpoint is False)
    )
