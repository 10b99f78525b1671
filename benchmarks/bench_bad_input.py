"""How long the spec loader takes to refuse hostile or broken input, next to loading the example specs.

Each case runs in this process after a warm-up load (imports excluded), best of `REPEAT`, with the process's
maximum RSS so far after each case (it would jump at a case that expands or buffers its input). The limits
themselves are in `llama_infra/spec/intake.py` (docs/bad-input.md).
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

from llama_infra.spec import SpecError, load_spec, parse_spec

ROOT = Path(__file__).resolve().parent.parent
REPEAT = 3
DEV = (ROOT / "stacks" / "specs" / "dev.yaml").read_text()
CORPUS = ROOT / "tests" / "data" / "bad-specs"


def _cases() -> list[tuple[str, object]]:
    return [
        ("valid stacks/specs/dev.yaml", lambda: load_spec(ROOT / "stacks/specs/dev.yaml")),
        ("valid stacks/specs/prod.yaml", lambda: load_spec(ROOT / "stacks/specs/prod.yaml")),
        ("alias bomb (9 levels x 9)", lambda: load_spec(CORPUS / "alias-bomb.yaml")),
        ("100,000 '[' on one line", lambda: parse_spec(DEV + "tags: " + "[" * 100_000)),
        (
            "600-level block nesting",
            lambda: parse_spec(DEV + "tags:\n" + "".join(" " * i + "- \n" for i in range(600))),
        ),
        ("5 MB text", lambda: parse_spec(DEV + "# " + "x" * 5_000_000)),
        ("/dev/zero", lambda: load_spec("/dev/zero")),
        ("UTF-16 file", lambda: load_spec(CORPUS / "encoding-utf16.yaml")),
        ("Latin-1 file", lambda: load_spec(CORPUS / "encoding-latin1.yaml")),
    ]


def _best_of(fn) -> tuple[float, str]:
    best, outcome = float("inf"), ""
    for _ in range(REPEAT):
        started = time.perf_counter()
        try:
            fn()
            outcome = "valid"
        except SpecError:
            outcome = "SpecError"
        best = min(best, time.perf_counter() - started)
    return best, outcome


def run() -> list[dict]:
    load_spec(ROOT / "stacks/specs/dev.yaml")  # imports and caches outside the timings
    rows = []
    for case, fn in _cases():
        seconds, outcome = _best_of(fn)
        rows.append(
            {
                "benchmark": "bad_input",
                "case": case,
                "outcome": outcome,
                "ms": round(seconds * 1000, 1),
                "max_rss_mib_so_far": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            }
        )
    return rows
