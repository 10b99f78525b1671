"""What a newcomer waits for and carries: a runtime-only install (no extras) into a new venv, its size on disk, and
the time from there to the first plan of an example spec, planned as a newcomer would: a spec file in a directory
outside the checkout. Installs from a copy of the sources, so the build leaves nothing in the checkout. Uses the pip
cache when warm, so the first run on a machine also measures downloads.

    .venv/bin/python -m benchmarks bench_install
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "NOTICE", "llama_infra", "policies")  # what the build reads


def _size_mb(path: Path, *, suffix: str | None = None) -> float:
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            if suffix is None or f.endswith(suffix):
                total += os.path.getsize(os.path.join(dirpath, f))
    return total / 1e6


def run() -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="llama-infra-install-") as tmp:
        venv, src, work = Path(tmp) / "venv", Path(tmp) / "src", Path(tmp) / "work"
        for name in SOURCES:
            if (ROOT / name).is_dir():
                shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
            else:
                src.mkdir(exist_ok=True)
                shutil.copy(ROOT / name, src / name)
        work.mkdir()
        shutil.copy(ROOT / "stacks" / "specs" / "dev.yaml", work / "my-spec.yaml")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-c", str(ROOT / "constraints.txt"), str(src)], check=True)
        installed_s = time.perf_counter() - started
        site = next((venv / "lib").glob("python*/site-packages"))
        started = time.perf_counter()
        plan = subprocess.run(
            [str(venv / "bin" / "llama-infra"), "plan", "my-spec.yaml"], cwd=work, capture_output=True, text=True
        )
        plan_s = time.perf_counter() - started
        packages = sorted(((_size_mb(p), p.name) for p in site.iterdir() if p.is_dir()), reverse=True)[:3]
        return [
            {
                "benchmark": "install",
                "case": "runtime only (pip install llama-infra, constraints.txt); plan my-spec.yaml elsewhere",
                "install_seconds": round(installed_s, 1),
                "first_plan_seconds": round(plan_s, 1),
                "plan_exit_code": plan.returncode,
                "venv_mb": round(_size_mb(venv)),
                "of_which_bytecode_mb": round(_size_mb(venv, suffix=".pyc")),
                "largest": ", ".join(f"{name} {mb:.0f} MB" for mb, name in packages),
            }
        ]
