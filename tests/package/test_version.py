"""The version has one source, pyproject.toml: the installed metadata, `llama_infra.__version__`, `--version`, the
policy pack and the component package all read it, and a checkout that was never installed falls back to it."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

from ruamel.yaml import YAML
from typer.testing import CliRunner

import llama_infra
from llama_infra.cli import app

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_the_package_the_metadata_and_the_cli_say_pyprojects_version() -> None:
    assert importlib.metadata.version("llama-infra") == VERSION
    assert llama_infra.__version__ == VERSION
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"llama-infra {VERSION}"


def test_an_uninstalled_checkout_reads_its_pyproject(monkeypatch) -> None:
    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    assert llama_infra._package_version() == VERSION


def test_the_bare_import_does_not_pay_for_importlib_metadata() -> None:
    code = "import sys, llama_infra; print('importlib.metadata' in sys.modules); print(llama_infra.__version__)"
    out = subprocess.run(
        [sys.executable, "-X", "frozen_modules=on", "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    assert out == ["False", VERSION]


def test_the_policy_pack_states_the_librarys_version() -> None:
    from llama_infra_policies.harness import PACK_VERSION

    assert PACK_VERSION == VERSION
    assert YAML(typ="safe").load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())["version"] == VERSION
