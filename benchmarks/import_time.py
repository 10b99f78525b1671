"""What `import llama_infra` costs, next to what the heavy imports behind it cost, in one run.

Each line is a fresh interpreter (`python -X importtime` would hide the interpreter's own start-up); the median of
`--repeats` runs is reported with its ratio to the bare interpreter (`python -c pass`), side by side:

- the bare `import llama_infra` (lazy public API: nothing but the package's `__init__`),
- the spec layer (`from llama_infra import load_spec`: pydantic + ruamel.yaml),
- `import pulumi`, and each component through the public API (pulumi-aws / pulumi-kubernetes modules),
- the CLI's `--help` (typer + every command module, heavy imports deferred into the commands).

Run from the repository root:

    .venv/bin/python -m benchmarks.import_time               # ~30 s
    .venv/bin/python -m benchmarks.import_time --repeats 3   # quick look
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = {
    "python -c pass (floor)": "pass",
    "import llama_infra": "import llama_infra",
    "from llama_infra import load_spec": "from llama_infra import load_spec",
    "import pulumi": "import pulumi",
    "from llama_infra import SageMakerLlamaEndpoint": "from llama_infra import SageMakerLlamaEndpoint",
    "from llama_infra import build_eks": "from llama_infra import build_eks",
    "llama-infra --help": "import sys; sys.argv = ['llama-infra', '--help']\n"
                          "from llama_infra.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass",
}


def seconds(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="fresh interpreters per case (median reported)")
    args = parser.parse_args()
    medians = {}
    for label, code in CASES.items():
        seconds(code)  # warm the file-system cache and .pyc files
        medians[label] = statistics.median(seconds(code) for _ in range(args.repeats))
    floor = medians["python -c pass (floor)"]
    print(f"{'case':<50} {'median ms':>10} {'× floor':>8} {'+ms over floor':>15}")
    for label, value in medians.items():
        print(f"{label:<50} {value * 1000:>10.0f} {value / floor:>8.1f} {(value - floor) * 1000:>15.0f}")


if __name__ == "__main__":
    main()
