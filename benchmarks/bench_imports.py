"""What `from llama_infra import ...` costs per public name, next to the bare import and `import pulumi`.

`import llama_infra` is lazy (PEP 562 `__getattr__`): it loads nothing but the package's `__init__`, and each public
name pays only for its own module. Each case is a fresh interpreter, best of `REPEAT`, with `python -c pass` as the
floor and the ratio to it, side by side in one run.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPEAT = 3
CASES = [
    ("python -c pass (floor)", "pass"),
    ("import llama_infra", "import llama_infra"),
    ("from llama_infra import load_spec", "from llama_infra import load_spec"),
    ("import pulumi", "import pulumi"),
    ("from llama_infra import SageMakerLlamaEndpoint", "from llama_infra import SageMakerLlamaEndpoint"),
    ("from llama_infra import build_eks", "from llama_infra import build_eks"),
]


def _best_of(code: str) -> float:
    best = float("inf")
    for _ in range(REPEAT):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - started)
    return best


def run() -> list[dict]:
    seconds = {case: _best_of(code) for case, code in CASES}
    floor = seconds[CASES[0][0]]
    return [
        {
            "benchmark": "imports",
            "case": case,
            "ms": round(s * 1000, 1),
            "ratio_to_floor": round(s / floor, 2),
            "ms_over_floor": round((s - floor) * 1000, 1),
        }
        for case, s in seconds.items()
    ]
