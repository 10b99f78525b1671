"""What a newcomer waits for and carries: a runtime-only install (no extras) into a new venv, its size on disk, and
the time from there to the first plan of an example stack. Uses the pip cache when warm, so the first run on a
machine also measures downloads; the row says which.

    .venv/bin/python -m benchmarks bench_install
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _size_mb(path: Path, *, suffix: str | None = None) -> float:
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            if suffix is None or f.endswith(suffix):
                total += os.path.getsize(os.path.join(dirpath, f))
    return total / 1e6


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="llama-infra-install-") as tmp:
        venv = Path(tmp) / "venv"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-c", str(ROOT / "constraints.txt"), str(ROOT)], check=True)
        installed_s = time.perf_counter() - started
        site = next((venv / "lib").glob("python*/site-packages"))
        started = time.perf_counter()
        plan = subprocess.run(
            [str(venv / "bin" / "llama-infra"), "plan", "dev"], cwd=ROOT, capture_output=True, text=True
        )
        plan_s = time.perf_counter() - started
        packages = sorted(((_size_mb(p), p.name) for p in site.iterdir() if p.is_dir()), reverse=True)[:3]
        return [
            {
                "benchmark": "install",
                "case": "runtime only (pip install llama-infra, constraints.txt)",
                "install_seconds": round(installed_s, 1),
                "first_plan_seconds": round(plan_s, 1),
                "plan_exit_code": plan.returncode,
                "venv_mb": round(_size_mb(venv)),
                "of_which_bytecode_mb": round(_size_mb(venv, suffix=".pyc")),
                "largest": ", ".join(f"{name} {mb:.0f} MB" for mb, name in packages),
            }
        ]
