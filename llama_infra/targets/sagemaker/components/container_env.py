"""Environment of the serving container, consistent with the tensor-parallel degree (pure: no Pulumi).

Names follow the pinned images in `image.py`:
- TGI (huggingface-llm 3.3.6): the SageMaker entrypoint maps `HF_MODEL_ID` → `MODEL_ID` and `SM_NUM_GPUS` →
  `NUM_SHARD`; we set `NUM_SHARD` as well so the launcher and the entrypoint agree. `MAX_INPUT_TOKENS` <
  `MAX_TOTAL_TOKENS`; `QUANTIZE`, `DTYPE`.
- DJL LMI (djl-lmi 0.32.0 = LMI 14, djl-tensorrtllm 0.33.0; docs/lmi/deployment_guide/configurations.md and
  user_guides/{vllm,trt_llm}_user_guide.md of deepjavalibrary/djl-serving): every `option.<key>` is `OPTION_<KEY>`
  (`OPTION_ROLLING_BATCH=vllm|trtllm`, `OPTION_TENSOR_PARALLEL_DEGREE`, `OPTION_MAX_MODEL_LEN`, `OPTION_DTYPE`,
  `OPTION_QUANTIZE`), `HF_MODEL_ID` is the model id or local path.
`QUANTIZE` / `OPTION_QUANTIZE` only where the server quantizes at load: a pre-quantized checkpoint (awq, gptq, fp8
by default) carries its quantization_config, and `OPTION_QUANTIZE=awq|gptq` would make LMI's vLLM skip its Marlin
kernels (`llama_infra.quantization`; `tests/targets/sagemaker/test_container_facts.py` checks the names).
Weights served from an S3 prefix through ModelDataSource are mounted at `/opt/ml/model`.
The Hugging Face token is never part of this mapping: the component adds it as a Pulumi secret.
"""

from __future__ import annotations

from llama_infra import quantization

SAGEMAKER_MODEL_DIR = "/opt/ml/model"
HF_TOKEN_ENV = "HF_TOKEN"  # read by huggingface_hub in both TGI and LMI images

_TGI_DTYPE = {"fp16": "float16", "bf16": "bfloat16"}
_LMI_DTYPE = {"fp16": "fp16", "bf16": "bf16"}
_LMI_ROLLING_BATCH = {"vllm": "vllm", "lmi": "vllm", "tensorrt-llm": "trtllm"}


def model_location(weights_source: str) -> str:
    """What the server loads: the mounted S3 prefix, or the Hub id of an `hf://org/model` source."""
    if weights_source.startswith("hf://"):
        return weights_source.removeprefix("hf://")
    return SAGEMAKER_MODEL_DIR


def container_env(
    framework: str,
    *,
    weights_source: str,
    tp_degree: int,
    precision: str,
    max_model_len: int,
    quantized_checkpoint: bool | None = None,
) -> dict[str, str]:
    """Environment variables for the serving container (all values strings, as SageMaker requires).
    `quantized_checkpoint`: the day model's `model.quantized_checkpoint`; None infers it from the precision."""
    location = model_location(weights_source)
    server = quantization.server_of("sagemaker", framework)
    quantize = quantization.quantize_at_load(precision, quantized_checkpoint, server)
    if framework == "tgi":
        env = {
            "HF_MODEL_ID": location,
            "SM_NUM_GPUS": str(tp_degree),
            "NUM_SHARD": str(tp_degree),
            "MAX_TOTAL_TOKENS": str(max_model_len),
            "MAX_INPUT_TOKENS": str(max_model_len - 1),
        }
        if quantize:
            env[server.setting] = quantize
        elif precision in _TGI_DTYPE:
            env["DTYPE"] = _TGI_DTYPE[precision]
        return env
    if framework not in _LMI_ROLLING_BATCH:
        raise ValueError(f"framework '{framework}' has no SageMaker container mapping")
    env = {
        "HF_MODEL_ID": location,
        "OPTION_ROLLING_BATCH": _LMI_ROLLING_BATCH[framework],
        "OPTION_TENSOR_PARALLEL_DEGREE": str(tp_degree),
        "OPTION_MAX_MODEL_LEN": str(max_model_len),
    }
    if framework == "tensorrt-llm":
        # TRT-LLM compiles engines at start: input and sequence (max_output_len = max_seq_len) limits are build-time.
        del env["OPTION_MAX_MODEL_LEN"]
        env["OPTION_MAX_INPUT_LEN"] = str(max_model_len - 1)
        env["OPTION_MAX_OUTPUT_LEN"] = str(max_model_len)
    if quantize:
        env[server.setting] = quantize
    elif precision in _LMI_DTYPE:
        env["OPTION_DTYPE"] = _LMI_DTYPE[precision]
    return env
