"""Wall time of `llama-infra plan` for the example environments, and of the imports a command pays for.

Each case is a fresh process (what a user waits for), best of `REPEAT` runs, next to `python -c pass` so the
interpreter's own start-up is visible as the floor. `plan (in process, warm)` plans the same stacks again in one
process after a first run: what the Pulumi program itself costs once imports are paid.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPEAT = 3
STACKS = ["dev", "staging", "prod"]
CLI = "from llama_infra.cli import main; main()"


def _best_of(argv: list[str], repeat: int = REPEAT) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        best = min(best, time.perf_counter() - started)
    return best


def _warm_plan_seconds() -> float:
    sys.path.insert(0, str(ROOT))
    from llama_infra.plan import plan_stacks

    plan_stacks(STACKS, ROOT / "stacks")  # pays the imports
    started = time.perf_counter()
    plan_stacks(STACKS, ROOT / "stacks")
    return time.perf_counter() - started


def run() -> list[dict]:
    py = sys.executable
    floor = _best_of([py, "-c", "pass"])
    cases = [
        ("python -c pass (floor)", [py, "-c", "pass"]),
        ("import llama_infra", [py, "-c", "import llama_infra"]),
        ("import llama_infra.cli", [py, "-c", "import llama_infra.cli"]),
        ("llama-infra --help", [py, "-c", CLI, "--help"]),
        (f"llama-infra plan {' '.join(STACKS)} --json", [py, "-c", CLI, "plan", *STACKS, "--json"]),
        (f"llama-infra plan {' '.join(STACKS)} (rich)", [py, "-c", CLI, "plan", *STACKS]),
        ("llama-infra plan dev --json", [py, "-c", CLI, "plan", "dev", "--json"]),
    ]
    rows = []
    for case, argv in cases:
        seconds = floor if argv == [py, "-c", "pass"] else _best_of(argv)
        rows.append({"benchmark": "plan", "case": case, "seconds": seconds, "x floor": seconds / floor, "runs": REPEAT})
    warm = _warm_plan_seconds()
    rows.append(
        {
            "benchmark": "plan",
            "case": f"plan {' '.join(STACKS)} (in process, warm)",
            "seconds": warm,
            "x floor": warm / floor,
            "runs": 1,
        }
    )
    return rows
