"""Facts about Llama checkpoints that a spec can contradict: size and context length from the model id.

Sources: Meta's model cards on the Hugging Face Hub (meta-llama/*: "Context length" and the parameter count in each
model's name) — Llama 2: 4k tokens; Llama 3: 8k; Llama 3.1, 3.2 and 3.3: 128k (131,072); Code Llama: 16k
(trained on 16k sequences). Quantized exports carry their scheme in the repository name (…-AWQ, …-GPTQ, …-FP8,
…-INT4 / -int4 / -w4a16).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# (pattern on the model id, context length in tokens); the first match wins.
CONTEXT_LENGTH_TOKENS: tuple[tuple[str, int], ...] = (
    (r"code-?llama", 16_384),
    (r"llama-?3\.[123]\b", 131_072),
    (r"(meta-)?llama-?3\b", 8_192),
    (r"llama-?2\b", 4_096),
)

# Quantization a checkpoint's name says it is in, and the spec precisions that match it.
CHECKPOINT_PRECISIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"[-_.]awq\b", ("awq", "int4")),
    (r"[-_.]gptq\b", ("gptq", "int4")),
    (r"[-_.]fp8\b", ("fp8",)),
    (r"[-_.](int4|w4a16|4bit)\b", ("int4", "awq", "gptq")),
    (r"[-_.](int8|w8a8|w8a16|8bit)\b", ("int8", "fp8")),
)


@dataclass(frozen=True)
class Checkpoint:
    params_b: float | None  # from "…-70B-…", None when the id names no size
    context_tokens: int | None
    precisions: tuple[str, ...] | None  # None: the name says nothing about quantization


def checkpoint(model_id: str) -> Checkpoint:
    name = model_id.lower().rsplit("/", 1)[-1]
    size = re.search(r"(?<![\dx.])(\d+(?:\.\d+)?)b\b", name)  # "70b", "3.2-1b"; not "8x7b" (mixtures)
    context = next((tokens for pattern, tokens in CONTEXT_LENGTH_TOKENS if re.search(pattern, name)), None)
    precisions = next((p for pattern, p in CHECKPOINT_PRECISIONS if re.search(pattern, name)), None)
    return Checkpoint(float(size.group(1)) if size else None, context, precisions)
