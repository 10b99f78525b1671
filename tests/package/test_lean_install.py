"""The runtime install is lean: plan, validate and the components work without the optional extras, and a command
that needs an extra says which one instead of failing with an ImportError."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from typer.testing import CliRunner

import llama_infra
from llama_infra.cli import _extras, app

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# Every module an extra (not the runtime install) brings, blocked in a subprocess as if it were not installed.
EXTRA_ONLY = ("numpy", "matplotlib", "aiohttp", "prometheus_client", "yarl", "sagemaker", "pulumi_aws_native")
BLOCK = f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {EXTRA_ONLY!r}:
            raise ImportError(f"blocked: {{name}} belongs to an extra")
sys.meta_path.insert(0, Block())
"""


def _distribution(requirement: str) -> str:
    return requirement.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip().replace("_", "-").lower()


def test_runtime_dependencies_are_ranges_and_constraints_pin_every_one() -> None:
    pins = {
        _distribution(line): line.split("==")[1]
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    }
    for requirement in PYPROJECT["dependencies"]:
        assert "==" not in requirement, f"{requirement}: runtime dependencies are compatible ranges"
        assert _distribution(requirement) in pins, f"{requirement} has no exact version in constraints.txt"
    for extra, requirements in PYPROJECT["optional-dependencies"].items():
        for requirement in requirements:
            if not requirement.startswith("llama-infra"):
                assert _distribution(requirement) in pins, f"[{extra}] {requirement} is not in constraints.txt"


def test_sagemaker_core_and_the_simulator_stack_are_off_the_runtime_path() -> None:
    runtime = {_distribution(r) for r in PYPROJECT["dependencies"]}
    assert not runtime & {"sagemaker-core", "numpy", "matplotlib", "aiohttp", "pulumi-aws-native"}


def test_each_extras_modules_are_what_its_distributions_install() -> None:
    by_module = packages_distributions()
    for extra, modules in _extras.EXTRAS.items():
        declared = {_distribution(r) for r in PYPROJECT["optional-dependencies"][extra]}
        for module in modules:
            dists = {d.replace("_", "-").lower() for d in by_module.get(module, [])}
            assert dists & declared, f"[{extra}]: module {module} comes from {dists}, not from {declared}"


def test_plan_and_validate_run_without_any_extra() -> None:
    code = BLOCK + "from llama_infra.cli import main; sys.argv = ['llama-infra', *sys.argv[1:]]; main()"
    for argv in (
        ["validate", "stacks/specs/prod.yaml", "stacks/specs/prod-eks.yaml"],
        ["plan", "dev", "dev-eks", "prod"],  # a classic SageMaker endpoint with windows needs no pulumi-aws-native
    ):
        run = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
        assert "blocked" not in run.stdout + run.stderr


def _scale_to_zero_spec(tmp_path: Path) -> Path:
    text = (ROOT / "stacks" / "specs" / "dev.yaml").read_text()
    text = text.replace("count: 1, purchase: on-demand", "count: 0, purchase: on-demand")
    text = text.replace("scaling:\n", "scaling:\n  scale_to_zero: true\n  min_replicas: 0\n")
    spec = tmp_path / "dev-zero.yaml"
    spec.write_text(text)
    return spec


def test_a_sagemaker_scale_to_zero_spec_without_its_extra_is_a_located_error_naming_it(tmp_path) -> None:
    spec = _scale_to_zero_spec(tmp_path)
    assert CliRunner().invoke(app, ["validate", str(spec)]).exit_code == 0  # with the extra (the test install)
    line = next(n for n, x in enumerate(spec.read_text().splitlines(), 1) if "scale_to_zero" in x)
    code = BLOCK + "from llama_infra.cli import main; sys.argv = ['llama-infra', *sys.argv[1:]]; main()"
    for argv in (["validate", str(spec)], ["plan", str(spec)]):
        run = subprocess.run([sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert run.returncode == 1, (argv, run.stdout[-1000:], run.stderr[-2000:])
        assert f"dev-zero.yaml:{line}: error: scaling.scale_to_zero: " in run.stderr, run.stderr[-2000:]
        assert "pip install 'llama-infra[scale-to-zero]'" in run.stderr
        assert "Traceback" not in run.stderr and "blocked" not in run.stdout + run.stderr
    build = BLOCK + (
        "from llama_infra.targets.sagemaker.components.scale_to_zero import aws_native\n"
        "try:\n    aws_native()\nexcept ImportError as e:\n    print(e)\n"
    )
    run = subprocess.run([sys.executable, "-c", build], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "pip install 'llama-infra[scale-to-zero]'" in run.stdout, run.stderr[-2000:]


def test_a_command_whose_extra_is_missing_names_the_extra(monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "numpy" else real(name, *a))
    result = CliRunner().invoke(app, ["simulate", "stacks/specs/dev.yaml"])
    assert result.exit_code == 2
    assert "pip install 'llama-infra[sim]'" in result.output


def test_version_and_short_help() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"llama-infra {llama_infra.__version__}"
    for argv in (["-h"], ["plan", "-h"], ["validate", "-h"]):
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == 0 and "Usage" in result.output, argv
