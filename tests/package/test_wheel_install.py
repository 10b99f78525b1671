"""`plan` from a wheel install, outside any checkout: the wheel carries the stacks program and every data file a plan
reads, so a spec file plans there as it does here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from llama_infra.plan import plan_stack

ROOT = Path(__file__).resolve().parents[2]
# What the build reads (pyproject's packages and package data, the readme); nothing else of the checkout.
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "NOTICE", "llama_infra", "policies")


@pytest.fixture(scope="module")
def wheel_site(tmp_path_factory) -> Path:
    """The wheel built from a copy of the sources (the build writes build/ beside them), unpacked as site-packages."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy(path, src / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp / "dist"), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = (tmp / "dist").glob("llama_infra-*.whl")
    site = tmp / "site"
    zipfile.ZipFile(wheel).extractall(site)
    return site


def _run(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    # the unpacked wheel first on the path: it wins over this checkout's editable install (a finder tried last)
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_a_spec_file_plans_from_the_wheel_outside_the_checkout_as_it_does_here(wheel_site, tmp_path):
    where = _run(wheel_site, tmp_path, "-c", "import llama_infra; print(llama_infra.__file__)")
    assert where.stdout.strip().startswith(str(wheel_site)), where.stdout + where.stderr
    shutil.copy(ROOT / "stacks" / "specs" / "dev.yaml", tmp_path / "my-spec.yaml")
    main = "import sys; from llama_infra.cli import main; sys.argv[0] = 'llama-infra'; main()"
    run = _run(wheel_site, tmp_path, "-c", main, "plan", "my-spec.yaml", "--json")
    assert run.returncode == 0, run.stderr[-2000:]
    [planned] = json.loads(run.stdout)["plans"]
    here = plan_stack("dev", ROOT / "stacks").to_dict()
    assert [(r["type"], r["name"], r["inputs"]) for r in planned["resources"]] == [
        (r["type"], r["name"], r["inputs"]) for r in here["resources"]
    ]
    assert planned["cost"] == here["cost"]
