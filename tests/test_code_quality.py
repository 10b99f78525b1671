"""The code habits the test command holds: ruff's lint rules and its formatter over the repository, and mypy over
the package (it ships py.typed), each configured in pyproject.toml. They take seconds (mypy keeps its cache in
.mypy_cache); `benchmarks/` does not time them, the suite's duration does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# All the repository's Python: the package, the policy pack, the programs, examples, benchmarks and the tests.
LINTED = ["."]


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_lint_rules_hold() -> None:
    run = _run(str(BIN / "ruff"), "check", "--no-fix", "--output-format", "concise", *LINTED)
    assert run.returncode == 0, f"ruff check (fix: .venv/bin/ruff check --fix):\n{run.stdout[-6000:]}{run.stderr}"


def test_the_code_is_ruff_formatted() -> None:
    run = _run(str(BIN / "ruff"), "format", "--check", *LINTED)
    assert run.returncode == 0, f"ruff format --check (fix: .venv/bin/ruff format):\n{run.stdout[-6000:]}{run.stderr}"


def test_mypy_finds_no_type_errors_in_the_package() -> None:
    run = _run(sys.executable, "-m", "mypy")
    assert run.returncode == 0, f"mypy llama_infra:\n{run.stdout[-6000:]}{run.stderr}"
